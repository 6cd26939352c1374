package rephrase

import (
	"container/list"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

// cache keeps the most recently used accepted rephrasings. It is safe for
// concurrent use.
type cache struct {
	size int

	mu    sync.Mutex
	order *list.List // front: most recently used; values are *cacheEntry
	byKey map[string]*list.Element
}

type cacheEntry struct{ key, text string }

func newCache(size int) *cache {
	return &cache{size: size, order: list.New(), byKey: make(map[string]*list.Element, size)}
}

// cacheKey identifies a request by topic, reply language and script, and the
// question compacted (case, width, punctuation and spaces do not matter). A
// hash of the answer is part of it too, so that an edited knowledge base
// never serves a rewording of the old text.
func cacheKey(req bot.RephraseRequest) string {
	h := fnv.New64a()
	h.Write([]byte(req.Answer))
	return req.Topic + "\x00" + string(req.Lang) + "\x00" + strconv.FormatBool(req.Traditional) + "\x00" +
		strconv.FormatUint(h.Sum64(), 36) + "\x00" + lang.Compact(truncateRunes(req.Question, maxQuestionRunes))
}

func (c *cache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return "", false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).text, true
}

func (c *cache) put(key, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		e.Value.(*cacheEntry).text = text
		c.order.MoveToFront(e)
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key, text})
	if c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*cacheEntry).key)
	}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

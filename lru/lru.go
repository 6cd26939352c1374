// Package lru is a map bounded in size and, optionally, in idle age: past its
// capacity the least recently used entry goes, and one unused for the TTL is gone.
//
// It is beianbot's one cache: per-chat and per-user tables in the Telegram
// server, accepted LLM rephrasings, and recent script conversions. The clock
// is injected, so tests move time instead of sleeping.
package lru

import (
	"container/list"
	"sync"
	"time"
)

// Cache is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	cap   int
	ttl   time.Duration // 0: no expiry
	now   func() time.Time
	order *list.List // front: most recently used
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	used time.Time
}

// New returns a cache of at most capacity entries (at least 1), each
// forgotten once unused for ttl (0: never). now is the clock (nil: time.Now);
// it is read only when ttl is set.
func New[K comparable, V any](capacity int, ttl time.Duration, now func() time.Time) *Cache[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{cap: capacity, ttl: ttl, now: now, order: list.New(), items: make(map[K]*list.Element)}
}

// Get returns the value for k and marks it used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(k, c.clock())
}

// Put stores v under k, evicting what has expired and then the least recently used.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(k, v, c.clock())
}

// GetOrPut returns the value under k, storing newV()'s result first if there
// is none. newV runs under the lock, so it must be quick.
func (c *Cache[K, V]) GetOrPut(k K, newV func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if v, ok := c.get(k, now); ok {
		return v
	}
	v := newV()
	c.put(k, v, now)
	return v
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
}

// Len counts entries, expired ones included until something evicts them.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// clock is the time to stamp and compare entries with; without a TTL no
// entry ever expires, so the clock is not read (a conversion cache on the
// hot path need not pay for it).
func (c *Cache[K, V]) clock() time.Time {
	if c.ttl <= 0 {
		return time.Time{}
	}
	return c.now()
}

func (c *Cache[K, V]) get(k K, now time.Time) (V, bool) {
	var zero V
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[K, V])
	if c.expired(e, now) {
		c.remove(el)
		return zero, false
	}
	e.used = now
	c.order.MoveToFront(el)
	return e.val, true
}

func (c *Cache[K, V]) put(k K, v V, now time.Time) {
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry[K, V])
		e.val, e.used = v, now
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&entry[K, V]{key: k, val: v, used: now})
	// The back holds the least recently used entry, hence also the oldest.
	for back := c.order.Back(); back != nil && c.expired(back.Value.(*entry[K, V]), now); back = c.order.Back() {
		c.remove(back)
	}
	for c.order.Len() > c.cap {
		c.remove(c.order.Back())
	}
}

func (c *Cache[K, V]) expired(e *entry[K, V], now time.Time) bool {
	return c.ttl > 0 && now.Sub(e.used) > c.ttl
}

func (c *Cache[K, V]) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*entry[K, V]).key)
}

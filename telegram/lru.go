package telegram

import (
	"container/list"
	"sync"
	"time"
)

// lru is a map bounded in size and in age: past cap entries the least
// recently used goes, and an entry unused for ttl is gone. Every per-chat or
// per-user table in this package is one, so a flood of new chats cannot grow
// memory without limit.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	cap   int
	ttl   time.Duration // 0: no expiry
	now   func() time.Time
	order *list.List // front: most recently used
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key  K
	val  V
	used time.Time
}

func newLRU[K comparable, V any](capacity int, ttl time.Duration, now func() time.Time) *lru[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	if now == nil {
		now = time.Now
	}
	return &lru[K, V]{cap: capacity, ttl: ttl, now: now, order: list.New(), items: make(map[K]*list.Element)}
}

// Get returns the value for k and marks it used.
func (c *lru[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(k, c.now())
}

// Put stores v under k, evicting what has expired and then the least recently used.
func (c *lru[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(k, v, c.now())
}

// GetOrPut returns the value under k, storing newV()'s result first if there
// is none. newV runs under the lock, so it must be quick.
func (c *lru[K, V]) GetOrPut(k K, newV func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if v, ok := c.get(k, now); ok {
		return v
	}
	v := newV()
	c.put(k, v, now)
	return v
}

// Delete forgets k.
func (c *lru[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
}

// Len counts entries, expired ones included until something evicts them.
func (c *lru[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *lru[K, V]) get(k K, now time.Time) (V, bool) {
	var zero V
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[K, V])
	if c.expired(e, now) {
		c.remove(el)
		return zero, false
	}
	e.used = now
	c.order.MoveToFront(el)
	return e.val, true
}

func (c *lru[K, V]) put(k K, v V, now time.Time) {
	if el, ok := c.items[k]; ok {
		e := el.Value.(*lruEntry[K, V])
		e.val, e.used = v, now
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v, used: now})
	// The back holds the least recently used entry, hence also the oldest.
	for back := c.order.Back(); back != nil && c.expired(back.Value.(*lruEntry[K, V]), now); back = c.order.Back() {
		c.remove(back)
	}
	for c.order.Len() > c.cap {
		c.remove(c.order.Back())
	}
}

func (c *lru[K, V]) expired(e *lruEntry[K, V], now time.Time) bool {
	return c.ttl > 0 && now.Sub(e.used) > c.ttl
}

func (c *lru[K, V]) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*lruEntry[K, V]).key)
}

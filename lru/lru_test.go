package lru

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a time that only moves when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestEvictsLeastRecentlyUsedAndExpired(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := New[int, string](3, time.Minute, clk.now)
	for i := range 5 {
		c.Put(i, fmt.Sprint(i))
	}
	if c.Len() != 3 {
		t.Fatalf("len %d, cap 3", c.Len())
	}
	if _, ok := c.Get(0); ok {
		t.Error("oldest entry not evicted")
	}
	c.Get(2) // used: now the most recent
	c.Put(5, "5")
	if _, ok := c.Get(2); !ok {
		t.Error("recently used entry evicted")
	}
	if _, ok := c.Get(3); ok {
		t.Error("least recently used entry kept")
	}
	clk.advance(2 * time.Minute)
	if _, ok := c.Get(2); ok {
		t.Error("expired entry returned")
	}
	c.Put(6, "6") // evicts the expired ones
	if c.Len() != 1 {
		t.Errorf("expired entries kept: len %d", c.Len())
	}
	made := 0
	for range 3 {
		c.GetOrPut(7, func() string { made++; return "7" })
	}
	if made != 1 {
		t.Errorf("GetOrPut made the value %d times", made)
	}
	c.Delete(7)
	if _, ok := c.Get(7); ok {
		t.Error("deleted entry returned")
	}
}

func TestUseKeepsAnEntryAlive(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := New[string, int](10, time.Minute, clk.now)
	c.Put("a", 1)
	for range 5 {
		clk.advance(50 * time.Second) // each within the TTL of the last use
		if _, ok := c.Get("a"); !ok {
			t.Fatal("an entry in use expired")
		}
	}
	c.Put("a", 2) // replaces, and counts as a use
	if v, _ := c.Get("a"); v != 2 || c.Len() != 1 {
		t.Errorf("Get = %d, len %d after replacing", v, c.Len())
	}
}

func TestNoTTLNeverExpiresAndNeverReadsTheClock(t *testing.T) {
	c := New[int, int](2, 0, func() time.Time { panic("clock read without a TTL") })
	c.Put(1, 1)
	c.Put(2, 2)
	c.Get(1)
	c.Put(3, 3)
	if _, ok := c.Get(2); ok {
		t.Error("least recently used entry kept")
	}
	if _, ok := c.Get(1); !ok {
		t.Error("recently used entry evicted")
	}
}

func TestCapacityAtLeastOne(t *testing.T) {
	c := New[int, int](0, 0, nil)
	c.Put(1, 1)
	c.Put(2, 2)
	if v, ok := c.Get(2); !ok || v != 2 || c.Len() != 1 {
		t.Errorf("Get(2) = %d, %v; len %d", v, ok, c.Len())
	}
}

func TestConcurrentUse(t *testing.T) {
	c := New[int, int](64, time.Hour, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				k := (g*1000 + i) % 100
				c.Put(k, i)
				c.Get(k)
				c.GetOrPut(k+1, func() int { return i })
				if i%10 == 0 {
					c.Delete(k)
				}
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 64 {
		t.Errorf("len %d past capacity 64", n)
	}
}

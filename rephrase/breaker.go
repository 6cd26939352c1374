package rephrase

import (
	"sync"
	"time"
)

// outcome is what one call tells the breaker about the LLM server.
type outcome int

const (
	succeeded outcome = iota // the server answered with a usable completion
	failed                   // timeout, transport or HTTP error, malformed completion
	neutral                  // says nothing about the server (the caller gave up)
)

// breaker stops calling a server that keeps failing: after threshold
// consecutive failures it stays open for cooldown, then lets one call through
// (half-open); that call's outcome closes or reopens it.
type breaker struct {
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	failures  int       // consecutive
	openUntil time.Time // meaningful once failures >= threshold
	probing   bool      // the half-open call is under way
}

// allow says whether a call may go ahead; probe is true for the single
// half-open call, which must report back through done.
func (b *breaker) allow() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures < b.threshold:
		return true, false
	case b.now().Before(b.openUntil), b.probing:
		return false, false
	}
	b.probing = true
	return true, true
}

// done records a call's outcome; it returns true when this call opened the breaker.
func (b *breaker) done(probe bool, o outcome) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch o {
	case succeeded:
		b.failures = 0
	case failed:
		b.failures++
		if b.failures >= b.threshold {
			opened = b.failures == b.threshold || probe
			b.openUntil = b.now().Add(b.cooldown)
		}
	}
	return opened
}

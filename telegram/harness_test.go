package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/matrix"
)

// realEngine is the production engine over the embedded knowledge base,
// built once: it is safe for concurrent use.
var realEngine = sync.OnceValues(func() (*bot.Engine, error) {
	return bot.New(context.Background(), bot.Options{})
})

func engineForTest(t testing.TB) *bot.Engine {
	t.Helper()
	e, err := realEngine()
	if err != nil {
		t.Fatalf("build engine: %v", err)
	}
	return e
}

// syncBuffer collects logs from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sleeps records the waits the server asks for and returns at once, so
// tests of retry_after and back-off take no time. With clk set, each wait
// moves clk on by its length: time passes only as fast as the server waits.
type sleeps struct {
	mu  sync.Mutex
	d   []time.Duration
	clk *clock
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	if s.clk != nil && ctx.Err() == nil {
		s.clk.advance(d)
	}
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// clock is a settable time. onAdvance, when set, is told the new time
// after each advance.
type clock struct {
	mu        sync.Mutex
	now       time.Time
	onAdvance func(time.Time)
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now, hook := c.now, c.onAdvance
	c.mu.Unlock()
	if hook != nil {
		hook(now)
	}
}

// vclock is a virtual time whose sleeps last until the test moves it on:
// for tests that stop time (a rate limit that must not refill) and then
// let it pass in steps.
type vclock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []vwaiter
	poke    func() // told when a sleep begins
}

type vwaiter struct {
	at time.Time
	ch chan struct{}
}

func newVClock(t time.Time) *vclock { return &vclock{now: t} }

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *vclock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d <= 0 {
		c.mu.Unlock()
		return ctx.Err()
	}
	w := vwaiter{at: c.now.Add(d), ch: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	poke := c.poke
	c.mu.Unlock()
	if poke != nil {
		poke()
	}
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		for i, x := range c.waiters {
			if x.ch == w.ch {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				break
			}
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves time on by d and wakes the sleeps that are over.
func (c *vclock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
		} else {
			close(w.ch)
		}
	}
	c.waiters = kept
}

// sleeping counts the sleeps in progress.
func (c *vclock) sleeping() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// AdvanceToNext moves time on to the end of the earliest sleep, waking it
// (and any ending at the same time).
func (c *vclock) AdvanceToNext() {
	c.mu.Lock()
	if len(c.waiters) == 0 {
		c.mu.Unlock()
		return
	}
	next := c.waiters[0].at
	for _, w := range c.waiters {
		if w.at.Before(next) {
			next = w.at
		}
	}
	d := next.Sub(c.now)
	c.mu.Unlock()
	c.Advance(d)
}

// sleepingUntil counts the sleeps that end at or before t.
func (c *vclock) sleepingUntil(t time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, w := range c.waiters {
		if !w.at.After(t) {
			n++
		}
	}
	return n
}

var noLimits = sendLimits{global: rate.Inf, perChat: rate.Inf, perGroup: rate.Inf}

type harness struct {
	mu      sync.Mutex
	handled map[int64]bool
	api     *fakeAPI
	srv     *Server
	logs    *syncBuffer
	sleeps  *sleeps
	clock   *clock // with setup.autoClock
	cancel  context.CancelFunc
	done    chan error
}

type setup struct {
	cfg    func(*config.Telegram)
	server func(*Server)
	engine engine
	opts   []Option
	// autoClock runs the server on h.clock, which moves on only by the
	// waits the server makes: minutes of retries take no time.
	autoClock bool
	// api is the fake Bot API to use (a restart); default a new one.
	api *fakeAPI
}

func testConfig(apiURL string) config.Telegram {
	c := config.Default().Telegram
	c.Token = fakeToken
	c.APIURL = apiURL
	c.PollTimeout = 5 * time.Second
	c.ShutdownGrace = 5 * time.Second
	c.Workers = 4
	c.UserRate, c.UserBurst = 100, 100 // flood control has its own test
	return c
}

// start runs a server against a fresh fake API until the test ends.
func start(t testing.TB, su setup) *harness {
	t.Helper()
	h := &harness{api: su.api, logs: &syncBuffer{}, sleeps: &sleeps{}, done: make(chan error, 1)}
	if h.api == nil {
		h.api = newFakeAPI(t)
	}
	cfg := testConfig(h.api.URL())
	if su.cfg != nil {
		su.cfg(&cfg)
	}
	e := su.engine
	if e == nil {
		e = engineForTest(t)
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := newServer(cfg, e, append([]Option{WithLogger(logger)}, su.opts...)...)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	srv.sleep = h.sleeps.sleep
	srv.jitter = func() float64 { return 1 } // waits of exactly the back-off
	if su.autoClock {
		h.clock = &clock{now: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
		h.sleeps.clk = h.clock
		srv.now = h.clock.Now
	}
	srv.limits = noLimits
	// "typing…" only where a test fires the timer itself (see fakeTimers).
	srv.timer = func(time.Duration) (<-chan time.Time, func() bool) { return nil, func() bool { return true } }
	h.handled = map[int64]bool{}
	srv.handled = func(id int64) {
		h.mu.Lock()
		h.handled[id] = true
		h.mu.Unlock()
		h.api.poke()
	}
	srv.notify = h.api.poke
	if su.server != nil {
		su.server(srv)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- srv.Run(ctx) }()
	select {
	case <-srv.ready:
	case err := <-h.done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop cancels Run and waits for it to return.
func (h *harness) stop(t testing.TB) error {
	h.cancel()
	select {
	case err, ok := <-h.done:
		if ok {
			close(h.done)
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	return errors.New("unreachable")
}

// say sends text from u in chat c and waits for n more messages in that chat.
func (h *harness) say(t testing.TB, c tChat, u tUser, text string, n int) []apiCall {
	t.Helper()
	before := len(h.api.sent(c.id))
	h.api.push(textUpdate(c, u, text))
	return h.api.waitSent(t, c.id, before+n)[before:]
}

// press taps a button under sent and waits for n more messages.
func (h *harness) press(t testing.TB, c tChat, u tUser, sent apiCall, label string, n int) []apiCall {
	t.Helper()
	before := len(h.api.sent(c.id))
	h.api.push(h.api.tap(t, u, sent, label))
	return h.api.waitSent(t, c.id, before+n)[before:]
}

// pressEdit taps a button under msg and waits until a message of the chat
// is edited; it returns the edit, whose result is the message as it now reads.
func (h *harness) pressEdit(t testing.TB, c tChat, u tUser, msg apiCall, label string) apiCall {
	t.Helper()
	before := len(h.api.edits(c.id))
	h.api.push(h.api.tap(t, u, msg, label))
	h.api.waitFor(t, "an edit after tapping "+label, func() bool { return len(h.api.edits(c.id)) > before })
	return h.api.edits(c.id)[before]
}

// quiet waits until every pushed update has been taken and no work is
// left, so a test can assert that something was NOT sent.
func (h *harness) quiet(t testing.TB) {
	t.Helper()
	h.api.mu.Lock()
	last := h.api.maxID
	h.api.mu.Unlock()
	h.api.waitFor(t, "all updates handled", func() bool {
		return h.srv.taken.Load() >= last && h.srv.sched.len() == 0
	})
}

// waitTaken waits until the server has taken every update pushed so far.
func (h *harness) waitTaken(t testing.TB) {
	t.Helper()
	h.api.mu.Lock()
	last := h.api.maxID
	h.api.mu.Unlock()
	h.api.waitFor(t, "all updates taken", func() bool { return h.srv.taken.Load() >= last })
}

// waitHandled waits until the server is done with update id.
func (h *harness) waitHandled(t testing.TB, id int64) {
	t.Helper()
	h.api.waitFor(t, fmt.Sprint("update ", id, " handled"), func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.handled[id]
	})
}

type matrixRow = matrix.Row

func slogTo(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

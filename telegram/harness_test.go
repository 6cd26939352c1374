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
// tests of retry_after and back-off take no time.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// clock is a settable time for the flood-control test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var noLimits = sendLimits{global: rate.Inf, perChat: rate.Inf, perGroup: rate.Inf}

type harness struct {
	mu      sync.Mutex
	handled map[int64]bool
	api     *fakeAPI
	srv     *Server
	logs    *syncBuffer
	sleeps  *sleeps
	cancel  context.CancelFunc
	done    chan error
}

type setup struct {
	cfg    func(*config.Telegram)
	server func(*Server)
	engine engine
	opts   []Option
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
	h := &harness{api: newFakeAPI(t), logs: &syncBuffer{}, sleeps: &sleeps{}, done: make(chan error, 1)}
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
	srv.limits = noLimits
	h.handled = map[int64]bool{}
	srv.handled = func(id int64) {
		h.mu.Lock()
		h.handled[id] = true
		h.mu.Unlock()
		h.api.poke()
	}
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

// quiet waits until every pushed update has been handled, so a test can
// assert that something was NOT sent.
func (h *harness) quiet(t testing.TB) {
	t.Helper()
	h.api.mu.Lock()
	last := h.api.maxID
	h.api.mu.Unlock()
	h.api.waitFor(t, "all updates handled", func() bool {
		mark, _ := h.srv.offsets.Last(context.Background())
		return mark >= last
	})
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

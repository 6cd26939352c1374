package telegram

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// The scenarios of issue 9 — one customer must not wait on another, and no
// question may be lost — each against the fake Bot API. Time is injected:
// a stopped clock shows that a rate limit delays only its own chat, and a
// clock moved on by the bot's own waits compresses minutes of outage.

// startLimited runs a server with Telegram's real send limits on a stopped clock.
func startLimited(t *testing.T, clk *vclock, su setup) *harness {
	t.Helper()
	server := su.server
	su.server = func(s *Server) {
		s.now, s.sleep, s.limits = clk.Now, clk.Sleep, telegramLimits
		if server != nil {
			server(s)
		}
	}
	h := start(t, su)
	clk.poke = h.api.poke
	return h
}

func TestBusyGroupDelaysOnlyItself(t *testing.T) {
	clk := newVClock(t0)
	inbox := newMemoryInbox(0)
	h := startLimited(t, clk, setup{engine: echo(t), opts: []Option{WithInbox(inbox)},
		cfg: func(c *config.Telegram) { c.ShutdownGrace = 100 * time.Millisecond }})
	group := tChat{id: -1001234, ctype: "supergroup", title: "busy"}
	const mentions = 600
	for i := range mentions {
		u := tUser{id: int64(30000 + i), name: "member"}
		h.api.push(textUpdate(group, u, fmt.Sprintf("@BeianBot question %d", i)))
	}
	h.waitTaken(t)
	h.api.waitSent(t, group.id, 3) // the group's burst

	// The clock stands still, so the group may send nothing more; a
	// customer who writes now is answered all the same.
	if got := h.say(t, privateChat(alice), alice, "hello", 1)[0].text(); got != "echo: hello" {
		t.Errorf("the customer got %q", got)
	}
	if n := len(h.api.sent(group.id)); n != 3 {
		t.Fatalf("the group got %d replies with the clock stopped, want its burst of 3", n)
	}
	// Then the group is answered at its own pace: 20 a minute, one every 3 s.
	for k := 1; k <= 5; k++ {
		clk.Advance(3 * time.Second)
		h.api.waitSent(t, group.id, 3+k)
	}
	for i, c := range h.api.sent(group.id) {
		if want := fmt.Sprintf("echo: question %d", i); c.text() != want || c.Fields["reply_parameters"] == "" {
			t.Errorf("group reply %d = %q (reply to %s), want %q quoting the mention", i, c.text(), c.Fields["reply_parameters"], want)
		}
	}

	// A stop leaves what is unanswered in the inbox, not marked done.
	h.stop(t)
	pending, _ := inbox.PendingUpdates(context.Background())
	if want := mentions - 8; len(pending) != want {
		t.Errorf("%d updates left in the inbox after the stop, want %d", len(pending), want)
	}
}

func TestTapFloodDelaysOnlyTheTapper(t *testing.T) {
	clk := newVClock(t0)
	h := startLimited(t, clk, setup{engine: echo(t), cfg: func(c *config.Telegram) {
		c.UserRate, c.UserBurst = 0.5, 5
		c.ShutdownGrace = 100 * time.Millisecond
	}})
	chat := privateChat(bob)
	welcome := h.say(t, chat, bob, "/start", 1)[0]
	const taps = 3000
	for range taps {
		h.api.push(h.api.tap(t, bob, welcome, h.srv.text.examples(lang.EN, false)[0]))
	}
	h.waitTaken(t)
	if got := h.say(t, privateChat(alice), alice, "hello", 1)[0].text(); got != "echo: hello" {
		t.Errorf("the other customer got %q", got)
	}
	// Bob's bucket held 4 more after /start: those taps are answered in
	// turn (2 now, within his chat's burst); the others get a toast at once.
	over := taps - 4
	if got := h.srv.metrics.count("beianbot_telegram_updates_total", "kind", "flood_dropped"); got != float64(over) {
		t.Errorf("flood_dropped = %v, want %d", got, over)
	}
	var toasts, twice int
	h.api.waitFor(t, "the toasts", func() bool {
		toasts, twice = 0, 0
		for _, c := range h.api.callsOf("answerCallbackQuery", 0) {
			switch {
			case c.Status != 200:
				twice++
			case c.Fields["text"] == h.srv.text.text("flood_tap", lang.EN, false):
				toasts++
			}
		}
		unanswered := int(h.srv.metrics.count("beianbot_telegram_updates_total", "kind", "flood_unanswered"))
		return toasts+unanswered == over
	})
	if twice != 0 {
		t.Errorf("%d taps answered twice", twice)
	}
	if toasts != over {
		t.Errorf("%d of %d flood taps got a toast", toasts, over)
	}
	if n := len(h.api.sent(chat.id)); n != 3 {
		t.Errorf("bob got %d messages with the clock stopped, want the welcome and 2 answers", n)
	}
	t.Logf("%d taps over the flood limit: %d toasts, %d unanswered", over, toasts, over-toasts)
}

func TestLostAnswersAreSentAgainOnceAtMost(t *testing.T) {
	for _, lost := range []int{1, 2} {
		t.Run(fmt.Sprint(lost, " lost"), func(t *testing.T) {
			h := start(t, setup{engine: echo(t)})
			chat := privateChat(bob)
			for range lost {
				h.api.fail("sendMessage", scripted{status: lostAnswer, match: func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(chat.id) }})
			}
			h.api.push(textUpdate(chat, bob, "hi"))
			h.quiet(t)
			if n := len(h.api.sent(chat.id)); n != 2 {
				t.Errorf("the answer arrived %d times, want twice (sent again once)", n)
			}
			if got := h.srv.metrics.count("beianbot_telegram_unsure_sends_total", "method", "sendMessage"); got != float64(lost) {
				t.Errorf("unsure sends = %v, want %d", got, lost)
			}
			if got := h.say(t, chat, bob, "next", 1)[0].text(); got != "echo: next" {
				t.Errorf("the next answer = %q", got)
			}
		})
	}
}

func TestLostAnswerNeverRepeatsAReminder(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	chat := privateChat(bob)
	ask := h.say(t, chat, bob, "/remind", 1)[0]
	h.press(t, chat, bob, ask, "2 h ago", 1) // reminders at 19:00 and 05:00
	for range 7 {
		h.api.fail("sendMessage", scripted{status: lostAnswer, match: func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(chat.id) }})
	}
	env.clock.advance(10 * time.Hour) // 19:00
	h.api.waitSent(t, chat.id, 3)
	env.settle(t, h)
	env.clock.advance(time.Hour)
	env.settle(t, h)
	var reminders int
	for _, c := range h.api.sent(chat.id) {
		if strings.Contains(c.text(), "Reminder") {
			reminders++
		}
	}
	if reminders != 1 {
		t.Errorf("the reminder arrived %d times, want once:\n%s", reminders, h.api.dump())
	}
	due, _, _ := env.st.ActiveReminder(context.Background(), chat.id)
	if len(due.Steps) == 0 || due.Steps[0].Outcome != store.Sent {
		t.Errorf("the reminder whose answer was lost is %+v, want it kept as sent", due.Steps)
	}
}

// gate holds the engine's answers until it is opened, counting arrivals.
type gate struct {
	open    chan struct{}
	mu      sync.Mutex
	arrived int
	poke    func()
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) engine(t testing.TB) funcEngine {
	return funcEngine{Engine: engineForTest(t), reply: func(ctx context.Context, _ *bot.Conversation, text string) bot.Reply {
		g.mu.Lock()
		g.arrived++
		poke := g.poke
		g.mu.Unlock()
		if poke != nil {
			poke()
		}
		select {
		case <-g.open:
		case <-ctx.Done():
		}
		return bot.Reply{Lang: lang.EN, Topic: "echo", Text: "echo: " + text}
	}}
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived
}

func TestOutageLosesNothing(t *testing.T) {
	for _, outage := range []time.Duration{10 * time.Second, time.Minute} {
		t.Run(outage.String(), func(t *testing.T) {
			g := newGate()
			clk := newVClock(t0)
			h := start(t, setup{engine: g.engine(t), cfg: func(c *config.Telegram) { c.Workers = 20 },
				server: func(s *Server) { s.now, s.sleep = clk.Now, clk.Sleep }})
			clk.poke = h.api.poke
			g.mu.Lock()
			g.poke = h.api.poke
			g.mu.Unlock()
			const chats = 20
			for i := range chats {
				u := tUser{id: int64(40000 + i), name: "customer"}
				h.api.push(textUpdate(privateChat(u), u, fmt.Sprint("question ", i)))
			}
			h.api.waitFor(t, "the answers being made", func() bool { return g.count() == chats })

			// The Bot API goes away (connections refused) as the answers
			// are ready. Time moves on only when every answer not yet
			// delivered, and the poller while the API is down, is waiting:
			// then to the end of the earliest wait. The API is back once the
			// outage has lasted its time.
			h.api.down()
			began, up := clk.Now(), false
			close(g.open)
			delivered := func() int {
				n := 0
				for i := range chats {
					n += min(1, len(h.api.sent(int64(40000+i))))
				}
				return n
			}
			gaveUp := func() bool { return h.srv.sched.len() < chats-delivered() }
			for delivered() < chats {
				h.api.waitFor(t, "everyone waiting", func() bool {
					want := chats - delivered()
					if !up {
						want++ // the poller
					}
					return want == 0 || clk.sleeping() >= want || gaveUp()
				})
				if gaveUp() {
					t.Fatalf("an answer was given up %v into the outage:\n%s", clk.Now().Sub(began), h.api.dump())
				}
				clk.AdvanceToNext()
				if !up && clk.Now().Sub(began) >= outage {
					h.api.up()
					up = true
				}
			}
			h.quiet(t)
			for i := range chats {
				if sent := h.api.sent(int64(40000 + i)); len(sent) != 1 || sent[0].text() != fmt.Sprint("echo: question ", i) {
					t.Errorf("customer %d got %d answers", i, len(sent))
				}
			}
			if took := clk.Now().Sub(began); took < outage {
				t.Errorf("answered %v into a %v outage", took, outage)
			}
			if n := h.srv.metrics.count("beianbot_telegram_send_errors_total", "kind", "network"); n < chats {
				t.Errorf("%v refused sends counted, want at least one per answer", n)
			}
		})
	}
}

func TestShutdownLeavesTheRestInTheInbox(t *testing.T) {
	dir := t.TempDir()
	open := func() *store.Store {
		st, err := store.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	// The engine answers the first 20 questions; the others wait until
	// shutdown cancels them (the LLM rephraser gives up on cancellation).
	var mu sync.Mutex
	answered := 0
	eng := funcEngine{Engine: engineForTest(t), reply: func(ctx context.Context, _ *bot.Conversation, text string) bot.Reply {
		mu.Lock()
		answered++
		wait := answered > 20
		mu.Unlock()
		if wait {
			<-ctx.Done()
		}
		return bot.Reply{Lang: lang.EN, Topic: "echo", Text: "echo: " + text}
	}}
	h := start(t, setup{engine: eng, opts: []Option{WithInbox(st), WithConversations(st)},
		cfg: func(c *config.Telegram) { c.ShutdownGrace = 100 * time.Millisecond }})
	const chats, each = 6, 10
	for n := range each {
		for c := range chats {
			u := tUser{id: int64(50000 + c), name: "customer"}
			h.api.push(textUpdate(privateChat(u), u, fmt.Sprintf("q %d/%d", c, n)))
		}
	}
	h.waitTaken(t)
	h.api.waitFor(t, "20 answers", func() bool { return len(h.api.sent(0)) == 20 })
	if err := h.stop(t); err != nil { // SIGTERM
		t.Fatal(err)
	}
	pending, err := st.PendingUpdates(context.Background())
	if err != nil || len(pending) != chats*each-20 {
		t.Fatalf("%d updates left in the inbox, %v; want the %d unanswered", len(pending), err, chats*each-20)
	}
	st.Close()

	// The next start answers exactly those, each once, in each chat's order.
	st = open()
	defer st.Close()
	h2 := start(t, setup{engine: echo(t), api: h.api, opts: []Option{WithInbox(st), WithConversations(st)}})
	h2.api.waitFor(t, "every question answered", func() bool { return len(h.api.sent(0)) >= chats*each })
	h2.quiet(t)
	h2.stop(t)
	for c := range chats {
		sent := h.api.sent(int64(50000 + c))
		if len(sent) != each {
			t.Errorf("chat %d got %d answers, want %d", c, len(sent), each)
			continue
		}
		for n, s := range sent {
			if want := fmt.Sprintf("echo: q %d/%d", c, n); s.text() != want {
				t.Errorf("chat %d answer %d = %q, want %q", c, n, s.text(), want)
			}
		}
	}
	if pending, _ := st.PendingUpdates(context.Background()); len(pending) != 0 {
		t.Errorf("%d updates still pending", len(pending))
	}
}

func TestUnreachableReminderIsGivenBackAndSentOnce(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	// Reminders are retried for 5 s of the server's (virtual) time, then
	// given back to the next tick.
	h := start(t, setup{autoClock: true, opts: []Option{WithSupport(env.sup)},
		cfg: func(c *config.Telegram) { c.SupportChatID = supportGroup; c.SendDeadline = 5 * time.Second }})
	env.ticks.mu.Lock()
	env.ticks.poke = h.api.poke
	env.ticks.mu.Unlock()
	chat := privateChat(bob)
	ask := h.say(t, chat, bob, "/remind", 1)[0]
	h.press(t, chat, bob, ask, "2 h ago", 1)
	toBob := func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(chat.id) }
	const failures = 10
	for range failures {
		h.api.fail("sendMessage", scripted{status: 502, match: toBob})
	}
	env.clock.advance(10 * time.Hour) // 19:00
	h.api.waitSent(t, chat.id, 3)
	env.settle(t, h)
	var reminders, attempts int
	for _, c := range h.api.callsOf("sendMessage", chat.id) {
		if strings.Contains(c.Fields["text"], "Reminder") {
			attempts++
			if c.Status == 200 {
				reminders++
			}
		}
	}
	if reminders != 1 || attempts != failures+1 {
		t.Errorf("the reminder went out %d times in %d attempts, want once after %d refusals", reminders, attempts, failures)
	}
	// The claims given back were taken again: it took more than one tick.
	// Only the one delivery counts as sent; the refused tries as failed.
	sent := h.srv.metrics.count("beianbot_telegram_reminders_sent_total", "kind", "before")
	failed := h.srv.metrics.count("beianbot_telegram_reminders_failed_total", "kind", "before")
	if sent != 1 || failed < 1 {
		t.Errorf("reminders sent %v, failed %v; want 1 sent and the failed claims given back and tried again", sent, failed)
	}
}

package telegram

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/lang"
)

// funcEngine answers messages with reply and everything else with the real
// engine: for tests about the transport, not the answers.
type funcEngine struct {
	*bot.Engine
	reply func(ctx context.Context, conv *bot.Conversation, text string) bot.Reply
}

func (f funcEngine) Reply(ctx context.Context, conv *bot.Conversation, text string) bot.Reply {
	return f.reply(ctx, conv, text)
}

func echo(t testing.TB) funcEngine {
	return funcEngine{Engine: engineForTest(t), reply: func(_ context.Context, _ *bot.Conversation, text string) bot.Reply {
		return bot.Reply{Lang: lang.EN, Topic: "echo", Text: "echo: " + text}
	}}
}

func TestFloodControl(t *testing.T) {
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := start(t, setup{
		engine: echo(t),
		cfg:    func(c *config.Telegram) { c.UserRate, c.UserBurst = 1, 3 },
		server: func(s *Server) { s.now = clk.Now },
	})
	chat := privateChat(bob)
	for i := range 8 {
		h.api.push(textUpdate(chat, bob, fmt.Sprint("q", i)))
	}
	h.quiet(t)
	var texts []string
	for _, c := range h.api.sent(chat.id) {
		texts = append(texts, c.text())
	}
	want := []string{"echo: q0", "echo: q1", "echo: q2", "You are sending messages faster than I can answer. Please wait a moment before the next one."}
	if !reflect.DeepEqual(texts, want) {
		t.Fatalf("a burst of 8 got\n%q\nwant the burst of 3, one notice, then silence\n%q", texts, want)
	}
	// Another user is not affected.
	h.say(t, privateChat(alice), alice, "hello", 1)

	// Once the bucket refills, the user is answered again, and told again when over.
	clk.advance(2 * time.Second)
	if got := h.say(t, chat, bob, "later", 1)[0].text(); got != "echo: later" {
		t.Errorf("after refilling got %q", got)
	}
	if got := h.srv.metrics.count("beianbot_telegram_updates_total", "kind", "flood_dropped"); got != 4 {
		t.Errorf("flood_dropped = %v, want 4", got)
	}
}

func TestTelegramErrors(t *testing.T) {
	isChat := func(id int64) func(map[string]string) bool {
		return func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(id) }
	}
	many500 := make([]scripted, 20)
	for i := range many500 {
		many500[i] = scripted{status: 500}
	}
	tests := []struct {
		name      string
		script    []scripted
		delivered bool
		attempts  int
		waits     []time.Duration
		errKind   errKind
	}{
		{"429 waits retry_after", []scripted{{status: 429}}, true, 2, []time.Duration{time.Second}, kindRateLimited},
		{"403 blocked is dropped", []scripted{{status: 403}}, false, 1, nil, kindBlocked},
		{"500 retried with back-off", []scripted{{status: 500}, {status: 502, body: "<html><body>502 Bad Gateway</body></html>"}},
			true, 3, []time.Duration{500 * time.Millisecond, time.Second}, kindServer},
		{"dropped connection: sent again once", []scripted{{status: hangUp}}, true, 2, []time.Duration{500 * time.Millisecond}, kindNetwork},
		// send_deadline is 20s here: the next wait (10s) would end past it.
		{"5xx until the deadline", many500, false, 6,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, kindServer},
		{"400 not retried", []scripted{{status: 400}}, false, 1, nil, kindBadRequest},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, setup{engine: echo(t), autoClock: true, cfg: func(c *config.Telegram) { c.SendDeadline = 20 * time.Second }})
			chat := tChat{id: int64(7000 + i), ctype: "private"}
			for _, s := range tt.script {
				s.match = isChat(chat.id)
				h.api.fail("sendMessage", s)
			}
			h.api.push(textUpdate(chat, bob, "hi"))
			h.quiet(t)
			if got := len(h.api.callsOf("sendMessage", chat.id)); got != tt.attempts {
				t.Errorf("%d sendMessage attempts, want %d:\n%s", got, tt.attempts, h.api.dump())
			}
			if got := len(h.api.sent(chat.id)) == 1; got != tt.delivered {
				t.Errorf("delivered = %v, want %v", got, tt.delivered)
			}
			if got := h.sleeps.all(); !reflect.DeepEqual(got, tt.waits) {
				t.Errorf("waits = %v, want %v", got, tt.waits)
			}
			if got := h.srv.metrics.count("beianbot_telegram_send_errors_total", "kind", string(tt.errKind)); got == 0 {
				t.Errorf("no %s send error counted", tt.errKind)
			}
			// The bot goes on serving.
			other := tChat{id: chat.id + 100, ctype: "private"}
			if got := h.say(t, other, bob, "next", 1)[0].text(); got != "echo: next" {
				t.Errorf("next chat got %q", got)
			}
			if strings.Contains(h.logs.String(), fakeToken) {
				t.Error("token in the logs")
			}
		})
	}
}

func TestRetryAfterTooLongGivesUp(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	h.api.fail("sendMessage", scripted{status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3600","parameters":{"retry_after":3600}}`})
	chat := privateChat(bob)
	h.api.push(textUpdate(chat, bob, "hi"))
	h.quiet(t)
	if len(h.sleeps.all()) != 0 || len(h.api.sent(chat.id)) != 0 {
		t.Errorf("an hour-long retry_after was waited out: waits %v", h.sleeps.all())
	}
}

func TestGroupMigratedToSupergroup(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	group := tChat{id: -4001, ctype: "group"}
	h.api.fail("sendMessage", scripted{status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1004001}}`})
	h.api.push(textUpdate(group, bob, "/lang en"))
	got := h.api.waitSent(t, -1004001, 1)
	h.quiet(t)
	if !strings.Contains(got[0].text(), "English") {
		t.Errorf("after migration sent %q", got[0].text())
	}
	conv, _ := h.srv.convs.Load(context.Background(), -1004001)
	if conv.Lang != lang.EN {
		t.Errorf("chat state did not follow the migration: %+v", conv)
	}
}

func TestHTMLParseErrorFallsBackToPlainText(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	h.api.fail("sendMessage", scripted{status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: unexpected end tag at byte offset 3"}`})
	chat := privateChat(bob)
	got := h.say(t, chat, bob, "a <b> & c", 1)[0]
	if got.Fields["parse_mode"] != "" || got.text() != "echo: a <b> & c" {
		t.Errorf("fallback sent parse_mode=%q text=%q", got.Fields["parse_mode"], got.text())
	}
}

func TestEscapingAndLongReplies(t *testing.T) {
	var para []string
	for i := range 60 {
		para = append(para, fmt.Sprintf("第%d段 <b>not bold</b> & \"quotes\" \\ back\\slash 😀 — %s", i, strings.Repeat("长文本", 40)))
	}
	long := strings.Join(para, "\n\n")
	h := start(t, setup{engine: funcEngine{Engine: engineForTest(t), reply: func(context.Context, *bot.Conversation, string) bot.Reply {
		return bot.Reply{Lang: lang.ZH, Topic: "long", Text: long}
	}}})
	chat := privateChat(alice)
	h.api.push(textUpdate(chat, alice, "tell me everything"))
	h.quiet(t)
	sent := h.api.sent(chat.id)
	if len(sent) < 2 {
		t.Fatalf("a %d-character reply went out in %d message(s)", utf16Len(long), len(sent))
	}
	var joined []string
	for i, s := range sent {
		if n := utf16Len(s.text()); n > maxMessageUnits {
			t.Errorf("part %d is %d UTF-16 units", i, n)
		}
		if !strings.HasPrefix(s.text(), "第") {
			t.Errorf("part %d does not start at a paragraph: %.40q", i, s.text())
		}
		if (s.Markup != nil) != (i == len(sent)-1) {
			t.Errorf("part %d has buttons = %v; only the last should", i, s.Markup != nil)
		}
		joined = append(joined, s.text())
	}
	if got := strings.Join(joined, "\n\n"); got != long {
		t.Error("the parts do not add up to the reply")
	}
}

func TestPanicIsContained(t *testing.T) {
	real := engineForTest(t)
	h := start(t, setup{engine: funcEngine{Engine: real, reply: func(ctx context.Context, c *bot.Conversation, text string) bot.Reply {
		if text == "boom" {
			panic("engine exploded")
		}
		return real.Reply(ctx, c, text)
	}}})
	chat := privateChat(bob)
	got := h.say(t, chat, bob, "boom", 1)[0]
	if !strings.HasPrefix(got.text(), "Sorry, something went wrong") {
		t.Errorf("after a panic sent %q, want the apology", got.text())
	}
	// The same chat still works, and so do button taps after a panic.
	start := h.say(t, chat, bob, "/start", 1)[0]
	h.press(t, chat, bob, start, h.srv.text.examples(lang.EN, false)[0], 1)
	if got := h.srv.metrics.count("beianbot_telegram_panics_total"); got != 1 {
		t.Errorf("panics counted %v, want 1", got)
	}
	if strings.Contains(h.logs.String(), "boom") {
		t.Error("the customer's text was logged")
	}
}

func TestDuplicateUpdatesAnsweredOnce(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	chat := privateChat(bob)
	// Redelivered in the same batch, as after a restart before the offset was confirmed.
	for _, id := range []int64{5000, 5000, 5001} {
		u := textUpdate(chat, bob, fmt.Sprint("update ", id))
		u["update_id"] = id
		h.api.push(u)
	}
	h.quiet(t)
	var texts []string
	for _, s := range h.api.sent(chat.id) {
		texts = append(texts, s.text())
	}
	if want := []string{"echo: update 5000", "echo: update 5001"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("sent %q, want %q", texts, want)
	}
}

func TestOffsetResumesAfterRestart(t *testing.T) {
	inbox := newMemoryInbox(1500)
	h := start(t, setup{engine: echo(t), opts: []Option{WithInbox(inbox)}})
	chat := privateChat(bob)
	old := textUpdate(chat, bob, "taken before the restart")
	old["update_id"] = int64(1400)
	h.api.push(old)
	fresh := textUpdate(chat, bob, "new")
	fresh["update_id"] = int64(1501)
	h.api.push(fresh)
	got := h.api.waitSent(t, chat.id, 1)
	h.quiet(t)
	if len(h.api.sent(chat.id)) != 1 || got[0].text() != "echo: new" {
		t.Errorf("sent %v", h.api.dump())
	}
	if first := h.api.callsOf("getUpdates", 0)[0]; first.Fields["offset"] != "1501" {
		t.Errorf("first getUpdates offset = %q, want 1501", first.Fields["offset"])
	}
	if last, _ := inbox.InboxOffset(context.Background()); last != 1501 {
		t.Errorf("offset stored = %d, want 1501", last)
	}
}

func TestOrderPerChat(t *testing.T) {
	h := start(t, setup{engine: echo(t), cfg: func(c *config.Telegram) { c.Workers = 8 }})
	const chats, each = 40, 25
	for i := range each {
		for c := range chats {
			u := tUser{id: int64(9000 + c)}
			h.api.push(textUpdate(privateChat(u), u, fmt.Sprint(i)))
		}
	}
	for c := range chats {
		sent := h.api.waitSent(t, int64(9000+c), each)
		for i, s := range sent {
			if s.text() != fmt.Sprint("echo: ", i) {
				t.Fatalf("chat %d message %d is %q: out of order or lost", c, i, s.text())
			}
		}
	}
	h.quiet(t)
	if n := len(h.api.sent(0)); n != chats*each {
		t.Errorf("%d messages sent, want %d", n, chats*each)
	}
}

func TestSendLimitsPaceMessages(t *testing.T) {
	clk := newVClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	h := start(t, setup{engine: echo(t), server: func(s *Server) {
		s.now, s.sleep = clk.Now, clk.Sleep
		s.limits = telegramLimits
	}})
	clk.poke = h.api.poke
	chat := privateChat(bob)
	for i := range 5 {
		h.api.push(textUpdate(chat, bob, fmt.Sprint(i)))
	}
	// Time stands still: the burst of 3 goes at once, then the chat waits
	// aside for its limit, one message a second.
	h.api.waitSent(t, chat.id, 3)
	h.api.waitFor(t, "the chat waiting for its limit", func() bool { return clk.sleepingUntil(clk.Now().Add(time.Second)) > 0 })
	if n := len(h.api.sent(chat.id)); n != 3 {
		t.Fatalf("%d messages sent with the clock stopped, want the burst of 3", n)
	}
	for want := 4; want <= 5; want++ {
		clk.Advance(time.Second)
		h.api.waitSent(t, chat.id, want)
	}
	h.quiet(t)
	for i, s := range h.api.sent(chat.id) {
		if s.text() != fmt.Sprint("echo: ", i) {
			t.Errorf("message %d is %q", i, s.text())
		}
	}
}

func TestShutdownFinishesRepliesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := start(t, setup{engine: funcEngine{Engine: engineForTest(t), reply: func(_ context.Context, _ *bot.Conversation, text string) bot.Reply {
		close(entered)
		<-release
		return bot.Reply{Lang: lang.EN, Topic: "slow", Text: "slow answer"}
	}}})
	chat := privateChat(bob)
	h.api.push(textUpdate(chat, bob, "slow question"))
	<-entered
	h.cancel() // as SIGTERM would, while the reply is being made
	close(release)
	if err := h.stop(t); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if sent := h.api.sent(chat.id); len(sent) != 1 || sent[0].text() != "slow answer" {
		t.Errorf("the reply in flight was not finished: %s", h.api.dump())
	}
}

func TestShutdownGraceIsBounded(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	h := start(t, setup{
		cfg: func(c *config.Telegram) { c.ShutdownGrace = 200 * time.Millisecond },
		engine: funcEngine{Engine: engineForTest(t), reply: func(context.Context, *bot.Conversation, string) bot.Reply {
			close(entered)
			<-release // ignores its context: the worst case
			return bot.Reply{}
		}},
	})
	h.api.push(textUpdate(privateChat(bob), bob, "stuck"))
	<-entered
	began := time.Now()
	if err := h.stop(t); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("shutdown took %v with a 200ms grace", took)
	}
	if !strings.Contains(h.logs.String(), "shutdown grace elapsed") {
		t.Error("abandoned replies were not logged")
	}
}

func TestTokenProblems(t *testing.T) {
	for _, tt := range []struct{ name, token string }{
		{"missing", ""},
		{"blank", "   "},
		{"no colon", "1234567890abcdefghijklmnopqrstuvwxyz"},
		{"bad characters", "123456:abc/def?ghi&jklmnopqrstuvwxyz"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			cfg.Token = tt.token
			_, err := newServer(cfg, echo(t))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			if strings.Contains(err.Error(), "\n") || (strings.TrimSpace(tt.token) != "" && strings.Contains(err.Error(), tt.token)) {
				t.Errorf("error %q is not one line or echoes the token", err)
			}
		})
	}

	t.Run("rejected by Telegram", func(t *testing.T) {
		api := newFakeAPI(t)
		cfg := testConfig(api.URL())
		cfg.Token = "987654321:AAWrongTokenWrongTokenWrongToken_x"
		logs := &syncBuffer{}
		s, err := newServer(cfg, echo(t), WithLogger(slogTo(logs)))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Run(context.Background())
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "401") {
			t.Fatalf("Run = %v, want the 401 ConfigError", err)
		}
		if strings.Contains(err.Error()+logs.String(), "WrongToken") {
			t.Error("the token leaked into the error or the logs")
		}
	})
}

func TestTokenNeverLogged(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	// Failed polls: a dropped connection, a proxy's 502 page, a 409.
	h.api.fail("getUpdates", scripted{status: hangUp})
	h.api.fail("getUpdates", scripted{status: 502, body: "<html>bad gateway</html>"})
	h.api.fail("getUpdates", scripted{status: 409})
	// A poll may have been waiting since before the failures were set up:
	// an update ends it, so the next polls meet the failures.
	h.api.push(textUpdate(privateChat(bob), bob, "wake"))
	h.api.waitFor(t, "the three failed polls", func() bool {
		failed := 0
		for _, c := range h.api.callsOf("getUpdates", 0) {
			if c.Status != 200 {
				failed++
			}
		}
		return failed == 3
	})
	// Only a poll after the 409 was handled (and logged) can deliver this.
	h.api.push(textUpdate(privateChat(alice), alice, "hi"))
	h.api.waitSent(t, alice.id, 1)
	logs := h.logs.String()
	if !strings.Contains(logs, "409 Conflict") {
		t.Errorf("the conflict was not explained in the logs:\n%s", logs)
	}
	_, secret, _ := strings.Cut(fakeToken, ":")
	if strings.Contains(logs, secret) {
		t.Errorf("token in the logs:\n%s", logs)
	}
}

func TestStartupDeletesWebhook(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	if n := len(h.api.callsOf("deleteWebhook", 0)); n != 1 {
		t.Errorf("deleteWebhook called %d times in polling mode", n)
	}
	h.api.waitFor(t, "a poll", func() bool { return len(h.api.callsOf("getUpdates", 0)) > 0 })
	first := h.api.callsOf("getUpdates", 0)[0]
	if first.Fields["timeout"] != "5" || !strings.Contains(first.Fields["allowed_updates"], "callback_query") ||
		!strings.Contains(first.Fields["allowed_updates"], "my_chat_member") {
		t.Errorf("getUpdates fields %v", first.Fields)
	}
}

func TestFloodOfNewChatsStaysBounded(t *testing.T) {
	h := start(t, setup{engine: echo(t), cfg: func(c *config.Telegram) { c.MaxChats = 50 }})
	for i := range 400 {
		u := tUser{id: int64(20000 + i), lang: "en"}
		h.api.push(textUpdate(privateChat(u), u, "/lang en")) // every chat pins a language: state to keep
	}
	h.quiet(t)
	if n := h.srv.convs.(*MemoryConversations).Len(); n > 50 {
		t.Errorf("%d chats held, cap 50", n)
	}
	if n := h.srv.flood.Len(); n > 50 {
		t.Errorf("%d flood buckets held, cap 50", n)
	}
	if n := h.srv.send.chats.Len(); n > 50 {
		t.Errorf("%d send limiters held, cap 50", n)
	}
}

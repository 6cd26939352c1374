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
	"github.com/beianbot/beianbot/support"
)

// The support operations run on real SQLite files and the real engine,
// through the fake Bot API. Reminders use an injected clock; the tests
// wait for the runner's ticks (tickStore), never for time to pass.

const supportGroup = -500

var (
	dave      = tUser{id: 2001, lang: "en", name: "Dave"} // an agent
	groupChat = tChat{id: supportGroup, ctype: "group", title: "Filing support"}
)

// t0 is a Monday morning in Beijing.
var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, support.Beijing)

// tickStore is the store as the reminders runner sees it, telling the test
// when a tick looked for due reminders and at what time.
type tickStore struct {
	*store.Store
	poke  func()
	mu    sync.Mutex
	ticks []time.Time
}

func (s *tickStore) DueReminders(ctx context.Context, now time.Time) ([]store.Reminder, error) {
	rs, err := s.Store.DueReminders(ctx, now)
	s.mu.Lock()
	s.ticks = append(s.ticks, now)
	poke := s.poke
	s.mu.Unlock()
	if poke != nil {
		poke()
	}
	return rs, err
}

// ticksFrom counts the ticks at or after at.
func (s *tickStore) ticksFrom(at time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.ticks {
		if !t.Before(at) {
			n++
		}
	}
	return n
}

type supportEnv struct {
	st    *store.Store
	ticks *tickStore
	clock *clock
	sup   Support
}

// newSupportEnv opens the database in dir the way serve does.
func newSupportEnv(t *testing.T, dir string, clk *clock) *supportEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	salt, err := support.Salt(ctx, "", st)
	if err != nil {
		t.Fatal(err)
	}
	ql, err := support.NewQuestionLog(st, salt)
	if err != nil {
		t.Fatal(err)
	}
	ts := &tickStore{Store: st}
	return &supportEnv{st: st, ticks: ts, clock: clk, sup: Support{
		Questions:   ql,
		Threads:     st,
		Reminders:   support.NewReminders(ts, []time.Duration{12 * time.Hour, 2 * time.Hour}),
		SupportName: config.Text{ZH: "青云备案客服", EN: "QingCloud's filing support team"},
		Clock:       clk.Now,
		Tick:        5 * time.Millisecond,
	}}
}

func startSupport(t *testing.T, env *supportEnv) *harness {
	t.Helper()
	return startSupportWith(t, env, setup{})
}

// startSupportWith starts s with support operations on, in the support group.
func startSupportWith(t *testing.T, env *supportEnv, s setup) *harness {
	t.Helper()
	s.cfg = func(c *config.Telegram) { c.SupportChatID = supportGroup }
	s.opts = append(s.opts, WithSupport(env.sup))
	h := start(t, s)
	env.ticks.mu.Lock()
	env.ticks.poke = h.api.poke
	env.ticks.mu.Unlock()
	h.api.mu.Lock()
	h.api.chatTypes[supportGroup] = "group"
	h.api.mu.Unlock()
	return h
}

// settle waits for two runner ticks at the clock's time: the second starts
// after everything the first one sent has gone out.
func (env *supportEnv) settle(t *testing.T, h *harness) {
	t.Helper()
	at := env.clock.Now()
	before := env.ticks.ticksFrom(at)
	h.api.waitFor(t, "two reminder ticks", func() bool { return env.ticks.ticksFrom(at) >= before+2 })
}

// agentReply is an agent's message in the support group replying to msg.
func agentReply(chat tChat, msg map[string]any, text string) map[string]any {
	m := message(chat, dave, text)
	m["reply_to_message"] = msg
	return map[string]any{"message": m}
}

func (h *harness) agentSays(t *testing.T, chat tChat, to apiCall, text string, customer int64, n int) []apiCall {
	t.Helper()
	h.quiet(t) // the bot maps its posts just after sending them
	before := len(h.api.sent(customer))
	h.api.push(agentReply(chat, to.Result, text))
	return h.api.waitSent(t, customer, before+n)[before:]
}

func questions(t *testing.T, st *store.Store) []store.Question {
	t.Helper()
	qs, err := st.QuestionsSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

func TestQuestionLogAndFeedback(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	chat := privateChat(bob)

	first := h.say(t, chat, bob, "How do I do the SMS verification? My phone is 13812345678", 1)[0]
	second := h.say(t, chat, bob, "What happens after 24 hours?", 1)[0]
	qs := questions(t, env.st)
	if len(qs) != 2 {
		t.Fatalf("question log has %d entries, want 2: %+v", len(qs), qs)
	}
	if qs[0].Topic != "how-to-verify" || !qs[0].Answered || strings.Contains(qs[0].Text, "13812345678") || !strings.Contains(qs[0].Text, "[phone]") {
		t.Errorf("first entry = %+v, want how-to-verify with the phone number redacted", qs[0])
	}
	if qs[0].ChatHash == fmt.Sprint(bob.id) || qs[0].ChatHash == "" {
		t.Errorf("chat stored as %q, want a salted hash", qs[0].ChatHash)
	}
	for _, d := range buttonData(first) {
		if len(d) > maxCallbackData {
			t.Errorf("callback data %q over 64 bytes", d)
		}
	}
	if d := buttonData(first); !contains(d, fmt.Sprintf("f:u:how-to-verify:%d", qs[0].ID)) {
		t.Errorf("feedback buttons %v do not name question %d", d, qs[0].ID)
	}

	// A vote from another chat with the same button data changes nothing.
	forged := map[string]any{}
	for k, v := range first.Result {
		forged[k] = v
	}
	forged["chat"] = chatJSON(privateChat(alice))
	h.api.push(callbackUpdate(alice, forged, fmt.Sprintf("f:d:how-to-verify:%d", qs[0].ID)))
	h.quiet(t)
	if qs := questions(t, env.st); qs[0].Feedback != 0 {
		t.Errorf("a vote from another chat was recorded: %+v", qs[0])
	}

	// 👍 on the first answer is recorded on the first question only.
	h.api.push(h.api.tap(t, bob, first, "👍 Helpful"))
	h.quiet(t)
	qs = questions(t, env.st)
	if qs[0].Feedback != 1 || qs[1].Feedback != 0 {
		t.Errorf("feedback = %d, %d; want +1 on the first question only", qs[0].Feedback, qs[1].Feedback)
	}
	// 👎 is recorded, and a person is offered.
	offer := h.press(t, chat, bob, second, "👎 Not helpful", 1)[0]
	if qs := questions(t, env.st); qs[1].Feedback != -1 {
		t.Errorf("👎 not recorded: %+v", qs[1])
	}
	if !strings.Contains(offer.text(), "did not help") || !contains(offer.buttons(), "🙋 Talk to a person") {
		t.Errorf("after 👎 got %q %v, want the offer of a person", offer.text(), offer.buttons())
	}
}

func TestHandoffEndToEnd(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	chat := privateChat(carol) // writes Traditional

	unknown := h.say(t, chat, carol, "明天會下雨嗎？我的手機 13812345678", 1)[0]
	if !contains(unknown.buttons(), "🙋 轉人工客服") {
		t.Fatalf("unknown reply buttons = %v, want the handoff button in Traditional", unknown.buttons())
	}
	told := h.press(t, chat, carol, unknown, "🙋 轉人工客服", 1)[0]
	if want := support.HandoffStartedText(lang.ZH, true, "青云备案客服"); told.text() != want {
		t.Errorf("customer told %q, want %q", told.text(), want)
	}
	post := h.api.waitSent(t, supportGroup, 1)[0]
	for _, want := range []string{"Handoff #1", "zh-Hant", "topic: unknown", "明天會下雨嗎", "[電話]"} {
		if !strings.Contains(post.text(), want) {
			t.Errorf("handoff post lacks %q:\n%s", want, post.text())
		}
	}
	if strings.Contains(post.text(), "13812345678") {
		t.Errorf("handoff post shows the phone number:\n%s", post.text())
	}
	if qs := questions(t, env.st); len(qs) != 1 || !qs[0].Handoff {
		t.Errorf("question not marked as handed over: %+v", qs)
	}

	// The agent replies to the post: routed by the stored mapping. Neither
	// message carries forward_from (a customer who hides forwards looks the same).
	if _, ok := post.Result["forward_from"]; ok {
		t.Fatal("the post is a forward; routing must not depend on it")
	}
	got := h.agentSays(t, groupChat, post, "您好，明天的天氣請看天氣預報。", chat.id, 1)[0]
	if got.text() != "人工客服：\n您好，明天的天氣請看天氣預報。" {
		t.Errorf("customer got %q", got.text())
	}

	// While the thread is open the customer's messages go to the group, not the engine.
	before := len(h.api.sent(chat.id))
	groupBefore := len(h.api.sent(supportGroup))
	h.api.push(textUpdate(chat, carol, "謝謝！驗證碼是 123456，還要做什麼？"))
	relayed := h.api.waitSent(t, supportGroup, groupBefore+1)[groupBefore]
	h.quiet(t)
	if n := len(h.api.sent(chat.id)); n != before {
		t.Errorf("the engine answered during the handoff: %s", h.api.dump())
	}
	if !strings.Contains(relayed.text(), "#1") || !strings.Contains(relayed.text(), "還要做什麼") || strings.Contains(relayed.text(), "123456") {
		t.Errorf("relayed customer message = %q, want it redacted under #1", relayed.text())
	}
	// A reply to the relayed message routes too, and so does a reply to the agent's own message.
	h.agentSays(t, groupChat, relayed, "不用再做什麼了。", chat.id, 1)
	agentMsg := apiCall{Result: message(groupChat, dave, "earlier agent message")}
	if err := env.st.AddSupportMessage(context.Background(), 1, supportGroup, int64(agentMsg.Result["message_id"].(int)), true); err != nil {
		t.Fatal(err)
	}
	h.agentSays(t, groupChat, agentMsg, "補充一句。", chat.id, 1)

	// Chatter in the group is left alone; a command to the bot gets a short note.
	groupBefore = len(h.api.sent(supportGroup))
	h.api.push(textUpdate(groupChat, dave, "lunch?"))
	h.api.push(textUpdate(groupChat, dave, "/start"))
	note := h.api.waitSent(t, supportGroup, groupBefore+1)[groupBefore]
	h.quiet(t)
	if len(h.api.sent(supportGroup)) != groupBefore+1 || !strings.Contains(note.text(), "I only act on replies") {
		t.Errorf("group messages answered wrongly: %s", h.api.dump())
	}

	// /close@BeianBot as a reply ends the thread and tells the customer.
	groupBefore = len(h.api.sent(supportGroup))
	closed := h.agentSays(t, groupChat, post, "/close@BeianBot", chat.id, 1)[0]
	if closed.text() != support.HandoffClosedText(lang.ZH, true) {
		t.Errorf("customer told %q on close", closed.text())
	}
	if ack := h.api.waitSent(t, supportGroup, groupBefore+1)[groupBefore]; !strings.Contains(ack.text(), "Thread #1 closed") {
		t.Errorf("group told %q on close", ack.text())
	}
	// A late reply is not relayed, and the customer talks to the engine again.
	groupBefore = len(h.api.sent(supportGroup))
	h.api.push(agentReply(groupChat, post.Result, "one more thing"))
	late := h.api.waitSent(t, supportGroup, groupBefore+1)[groupBefore]
	if !strings.Contains(late.text(), "closed") {
		t.Errorf("late reply answered %q", late.text())
	}
	answer := h.say(t, chat, carol, "收不到核驗短信怎麼辦", 1)[0]
	if !strings.Contains(answer.text(), "短信") {
		t.Errorf("after close, engine answer = %q", answer.text())
	}
}

func TestHumanWithoutSupportGroup(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := start(t, setup{opts: []Option{WithSupport(env.sup)}}) // no support_chat_id
	chat := privateChat(bob)
	unknown := h.say(t, chat, bob, "what's the weather today", 1)[0]
	if contains(unknown.buttons(), "🙋 Talk to a person") {
		t.Errorf("handoff offered with no support group: %v", unknown.buttons())
	}
	got := h.say(t, chat, bob, "/human", 1)[0]
	if !strings.Contains(got.text(), "no human support channel") || !strings.Contains(got.text(), "QingCloud's filing support team") {
		t.Errorf("/human without a group = %q", got.text())
	}
}

func TestHandoffGroupMigration(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	chat := privateChat(bob)
	told := h.say(t, chat, bob, "/human my filing is stuck", 1)[0]
	if !strings.Contains(told.text(), "A person will reply here") {
		t.Fatalf("/human answered %q", told.text())
	}
	post := h.api.waitSent(t, supportGroup, 1)[0]
	if !strings.Contains(post.text(), "my filing is stuck") || !strings.Contains(post.text(), "· en ·") {
		t.Errorf("post = %q", post.text())
	}

	// 1. Telegram says so in the old group: the open thread is posted again in the new one.
	const super1, super2 = -100500, -100600
	svc := message(groupChat, dave, "")
	delete(svc, "text")
	svc["migrate_to_chat_id"] = super1
	h.api.push(map[string]any{"message": svc})
	moved := h.api.waitSent(t, super1, 1)[0]
	if !strings.Contains(moved.text(), "supergroup") || !strings.Contains(moved.text(), "Handoff #1") {
		t.Errorf("moved post = %q", moved.text())
	}
	newGroup := tChat{id: super1, ctype: "supergroup", title: "Filing support"}
	got := h.agentSays(t, newGroup, moved, "We are checking, one moment.", chat.id, 1)[0]
	if !strings.Contains(got.text(), "We are checking") {
		t.Errorf("relayed %q", got.text())
	}

	// 2. A send fails with the migrate error: follow it and deliver there.
	h.api.fail("sendMessage", scripted{
		status: 400,
		body:   fmt.Sprintf(`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":%d}}`, super2),
		match:  func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(super1) },
	})
	h.api.push(textUpdate(chat, bob, "Any news?"))
	in2 := h.api.waitSent(t, super2, 2)
	var customerMsg apiCall
	for _, c := range in2 {
		if strings.Contains(c.text(), "Any news?") {
			customerMsg = c
		}
	}
	if customerMsg.Result == nil {
		t.Fatalf("customer message not delivered to the new group: %s", h.api.dump())
	}
	newer := tChat{id: super2, ctype: "supergroup"}
	h.agentSays(t, newer, customerMsg, "Approved now.", chat.id, 1)
	if cur, _ := env.st.SupportChat(context.Background(), supportGroup); cur != super2 {
		t.Errorf("support chat recorded as %d, want %d", cur, super2)
	}
	closed := h.agentSays(t, newer, customerMsg, "/close deadline", chat.id, 1)[0]
	if closed.text() != support.HandoffClosedText(lang.EN, false) {
		t.Errorf("close told %q", closed.text())
	}
}

func TestReminders(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	chat := privateChat(bob)

	answer := h.say(t, chat, bob, "/steps", 1)[0]
	ask := h.press(t, chat, bob, answer, "⏰ Remind me before the 24 hours run out", 1)[0]
	if want := []string{"Just now", "2 h ago", "6 h ago", "12 h ago"}; strings.Join(ask.buttons(), "|") != strings.Join(want, "|") {
		t.Fatalf("arrival buttons = %v, want %v", ask.buttons(), want)
	}
	// SMS at 07:00: deadline 07:00 tomorrow, reminders at 19:00 and 05:00.
	ok := h.press(t, chat, bob, ask, "2 h ago", 1)[0]
	if !strings.Contains(ok.text(), "07:00 on 11 Mar") || !strings.Contains(ok.text(), "19:00 and 05:00") {
		t.Errorf("confirmation = %q", ok.text())
	}

	env.clock.advance(10*time.Hour - time.Minute) // 18:59: nothing yet
	env.settle(t, h)
	if n := len(h.api.sent(chat.id)); n != 3 {
		t.Fatalf("a reminder came early: %s", h.api.dump())
	}
	env.clock.advance(time.Minute) // 19:00
	first := h.api.waitSent(t, chat.id, 4)[3]
	if !strings.Contains(first.text(), "about 12 hours") || !contains(first.buttons(), "✅ Done, verified") {
		t.Errorf("first reminder = %q %v", first.text(), first.buttons())
	}
	done := h.press(t, chat, bob, first, "✅ Done, verified", 1)[0]
	if done.text() != support.CancelledText(lang.EN, false) {
		t.Errorf("done answered %q", done.text())
	}
	// Done cancels the rest: nothing at 05:00, nothing after the deadline.
	for _, d := range []time.Duration{10 * time.Hour, 3 * time.Hour} {
		env.clock.advance(d)
		env.settle(t, h)
	}
	if n := len(h.api.sent(chat.id)); n != 5 {
		t.Errorf("reminders after done: %s", h.api.dump())
	}

	// /remind with a typed time, in Chinese.
	zh := privateChat(alice)
	h.say(t, zh, alice, "/remind", 1)
	conf := h.say(t, zh, alice, "3小时前", 1)[0]
	if !strings.Contains(conf.text(), "短信核验需在") {
		t.Errorf("typed time answered %q", conf.text())
	}
	// A time past the 24 hours gets what to do now.
	h.say(t, zh, alice, "/remind", 1)
	late := h.say(t, zh, alice, "昨天 上午8点", 1)[0]
	if want := engineSays(t, func(e *bot.Engine, c *bot.Conversation) bot.Reply {
		return e.Topic(context.Background(), c, "deadline", lang.ZH, false)
	}); late.text() != shown(want) {
		t.Errorf("past the deadline answered %q, want the deadline topic", late.text())
	}
}

func TestRemindersAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{now: t0}
	chat := privateChat(bob)

	env := newSupportEnv(t, dir, clk)
	h := startSupport(t, env)
	ask := h.say(t, chat, bob, "/remind", 1)[0]
	h.press(t, chat, bob, ask, "Just now", 1) // deadline 09:00 tomorrow
	h.stop(t)
	env.st.Close()

	// Down over the 12-hours-left reminder (21:00): it goes out once at start.
	clk.advance(12*time.Hour + 30*time.Minute)
	env = newSupportEnv(t, dir, clk)
	h = startSupport(t, env)
	got := h.api.waitSent(t, chat.id, 1)[0]
	if !strings.Contains(got.text(), "Reminder") {
		t.Errorf("reminder after restart = %q", got.text())
	}
	env.settle(t, h)
	if n := len(h.api.sent(chat.id)); n != 1 {
		t.Errorf("%d messages after the restart, want 1: %s", n, h.api.dump())
	}
	h.stop(t)
	env.st.Close()

	// Down past the deadline: the after-deadline message, once, and not the 2-hours one.
	clk.advance(13 * time.Hour)
	env = newSupportEnv(t, dir, clk)
	h = startSupport(t, env)
	got = h.api.waitSent(t, chat.id, 1)[0]
	env.settle(t, h)
	if n := len(h.api.sent(chat.id)); n != 1 {
		t.Errorf("%d messages after the deadline restart, want 1: %s", n, h.api.dump())
	}
	deadline := engineSays(t, func(e *bot.Engine, c *bot.Conversation) bot.Reply {
		return e.Topic(context.Background(), c, "deadline", lang.EN, false)
	})
	if !strings.Contains(got.text(), "24-hour limit") || !strings.Contains(got.text(), strings.TrimSpace(deadline.Text)) || len(got.buttons()) != 0 {
		t.Errorf("after-deadline message = %q %v", got.text(), got.buttons())
	}
}

// TestSupportTranscript plays a handoff and a reminder as the customer and
// the support group see them; the support guide shows it, and the test
// fails when that copy differs (-update-docs rewrites it).
func TestSupportTranscript(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	var b strings.Builder
	show := func(where string, calls []apiCall) { writeBotMessages(&b, where, calls) }
	chat := privateChat(bob)
	groupSent := func(from int) []apiCall { return h.api.sent(supportGroup)[from:] }

	fmt.Fprintf(&b, "👤 Bob: Can you help me with my domain transfer?\n\n")
	unknown := h.say(t, chat, bob, "Can you help me with my domain transfer?", 1)
	show("", unknown)
	fmt.Fprintf(&b, "👤 Bob taps [ 🙋 Talk to a person ]\n\n")
	show("", h.press(t, chat, bob, unknown[0], "🙋 Talk to a person", 1))
	post := h.api.waitSent(t, supportGroup, 1)[0]
	show(" (in the support group)", []apiCall{post})
	fmt.Fprintf(&b, "👩‍💼 Dave (agent, replying to that post in the group): Hi Bob, please send me the domain name.\n\n")
	show("", h.agentSays(t, groupChat, post, "Hi Bob, please send me the domain name.", chat.id, 1))
	fmt.Fprintf(&b, "👤 Bob: example.cn\n\n")
	n := len(h.api.sent(supportGroup))
	h.api.push(textUpdate(chat, bob, "example.cn"))
	h.api.waitSent(t, supportGroup, n+1)
	show(" (in the support group)", groupSent(n))
	fmt.Fprintf(&b, "👩‍💼 Dave (replying /close to the post)\n\n")
	n = len(h.api.sent(supportGroup))
	show("", h.agentSays(t, groupChat, post, "/close", chat.id, 1))
	h.api.waitSent(t, supportGroup, n+1)
	show(" (in the support group)", groupSent(n))

	fmt.Fprintf(&b, "👤 Bob: /remind   (at 09:00 Beijing time)\n\n")
	ask := h.say(t, chat, bob, "/remind", 1)
	show("", ask)
	fmt.Fprintf(&b, "👤 Bob taps [ 2 h ago ]\n\n")
	show("", h.press(t, chat, bob, ask[0], "2 h ago", 1))
	env.clock.advance(10 * time.Hour)
	before := len(h.api.sent(chat.id))
	fmt.Fprintf(&b, "(19:00 Beijing time)\n\n")
	rem := h.api.waitSent(t, chat.id, before+1)[before:]
	show("", rem)
	fmt.Fprintf(&b, "👤 Bob taps [ ✅ Done, verified ]\n\n")
	show("", h.press(t, chat, bob, rem[0], "✅ Done, verified", 1))

	if strings.Count(b.String(), "🤖") < 10 {
		t.Errorf("transcript too short:\n%s", b.String())
	}
	syncDoc(t, supportGuide, "support-transcript", "```text\n"+b.String()+"```\n")
}

package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

// Tests of what makes the bot feel native in Telegram: "typing…", menus
// and descriptions, taps that edit the message tapped, membership changes,
// and formatted replies — each checked on the Bot API calls the library
// makes against the fake.

// heldRephraser stands in for the LLM: it keeps every answer as it is, and
// while a hold is set each call waits until the hold is released, so a
// test decides how long a rewording takes.
type heldRephraser struct {
	mu    sync.Mutex
	hold  chan struct{}
	calls int
	poke  func()
}

func (r *heldRephraser) Rephrase(ctx context.Context, req bot.RephraseRequest) bot.RephraseResult {
	r.mu.Lock()
	r.calls++
	hold, poke := r.hold, r.poke
	r.mu.Unlock()
	if poke != nil {
		poke()
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
		}
	}
	return bot.RephraseResult{Verdict: "kept by the test"}
}

// holdNext makes the next rewordings wait until release is called; poke is
// told when one starts.
func (r *heldRephraser) holdNext(poke func()) (release func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hold := make(chan struct{})
	r.hold, r.poke = hold, poke
	return func() {
		r.mu.Lock()
		r.hold = nil
		r.mu.Unlock()
		close(hold)
	}
}

func (r *heldRephraser) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

type rephrasing struct {
	engine     *bot.Engine
	rephraser  *heldRephraser
	rephraseMu sync.Mutex // one test at a time uses the rephraser
}

// rephrasingEngine is the real engine with LLM rephrasing on, the LLM
// being a heldRephraser; built once.
var rephrasingEngine = sync.OnceValues(func() (*rephrasing, error) {
	rp := &heldRephraser{}
	e, err := bot.New(context.Background(), bot.Options{Rephraser: rp})
	return &rephrasing{engine: e, rephraser: rp}, err
})

func rephrasingForTest(t *testing.T) (*bot.Engine, *heldRephraser) {
	t.Helper()
	r, err := rephrasingEngine()
	if err != nil {
		t.Fatalf("build engine: %v", err)
	}
	r.rephraseMu.Lock()
	t.Cleanup(r.rephraseMu.Unlock)
	return r.engine, r.rephraser
}

// fakeTimers replaces the server's timers: each fires only when the test
// fires it, and the test sees which were asked for and stopped.
type fakeTimers struct {
	mu     sync.Mutex
	timers []*fakeTimer
	poke   func()
}

type fakeTimer struct {
	d       time.Duration
	c       chan time.Time
	mu      sync.Mutex
	stopped bool
}

func (f *fakeTimers) timer(d time.Duration) (<-chan time.Time, func() bool) {
	ft := &fakeTimer{d: d, c: make(chan time.Time, 1)}
	f.mu.Lock()
	f.timers = append(f.timers, ft)
	poke := f.poke
	f.mu.Unlock()
	if poke != nil {
		poke()
	}
	return ft.c, func() bool {
		ft.mu.Lock()
		ft.stopped = true
		ft.mu.Unlock()
		return true
	}
}

func (f *fakeTimers) setPoke(poke func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.poke = poke
}

func (f *fakeTimers) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// nth waits until n timers were asked for and returns the nth.
func (f *fakeTimers) nth(t testing.TB, api *fakeAPI, n int) *fakeTimer {
	t.Helper()
	api.waitFor(t, fmt.Sprintf("timer %d", n), func() bool { return f.count() >= n })
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timers[n-1]
}

func (ft *fakeTimer) fire() { ft.c <- time.Time{} }

func (ft *fakeTimer) wasStopped() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.stopped
}

// allCalls returns every recorded call, in order.
func (f *fakeAPI) allCalls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func TestTypingWhileTheAnswerIsSlow(t *testing.T) {
	e, rp := rephrasingForTest(t)
	timers := &fakeTimers{}
	h := start(t, setup{engine: e, server: func(s *Server) { s.timer = timers.timer }})
	timers.setPoke(h.api.poke)
	chat := privateChat(alice)

	// The LLM takes its time: "typing…" after 300 ms, renewed every 4.5 s.
	release := rp.holdNext(h.api.poke)
	calls := rp.count() // the engine is shared with other tests (and other runs, with -count)
	h.api.push(textUpdate(chat, alice, "短信核验怎么操作"))
	h.api.waitFor(t, "the rewording to start", func() bool { return rp.count() == calls+1 })
	first := timers.nth(t, h.api, 1)
	if first.d != 300*time.Millisecond {
		t.Errorf("first typing timer %v, want 300ms", first.d)
	}
	first.fire()
	h.api.waitFor(t, "typing…", func() bool { return len(h.api.callsOf("sendChatAction", chat.id)) == 1 })
	second := timers.nth(t, h.api, 2)
	if second.d != 4500*time.Millisecond {
		t.Errorf("renewal timer %v, want 4.5s", second.d)
	}
	second.fire()
	h.api.waitFor(t, "typing… renewed", func() bool { return len(h.api.callsOf("sendChatAction", chat.id)) == 2 })
	third := timers.nth(t, h.api, 3)
	release()
	answer := h.api.waitSent(t, chat.id, 1)[0]
	for _, c := range h.api.callsOf("sendChatAction", chat.id) {
		if c.Status != 200 || c.Fields["action"] != "typing" {
			t.Errorf("sendChatAction %d %v", c.Status, c.Fields)
		}
	}
	var order []string
	for _, c := range h.api.allCalls() {
		if c.Method == "sendChatAction" || c.Method == "sendMessage" {
			order = append(order, c.Method)
		}
	}
	if want := []string{"sendChatAction", "sendChatAction", "sendMessage"}; !reflect.DeepEqual(order, want) {
		t.Errorf("calls in the order %v, want %v", order, want)
	}
	if !third.wasStopped() {
		t.Error("the renewal timer still runs after the answer went out")
	}
	want := engineSays(t, ask("短信核验怎么操作"))
	if answer.text() != shown(want) {
		t.Errorf("answer after typing\n%q\nwant\n%q", answer.text(), shown(want))
	}

	// A quick answer shows no "typing…": its timer is stopped unfired.
	h.say(t, chat, alice, "收不到核验短信怎么办", 1)
	h.quiet(t)
	if n := len(h.api.callsOf("sendChatAction", 0)); n != 2 {
		t.Errorf("%d chat actions, want the slow answer's 2 only", n)
	}
	if n := timers.count(); n != 4 || !timers.nth(t, h.api, 4).wasStopped() {
		t.Errorf("%d timers; the quick answer's should be the 4th, stopped", n)
	}
}

// menus returns the command menus registered, by scope and language
// ("all_private_chats/zh"), as command names in order.
func (f *fakeAPI) menus(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, c := range f.callsOf("setMyCommands", 0) {
		if c.Status != 200 {
			t.Errorf("setMyCommands refused: %d %v", c.Status, c.Fields)
			continue
		}
		var scope struct{ Type string }
		json.Unmarshal([]byte(c.Fields["scope"]), &scope)
		var cmds []struct{ Command string }
		json.Unmarshal([]byte(c.Fields["commands"]), &cmds)
		var names []string
		for _, cmd := range cmds {
			names = append(names, cmd.Command)
		}
		out[scope.Type+"/"+c.Fields["language_code"]] = names
	}
	return out
}

// providerEngine is the real engine serving another provider.
type providerEngine struct {
	*bot.Engine
	provider knowledge.Provider
}

func (e providerEngine) Provider() knowledge.Provider { return e.provider }

func TestProfile(t *testing.T) {
	private := []string{"start", "who", "steps", "lang", "help"}
	group := []string{"who", "steps", "lang", "help"}
	t.Run("without support operations", func(t *testing.T) {
		h := start(t, setup{})
		want := map[string][]string{}
		for _, code := range []string{"", "zh", "en"} {
			want["all_private_chats/"+code] = private
			want["all_group_chats/"+code] = group
		}
		if got := h.api.menus(t); !reflect.DeepEqual(got, want) {
			t.Errorf("menus %v\nwant %v", got, want)
		}
		zhMenu := h.api.callsOf("setMyCommands", 0)[1].Fields["commands"]
		enMenu := h.api.callsOf("setMyCommands", 0)[2].Fields["commands"]
		if !strings.Contains(zhMenu, "开始") || !strings.Contains(enMenu, "Start over") {
			t.Errorf("menus not in their language: %s / %s", zhMenu, enMenu)
		}
		// Descriptions: the default and zh in Chinese, en in English, naming the provider.
		for _, method := range []string{"setMyDescription", "setMyShortDescription"} {
			calls := h.api.callsOf(method, 0)
			var codes []string
			for _, c := range calls {
				codes = append(codes, c.Fields["language_code"])
				text := c.Fields["description"] + c.Fields["short_description"]
				name := "青云"
				if c.Fields["language_code"] == "en" {
					name = "QingCloud"
				}
				if c.Status != 200 || !strings.Contains(text, name) {
					t.Errorf("%s(%q) = %d %q, want it to name %s", method, c.Fields["language_code"], c.Status, text, name)
				}
			}
			if !reflect.DeepEqual(codes, []string{"", "zh", "en"}) {
				t.Errorf("%s for languages %q", method, codes)
			}
		}
		// /help lists what the menu offers, in private chats and groups.
		help := h.say(t, privateChat(bob), bob, "/help", 1)[0].text()
		g := tChat{id: -7001, ctype: "supergroup", title: "g"}
		groupHelp := h.say(t, g, bob, "/help", 1)[0].text()
		for _, absent := range []string{"/human", "/remind"} {
			if strings.Contains(help, absent) || strings.Contains(groupHelp, absent) {
				t.Errorf("/help offers %s without support operations:\n%s\n%s", absent, help, groupHelp)
			}
		}
		if !strings.Contains(help, "/start") || strings.Contains(groupHelp, "/start") {
			t.Errorf("/start should be listed in private chats only:\n%s\n%s", help, groupHelp)
		}
	})
	t.Run("with support operations", func(t *testing.T) {
		h := startSupport(t, newSupportEnv(t, t.TempDir(), &clock{now: t0}))
		menus := h.api.menus(t)
		for key, cmds := range menus {
			if !slices.Contains(cmds, "human") || !slices.Contains(cmds, "remind") {
				t.Errorf("menu %s = %v, want /human and /remind", key, cmds)
			}
		}
		if len(menus) != 6 {
			t.Errorf("%d menus, want 6", len(menus))
		}
		if help := h.say(t, privateChat(bob), bob, "/help", 1)[0].text(); !strings.Contains(help, "/human") || !strings.Contains(help, "/remind") {
			t.Errorf("/help with support operations:\n%s", help)
		}
	})
	t.Run("provider from the config", func(t *testing.T) {
		p := knowledge.DefaultProvider()
		p.Name = knowledge.Text{ZH: "示例云", EN: "ExampleCloud" + strings.Repeat("!", 100)} // too long for the short description
		h := start(t, setup{engine: providerEngine{Engine: engineForTest(t), provider: p}})
		for _, c := range h.api.callsOf("setMyDescription", 0) {
			if name := map[string]string{"": "示例云", "zh": "示例云", "en": "ExampleCloud"}[c.Fields["language_code"]]; !strings.Contains(c.Fields["description"], name) {
				t.Errorf("description(%q) = %q, want %s", c.Fields["language_code"], c.Fields["description"], name)
			}
		}
		var short []string
		for _, c := range h.api.callsOf("setMyShortDescription", 0) {
			short = append(short, c.Fields["language_code"])
		}
		if !reflect.DeepEqual(short, []string{"", "zh"}) {
			t.Errorf("short descriptions set for %q; the English one is too long with this name and must be left alone", short)
		}
		if !strings.Contains(h.logs.String(), "short description too long") {
			t.Error("the skipped short description was not logged")
		}
	})
}

// longTopics answers topic requests with a reply longer than one message.
type longTopics struct {
	funcEngine
	long string
}

func (e longTopics) Topic(ctx context.Context, conv *bot.Conversation, id string, l lang.Lang, trad bool) bot.Reply {
	r := e.funcEngine.Topic(ctx, conv, id, l, trad)
	r.Text = e.long
	return r
}

func TestTapsEditTheTappedMessage(t *testing.T) {
	// "Did you mean" offers topics; their answers are long enough to need two messages.
	var long strings.Builder
	for i := range 40 {
		fmt.Fprintf(&long, "第%d段。%s\n\n", i, strings.Repeat("很长的回答", 30))
	}
	suggest := func(context.Context, *bot.Conversation, string) bot.Reply {
		return bot.Reply{Lang: lang.ZH, Topic: bot.TopicUnknown, Handoff: true, Text: "我不太确定您问的是哪一个，是下面的问题吗？",
			Suggestions: []bot.Suggestion{{Topic: "how-to-verify", Title: "怎么做短信核验"}, {Topic: "deadline", Title: "24小时时限"}}}
	}
	h := start(t, setup{engine: longTopics{funcEngine: funcEngine{Engine: engineForTest(t), reply: suggest}, long: long.String()}})
	chat := privateChat(alice)

	dym := h.say(t, chat, alice, "核验", 1)[0]
	edit := h.pressEdit(t, chat, alice, dym, "怎么做短信核验")
	h.quiet(t)
	rest := h.api.sent(chat.id)[1:]
	if edit.Fields["message_id"] != fmt.Sprint(dym.Result["message_id"]) || len(rest) == 0 {
		t.Fatalf("a long answer to a tap: edit of %s and %d new message(s):\n%s", edit.Fields["message_id"], len(rest), h.api.dump())
	}
	if !strings.HasPrefix(edit.text(), "您选择了：怎么做短信核验\n\n怎么做短信核验\n第0段") || edit.Markup != nil {
		t.Errorf("the tapped message reads %.80q with buttons %v; want the choice, the title and the answer's start, no buttons", edit.text(), edit.buttons())
	}
	if last := rest[len(rest)-1]; len(last.buttons()) == 0 || !strings.HasPrefix(last.buttons()[len(last.buttons())-1], "👎") {
		t.Errorf("the answer's buttons are not under its last part: %v", last.buttons())
	}
	var shownText []string
	for _, c := range append([]apiCall{edit}, rest...) {
		if n := utf16Len(c.Fields["text"]); n > maxMessageUnits {
			t.Errorf("a part is %d units of HTML", n)
		}
		shownText = append(shownText, c.text())
	}
	if got := strings.Join(shownText, "\n\n"); !strings.HasSuffix(got, strings.TrimSpace(long.String())) {
		t.Error("the parts do not add up to the answer")
	}

	// Tapping the same choice again (from a second device, or the same tap
	// answered again after a restart) finds the message already reading
	// so: Telegram says "not modified", and nothing else is sent.
	picker := h.say(t, chat, alice, "/lang", 1)[0]
	h.pressEdit(t, chat, alice, picker, "English")
	before := len(h.api.sent(chat.id))
	edits := len(h.api.callsOf("editMessageText", chat.id))
	h.api.push(h.api.tap(t, alice, picker, "English"))
	h.api.waitFor(t, "the second edit", func() bool { return len(h.api.callsOf("editMessageText", chat.id)) == edits+1 })
	h.quiet(t)
	if again := h.api.callsOf("editMessageText", chat.id)[edits]; again.Status != 400 {
		t.Errorf("second edit %d, want Telegram's 'message is not modified'", again.Status)
	}
	if n := len(h.api.sent(chat.id)); n != before {
		t.Errorf("a repeated tap sent %d messages", n-before)
	}
	if strings.Contains(h.logs.String(), "reply not delivered") {
		t.Errorf("'not modified' taken for a failure:\n%s", h.logs.String())
	}

	// A message too old to edit: the answer comes as a new message.
	picker = h.say(t, chat, alice, "/lang", 1)[0]
	h.api.freeze(picker)
	before = len(h.api.sent(chat.id))
	got := h.press(t, chat, alice, picker, "简体中文", 1)[0]
	if got.text() != "您选择了：简体中文\n\n好的，以后我用中文回答。" {
		t.Errorf("after a refused edit the answer reads %q", got.text())
	}
	if n := len(h.api.sent(chat.id)); n != before+1 {
		t.Errorf("%d messages after a refused edit, want 1", n-before)
	}
	if acks := h.api.callsOf("answerCallbackQuery", 0); len(acks) != 4 {
		t.Errorf("%d callback queries answered, want each of the 4 taps once", len(acks))
	}
}

// memberUpdate is Telegram's my_chat_member update: by changed the bot's
// status in c from old to new.
func memberUpdate(c tChat, by tUser, old, new string) map[string]any {
	me := map[string]any{"id": 123456789, "is_bot": true, "first_name": "Beian", "username": "BeianBot"}
	return map[string]any{"my_chat_member": map[string]any{"chat": chatJSON(c), "from": userJSON(by), "date": 1,
		"old_chat_member": map[string]any{"status": old, "user": me},
		"new_chat_member": map[string]any{"status": new, "user": me}}}
}

func TestBlockedOrRemoved(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(h.logs.String())
		}
	})
	ctx := context.Background()

	// Bob talks to a person and asks to be reminded…
	chat := privateChat(bob)
	h.say(t, chat, bob, "/human my filing is stuck", 1)
	post := h.api.waitSent(t, supportGroup, 1)[0]
	ask := h.say(t, chat, bob, "/remind", 1)[0]
	h.press(t, chat, bob, ask, "Just now", 1)
	if _, ok, _ := env.st.ActiveReminder(ctx, chat.id); !ok {
		t.Fatal("no reminder scheduled")
	}

	// …then blocks the bot. Telegram delivers the news twice in one batch.
	blocked := memberUpdate(chat, bob, "member", "kicked")
	groupBefore := len(h.api.sent(supportGroup))
	h.api.pushAll(blocked, blocked)
	note := h.api.waitSent(t, supportGroup, groupBefore+1)[groupBefore]
	h.quiet(t)
	if note.text() != fmt.Sprintf(supportCustomerBlocked, 1) {
		t.Errorf("support group told %q", note.text())
	}
	if n := len(h.api.sent(supportGroup)); n != groupBefore+1 {
		t.Errorf("%d notes for one block, want 1: %s", n-groupBefore, h.api.dump())
	}
	if _, open, _ := env.st.ThreadByCustomer(ctx, chat.id); open {
		t.Error("the thread is still open")
	}
	if _, ok, _ := env.st.ActiveReminder(ctx, chat.id); ok {
		t.Error("the reminder is still active")
	}
	if got := h.srv.metrics.count("beianbot_telegram_updates_total", "kind", "duplicate"); got != 1 {
		t.Errorf("duplicates counted %v, want the redelivery", got)
	}
	// No reminder attempt is made, before or after the deadline.
	customerBefore := len(h.api.sent(chat.id))
	for _, d := range []time.Duration{12 * time.Hour, 13 * time.Hour} {
		env.clock.advance(d)
		env.settle(t, h)
	}
	if n := len(h.api.sent(chat.id)); n != customerBefore || len(h.api.callsOf("sendMessage", chat.id)) != customerBefore {
		t.Errorf("messages to a customer who blocked the bot: %s", h.api.dump())
	}
	// A late reply to the thread is told it is closed.
	groupBefore = len(h.api.sent(supportGroup))
	h.api.push(agentReply(groupChat, post.Result, "are you there?"))
	if late := h.api.waitSent(t, supportGroup, groupBefore+1)[groupBefore]; !strings.Contains(late.text(), "closed") {
		t.Errorf("late reply answered %q", late.text())
	}

	// A group that removes the bot: its thread closes with its own note.
	g := tChat{id: -1007001, ctype: "supergroup", title: "Acme IT"}
	h.say(t, g, bob, "/human@BeianBot we need help", 1)
	h.api.waitSent(t, supportGroup, groupBefore+2)
	h.api.push(memberUpdate(g, bob, "member", "left"))
	note = h.api.waitSent(t, supportGroup, groupBefore+3)[groupBefore+2]
	if note.text() != fmt.Sprintf(supportCustomerRemoved, 2) {
		t.Errorf("support group told %q", note.text())
	}
	// A customer who unblocks the bot gets nothing unasked.
	h.api.push(memberUpdate(chat, bob, "kicked", "member"))
	h.quiet(t)
	if n := len(h.api.sent(chat.id)); n != customerBefore {
		t.Errorf("an unblock sent %d messages", n-customerBefore)
	}
}

func TestAddedToGroup(t *testing.T) {
	h := start(t, setup{cfg: func(c *config.Telegram) { c.SupportChatID = supportGroup }})
	g := tChat{id: -1008001, ctype: "supergroup", title: "备案群"}
	h.api.push(memberUpdate(g, alice, "left", "member"))
	got := h.api.waitSent(t, g.id, 1)[0]
	if want := h.srv.text.text("group_intro", lang.ZH, false, "bot", "BeianBot"); got.text() != want {
		t.Errorf("intro %q, want %q", got.text(), want)
	}
	if got.Fields["reply_parameters"] != "" {
		t.Errorf("the intro replies to something: %s", got.Fields["reply_parameters"])
	}
	if en := h.srv.text.text("group_intro", lang.EN, false, "bot", "BeianBot"); !strings.Contains(en, "@BeianBot") {
		t.Errorf("English intro %q does not say how to address the bot", en)
	}

	// No intro in the support group, nor in a supergroup that replaced a
	// group the bot was in (Telegram reports the bot as added there).
	h.api.push(memberUpdate(tChat{id: supportGroup, ctype: "group"}, dave, "left", "administrator"))
	old := tChat{id: -4001, ctype: "group", title: "old"}
	moved := tChat{id: -1004001, ctype: "supergroup", title: "old"}
	m := message(old, alice, "")
	delete(m, "text")
	m["migrate_to_chat_id"] = moved.id
	h.api.push(map[string]any{"message": m})
	h.api.push(memberUpdate(moved, alice, "left", "member"))
	h.quiet(t)
	if n := len(h.api.sent(supportGroup)) + len(h.api.sent(moved.id)); n != 0 {
		t.Errorf("introduced itself where it should not: %s", h.api.dump())
	}
}

func TestFormattedReplies(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(bob)

	// The title in bold, web addresses as links.
	got := h.say(t, chat, bob, "How do I do the SMS verification?", 1)[0]
	want := engineSays(t, ask("How do I do the SMS verification?"))
	if !strings.HasPrefix(got.Fields["text"], "<b>"+want.Title+"</b>\n") {
		t.Errorf("no bold title: %.120q", got.Fields["text"])
	}
	if !strings.Contains(got.Fields["text"], `<a href="https://beian.miit.gov.cn/">https://beian.miit.gov.cn/</a>`) {
		t.Errorf("the address is not a link: %q", got.Fields["text"])
	}
	if got.text() != shown(want) || got.Fields["parse_mode"] != "HTML" {
		t.Errorf("shown as %q (%s), want %q", got.text(), got.Fields["parse_mode"], shown(want))
	}

	// A pasted MIIT message: the message, quoted, heads the answer.
	got = h.say(t, chat, bob, "该条验证库里找不到记录", 1)[0]
	if !strings.HasPrefix(got.Fields["text"], "<blockquote>该条验证库里找不到记录</blockquote>\n") {
		t.Errorf("MIIT's message not quoted: %.120q", got.Fields["text"])
	}

	// The customer's own text never becomes markup.
	h2 := start(t, setup{engine: echo(t)})
	got = h2.say(t, chat, bob, `<b>hi</b> & "x" https://x.example/?a=<b>`, 1)[0]
	if got.text() != `echo: <b>hi</b> & "x" https://x.example/?a=<b>` || strings.Contains(got.Fields["text"], "<b>") {
		t.Errorf("customer text came out as %q (%q)", got.text(), got.Fields["text"])
	}
}

// A reminder Telegram refuses because the customer blocked the bot (the
// my_chat_member update never came) stops the chat's later reminders too.
func TestRefusedReminderStopsTheRest(t *testing.T) {
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupport(t, env)
	chat := privateChat(bob)
	ask := h.say(t, chat, bob, "/remind", 1)[0]
	h.press(t, chat, bob, ask, "Just now", 1) // reminders at 21:00, 07:00, and the deadline's at 09:00
	h.api.fail("sendMessage", scripted{status: 403, match: func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(chat.id) }})
	env.clock.advance(12 * time.Hour)
	h.api.waitFor(t, "the refused reminder", func() bool {
		calls := h.api.callsOf("sendMessage", chat.id)
		return calls[len(calls)-1].Status == 403
	})
	env.settle(t, h)
	attempts := len(h.api.callsOf("sendMessage", chat.id))
	for range 2 {
		env.clock.advance(6 * time.Hour)
		env.settle(t, h)
	}
	if n := len(h.api.callsOf("sendMessage", chat.id)); n != attempts {
		t.Errorf("%d more reminder attempts to a customer who blocked the bot: %s", n-attempts, h.api.dump())
	}
	if _, ok, _ := env.st.ActiveReminder(context.Background(), chat.id); ok {
		t.Error("the reminder is still active")
	}
}

// BenchmarkTypingOverhead is what watching for a slow answer costs a quick
// one: a goroutine and a timer, stopped unfired.
func BenchmarkTypingOverhead(b *testing.B) {
	s := &Server{timer: realTimer}
	rq := &request{chat: 42}
	r := bot.Reply{Topic: "x"}
	b.ReportAllocs()
	for b.Loop() {
		s.whileAnswering(context.Background(), rq, func() bot.Reply { return r })
	}
}

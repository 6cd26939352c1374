package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

// The scripted conversations drive the real library and the real engine
// against the fake Bot API. Expected answers are not written here: each is
// what the engine itself returns for the same turn, so the tests check the
// Telegram layer (routing, state, language, buttons, escaping) end to end.

var (
	alice = tUser{id: 1001, lang: "zh-hans", name: "Alice"}
	bob   = tUser{id: 1002, lang: "en", name: "Bob"}
	carol = tUser{id: 1003, lang: "zh-hant", name: "Carol"}
)

// engineSays replays turns on a fresh conversation and returns the last reply.
func engineSays(t *testing.T, turns ...func(e *bot.Engine, c *bot.Conversation) bot.Reply) bot.Reply {
	t.Helper()
	e := engineForTest(t)
	var conv bot.Conversation
	var r bot.Reply
	for _, turn := range turns {
		r = turn(e, &conv)
	}
	return r
}

func ask(q string) func(*bot.Engine, *bot.Conversation) bot.Reply {
	return func(e *bot.Engine, c *bot.Conversation) bot.Reply { return e.Reply(context.Background(), c, q) }
}

// shown is what a customer sees of a reply: its heading (the MIIT messages
// it explains, quoted, or else its title) over its text — for an ask-back,
// over its question.
func shown(r bot.Reply) string {
	body := strings.TrimSpace(r.Text)
	if r.Clarify != nil && len(r.Clarify.Options) > 0 {
		body = r.Clarify.Question
	}
	head := r.Title
	if len(r.Quotes) > 0 {
		head = strings.Join(r.Quotes, "\n")
	}
	if head == "" {
		return body
	}
	return head + "\n" + body
}

// shownAfterTap is what a message whose button was tapped reads once
// edited: the option chosen, then the reply.
func (h *harness) shownAfterTap(label string, r bot.Reply) string {
	return h.srv.text.text("chosen", r.Lang, r.Traditional, "option", label) + "\n\n" + shown(r)
}

func TestPrivateStartAndExampleTap(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(alice)

	got := h.say(t, chat, alice, "/start", 1)[0]
	if got.Fields["parse_mode"] != "HTML" {
		t.Errorf("parse_mode = %q, want HTML", got.Fields["parse_mode"])
	}
	if !strings.Contains(got.text(), "备案短信核验助手") {
		t.Errorf("welcome is not the Chinese one for language_code zh-hans: %q", got.text())
	}
	examples := h.srv.text.examples(lang.ZH, false)
	if b := got.buttons(); len(b) != len(examples) || b[0] != examples[0] {
		t.Fatalf("welcome buttons = %v, want the examples %v", b, examples)
	}

	answer := h.press(t, chat, alice, got, examples[1], 1)[0]
	want := engineSays(t, ask(examples[1]))
	if answer.text() != shown(want) {
		t.Errorf("tap on an example answered\n%q\nwant the engine's answer\n%q", answer.text(), want.Text)
	}
	if b := answer.buttons(); len(b) < 2 || !strings.HasPrefix(b[len(b)-2], "👍") || !strings.HasPrefix(b[len(b)-1], "👎") {
		t.Errorf("answer buttons = %v, want 👍/👎 last", b)
	}
	if n := len(h.api.callsOf("answerCallbackQuery", 0)); n != 1 {
		t.Errorf("answerCallbackQuery called %d times, want 1", n)
	}
}

func TestLanguagesFollowTheMessage(t *testing.T) {
	h := start(t, setup{})
	tests := []struct {
		name     string
		user     tUser
		question string
		upLabel  string
	}{
		{"english", bob, "Who has to verify for a new access filing?", "👍 Helpful"},
		{"simplified", alice, "收不到核验短信怎么办", "👍 有帮助"},
		{"traditional", carol, "收不到核驗短信怎麼辦", "👍 有幫助"},
		// Language follows the words, not the Telegram setting.
		{"english from a chinese account", alice, "The verification SMS never arrived, what now?", "👍 Helpful"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chat := tChat{id: tt.user.id*10 + int64(len(tt.name)), ctype: "private"}
			got := h.say(t, chat, tt.user, tt.question, 1)[0]
			want := engineSays(t, ask(tt.question))
			if got.text() != shown(want) {
				t.Errorf("reply\n%q\nwant the engine's\n%q", got.text(), want.Text)
			}
			if b := got.buttons(); len(b) < 2 || b[len(b)-2] != tt.upLabel {
				t.Errorf("buttons %v, want %q", b, tt.upLabel)
			}
		})
	}
}

func TestGroupChat(t *testing.T) {
	h := start(t, setup{})
	group := tChat{id: -100500, ctype: "supergroup", title: "备案群"}
	dave := tUser{id: 2001, lang: "zh-hans", name: "Dave"}

	// Chatter not addressed to the bot is ignored…
	h.api.push(textUpdate(group, dave, "谁需要短信核验"))
	h.api.push(textUpdate(group, dave, "/help@OtherBot"))
	h.api.push(textUpdate(group, dave, "/otherbotscommand"))
	h.api.push(map[string]any{"message": map[string]any{"message_id": nextMsgID(), "date": 1, "chat": chatJSON(group),
		"from": userJSON(dave), "sticker": map[string]any{"file_id": "x", "file_unique_id": "y", "type": "regular", "width": 1, "height": 1}}})
	h.api.push(map[string]any{"message": map[string]any{"message_id": nextMsgID(), "date": 1, "chat": chatJSON(group),
		"from": userJSON(dave), "new_chat_members": []any{userJSON(bob)}}})
	h.quiet(t)
	if n := len(h.api.sent(group.id)); n != 0 {
		t.Fatalf("bot answered %d group messages not meant for it:\n%s", n, h.api.dump())
	}

	// …a mention is answered, the mention itself left out of the question.
	q := "新增接入需要谁核验？"
	upd := textUpdate(group, dave, "@BeianBot "+q)
	h.api.push(upd)
	got := h.api.waitSent(t, group.id, 1)[0]
	if want := engineSays(t, ask(q)); got.text() != shown(want) {
		t.Errorf("mention answered\n%q\nwant\n%q", got.text(), want.Text)
	}
	asked := upd["message"].(map[string]any)["message_id"].(int)
	if !strings.Contains(got.Fields["reply_parameters"], fmt.Sprintf(`"message_id":%d`, asked)) {
		t.Errorf("group reply does not quote the question: reply_parameters=%s", got.Fields["reply_parameters"])
	}

	// A reply to the bot's message is for the bot, in the group's conversation.
	reply := message(group, dave, "那新增网站呢")
	reply["reply_to_message"] = got.Result
	h.api.push(map[string]any{"message": reply})
	follow := h.api.waitSent(t, group.id, 2)[1]
	if want := engineSays(t, ask(q), ask("那新增网站呢")); follow.text() != shown(want) {
		t.Errorf("reply-to-bot answered\n%q\nwant\n%q", follow.text(), want.Text)
	}

	if got := h.say(t, group, dave, "/nosuch@BeianBot", 1)[0].text(); !strings.Contains(got, "不认识") {
		t.Errorf("an unknown command addressed to the bot got %q", got)
	}
	// Commands work bare and with the bot's username, any case.
	for i, cmd := range []string{"/help", "/help@BeianBot", "/HELP@beianbot"} {
		got := h.say(t, group, dave, cmd, 1)[0]
		if !strings.Contains(got.text(), "/who") {
			t.Errorf("%s (#%d) did not show the command list: %q", cmd, i, got.text())
		}
	}
}

func TestDeepLinks(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(alice)
	got := h.say(t, chat, alice, "/start how-to-verify", 1)[0]
	want := engineForTest(t).Topic(context.Background(), &bot.Conversation{}, "how-to-verify", lang.ZH, false)
	if got.text() != shown(want) {
		t.Errorf("deep link answered\n%q\nwant\n%q", got.text(), want.Text)
	}
	// Unpinned, a command answers in the Telegram language, Traditional included.
	got = h.say(t, privateChat(carol), carol, "/start how-to-verify", 1)[0]
	if !lang.IsTraditional(got.text()) {
		t.Errorf("deep link for a zh-hant user is not Traditional: %q", got.text())
	}
	// An unknown or malformed payload falls back to the welcome.
	for _, payload := range []string{"no-such-topic", "<script>", strings.Repeat("x", 100)} {
		got := h.say(t, chat, alice, "/start "+payload, 1)[0]
		if !strings.Contains(got.text(), "备案短信核验助手") {
			t.Errorf("/start %s answered %q, want the welcome", payload, got.text())
		}
	}
}

func TestWhoWizard(t *testing.T) {
	h := start(t, setup{})
	e := engineForTest(t)
	table := e.Matrix()
	for _, tt := range []struct {
		user tUser
		l    lang.Lang
	}{{alice, lang.ZH}, {bob, lang.EN}} {
		t.Run(string(tt.l), func(t *testing.T) {
			chat := privateChat(tt.user)
			step1 := h.say(t, chat, tt.user, "/who", 1)[0]
			if got, want := len(step1.buttons()), len(table.Businesses()); got != want {
				t.Fatalf("/who offers %d filing types, want %d: %v", got, want, step1.buttons())
			}
			// A filing type whose rows disagree asks for the subcase…
			business := "变更备案"
			rows := table.RowsOf(business)
			bi := indexOf(table.Businesses(), business)
			// Each step edits the message tapped: the wizard is one message.
			step2 := h.pressEdit(t, chat, tt.user, step1, numbered(bi, labelOf(rows[0], tt.l)))
			if got := step2.buttons(); len(got) != len(rows) {
				t.Fatalf("subcase step offers %v, want the %d rows of %s", got, len(rows), business)
			}
			if id := step2.Fields["message_id"]; id != fmt.Sprint(step1.Result["message_id"]) {
				t.Errorf("step 2 edited message %s, want the /who message %v", id, step1.Result["message_id"])
			}
			// …and the subcase gives the table's answer.
			last := rows[len(rows)-1]
			label := numbered(len(rows)-1, last.Label(tt.l))
			answer := h.pressEdit(t, chat, tt.user, step2, label)
			want := e.Who(context.Background(), &bot.Conversation{}, business, last.Subcase, tt.l, false)
			if answer.text() != h.shownAfterTap(label, want) {
				t.Errorf("wizard answered\n%q\nwant\n%q", answer.text(), h.shownAfterTap(label, want))
			}
			if b := answer.buttons(); len(b) < 2 || !strings.HasPrefix(b[len(b)-2], "👍") {
				t.Errorf("the answer's buttons are %v, want 👍/👎", b)
			}
			// A filing type with one row answers at once; the /who message
			// no longer offers it, but its old button still answers.
			single := table.Businesses()[0]
			label = numbered(0, labelOf(table.RowsOf(single)[0], tt.l))
			answer = h.pressEdit(t, chat, tt.user, step1, label)
			want = e.Who(context.Background(), &bot.Conversation{}, single, "", tt.l, false)
			if answer.text() != h.shownAfterTap(label, want) || answer.Markup == nil {
				t.Errorf("single-row type answered\n%q\nwant\n%q", answer.text(), h.shownAfterTap(label, want))
			}
			if n := len(h.api.sent(chat.id)); n != 1 {
				t.Errorf("the wizard sent %d messages, want its one: %s", n, h.api.dump())
			}
		})
	}
}

// numbered is an ask-back button's label: the option's number and name.
func numbered(i int, label string) string { return fmt.Sprintf("%d. %s", i+1, label) }

// labelOf is how the engine names a filing type in an ask-back.
func labelOf(r matrixRow, l lang.Lang) string {
	if l == lang.EN {
		return r.BusinessEN
	}
	return r.Business
}

func TestAskBackTaps(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(alice)
	q := "做变更备案的话要谁来验证"
	ask1 := h.say(t, chat, alice, q, 1)[0]
	first := engineSays(t, ask(q))
	if first.Clarify == nil {
		t.Fatalf("engine did not ask back on %q; pick another question", q)
	}
	if ask1.text() != shown(first) || len(ask1.buttons()) != len(first.Clarify.Options) {
		t.Fatalf("ask-back shown as %q %v, want %q with %d buttons", ask1.text(), ask1.buttons(), shown(first), len(first.Clarify.Options))
	}
	opt := first.Clarify.Options[1]
	label := numbered(1, opt.Label)
	got := h.pressEdit(t, chat, alice, ask1, label)
	want := engineSays(t, ask(q), func(e *bot.Engine, c *bot.Conversation) bot.Reply { return e.Choose(context.Background(), c, 1) })
	if got.text() != h.shownAfterTap(label, want) {
		t.Errorf("tap answered\n%q\nwant\n%q", got.text(), h.shownAfterTap(label, want))
	}

	// The conversation moves on; a tap on the old ask-back still answers
	// for the row its button names.
	h.say(t, chat, alice, "收不到核验短信怎么办", 1)
	opt = first.Clarify.Options[2]
	label = numbered(2, opt.Label)
	got = h.pressEdit(t, chat, alice, ask1, label)
	who := engineForTest(t).Who(context.Background(), &bot.Conversation{}, opt.Business, opt.Subcase, lang.ZH, false)
	if got.text() != h.shownAfterTap(label, who) {
		t.Errorf("stale tap answered\n%q\nwant\n%q", got.text(), h.shownAfterTap(label, who))
	}
	if n := len(h.api.sent(chat.id)); n != 2 {
		t.Errorf("taps sent new messages: %s", h.api.dump())
	}

	// A typed option number answers the pending ask-back too.
	h.say(t, chat, alice, q, 1)
	got = h.say(t, chat, alice, "2", 1)[0]
	want = engineSays(t, ask(q), ask("2"))
	if got.text() != shown(want) {
		t.Errorf("typed number answered\n%q\nwant\n%q", got.text(), want.Text)
	}
}

func TestFeedbackTaps(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(bob)
	answer := h.say(t, chat, bob, "How do I do the SMS verification?", 1)[0]
	h.api.push(h.api.tap(t, bob, answer, "👍 Helpful"))
	h.api.waitFor(t, "feedback handled", func() bool { return len(h.api.callsOf("editMessageReplyMarkup", chat.id)) == 1 })

	acks := h.api.callsOf("answerCallbackQuery", 0)
	if len(acks) != 1 || acks[0].Fields["text"] != "Thanks for the feedback!" {
		t.Errorf("answerCallbackQuery = %+v, want one thank-you toast", acks)
	}
	edit := h.api.callsOf("editMessageReplyMarkup", chat.id)[0]
	if edit.Status != 200 || edit.Fields["message_id"] != fmt.Sprint(answer.Result["message_id"]) {
		t.Errorf("edit = %d %v, want the answered message", edit.Status, edit.Fields)
	}
	for _, b := range edit.buttons() {
		if strings.HasPrefix(b, "👍") || strings.HasPrefix(b, "👎") {
			t.Errorf("feedback buttons still there after the vote: %v", edit.buttons())
		}
	}
	if got := h.srv.metrics.count("beianbot_telegram_feedback_total", "vote", "up"); got != 1 {
		t.Errorf("feedback metric = %v, want 1", got)
	}
	if len(h.api.sent(chat.id)) != 1 {
		t.Errorf("a vote sent a message: %s", h.api.dump())
	}
}

func TestNonTextAndOtherUpdates(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(bob)
	base := func() map[string]any {
		return map[string]any{"message_id": nextMsgID(), "date": 1, "chat": chatJSON(chat), "from": userJSON(bob)}
	}
	withField := func(k string, v any) map[string]any { m := base(); m[k] = v; return m }
	for _, m := range []map[string]any{
		withField("sticker", map[string]any{"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1}),
		withField("photo", []any{map[string]any{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}}),
		withField("voice", map[string]any{"file_id": "v", "file_unique_id": "v", "duration": 1}),
		withField("document", map[string]any{"file_id": "d", "file_unique_id": "d"}),
	} {
		h.api.push(map[string]any{"message": m})
	}
	got := h.api.waitSent(t, chat.id, 4)
	for _, g := range got {
		if !strings.Contains(g.text(), "only read text") {
			t.Errorf("non-text answered %q, want the request for text", g.text())
		}
	}
	// Update kinds the bot does not handle, and edits, change nothing.
	edited := message(chat, bob, "edited question")
	h.api.push(map[string]any{"edited_message": edited})
	h.api.push(map[string]any{"channel_post": map[string]any{"message_id": 1, "date": 1, "chat": map[string]any{"id": -300, "type": "channel"}, "text": "post"}})
	h.api.push(map[string]any{"inline_query": map[string]any{"id": "iq", "from": userJSON(bob), "query": "q", "offset": ""}})
	h.api.push(map[string]any{"poll": map[string]any{"id": "p", "question": "?", "options": []any{}, "total_voter_count": 0}})
	h.api.push(map[string]any{"my_chat_member": map[string]any{"chat": chatJSON(chat), "from": userJSON(bob), "date": 1,
		"old_chat_member": map[string]any{"status": "member", "user": userJSON(bob)}, "new_chat_member": map[string]any{"status": "kicked", "user": userJSON(bob), "until_date": 0}}})
	h.api.push(map[string]any{"callback_query": map[string]any{"id": "inline-1", "from": userJSON(bob), "chat_instance": "1", "inline_message_id": "im", "data": "f:u:x"}})
	h.api.push(map[string]any{"callback_query": map[string]any{"id": "garbage-1", "from": userJSON(bob), "chat_instance": "1",
		"message": map[string]any{"message_id": 1, "date": 1, "chat": chatJSON(chat)}, "data": "zz:\x00:9999999999999"}})
	h.quiet(t)
	if n := len(h.api.sent(chat.id)); n != 4 {
		t.Errorf("other updates produced messages:\n%s", h.api.dump())
	}
	if n := len(h.api.callsOf("answerCallbackQuery", 0)); n != 2 {
		t.Errorf("%d callback queries answered, want both", n)
	}
	// Still alive.
	h.say(t, chat, bob, "/help", 1)
}

func TestLangCommand(t *testing.T) {
	h := start(t, setup{})
	chat := privateChat(bob)
	if got := h.say(t, chat, bob, "/lang zh", 1)[0].text(); !strings.Contains(got, "中文") {
		t.Errorf("/lang zh confirmed %q", got)
	}
	q := "Who has to verify for a new access filing?"
	got := h.say(t, chat, bob, q, 1)[0]
	want := engineSays(t, func(e *bot.Engine, c *bot.Conversation) bot.Reply {
		c.Lang = lang.ZH
		return e.Reply(context.Background(), c, q)
	})
	if got.text() != shown(want) || want.Lang != lang.ZH {
		t.Errorf("pinned Chinese answered\n%q\nwant\n%q", got.text(), want.Text)
	}
	picker := h.say(t, chat, bob, "/lang", 1)[0]
	if len(picker.buttons()) != 4 {
		t.Fatalf("/lang offers %v", picker.buttons())
	}
	if got := h.pressEdit(t, chat, bob, picker, "繁體中文").text(); got != lang.ToTraditional("您选择了：繁體中文\n\n好的，以后我用中文回答。") {
		t.Errorf("繁體 confirmed %q", got)
	}
	if got := h.say(t, chat, bob, "/steps", 1)[0].text(); !lang.IsTraditional(got) {
		t.Errorf("/steps after pinning Traditional is not Traditional: %q", got)
	}
	// The picker's buttons went with the first tap; an old button still works.
	if got := h.pressEdit(t, chat, bob, picker, "English").text(); got != "You chose: English\n\nOK, I will answer in English from now on." {
		t.Errorf("English confirmed %q", got)
	}
	h.say(t, chat, bob, "/lang auto", 1)
	if got := h.say(t, chat, bob, "收不到核验短信怎么办", 1)[0]; !strings.Contains(got.buttons()[len(got.buttons())-1], "没帮助") {
		t.Errorf("after /lang auto a Chinese question got %v", got.buttons())
	}
}

package telegram

import (
	"context"
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
	if answer.text() != strings.TrimSpace(want.Text) {
		t.Errorf("tap on an example answered\n%q\nwant the engine's answer\n%q", answer.text(), want.Text)
	}
	if b := answer.buttons(); len(b) < 2 || !strings.HasPrefix(b[len(b)-2], "👍") || !strings.HasPrefix(b[len(b)-1], "👎") {
		t.Errorf("answer buttons = %v, want 👍/👎 last", b)
	}
	if n := len(h.api.callsOf("answerCallbackQuery", 0)); n != 1 {
		t.Errorf("answerCallbackQuery called %d times, want 1", n)
	}
}

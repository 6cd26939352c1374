package telegram

import (
	"fmt"
	"strings"
	"testing"
)

// TestTranscript plays a demo conversation through the fake Bot API; the
// operators' guide shows what the user sees, and the test fails when that
// copy differs (-update-docs rewrites it).
func TestTranscript(t *testing.T) {
	h := start(t, setup{})
	var b strings.Builder
	show := func(_ string, calls []apiCall) { writeBotMessages(&b, "", calls) }
	say := func(u tUser, text string) []apiCall {
		fmt.Fprintf(&b, "👤 %s: %s\n\n", u.name, text)
		got := h.say(t, privateChat(u), u, text, 1)
		show(u.name, got)
		return got
	}
	press := func(u tUser, msg apiCall, label string) []apiCall {
		fmt.Fprintf(&b, "👤 %s taps [ %s ]\n\n", u.name, label)
		got := h.press(t, privateChat(u), u, msg, label, 1)
		show(u.name, got)
		return got
	}
	pressEdit := func(u tUser, msg apiCall, label string) apiCall {
		fmt.Fprintf(&b, "👤 %s taps [ %s ]\n\n", u.name, label)
		got := h.pressEdit(t, privateChat(u), u, msg, label)
		writeBotMessages(&b, " (the tapped message now reads)", []apiCall{got})
		return got
	}

	welcome := say(alice, "/start")[0]
	press(alice, welcome, welcome.buttons()[1])
	ask := say(alice, "做变更备案的话要谁来验证")[0]
	answer := pressEdit(alice, ask, ask.buttons()[3])
	fmt.Fprintf(&b, "👤 Alice taps [ %s ]\n", answer.buttons()[0])
	h.api.push(h.api.tap(t, alice, answer, answer.buttons()[0]))
	h.api.waitFor(t, "the vote", func() bool { return len(h.api.callsOf("editMessageReplyMarkup", alice.id)) == 1 })
	acks := h.api.callsOf("answerCallbackQuery", 0)
	fmt.Fprintf(&b, "   (toast) %s\n\n", acks[len(acks)-1].Fields["text"])

	say(bob, "The ID is a Hong Kong permit, which 6 characters do I enter?")
	w := say(bob, "/who")[0]
	pressEdit(bob, w, w.buttons()[2])
	say(carol, "短信核驗要在多久內完成？")

	if strings.Count(b.String(), "🤖") < 8 {
		t.Errorf("transcript too short:\n%s", b.String())
	}
	syncDoc(t, operatorsGuide, "telegram-conversation", "```text\n"+b.String()+"```\n")
}

// writeBotMessages renders what the bot sent, with its buttons, as the
// README's transcripts show it; where says which chat ("" for the customer's).
func writeBotMessages(b *strings.Builder, where string, calls []apiCall) {
	for _, c := range calls {
		fmt.Fprintf(b, "🤖 BeianBot%s:\n", where)
		for _, line := range strings.Split(c.text(), "\n") {
			fmt.Fprintf(b, "   %s\n", line)
		}
		writeButtons(b, c)
		fmt.Fprintln(b)
	}
}

// writeButtons renders a message's inline keyboard, one row a line.
func writeButtons(b *strings.Builder, c apiCall) {
	if c.Markup == nil {
		return
	}
	for _, row := range c.Markup.InlineKeyboard {
		var labels []string
		for _, btn := range row {
			labels = append(labels, "[ "+btn["text"].(string)+" ]")
		}
		fmt.Fprintf(b, "   %s\n", strings.Join(labels, " "))
	}
}

package telegram

import (
	"flag"
	"fmt"
	"html"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the transcripts in docs/operators.md and docs/support.md")

// The operators' guide shows the Telegram features as this test plays
// them on the fake Bot API; the test fails when the guide's copy differs
// (go test ./telegram -run TestTranscript -update-docs rewrites it).
const (
	operatorsGuide  = "../docs/operators.md"
	supportGuide    = "../docs/support.md"
	transcriptIntro = "From `go test ./telegram -run TestTranscriptTelegramFeatures`, on the fake Bot API with LLM rewording on (a stand-in that takes its time), the support group and reminders on. Formatting as Telegram shows it: `**bold**`, `_italic_`, `▌ quote`, `<address>` for a link; in brackets, the Bot API call made."
)

func TestTranscriptTelegramFeatures(t *testing.T) {
	e, rp := rephrasingForTest(t)
	timers := &fakeTimers{}
	env := newSupportEnv(t, t.TempDir(), &clock{now: t0})
	h := startSupportWith(t, env, setup{engine: e, server: func(s *Server) { s.timer = timers.timer }})
	timers.setPoke(h.api.poke)

	var b strings.Builder
	b.WriteString("```\n")
	writeStartup(&b, h.api)
	seen := len(h.api.allCalls())
	show := func() {
		h.quiet(t)
		calls := h.api.allCalls()
		writeCalls(&b, calls[seen:])
		seen = len(calls)
	}
	chat := privateChat(bob)
	say := func(text string) {
		fmt.Fprintf(&b, "👤 Bob: %s\n\n", text)
		h.api.push(textUpdate(chat, bob, text))
		show()
	}
	tap := func(msg apiCall, label string) {
		fmt.Fprintf(&b, "👤 Bob taps [ %s ]\n\n", label)
		h.api.push(h.api.tap(t, bob, msg, label))
		show()
	}
	last := func(method string, chat int64) apiCall {
		calls := h.api.callsOf(method, chat)
		return calls[len(calls)-1]
	}

	// A slow answer: "typing…" until it is ready.
	release := rp.holdNext(h.api.poke)
	fmt.Fprintf(&b, "👤 Bob: How do I do the SMS verification?\n\n")
	h.api.push(textUpdate(chat, bob, "How do I do the SMS verification?"))
	timers.nth(t, h.api, 1).fire()
	h.api.waitFor(t, "typing…", func() bool { return len(h.api.callsOf("sendChatAction", chat.id)) == 1 })
	b.WriteString("   (the LLM takes its time; after 0.3 s:)\n")
	calls := h.api.allCalls()
	writeCalls(&b, calls[seen:])
	seen = len(calls)
	release()
	show()

	// MIIT's message quoted; a tap that edits the ask-back into the answer.
	say("The site says 该条验证库里找不到记录")
	say("/who")
	tap(last("sendMessage", chat.id), "3. New access")
	verdict := last("editMessageText", chat.id)
	if len(h.api.callsOf("sendChatAction", 0)) != 1 {
		t.Errorf("quick answers showed typing: %s", h.api.dump())
	}

	// A person and a reminder; then Bob blocks the bot.
	say("/human my filing was sent back")
	tap(verdict, "⏰ Remind me before the 24 hours run out")
	tap(last("sendMessage", chat.id), "Just now")
	b.WriteString("👤 Bob blocks the bot   [my_chat_member: member → kicked]\n\n")
	h.api.push(memberUpdate(chat, bob, "member", "kicked"))
	show()
	sentBefore := len(h.api.sent(chat.id))
	for _, d := range []time.Duration{12 * time.Hour, 12 * time.Hour} {
		env.clock.advance(d)
		env.settle(t, h)
	}
	if n := len(h.api.sent(chat.id)); n != sentBefore {
		t.Errorf("reminders went to a customer who blocked the bot: %s", h.api.dump())
	}
	b.WriteString("   (12 and 24 hours later: no reminder is sent)\n\n")

	// Added to a group: a short introduction.
	g := tChat{id: -1009001, ctype: "supergroup", title: "Acme IT"}
	b.WriteString("👤 Alice adds the bot to the group Acme IT   [my_chat_member: left → member]\n\n")
	h.api.push(memberUpdate(g, alice, "left", "member"))
	show()
	b.WriteString("```\n")

	got := b.String()
	if strings.Count(got, "🤖") < 10 || !strings.Contains(got, "sendChatAction") || !strings.Contains(got, "editMessageText") ||
		!strings.Contains(got, "▌ 该条验证库里找不到记录") || !strings.Contains(got, "Thread #1 closed") {
		t.Errorf("transcript lacks a feature:\n%s", got)
	}
	syncGuide(t, operatorsGuide, got)
}

// writeStartup summarises the profile calls made at start-up.
func writeStartup(b *strings.Builder, api *fakeAPI) {
	b.WriteString("(at start-up)\n")
	menus := map[string]string{}
	for _, c := range api.callsOf("setMyCommands", 0) {
		if c.Fields["language_code"] != "en" {
			continue
		}
		names := regexp.MustCompile(`"command":"([a-z_]+)"`).FindAllStringSubmatch(c.Fields["commands"], -1)
		var list []string
		for _, n := range names {
			list = append(list, "/"+n[1])
		}
		menus[c.Fields["scope"]] = strings.Join(list, " ")
	}
	fmt.Fprintf(b, "   [setMyCommands] private chats: %s\n", menus[`{"type":"all_private_chats"}`])
	fmt.Fprintf(b, "   [setMyCommands] groups:        %s\n", menus[`{"type":"all_group_chats"}`])
	b.WriteString("     (each in the default language, zh and en)\n")
	for _, method := range []string{"setMyShortDescription"} {
		for _, c := range api.callsOf(method, 0) {
			code := c.Fields["language_code"]
			if code == "" {
				code = "default"
			}
			fmt.Fprintf(b, "   [%s %s] %s\n", method, code, c.Fields["short_description"])
		}
	}
	b.WriteString("   [setMyDescription] the same three languages\n\n")
}

// writeCalls renders what the bot did, as the people in the chats see it.
func writeCalls(b *strings.Builder, calls []apiCall) {
	for _, c := range calls {
		where := ""
		switch c.Fields["chat_id"] {
		case fmt.Sprint(supportGroup):
			where = " (in the support group)"
		case "", fmt.Sprint(bob.id):
		default:
			where = " (in the group)"
		}
		switch {
		case c.Status != 200:
			continue
		case c.Method == "sendChatAction":
			fmt.Fprintf(b, "⋯ BeianBot is typing…   [sendChatAction %s]\n\n", c.Fields["action"])
			continue
		case c.Method == "sendMessage":
			fmt.Fprintf(b, "🤖 BeianBot%s   [sendMessage]\n", where)
		case c.Method == "editMessageText":
			fmt.Fprintf(b, "🤖 BeianBot edits the tapped message%s   [editMessageText]\n", where)
		case c.Method == "editMessageReplyMarkup":
			fmt.Fprintf(b, "🤖 BeianBot takes the buttons off the tapped message   [editMessageReplyMarkup]\n\n")
			continue
		case c.Method == "answerCallbackQuery" && c.Fields["text"] != "":
			fmt.Fprintf(b, "   (toast) %s   [answerCallbackQuery]\n\n", c.Fields["text"])
			continue
		default:
			continue
		}
		text := c.Fields["text"]
		if c.Fields["parse_mode"] == "HTML" {
			text = readable(text)
		}
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimRight(line, " "); line == "" {
				b.WriteString("\n")
			} else {
				fmt.Fprintf(b, "   %s\n", line)
			}
		}
		writeButtons(b, c)
		b.WriteString("\n")
	}
}

var (
	boldTag   = regexp.MustCompile(`<b>(.*?)</b>`)
	italicTag = regexp.MustCompile(`<i>(.*?)</i>`)
	quoteTag  = regexp.MustCompile(`<blockquote>(.*?)</blockquote>`)
	linkTag   = regexp.MustCompile(`<a href="[^"]*">(.*?)</a>`)
)

// readable shows Telegram HTML with plain-text marks for its formatting.
func readable(s string) string {
	s = boldTag.ReplaceAllString(s, "**$1**")
	s = italicTag.ReplaceAllString(s, "_${1}_")
	s = quoteTag.ReplaceAllString(s, "▌ $1")
	s = linkTag.ReplaceAllString(s, "<$1>")
	return html.UnescapeString(s)
}

// syncGuide checks the features transcript in the operators' guide.
func syncGuide(t *testing.T, path, block string) {
	t.Helper()
	syncDoc(t, path, "telegram-transcript", transcriptIntro+"\n\n"+block)
}

// syncDoc checks that the guide at path holds content between the markers
// <!-- name:begin --> and <!-- name:end -->; with -update-docs it writes it
// there. The guides' transcripts are what the tests play, so they cannot
// drift from what the bot does.
func syncDoc(t *testing.T, path, name, content string) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	want := begin + "\n" + content + end
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s and %s markers", path, begin, end)
	}
	if doc[i:j+len(end)] == want {
		return
	}
	if !*updateDocs {
		t.Fatalf("%s: the %s block is not what the bot does now; go test ./telegram -run %s -update-docs rewrites it\nnow:\n%s", path, name, t.Name(), content)
	}
	if err := os.WriteFile(path, []byte(doc[:i]+want+doc[j+len(end):]), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s into %s", name, path)
}

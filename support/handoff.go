package support

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// HandoffPost is the plain-text post that opens a thread in the support
// group: who (thread number, language), what the bot thought (topic), the
// question as the customer wrote it, and their last few questions from the
// log (redacted). The agent answers by replying to it.
func HandoffPost(th store.Thread, question string, recent []store.Question) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🙋 Handoff #%d · %s · topic: %s\n", th.ID, LangLabel(th.Lang, th.Traditional), orDash(th.Topic))
	if q := strings.TrimSpace(question); q != "" {
		fmt.Fprintf(&b, "\n%s\n", clip(q, 1500))
	}
	if len(recent) > 0 {
		b.WriteString("\nEarlier:\n")
		for _, q := range recent {
			fmt.Fprintf(&b, "• %s (%s)\n", oneLine(q.Text), orDash(q.Topic))
		}
	}
	b.WriteString("\nReply to this message to answer the customer. Reply /close to end the thread, or /close TOPIC to name the knowledge-base topic that would have answered.")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var closeCommand = regexp.MustCompile(`^/close(?:@[A-Za-z0-9_]+)?(?:\s+([a-z0-9][a-z0-9-]*))?\s*$`)

// ParseClose reads an agent's "/close", "/close@BeianBot" or "/close TOPIC".
// ok is false when text is not a close command; topic is "" when none was named.
func ParseClose(text string) (topic string, ok bool) {
	m := closeCommand.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// HandoffStartedText tells the customer a person will answer. support is
// the provider's support team's name (config provider.support).
func HandoffStartedText(l lang.Lang, traditional bool, support string) string {
	if l == lang.EN {
		return fmt.Sprintf("I have passed your question to %s. A person will reply here; anything you send meanwhile goes to them too.", support)
	}
	return inScript(fmt.Sprintf("已为您转给%s，工作人员会在这里回复您。在此期间您发的消息也会转给他们。", support), l, traditional)
}

// HandoffClosedText tells the customer the thread has ended.
func HandoffClosedText(l lang.Lang, traditional bool) string {
	if l == lang.EN {
		return "The support team has closed this conversation. Ask me anything new at any time."
	}
	return inScript("人工客服已结束本次对话。有新问题可以随时问我。", l, traditional)
}

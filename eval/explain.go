package eval

import (
	"fmt"
	"strings"

	"github.com/beianbot/beianbot/bot"
)

// ExplainLines are a reply's --explain lines: the deciding rule, the MIIT
// message recognised, the slots and table rows read, and the topic scores of
// the engine, its classifier and its index.
func ExplainLines(r bot.Reply) []string {
	x := r.Explain
	if x == nil {
		return nil
	}
	lines := []string{"why: " + x.Rule}
	if x.Message != "" {
		lines = append(lines, "MIIT message: "+x.Message)
	}
	if x.Slots != "" {
		lines = append(lines, "slots: "+x.Slots)
	}
	if x.Matrix != "" {
		lines = append(lines, "table: "+x.Matrix)
	}
	for _, h := range x.Scores {
		lines = append(lines, fmt.Sprintf("topic: %-26s %6.2f", h.Topic, h.Score))
	}
	for _, h := range x.Classifier {
		lines = append(lines, fmt.Sprintf("classifier: %-21s %6.2f  %s", h.Topic, h.Score, h.Field))
	}
	for _, h := range x.Hits {
		lines = append(lines, fmt.Sprintf("index: %-26s %6.2f  %s", h.Topic, h.Score, h.Field))
	}
	return lines
}

// ExpectedText says what a case expects, e.g. "who-verifies, principal=yes website=no".
func ExpectedText(c Case) string {
	parts := []string{c.Topic}
	if c.Matrix != nil {
		parts = append(parts, verdict(&bot.MatrixAnswer{Principal: c.Matrix.Principal, Website: c.Matrix.Website}))
	}
	if c.Clarify {
		parts = append(parts, "an ask-back")
	}
	if c.Lang != "" {
		parts = append(parts, "in "+string(c.Lang))
	}
	return strings.Join(parts, ", ")
}

// GotText says what the engine answered, in the same terms, with the
// table rows of a verdict and the reply's language.
func GotText(r bot.Reply) string {
	parts := []string{r.Topic}
	if r.Matrix != nil {
		v := verdict(r.Matrix)
		var rows []string
		for _, c := range r.Matrix.Cases {
			rows = append(rows, RowLabel(c))
		}
		if len(rows) > 0 {
			v += " (" + strings.Join(rows, "; ") + ")"
		}
		parts = append(parts, v)
	}
	if r.Clarify != nil {
		parts = append(parts, "an ask-back")
	}
	parts = append(parts, "in "+string(r.Lang))
	return strings.Join(parts, ", ")
}

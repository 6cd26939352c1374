package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/matrix"
)

// answerRows says who must verify when every row agrees, and asks back when
// they do not. It never picks one row of several.
func (e *Engine) answerRows(t turn, rows []matrix.Row, rule string) Reply {
	r := Reply{Topic: TopicWhoVerifies, Explain: &Explain{Rule: rule}}
	if len(rows) == 0 {
		return e.clarifyBusiness(t, nil, rule)
	}
	if !agree(rows) {
		r.Clarify = e.clarifyRows(t, rows)
		r.Text = clarifyText(r.Clarify)
		if !strings.Contains(rule, "ask back") {
			r.Explain.Rule += fmt.Sprintf("; %d rows disagree: ask back", len(rows))
		}
		return r
	}
	ans := &MatrixAnswer{Principal: rows[0].Principal, Website: rows[0].Website}
	var labels []string
	for _, row := range rows {
		ans.Cases = append(ans.Cases, Case{Business: row.Business, Subcase: row.Subcase})
		labels = append(labels, row.Label(t.lang))
	}
	r.Matrix = ans
	r.Text = e.renderMatrix(t.lang, labels, ans)
	if !slices.ContainsFunc(rows, func(row matrix.Row) bool { return !row.ProviderInitiated() }) {
		// The table's cancellations are the provider's; a customer asking
		// about their own request is told the table does not cover it.
		r.Text += "\n" + e.phrases.say("matrix_provider_initiated", t.lang, "support", e.support.In(t.lang))
	}
	if len(rows) > 1 && !strings.Contains(rule, "agree") {
		r.Explain.Rule += fmt.Sprintf("; %d rows agree", len(rows))
	}
	return r
}

// clarifyRows asks which of rows that disagree is the customer's, about the
// slot that decides: a business's own question when the rows are its
// subcases ("does the province change?"), else which filing type it is. When
// the rows span several businesses and one of them has several rows, the
// options are the businesses, and choosing one asks further if it must.
func (e *Engine) clarifyRows(t turn, rows []matrix.Row) *Clarify {
	var businesses []string
	several := false
	for i, row := range rows {
		if !slices.Contains(businesses, row.Business) {
			businesses = append(businesses, row.Business)
		} else if i > 0 {
			several = true
		}
	}
	c := &Clarify{Question: e.phrases.say("clarify_rows", t.lang)}
	if ask, ok := e.table.AskOf(businesses[0]); ok && len(businesses) == 1 {
		c.Question = ask.In(t.lang) + e.phrases.say("clarify_reply", t.lang)
	}
	if len(businesses) > 1 && several {
		for _, b := range businesses {
			c.Options = append(c.Options, Option{Business: b, Label: e.businessLabel(b, t.lang)})
		}
		return c
	}
	for _, row := range rows {
		c.Options = append(c.Options, Option{Business: row.Business, Subcase: row.Subcase, Label: row.Label(t.lang)})
	}
	return c
}

func (e *Engine) businessLabel(b string, l lang.Lang) string {
	rows := e.table.RowsOf(b)
	if l == lang.EN && len(rows) > 0 {
		return rows[0].BusinessEN
	}
	return b
}

func agree(rows []matrix.Row) bool {
	for _, r := range rows[1:] {
		if r.Principal != rows[0].Principal || r.Website != rows[0].Website {
			return false
		}
	}
	return true
}

func (e *Engine) renderMatrix(l lang.Lang, labels []string, ans *MatrixAnswer) string {
	p := e.phrases
	join := " " + p.say("case_join", l) + " "
	var b strings.Builder
	b.WriteString(p.say("matrix_case", l, "case", strings.Join(labels, join)))
	b.WriteString("\n")
	for _, role := range []struct {
		key  string
		must bool
	}{{"role_principal", ans.Principal}, {"role_website", ans.Website}} {
		key := "matrix_not"
		if role.must {
			key = "matrix_must"
		}
		b.WriteString(p.say(key, l, "role", p.say(role.key, l)))
		b.WriteString("\n")
	}
	if ans.Principal || ans.Website {
		b.WriteString(p.say("matrix_emergency", l))
		b.WriteString("\n")
		b.WriteString(p.say("matrix_deadline", l))
	} else {
		b.WriteString(p.say("matrix_none", l))
	}
	return b.String()
}

// clarifyBusiness asks which filing type the customer means, listing them all.
func (e *Engine) clarifyBusiness(t turn, explain *Explain, rule string) Reply {
	c := &Clarify{Question: e.phrases.say("clarify_business", t.lang)}
	for _, b := range e.table.Businesses() {
		c.Options = append(c.Options, Option{Business: b, Label: e.businessLabel(b, t.lang)})
	}
	if explain == nil {
		explain = &Explain{}
	}
	explain.Rule = rule
	return Reply{Topic: TopicWhoVerifies, Clarify: c, Text: clarifyText(c), Explain: explain}
}

func clarifyText(c *Clarify) string {
	var b strings.Builder
	b.WriteString(c.Question)
	for i, o := range c.Options {
		fmt.Fprintf(&b, "\n%d. %s", i+1, o.Label)
	}
	return b.String()
}

// topicReply answers with a knowledge-base topic.
func (e *Engine) topicReply(t turn, id string, explain *Explain) Reply {
	topic, ok := e.kb.Topic(id)
	if !ok {
		topic, _ = e.kb.Topic(TopicUnknown)
		id = TopicUnknown
	}
	return Reply{Topic: id, Text: strings.TrimSpace(topic.Answer.In(t.lang)), Handoff: id == TopicUnknown, Explain: explain}
}

// unknownReply says plainly that beianbot has no answer and offers a human;
// when the best topics were close to trusted, it lists them as a
// "did you mean".
func (e *Engine) unknownReply(t turn, s scores, explain *Explain) Reply {
	r := e.topicReply(t, TopicUnknown, explain)
	if len(s.ranked) == 0 || s.ranked[0].Label == TopicUnknown {
		return r
	}
	var sug []Suggestion
	for _, h := range s.ranked {
		if len(sug) == 3 || h.Prob < e.minScore*suggestFraction {
			break
		}
		if h.Label == TopicGreeting || h.Label == TopicUnknown {
			continue
		}
		topic, _ := e.kb.Topic(h.Label)
		sug = append(sug, Suggestion{Topic: h.Label, Title: topic.Title.In(t.lang), Score: h.Prob})
	}
	if len(sug) < 2 {
		return r
	}
	var b strings.Builder
	b.WriteString(e.phrases.say("suggest", t.lang))
	for i, s := range sug {
		fmt.Fprintf(&b, "\n%d. %s", i+1, s.Title)
	}
	b.WriteString("\n")
	b.WriteString(e.phrases.say("suggest_human", t.lang, "support", e.support.In(t.lang)))
	r.Text = b.String()
	r.Suggestions = sug
	return r
}

// suggestFraction of the trust threshold is enough to be offered as a
// "did you mean" candidate.
const suggestFraction = 0.6

func (e *Engine) emptyReply(t turn) Reply {
	return Reply{Topic: TopicGreeting, Text: e.phrases.say("empty", t.lang), Explain: &Explain{Rule: "empty message"}}
}

// finish completes a reply: language, Traditional characters, rephrasing,
// and the conversation's memory of this turn.
func (e *Engine) finish(ctx context.Context, conv *Conversation, t turn, r Reply) Reply {
	r.Question = t.raw
	r.Lang = t.lang
	r.Traditional = t.traditional && t.lang == lang.ZH
	if r.Explain == nil {
		r.Explain = &Explain{}
	}
	if r.Topic == TopicUnknown {
		r.Handoff = true
	}
	if t.truncated {
		r.Text = e.phrases.say("truncated", t.lang, "n", strconv.Itoa(maxInputRunes)) + "\n" + r.Text
	}
	if topic, ok := e.kb.Topic(r.Topic); ok && r.Topic != TopicUnknown {
		r.Title = strings.TrimSpace(topic.Title.In(t.lang))
		r.Quotes = slices.Clone(topic.Messages)
	}
	if e.rephraser != nil && r.Clarify == nil && r.Topic != TopicWhoVerifies && r.Topic != TopicUnknown && t.raw != "" {
		res := e.rephraser.Rephrase(ctx, RephraseRequest{Topic: r.Topic, Lang: r.Lang, Traditional: r.Traditional, Question: t.raw, Answer: r.Text})
		r.Rephrase = &res
		if res.Accepted && strings.TrimSpace(res.Text) != "" {
			r.Original, r.Text = r.Text, res.Text
		}
	}
	if r.Traditional {
		r.Title = e.toTraditional(r.Title) // MIIT's messages in it stay as the site shows them
		if r.Original != "" {
			r.Original = e.toTraditional(r.Original)
		}
		if r.Rephrase == nil || !r.Rephrase.Accepted {
			r.Text = e.toTraditional(r.Text)
		}
		if r.Clarify != nil {
			r.Clarify.Question = e.toTraditional(r.Clarify.Question)
			for i := range r.Clarify.Options {
				r.Clarify.Options[i].Label = e.toTraditional(r.Clarify.Options[i].Label)
			}
		}
		for i := range r.Suggestions {
			r.Suggestions[i].Title = e.toTraditional(r.Suggestions[i].Title)
		}
	}
	conv.Pending, conv.PendingLang, conv.Suggested = r.Clarify, "", nil
	if r.Clarify != nil {
		conv.PendingLang = r.Lang
	}
	for _, s := range r.Suggestions {
		conv.Suggested = append(conv.Suggested, s.Topic)
	}
	if r.Matrix != nil {
		// The business named, and the customer's own words for the rest:
		// "变更备案 entity only".
		var names []string
		for _, c := range r.Matrix.Cases {
			if !slices.Contains(names, c.Business) {
				names = append(names, c.Business)
			}
		}
		conv.Filing, conv.FilingText = r.Matrix.Cases, strings.Join(names, " ")+"\n"+t.norm
	}
	conv.LastTopic, conv.LastLang, conv.LastTraditional = r.Topic, r.Lang, r.Traditional
	return r
}

// toTraditional converts an answer to Traditional characters, leaving MIIT's
// messages as the site shows them (Simplified), since customers compare them
// with their screen.
func (e *Engine) toTraditional(s string) string {
	var b strings.Builder
	for s != "" {
		at, m := -1, ""
		for _, msg := range e.messages {
			if i := strings.Index(s, msg.text); i >= 0 && (at < 0 || i < at) {
				at, m = i, msg.text
			}
		}
		if at < 0 {
			b.WriteString(lang.ToTraditional(s))
			break
		}
		b.WriteString(lang.ToTraditional(s[:at]))
		b.WriteString(m)
		s = s[at+len(m):]
	}
	return b.String()
}

// optionNumberRE matches a reply that is only an option number: "2", "第2个",
// "option 2", "no. 2", "#2".
var optionNumberRE = regexp.MustCompile(`^(?:第|option|no\.?|number|#|选)?\s*(\d{1,2})\s*(?:个|项|种|条|号|\.|。)?$`)

func optionNumber(norm string) (int, bool) {
	m := optionNumberRE.FindStringSubmatch(strings.TrimSpace(norm))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// removeWords deletes each word from s; English words only where they stand
// as whole words.
func removeWords(s string, words []string, wholeWords bool) string {
	for _, w := range words {
		if w == "" {
			continue
		}
		if !wholeWords {
			s = strings.ReplaceAll(s, w, " ")
			continue
		}
		for {
			i := indexWord(s, w)
			if i < 0 {
				break
			}
			s = s[:i] + " " + s[i+len(w):]
		}
	}
	return s
}

func containsWord(s, w string) bool { return indexWord(s, w) >= 0 }

// indexWord finds w in s where it is not part of a longer Latin word.
func indexWord(s, w string) int {
	from := 0
	for {
		i := strings.Index(s[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(w)
		if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
			return i
		}
		from = i + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\''
}

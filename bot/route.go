package bot

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/beianbot/beianbot/classify"
	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/index"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/matrix"
)

// route decides what kind of answer the message gets, in one pass: an answer
// to a pending ask-back, a pasted MIIT message, the verification table when
// the message describes a filing type, or the best FAQ topic when the
// classifier and the index agree on one with confidence; else "unknown".
func (e *Engine) route(ctx context.Context, conv *Conversation, t turn) Reply {
	if t.norm == "" {
		return e.emptyReply(t).via(RouteDirect)
	}
	if t.unreadable {
		return Reply{Topic: TopicUnknown, Text: e.phrases.say("unreadable", t.lang), Explain: &Explain{Rule: "not text: mostly control characters or bytes that are not UTF-8"}}.via(RouteUnknown)
	}
	if r, ok := e.resolvePending(conv, t); ok {
		return r.via(RouteTable)
	}
	if len(conv.Suggested) > 0 {
		if n, ok := optionNumber(t.norm); ok && n >= 1 && n <= len(conv.Suggested) {
			id := conv.Suggested[n-1]
			return e.topicReply(t, id, &Explain{Rule: fmt.Sprintf("option %d of the suggestions: %s", n, id)}).via(RouteDirect)
		}
	}
	if m, quote, ok := e.pasted(t); ok {
		rule := "pasted MIIT message"
		if quote != m.compact {
			rule = fmt.Sprintf("part of a MIIT message pasted: %q", quote)
		}
		return e.topicReply(t, m.topic, &Explain{Rule: rule, Message: m.text}).via(RoutePasted)
	}

	match := e.table.Select(t.reading)
	// "And if we change the website info as well?": a follow-up that adds to
	// the filing type just settled is read together with what settled it.
	if conv.FilingText != "" && len(match.Slots.Targets) > 0 && t.reading.Has("also") {
		combined := e.table.Select(e.lex.Read(conv.FilingText + "\n" + t.norm))
		if len(combined.Rows) > 0 {
			combined.Rule = "added to the filing type of the conversation: " + combined.Rule
			match = combined
		}
	}
	scores := e.scores(ctx, t)
	explain := &Explain{Slots: match.Slots.String(), Matrix: match.Rule, Scores: scores.top(3), Classifier: scores.classifier, Hits: scores.hits}
	in := readIntent(t.reading, e.lex)

	// A follow-up names the filing type of a missing SMS, or reports a
	// missing SMS for the filing type just discussed.
	if len(match.Rows) > 0 && conv.LastTopic == "sms-not-received" && !in.who && !in.need && !in.verify {
		in.notReceived = true
	}
	if len(match.Rows) == 0 && in.notReceived && len(conv.Filing) > 0 {
		match = matrix.Match{Rows: e.rowsOfCases(conv.Filing), Rule: "the filing type of the conversation"}
		explain.Matrix = match.Rule
	}

	// The emergency contact number is never texted: no SMS there is expected.
	if in.notReceived && in.emergency {
		explain.Rule = "no SMS on the emergency contact number, which MIIT never texts"
		return e.topicReply(t, "which-phones", explain).via(RouteIndex)
	}

	// The table, when the words describe a filing type and ask who verifies.
	if len(match.Rows) > 0 && (!match.Vague || in.who || in.need && in.verify) {
		if r, ok := e.fromTable(t, match, scores, in, explain); ok {
			return r.via(RouteTable)
		}
	}

	topic, ok, why := e.decide(scores)
	if (!ok || topic == TopicUnknown) && e.elliptical(conv, t, in) {
		// "要多久内完成" after an answer about verifying is about verifying:
		// a question with no subject of its own that cannot be answered
		// alone is read again with the conversation's subject added.
		aug := t
		aug.reading = e.lex.Read(t.norm + " " + e.phrases.say("subject", t.lang))
		s2 := e.scores(ctx, aug)
		if topic2, ok2, why2 := e.decide(s2); ok2 && topic2 != TopicUnknown && topic2 != TopicWhoVerifies {
			scores, topic, ok, why = s2, topic2, ok2, "a follow-up with no subject of its own, read as about the verification: "+why2
			explain.Scores, explain.Classifier, explain.Hits = s2.top(3), s2.classifier, s2.hits
		}
	}
	explain.Rule = why
	switch {
	case in.emergency && (topic == TopicWhoVerifies || in.who && in.verify):
		// Who verifies, asked of the emergency contact: it never receives the SMS.
		explain.Rule += "; asked about the emergency contact, which MIIT never texts"
		return e.topicReply(t, "which-phones", explain).via(RouteIndex)
	case in.offtopic && (topic == TopicWhoVerifies || !ok || scores.prob(topic) < offtopicConfidence):
		// "公安备案都要做短信核验？", "做短信核验要不要钱": about something
		// else than which ICP filing type; asking which would mislead.
		explain.Rule += "; the subject is one beianbot does not answer"
		return e.unknownReply(t, scores, explain).via(RouteUnknown)
	case in.who && in.verify && !in.phones && (!ok || topic == TopicWhoVerifies):
		// "谁要做短信核验" names no filing type: ask which one.
		return e.clarifyBusiness(t, explain, "asks who must verify, names no filing type; "+why).via(RouteTable)
	case ok && topic == TopicWhoVerifies && in.verify:
		return e.clarifyBusiness(t, explain, why+"; no filing type named").via(RouteTable)
	case ok && topic == TopicWhoVerifies:
		explain.Rule += "; but neither a filing type nor verifying is mentioned"
		return e.unknownReply(t, scores, explain).via(RouteUnknown)
	case ok:
		return e.topicReply(t, topic, explain).via(RouteIndex)
	}
	return e.unknownReply(t, scores, explain).via(RouteUnknown)
}

// elliptical reports whether t is a short question that names nothing of
// its own (no SMS or verifying, no filing, person or action), asked in a
// conversation already about the verification.
func (e *Engine) elliptical(conv *Conversation, t turn, in intent) bool {
	if conv.LastTopic == "" || conv.LastTopic == TopicUnknown || conv.LastTopic == TopicGreeting ||
		in.verify || in.offtopic || len(t.reading.Tokens) > maxElliptical {
		return false
	}
	cue := false
	for _, m := range t.reading.Mentions {
		switch m.Kind {
		case concept.Object, concept.Action, concept.Role:
			return false
		case concept.Cue:
			cue = true
		}
	}
	return cue
}

// maxElliptical is the most tokens a subject-less follow-up has: longer
// messages say what they are about.
const maxElliptical = 10

// offtopicConfidence is how sure the engine must be of a topic to answer a
// message that names a subject it does not cover ("password reset code never
// comes" is about an account, not the filing).
const offtopicConfidence = 0.5

// minQuote is how many characters of a MIIT message, found in no other
// topic, make a paste: "无需重发短信" is enough, "短信核验" is not.
const minQuote = 6

// pasted finds a MIIT message in the text, whole or by a distinctive part
// of it (customers paste what they see, often cut).
func (e *Engine) pasted(t turn) (miitMessage, string, bool) {
	compact := lang.CompactNormalized(t.norm)
	for _, m := range e.messages {
		if m.compact != "" && strings.Contains(compact, m.compact) {
			return m, m.compact, true
		}
	}
	runes := []rune(compact)
	for _, m := range e.messages {
		for i := 0; i+minQuote <= len(runes); i++ {
			j := i
			for j < len(runes) && strings.Contains(m.compact, string(runes[i:j+1])) {
				j++
			}
			if quote := string(runes[i:j]); j-i >= minQuote && !strings.Contains(m.elsewhere, quote) {
				return m, quote, true
			}
			if j > i {
				i = j - 1
			}
		}
	}
	return miitMessage{}, "", false
}

// intent is what kind of question a message asks, from its concepts.
type intent struct {
	who         bool // who must verify, who gets the SMS
	need        bool // whether something is needed ("要不要", "do we need")
	verify      bool // it is about the SMS, the code or verifying
	notReceived bool // the SMS did not come
	phones      bool // it is about phone numbers ("边个号码": which number, not who)
	emergency   bool // it names the emergency contact number
	open        bool // it asks how, why, when or what, not only whether or who
	bare        bool // nothing but a filing type and question words ("新增接入呢？")
	offtopic    bool // it names a subject beianbot does not answer (fees, accounts…)
	roles       []string
}

func readIntent(r concept.Reading, lex *concept.Lexicon) intent {
	var in intent
	covered := make([]bool, len(r.Tokens))
	in.bare = true
	for _, m := range r.Mentions {
		for k := m.From; k < m.To; k++ {
			covered[k] = true
		}
		switch m.ID {
		case "who":
			in.who = true
		case "need":
			in.need = true
		case "sms", "verify", "code", "receive", "not_verified":
			in.verify = true
		case "not_received":
			in.verify, in.notReceived = true, true
		case "principal_person", "website_person":
			in.roles = append(in.roles, m.ID)
			in.verify = true
		case "phone":
			in.phones = true
		case "emergency":
			in.phones, in.emergency = true, true
		case "how", "why", "how_long", "what_next", "meaning", "what":
			in.open = true
		}
		if c, _ := lex.Concept(m.ID); c.Offtopic && !m.Negated {
			in.offtopic = true
		}
		if m.Kind == concept.Term && m.ID != "affirm" || m.Kind == concept.Role || m.Kind == concept.Cue && m.ID != "whether" && m.ID != "what" {
			in.bare = false
		}
	}
	uncovered := 0
	for _, c := range covered {
		if !c {
			uncovered++
		}
	}
	if uncovered > 3 || len(r.Tokens) > 12 {
		in.bare = false
	}
	return in
}

// procedural topics answer a question about a filing type better than the
// table does when they are what is asked: how to verify for 首次备案, what
// to do when the 24 hours of a 新增接入 passed.
var procedural = []string{"how-to-verify", "hk-macau-pass", "deadline", "result-all-done", "result-wait-others",
	"no-record-found", "no-application-to-resend", "background", "sms-not-received", "new-access-no-sms", "which-phones"}

// fromTable answers from the rows the words describe, unless the message
// asks something else about them. ok is false when the table is not the
// answer: the message says nothing of verifying and the classifier hears
// another question ("what documents does a first filing need?"), or a
// procedural question about the filing type ("首次备案怎么核验").
func (e *Engine) fromTable(t turn, m matrix.Match, s scores, in intent, explain *Explain) (Reply, bool) {
	// No SMS for a filing type: whether one is expected is the table's to say.
	if in.notReceived {
		if r, ok := e.notReceived(t, m, in, explain); ok {
			return r, true
		}
	}
	top := s.ranked[0].Label
	switch {
	case in.who || len(m.Slots.Names) > 0 && !in.open:
		// Who verifies, or a question about one of the table's own rows by name.
	case !in.verify:
		// Nothing about verifying or the SMS: the table answers a bare
		// filing type ("新增接入呢？"), or what the classifier hears as a
		// who-must-verify question; anything else is another question
		// about the filing ("what documents does a first filing need?").
		if !(in.bare && top != TopicUnknown || top == TopicWhoVerifies) {
			return Reply{}, false
		}
	case in.open:
		// How, why, when, what about verifying for this filing type: a
		// procedural topic answers that better, when the classifier hears one.
		other, p := s.bestExcept(TopicWhoVerifies)
		if slices.Contains(procedural, other) && p >= procedureConfidence && p > s.prob(TopicWhoVerifies) {
			return Reply{}, false
		}
	}
	explain.Rule = "the words describe a filing type: " + m.Rule
	r := e.answerRows(t, m.Rows, explain.Rule)
	r.Explain = explain
	return r, true
}

// procedureConfidence is how sure the classifier must be that a message
// naming a filing type asks a procedural question instead of who verifies.
var procedureConfidence = 0.5

// notReceived answers "no SMS came" for a filing type: when the table says
// nobody (or not the person who is waiting) is texted, that no SMS is
// expected; for 新增接入 the transfer's own advice; when the rows disagree,
// an ask-back, since whether an SMS is due depends on which it is. Otherwise
// the general advice for a missing SMS applies.
func (e *Engine) notReceived(t turn, m matrix.Match, in intent, explain *Explain) (Reply, bool) {
	rows := m.Rows
	if !agree(rows) {
		explain.Rule = "no SMS for a filing type whose rows disagree on who is texted: " + m.Rule
		r := e.answerRows(t, rows, explain.Rule)
		r.Explain = explain
		return r, true
	}
	texted := map[string]bool{"principal_person": rows[0].Principal, "website_person": rows[0].Website}
	waiting := in.roles
	expected := rows[0].Principal || rows[0].Website
	for _, role := range waiting {
		if !texted[role] {
			expected = false
		}
	}
	if !expected {
		explain.Rule = "no SMS, and the table says none is expected: " + m.Rule
		r := e.answerRows(t, rows, explain.Rule)
		note := e.phrases.say("none_expected", t.lang)
		if rows[0].Principal || rows[0].Website {
			// Someone is texted, but not the person waiting.
			for _, w := range waiting {
				if !texted[w] {
					role := map[string]string{"principal_person": "role_principal", "website_person": "role_website"}[w]
					note = e.phrases.say("none_expected_role", t.lang, "role", e.phrases.say(role, t.lang))
				}
			}
		}
		r.Text = note + "\n" + r.Text
		r.Explain = explain
		return r, true
	}
	for _, row := range rows {
		if row.Business == "新增接入" {
			explain.Rule = "no SMS for a 新增接入"
			return e.topicReply(t, "new-access-no-sms", explain), true
		}
	}
	explain.Rule = "no SMS, though the table says one is due: the general advice"
	return e.topicReply(t, "sms-not-received", explain), true
}

// scores are a message's topic confidences: the classifier's probabilities
// blended with the index's evidence.
type scores struct {
	ranked     []classify.Score
	classifier []Hit // the classifier's own view, for --explain
	hits       []Hit // the index's, for --explain
}

func (s scores) prob(topic string) float64 {
	for _, r := range s.ranked {
		if r.Label == topic {
			return r.Prob
		}
	}
	return 0
}

func (s scores) bestExcept(topic string) (string, float64) {
	for _, r := range s.ranked {
		if r.Label != topic {
			return r.Label, r.Prob
		}
	}
	return "", 0
}

func (s scores) top(n int) []Hit {
	var out []Hit
	for i, r := range s.ranked {
		if i == n {
			break
		}
		out = append(out, Hit{Topic: r.Label, Score: r.Prob, Field: "combined"})
	}
	return out
}

// coverageExp softens the coverage: a message half of whose words the model
// has seen keeps most of its belief (0.5^0.25 ≈ 0.84).
var coverageExp = 0.25

// indexWeight is how much the index's evidence counts beside the classifier.
var indexWeight = 0.35

// scores rates every topic for the message: the classifier's probability,
// blended with the index's share of the top score, renormalised.
func (e *Engine) scores(ctx context.Context, t turn) scores {
	pred := e.model.Predict(classify.Features(t.reading))
	var own []Hit
	for i, sc := range pred.Scores {
		if i == 3 {
			break
		}
		own = append(own, Hit{Topic: sc.Label, Score: sc.Prob, Field: fmt.Sprintf("coverage %.2f", pred.Coverage)})
	}
	ranked := pred.Scores
	hits, err := e.idx.Search(ctx, t.reading)
	if err != nil {
		e.log.WarnContext(ctx, "index search failed", "err", err)
	}
	s := scores{hits: toHits(hits), classifier: own}
	share := indexShare(hits)
	// What the model does not know of the message is evidence of nothing:
	// confidence shrinks with the share of the message it has never seen
	// (gibberish ends below any threshold), without favouring a topic.
	c := math.Pow(pred.Coverage, coverageExp)
	for i := range ranked {
		ranked[i].Prob = c * ((1-indexWeight)*ranked[i].Prob + indexWeight*share[ranked[i].Label])
	}
	slices.SortStableFunc(ranked, func(a, b classify.Score) int {
		switch {
		case a.Prob > b.Prob:
			return -1
		case a.Prob < b.Prob:
			return 1
		}
		return 0
	})
	s.ranked = ranked
	return s
}

// indexShare turns index hits into a distribution over topics.
func indexShare(hits []index.Hit) map[string]float64 {
	share := map[string]float64{}
	total := 0.0
	for _, h := range hits {
		total += h.Score
	}
	if total == 0 {
		return share
	}
	for _, h := range hits {
		share[h.Topic] = h.Score / total
	}
	return share
}

// decide trusts the best topic when its confidence is high enough and it
// leads the runner-up clearly.
func (e *Engine) decide(s scores) (topic string, ok bool, rule string) {
	if len(s.ranked) == 0 {
		return "", false, "no topic scored"
	}
	top := s.ranked[0]
	if top.Prob < e.minScore {
		return top.Label, false, fmt.Sprintf("best topic %s at %.2f, below %.2f", top.Label, top.Prob, e.minScore)
	}
	if len(s.ranked) > 1 {
		margin := (top.Prob - s.ranked[1].Prob) / top.Prob
		if margin < e.minMargin {
			return top.Label, false, fmt.Sprintf("%s %.2f and %s %.2f too close (margin %.2f < %.2f)",
				top.Label, top.Prob, s.ranked[1].Label, s.ranked[1].Prob, margin, e.minMargin)
		}
	}
	return top.Label, true, fmt.Sprintf("topic %s at %.2f", top.Label, top.Prob)
}

// resolvePending treats the message as an answer to the pending ask-back when
// it picks one of its options (by number, name or what it says); otherwise
// the ask-back is dropped and the message is a new question.
func (e *Engine) resolvePending(conv *Conversation, t turn) (Reply, bool) {
	p := conv.Pending
	if p == nil {
		return Reply{}, false
	}
	conv.Pending = nil
	var candidates []matrix.Row
	for _, o := range p.Options {
		candidates = append(candidates, e.rowsOfOption(o)...)
	}
	if n, ok := optionNumber(t.norm); ok {
		if n < 1 || n > len(p.Options) {
			return Reply{}, false
		}
		opt := p.Options[n-1]
		return e.answerRows(t, e.rowsOfOption(opt), fmt.Sprintf("option %d of the pending question: %s", n, opt.Label)), true
	}
	m := e.table.Narrow(candidates, t.reading)
	if len(m.Rows) == 0 {
		return Reply{}, false
	}
	r := e.answerRows(t, m.Rows, "answer to the pending question: "+m.Rule)
	r.Explain.Slots = m.Slots.String()
	return r, true
}

// rowsOfCases returns the rows of the cases a conversation remembers.
func (e *Engine) rowsOfCases(cases []Case) []matrix.Row {
	var rows []matrix.Row
	for _, c := range cases {
		rows = append(rows, e.rowsOfOption(Option{Business: c.Business, Subcase: c.Subcase})...)
	}
	return rows
}

func (e *Engine) rowsOfOption(o Option) []matrix.Row {
	var rows []matrix.Row
	for _, r := range e.table.RowsOf(o.Business) {
		if o.Subcase == "" || r.Subcase == o.Subcase {
			rows = append(rows, r)
		}
	}
	return rows
}

func toHits(hs []index.Hit) []Hit {
	const shown = 3
	var out []Hit
	for i, h := range hs {
		if i == shown {
			break
		}
		out = append(out, Hit{Topic: h.Topic, Score: h.Score, Field: h.Field})
	}
	return out
}

// Package bot is beianbot's conversation engine: it turns a customer's message
// into a Reply, from the verification table, MIIT's messages and the FAQ index.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/beianbot/beianbot/index"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/matrix"
)

// Topic ids the engine itself relies on (the knowledge base's contract).
const (
	TopicGreeting    = "greeting"
	TopicWhoVerifies = "who-verifies"
	TopicUnknown     = "unknown"
	// topicWhichPhones answers "who gets the SMS" questions, which name no
	// filing type but are not asking which filing type applies.
	topicWhichPhones = "which-phones"
)

// maxInputRunes bounds what the engine reads of one message; longer messages
// are answered from their beginning, and the reply says so.
const maxInputRunes = 2000

// Default index thresholds, calibrated on testdata/eval (see README): a top
// score below MinScore, or a lead over the runner-up below MinMargin (as a
// fraction of the top score), is not trusted.
const (
	DefaultMinScore  = 0.30
	DefaultMinMargin = 0.03
)

// Options configures New. Zero values mean: embedded data, default thresholds,
// no rephrasing.
type Options struct {
	Knowledge *knowledge.Base // nil: the embedded knowledge base
	Matrix    *matrix.Table   // nil: the embedded verification table
	Provider  *knowledge.Provider
	MinScore  float64
	MinMargin float64
	Rephraser Rephraser
	Logger    *slog.Logger
}

// Engine answers customers. It is safe for concurrent use; per-chat state
// lives in the Conversation the caller passes in.
type Engine struct {
	kb        *knowledge.Base
	table     *matrix.Table
	idx       *index.Index
	phrases   *phrases
	messages  []miitMessage
	support   knowledge.Text
	minScore  float64
	minMargin float64
	rephraser Rephraser
	log       *slog.Logger
}

// miitMessage is a text MIIT's site shows, in the compact form used to
// recognise it in a paste.
type miitMessage struct {
	text, norm, compact, topic string
}

// New loads what opts leaves empty from the embedded data and builds the index.
func New(ctx context.Context, opts Options) (*Engine, error) {
	var err error
	kb := opts.Knowledge
	if kb == nil {
		if kb, err = knowledge.Embedded(); err != nil {
			return nil, fmt.Errorf("load knowledge base: %w", err)
		}
	}
	provider := knowledge.DefaultProvider()
	if opts.Provider != nil {
		provider = *opts.Provider
	}
	kb = kb.WithProvider(provider)
	table := opts.Matrix
	if table == nil {
		if table, err = matrix.Embedded(); err != nil {
			return nil, fmt.Errorf("load verification table: %w", err)
		}
	}
	ph, err := loadPhrases(phrasesYAML, phrasesFile)
	if err != nil {
		return nil, err
	}
	idx, err := index.Build(ctx, kb)
	if err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	e := &Engine{
		kb: kb, table: table, idx: idx, phrases: ph,
		support:   provider.Support,
		minScore:  orDefault(opts.MinScore, DefaultMinScore),
		minMargin: orDefault(opts.MinMargin, DefaultMinMargin),
		rephraser: opts.Rephraser,
		log:       opts.Logger,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	for _, m := range kb.Messages() {
		e.messages = append(e.messages, miitMessage{text: m.Text, norm: lang.Normalize(m.Text), compact: lang.Compact(m.Text), topic: m.TopicID})
	}
	return e, nil
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// Matrix is the verification table the engine answers from.
func (e *Engine) Matrix() *matrix.Table { return e.table }

// Knowledge is the knowledge base, with the provider's names filled in.
func (e *Engine) Knowledge() *knowledge.Base { return e.kb }

// Index is the FAQ index, for reporting its build time.
func (e *Engine) Index() *index.Index { return e.idx }

// Close releases the index.
func (e *Engine) Close() error { return e.idx.Close() }

// turn is one message being answered: what was said and how to say things back.
type turn struct {
	raw         string // the message, cleaned of invalid bytes and bounded in length
	norm        string // lang.Normalize(raw)
	residual    string // norm without the filing-type names the table recognised
	lang        lang.Lang
	traditional bool
	truncated   bool
}

// Reply answers one message of a conversation and updates conv.
func (e *Engine) Reply(ctx context.Context, conv *Conversation, text string) Reply {
	if conv == nil {
		conv = &Conversation{}
	}
	t := e.newTurn(conv, text)
	r := e.route(ctx, conv, t)
	return e.finish(ctx, conv, t, r)
}

// Choose answers a tap on option i (0-based) of the pending ask-back.
func (e *Engine) Choose(ctx context.Context, conv *Conversation, i int) Reply {
	if conv == nil {
		conv = &Conversation{}
	}
	t := e.newTurn(conv, "")
	if conv.PendingLang != "" && conv.Lang == "" {
		t.lang = conv.PendingLang
	}
	if conv.Pending == nil || i < 0 || i >= len(conv.Pending.Options) {
		// A stale button (the conversation moved on, or the bot restarted
		// without its state): ask afresh rather than guess.
		conv.Pending = nil
		return e.finish(ctx, conv, t, e.clarifyBusiness(t, "tap on an option that is no longer pending"))
	}
	opt := conv.Pending.Options[i]
	t.raw = opt.Label
	return e.finish(ctx, conv, t, e.answerRows(t, e.rowsOfOption(opt), opt.Label, "tap on option "+opt.Label))
}

// Topic answers with one knowledge-base topic, e.g. for a deep link or /steps,
// in language l (Traditional characters when traditional and l is Chinese;
// l "" follows the conversation). An unknown id gets the unknown topic's answer.
func (e *Engine) Topic(ctx context.Context, conv *Conversation, id string, l lang.Lang, traditional bool) Reply {
	if conv == nil {
		conv = &Conversation{}
	}
	t := e.newTurn(conv, "")
	t.setLang(l, traditional)
	if id == TopicWhoVerifies {
		return e.finish(ctx, conv, t, e.clarifyBusiness(t, "topic requested: "+id))
	}
	if _, ok := e.kb.Topic(id); !ok {
		id = TopicUnknown
	}
	return e.finish(ctx, conv, t, e.topicReply(t, id, &Explain{Rule: "topic requested: " + id}))
}

// Who answers who must verify for a business (and subcase, "" for any),
// asking back when the business alone does not decide; l and traditional
// as for Topic.
func (e *Engine) Who(ctx context.Context, conv *Conversation, business, subcase string, l lang.Lang, traditional bool) Reply {
	if conv == nil {
		conv = &Conversation{}
	}
	t := e.newTurn(conv, "")
	t.setLang(l, traditional)
	var rows []matrix.Row
	for _, r := range e.table.RowsOf(business) {
		if subcase == "" || r.Subcase == subcase {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return e.finish(ctx, conv, t, e.clarifyBusiness(t, fmt.Sprintf("no row %q/%q", business, subcase)))
	}
	label := business
	if subcase != "" {
		label += " / " + subcase
	}
	return e.finish(ctx, conv, t, e.answerRows(t, rows, label, "chosen: "+label))
}

// setLang sets the reply language a caller chose; "" keeps the detected one.
func (t *turn) setLang(l lang.Lang, traditional bool) {
	if l != "" {
		t.lang, t.traditional = l, l == lang.ZH && traditional
	}
}

// newTurn cleans the message and decides the reply language.
func (e *Engine) newTurn(conv *Conversation, text string) turn {
	text = strings.ToValidUTF8(text, "")
	text = strings.ReplaceAll(text, "\x00", "")
	t := turn{raw: strings.TrimSpace(text)}
	if utf8.RuneCountInString(t.raw) > maxInputRunes {
		t.raw = string([]rune(t.raw)[:maxInputRunes])
		t.truncated = true
	}
	t.norm = lang.Normalize(t.raw)
	t.residual = e.table.Residual(t.raw)
	t.lang, t.traditional = e.detect(conv, t)
	return t
}

// detect picks the reply language: pinned by the conversation, else the
// language of the message's own words. Filing-type names and pasted MIIT
// messages are left out first, so that "新增接入 who needs to verify" is English.
func (e *Engine) detect(conv *Conversation, t turn) (lang.Lang, bool) {
	if conv.Lang != "" {
		return conv.Lang, conv.Lang == lang.ZH && conv.Traditional
	}
	_, traditional := lang.Detect(t.raw)
	rest := t.residual
	for _, m := range e.messages {
		rest = strings.ReplaceAll(rest, m.norm, " ")
	}
	han, words := lang.Counts(rest)
	if han+words > 0 {
		l, _ := lang.Detect(rest)
		return l, l == lang.ZH && traditional
	}
	// Only names, numbers or punctuation: judge by the whole message, else
	// keep the language the conversation was in.
	han, words = lang.Counts(t.raw)
	if han+words > 0 {
		l, tr := lang.Detect(t.raw)
		return l, tr
	}
	if conv.PendingLang != "" {
		return conv.PendingLang, conv.Traditional
	}
	if conv.LastLang != "" {
		return conv.LastLang, conv.LastTraditional
	}
	return lang.ZH, false
}

// route decides what kind of answer the message gets, in order: an answer to
// a pending ask-back, a pasted MIIT message, a who-must-verify question, an
// index match, or "unknown".
func (e *Engine) route(ctx context.Context, conv *Conversation, t turn) Reply {
	if t.norm == "" {
		return e.emptyReply(t)
	}
	if r, ok := e.resolvePending(conv, t); ok {
		return r
	}
	if len(conv.Suggested) > 0 {
		if n, ok := optionNumber(t.norm); ok && n >= 1 && n <= len(conv.Suggested) {
			id := conv.Suggested[n-1]
			return e.topicReply(t, id, &Explain{Rule: fmt.Sprintf("option %d of the suggestions: %s", n, id)})
		}
	}
	compact := lang.Compact(t.raw)
	for _, m := range e.messages {
		if m.compact != "" && strings.Contains(compact, m.compact) {
			return e.topicReply(t, m.topic, &Explain{Rule: "pasted MIIT message", Message: m.text})
		}
	}
	// The table first: a filing type named with a who-question needs no index.
	match := e.table.Lookup(t.raw)
	explain := &Explain{Matrix: spans(match)}
	if len(match.Rows) > 0 {
		switch {
		case e.bare(t):
			explain.Rule = "message names a filing type and nothing else: " + match.Rule
			return e.matrixReply(t, match, explain)
		case hasAny(t.norm, e.phrases.WhoIntent):
			explain.Rule = "who-must-verify question naming a filing type: " + match.Rule
			return e.matrixReply(t, match, explain)
		}
	}
	hits, err := e.idx.Search(ctx, t.raw)
	if err != nil {
		e.log.WarnContext(ctx, "index search failed", "err", err)
	}
	hits = e.admitted(t.raw, hits)
	explain.Hits = toHits(hits)
	topic, ok, rule := e.decide(hits)
	explain.Rule = rule
	if len(match.Rows) == 0 && hasAny(t.norm, e.phrases.WhoQuestion) && !(ok && topic == topicWhichPhones) {
		r := e.clarifyBusiness(t, "asks who, names no filing type; "+rule)
		r.Explain.Hits = explain.Hits
		return r
	}
	switch {
	case ok && topic == TopicWhoVerifies && len(match.Rows) > 0:
		explain.Rule += "; " + match.Rule
		return e.matrixReply(t, match, explain)
	case ok && topic == TopicWhoVerifies && !hasAny(t.norm, e.phrases.WhoIntent):
		// Close to the who-verifies examples but naming neither a filing
		// type nor anyone verifying ("备案要收费吗"): not a question we answer.
		explain.Rule += "; but no filing type and no who-words"
		return e.unknownReply(t, hits, explain)
	case ok && topic == TopicWhoVerifies:
		r := e.clarifyBusiness(t, rule+"; no filing type named")
		r.Explain.Hits = explain.Hits
		return r
	case ok:
		return e.topicReply(t, topic, explain)
	}
	return e.unknownReply(t, hits, explain)
}

// admitted drops the hits of topics whose required terms the message lacks.
func (e *Engine) admitted(text string, hits []index.Hit) []index.Hit {
	out := hits[:0:0]
	for _, h := range hits {
		if topic, ok := e.kb.Topic(h.Topic); ok && topic.Admits(text) {
			out = append(out, h)
		}
	}
	return out
}

// decide trusts the index's top topic when it scores high enough and leads
// the runner-up clearly.
func (e *Engine) decide(hits []index.Hit) (topic string, ok bool, rule string) {
	if len(hits) == 0 {
		return "", false, "index: no hit"
	}
	top := hits[0]
	if top.Score < e.minScore {
		return top.Topic, false, fmt.Sprintf("index: top %s scored %.2f, below %.2f", top.Topic, top.Score, e.minScore)
	}
	if len(hits) > 1 {
		margin := (top.Score - hits[1].Score) / top.Score
		if margin < e.minMargin {
			return top.Topic, false, fmt.Sprintf("index: %s %.2f and %s %.2f too close (margin %.2f < %.2f)",
				top.Topic, top.Score, hits[1].Topic, hits[1].Score, margin, e.minMargin)
		}
	}
	return top.Topic, true, fmt.Sprintf("index: %s scored %.2f", top.Topic, top.Score)
}

// bare reports whether the message is a filing type and nothing else, like
// "新增接入呢？" or "what about domain migration".
func (e *Engine) bare(t turn) bool {
	rest := removeWords(t.residual, e.phrases.Filler.ZH, false)
	rest = removeWords(rest, e.phrases.Filler.EN, true)
	han, words := lang.Counts(rest)
	return han == 0 && words == 0
}

// hasAny reports whether norm holds one of the words: Chinese anywhere,
// English as whole words.
func hasAny(norm string, words knowledge.Lists) bool {
	for _, w := range words.ZH {
		if strings.Contains(norm, w) {
			return true
		}
	}
	for _, w := range words.EN {
		if containsWord(norm, w) {
			return true
		}
	}
	return false
}

// resolvePending treats the message as an answer to the pending ask-back when
// it picks one of its options (by number, name or a phrase); otherwise the
// ask-back is dropped and the message is a new question.
func (e *Engine) resolvePending(conv *Conversation, t turn) (Reply, bool) {
	p := conv.Pending
	if p == nil {
		return Reply{}, false
	}
	conv.Pending = nil
	if n, ok := optionNumber(t.norm); ok {
		if n < 1 || n > len(p.Options) {
			return Reply{}, false
		}
		opt := p.Options[n-1]
		return e.answerRows(t, e.rowsOfOption(opt), opt.Label, fmt.Sprintf("option %d of the pending question: %s", n, opt.Label)), true
	}
	var candidates []matrix.Row
	for _, o := range p.Options {
		candidates = append(candidates, e.rowsOfOption(o)...)
	}
	m := e.table.Narrow(candidates, t.raw)
	if len(m.Rows) == 0 {
		return Reply{}, false
	}
	r := e.answerRows(t, m.Rows, t.raw, "answer to the pending question: "+m.Rule)
	r.Explain.Matrix = spans(m)
	return r, true
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

func spans(m matrix.Match) []string {
	var out []string
	for _, s := range m.Spans {
		name := s.Business
		if s.Subcase != "" {
			name += "/" + s.Subcase
		}
		out = append(out, fmt.Sprintf("%q → %s", s.Text, name))
	}
	return out
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

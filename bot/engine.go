// Package bot is beianbot's conversation engine: it turns a customer's message
// into a Reply, from the verification table, MIIT's messages and the FAQ topics.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beianbot/beianbot/classify"
	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/index"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/matrix"
)

// Topic ids the engine itself relies on (the knowledge base's contract).
const (
	TopicGreeting    = knowledge.Greeting
	TopicWhoVerifies = knowledge.WhoVerifies
	TopicUnknown     = knowledge.Unknown
)

// maxInputRunes bounds what the engine reads of one message; longer messages
// are answered from their beginning, and the reply says so.
const maxInputRunes = 2000

// Default thresholds of the topic decision (see README): a best topic whose
// confidence is below MinScore is not trusted, nor one whose lead over the
// runner-up is below MinMargin (as a fraction of its confidence).
const (
	DefaultMinScore  = 0.20
	DefaultMinMargin = 0.05
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
	lex       *concept.Lexicon
	idx       *index.Index
	model     *classify.Model
	phrases   *phrases
	messages  []miitMessage
	support   knowledge.Text
	provider  knowledge.Provider
	minScore  float64
	minMargin float64
	rephraser Rephraser
	log       *slog.Logger
}

// miitMessage is a text MIIT's site shows, in the compact form used to
// recognise it in a paste.
type miitMessage struct {
	text, norm, compact, topic string
	// elsewhere is what every other topic says (answers and examples,
	// compacted): a part of the message found there is not distinctive
	// ("进行短信核验" is in many answers; "无需重发短信" only in this message).
	elsewhere string
}

// New loads what opts leaves empty from the embedded data, builds the index
// and trains the classifier.
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
	lex, err := concept.Embedded()
	if err != nil {
		return nil, fmt.Errorf("load concept lexicon: %w", err)
	}
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
	read := exampleReader(kb, lex)
	idx, err := index.Build(ctx, kb, read)
	if err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	e := &Engine{
		kb: kb, table: table, lex: lex, idx: idx, phrases: ph,
		model:     Train(kb, read),
		support:   provider.Support,
		provider:  provider,
		minScore:  orDefault(opts.MinScore, DefaultMinScore),
		minMargin: orDefault(opts.MinMargin, DefaultMinMargin),
		rephraser: opts.Rephraser,
		log:       opts.Logger,
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	for _, m := range kb.Messages() {
		var other strings.Builder
		for _, tp := range kb.Topics() {
			if tp.ID == m.TopicID {
				continue
			}
			for _, text := range append(append([]string{tp.Answer.ZH}, tp.Examples.ZH...), tp.Examples.EN...) {
				other.WriteString(lang.Compact(text))
				other.WriteByte('|')
			}
		}
		e.messages = append(e.messages, miitMessage{text: m.Text, norm: lang.Normalize(m.Text), compact: lang.Compact(m.Text), topic: m.TopicID, elsewhere: other.String()})
	}
	return e, nil
}

// exampleReader reads every example question of kb once, for both the index
// and the classifier; other texts are read on demand.
func exampleReader(kb *knowledge.Base, lex *concept.Lexicon) index.Reader {
	read := func(text string) concept.Reading { return lex.Read(lang.Normalize(text)) }
	seen := map[string]concept.Reading{}
	for _, t := range kb.Topics() {
		for _, q := range append(append([]string{}, t.Examples.ZH...), t.Examples.EN...) {
			seen[q] = read(q)
		}
	}
	return func(text string) concept.Reading {
		if r, ok := seen[text]; ok {
			return r
		}
		return read(text)
	}
}

// Train fits the topic classifier to the knowledge base's example questions.
func Train(kb *knowledge.Base, read index.Reader) *classify.Model {
	var ex []classify.Example
	for _, t := range kb.Topics() {
		for _, q := range append(append([]string{}, t.Examples.ZH...), t.Examples.EN...) {
			ex = append(ex, classify.Example{Features: classify.Features(read(q)), Label: t.ID})
		}
	}
	return classify.Train(ex, classify.Options{})
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// Matrix is the verification table the engine answers from.
func (e *Engine) Matrix() *matrix.Table { return e.table }

// Provider names the provider whose customers the engine answers, as its
// answers name it (Options.Provider, or the default).
func (e *Engine) Provider() knowledge.Provider { return e.provider }

// Knowledge is the knowledge base, with the provider's names filled in.
func (e *Engine) Knowledge() *knowledge.Base { return e.kb }

// MinScore is the confidence below which the engine does not trust its best
// topic (Options.MinScore, or DefaultMinScore).
func (e *Engine) MinScore() float64 { return e.minScore }

// Index is the FAQ index, for reporting its build time.
func (e *Engine) Index() *index.Index { return e.idx }

// Close releases the index.
func (e *Engine) Close() error { return e.idx.Close() }

// turn is one message being answered: what was said, what it was read as,
// and how to say things back.
type turn struct {
	raw         string // the message, cleaned of invalid bytes and bounded in length
	norm        string // lang.Normalize(raw)
	reading     concept.Reading
	lang        lang.Lang
	traditional bool
	truncated   bool
	unreadable  bool // mostly bytes no text has: a file, or garbled
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
		return e.finish(ctx, conv, t, e.clarifyBusiness(t, nil, "tap on an option that is no longer pending").via(RouteTable))
	}
	opt := conv.Pending.Options[i]
	t.raw = opt.Label
	return e.finish(ctx, conv, t, e.answerRows(t, e.rowsOfOption(opt), "tap on option "+opt.Label).via(RouteTable))
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
		return e.finish(ctx, conv, t, e.clarifyBusiness(t, nil, "topic requested: "+id).via(RouteDirect))
	}
	if _, ok := e.kb.Topic(id); !ok {
		id = TopicUnknown
	}
	return e.finish(ctx, conv, t, e.topicReply(t, id, &Explain{Rule: "topic requested: " + id}).via(RouteDirect))
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
		return e.finish(ctx, conv, t, e.clarifyBusiness(t, nil, fmt.Sprintf("no row %q/%q", business, subcase)).via(RouteTable))
	}
	label := business
	if subcase != "" {
		label += " / " + subcase
	}
	return e.finish(ctx, conv, t, e.answerRows(t, rows, "chosen: "+label).via(RouteTable))
}

// setLang sets the reply language a caller chose; "" keeps the detected one.
func (t *turn) setLang(l lang.Lang, traditional bool) {
	if l != "" {
		t.lang, t.traditional = l, l == lang.ZH && traditional
	}
}

// newTurn cleans the message, reads it once, and decides the reply language.
func (e *Engine) newTurn(conv *Conversation, text string) turn {
	unreadable := notText(text)
	text = strings.ToValidUTF8(text, "")
	text = strings.ReplaceAll(text, "\x00", "")
	t := turn{raw: strings.TrimSpace(text), unreadable: unreadable}
	if utf8.RuneCountInString(t.raw) > maxInputRunes {
		t.raw = string([]rune(t.raw)[:maxInputRunes])
		t.truncated = true
	}
	var traditional bool
	t.norm, traditional = lang.NormalizeScript(t.raw)
	t.reading = e.lex.Read(t.norm)
	t.traditional = traditional
	t.lang, t.traditional = e.detect(conv, t)
	return t
}

// notText reports whether s is mostly what no typed message holds: invalid
// UTF-8, control characters, private-use code points (a file, or text in the
// wrong encoding). Searching such bytes for words finds chance matches.
func notText(s string) bool {
	bad, total := 0, 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		total++
		if r == utf8.RuneError && size <= 1 || unicode.IsControl(r) && !unicode.IsSpace(r) || unicode.Is(unicode.Co, r) {
			bad++
		}
	}
	return bad >= 3 && bad*10 >= total
}

// detect picks the reply language: pinned by the conversation, else the
// language of the message's own words. The subject's terms (SMS, 核验,
// 新增接入…) and what is quoted from MIIT's messages are left out first,
// since customers write them in Chinese inside English sentences: "whats
// 短信核验" is English.
func (e *Engine) detect(conv *Conversation, t turn) (lang.Lang, bool) {
	if conv.Lang != "" {
		return conv.Lang, conv.Lang == lang.ZH && conv.Traditional
	}
	traditional := t.traditional
	if !traditional && conv.LastTraditional && lang.ToTraditional(t.raw) == t.raw {
		// The message reads the same in both scripts ("不涉及", "好的"): it
		// keeps the Traditional characters the conversation was in.
		traditional = true
	}
	quoted := blank(withoutQuotes(t.norm, e.messages), e.table.NameSpans(t.reading))
	rest := withoutTerms(quoted, t.reading)
	han, words := lang.Counts(rest)
	if han+words > 0 {
		l, _ := lang.Detect(rest)
		return l, l == lang.ZH && traditional
	}
	// Only terms, numbers or punctuation: judge by what is left once the
	// table's names and quotes are out, then by the whole message, a run of
	// Chinese counting as one word ("变更网站 sms?" and "got 找不到记录
	// error" are English, "sms 收不到" Chinese); else keep the language the
	// conversation was in.
	for _, text := range []string{quoted, t.norm} {
		han, words = lang.Counts(text)
		if han+words == 0 {
			continue
		}
		if words > hanRuns(text) {
			return lang.EN, false
		}
		return lang.ZH, traditional
	}
	if conv.PendingLang != "" {
		// "2" answers the ask-back, the last reply: in its language and script.
		return conv.PendingLang, conv.PendingLang == lang.ZH && conv.LastTraditional
	}
	if conv.LastLang != "" {
		return conv.LastLang, conv.LastTraditional
	}
	return lang.ZH, false
}

// withoutTerms blanks the words of the subject in norm (what the reading
// found as actions, objects, roles, qualifiers or terms, in either script),
// keeping question words and everything else. norm has the reading's byte
// offsets (blanking keeps them).
func withoutTerms(norm string, r concept.Reading) string {
	var spans [][2]int
	for _, m := range r.Mentions {
		switch m.Kind {
		case concept.Cue, concept.Negation, concept.Other:
			continue
		}
		spans = append(spans, [2]int{m.Start, m.End})
	}
	return blank(norm, spans)
}

// blank replaces the bytes of each span with spaces.
func blank(s string, spans [][2]int) string {
	b := []byte(s)
	for _, sp := range spans {
		for i := sp[0]; i < sp[1] && i < len(b); i++ {
			b[i] = ' '
		}
	}
	return string(b)
}

// withoutQuotes blanks the parts of norm quoted from MIIT's messages: runs
// of at least minQuoted characters that also stand in one of them, so that
// "该请求将提交管局审核 meaning" is an English question about a quote.
func withoutQuotes(norm string, messages []miitMessage) string {
	const minQuoted = 4
	runes := []rune(norm)
	quoted := make([]bool, len(runes))
	for _, m := range messages {
		for i := 0; i < len(runes); i++ {
			j := i
			for j < len(runes) && strings.Contains(m.norm, string(runes[i:j+1])) {
				j++
			}
			if j-i >= minQuoted {
				for k := i; k < j; k++ {
					quoted[k] = true
				}
				i = j - 1
			}
		}
	}
	// Blank with as many spaces as the rune had bytes, so that byte offsets
	// into norm (the reading's) stay valid.
	var b strings.Builder
	for i, r := range runes {
		if quoted[i] {
			b.WriteString(strings.Repeat(" ", utf8.RuneLen(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hanRuns counts the runs of Han characters in s.
func hanRuns(s string) int {
	n, in := 0, false
	for _, r := range s {
		h := unicode.Is(unicode.Han, r)
		if h && !in {
			n++
		}
		in = h
	}
	return n
}

func hasHan(s string) bool {
	h, _ := lang.Counts(s)
	return h > 0
}

// Package index finds the knowledge-base topic a free-text question is about,
// with a bleve full-text index over the topics' example questions and keywords.
package index

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

// Field names. Questions are split by language so that each gets its own
// analyser: CJK bigrams for Chinese, stemmed words for English.
const (
	fieldQuestionZH = "q_zh"
	fieldQuestionEN = "q_en"
	fieldKeywordZH  = "kw_zh"
	fieldKeywordEN  = "kw_en"

	analyzerZH = "beianbot_zh"
	// analyzerZHQuery reads a Chinese question as character pairs only.
	analyzerZHQuery = "beianbot_zh_query"
	analyzerEN      = "beianbot_en"
	// analyzerRaw keeps English words as typed (no stemming), for typo
	// matching: edit distance between misspelt stems misleads.
	analyzerRaw = "beianbot_en_raw"

	rawSuffix = "_raw"
)

// stopEN is the English stop list; see the file for why it is short.
//
//go:embed stop_en.txt
var stopEN string

// Query-time weights: a customer's question resembles other customers'
// questions more than a topic's keywords. (The answers are not indexed:
// measured by cross-validation, matching them added nothing but search time.)
// A slice, not a map, so that scores add up in the same order every time.
var boosts = []struct {
	field string
	boost float64
}{
	{fieldQuestionZH, 1.0},
	{fieldQuestionEN, 1.0},
	{fieldKeywordZH, 0.6},
	{fieldKeywordEN, 0.6},
}

// fuzzyBoost weighs the matches of a misspelt English word's neighbours
// below exact ones.
const fuzzyBoost = 0.5

// maxFuzzyTerms bounds how many unknown words of one query are searched by
// their neighbours: a few typos per message are plenty, and a long paste of
// unknown words must not cost much.
const maxFuzzyTerms = 2

// maxHits is how many documents a search collects: enough for the best
// example of every topic to be among them, few enough to be cheap.
const maxHits = 24

// tieSlack is how many hits past maxHits are fetched to settle ties at the cut.
const tieSlack = 8

// maxQueryRunes bounds the text sent to the index: a 2,000-character story
// would otherwise turn into hundreds of query clauses. Long messages are
// searched by their question (see questionText).
const maxQueryRunes = 160

// Index is an in-memory search index over a knowledge base.
type Index struct {
	idx       bleve.Index
	buildTime time.Duration
	docs      int
	rawAn     analysis.Analyzer
	stemAn    analysis.Analyzer
	// vocabEN holds every English word indexed, unstemmed; only words outside
	// it get a typo-tolerant query, since a known word needs none.
	vocabEN    map[string]bool
	stemsEN    map[string]bool  // the same words stemmed: "finds" is no typo of "find"
	vocabByLen map[int][]string // vocabEN by word length, for typo search
}

// Hit is the best score one topic reached for a query.
type Hit struct {
	Topic string
	Score float64
	Field string // the field of the best-scoring match, for --explain
	Doc   string // the document that matched best (an example question or a topic's keywords)
}

// doc is what gets indexed: one per example question ("<topic>/zh/3"), and one
// per topic ("<topic>/topic") with its keywords and all its examples. The
// topic is read back from the id.
type doc struct {
	QuestionZH string `json:"q_zh,omitempty"`
	QuestionEN string `json:"q_en,omitempty"`
	KeywordZH  string `json:"kw_zh,omitempty"`
	KeywordEN  string `json:"kw_en,omitempty"`
}

// Build indexes every topic of kb. The "unknown" topic's examples are
// out-of-scope questions: a message closest to them is out of scope too.
// Reader normalises a text (lang.Normalize) and reads its concepts; the
// engine passes one that remembers, since it reads the same examples too.
type Reader func(text string) concept.Reading

func Build(ctx context.Context, kb *knowledge.Base, read Reader) (*Index, error) {
	start := time.Now()
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("build index mapping: %w", err)
	}
	// An in-memory scorch index: NewMemOnly would build the deprecated
	// upsidedown kind.
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	batch := idx.NewBatch()
	n := 0
	add := func(id string, d doc) error {
		n++
		return batch.Index(id, d)
	}
	for _, t := range kb.Topics() {
		if err := ctx.Err(); err != nil {
			idx.Close()
			return nil, err
		}
		for i, q := range t.Examples.ZH {
			r := read(q)
			if err := add(fmt.Sprintf("%s/zh/%d", t.ID, i), doc{QuestionZH: r.Text}); err != nil {
				return nil, fmt.Errorf("index %s: %w", t.ID, err)
			}
		}
		for i, q := range t.Examples.EN {
			r := read(q)
			if err := add(fmt.Sprintf("%s/en/%d", t.ID, i), doc{QuestionEN: r.Text}); err != nil {
				return nil, fmt.Errorf("index %s: %w", t.ID, err)
			}
		}
		d := doc{
			KeywordZH: lang.Normalize(strings.Join(append(t.Keywords.ZH, t.Examples.ZH...), "\n")),
			KeywordEN: lang.Normalize(strings.Join(append(t.Keywords.EN, t.Examples.EN...), "\n")),
		}
		if err := add(t.ID+"/topic", d); err != nil {
			return nil, fmt.Errorf("index %s: %w", t.ID, err)
		}
	}
	if err := idx.Batch(batch); err != nil {
		idx.Close()
		return nil, fmt.Errorf("index knowledge base: %w", err)
	}
	rawAn := idx.Mapping().AnalyzerNamed(analyzerRaw)
	if rawAn == nil {
		idx.Close()
		return nil, fmt.Errorf("index: analyzer %s missing", analyzerRaw)
	}
	stemAn := idx.Mapping().AnalyzerNamed(analyzerEN)
	if stemAn == nil {
		idx.Close()
		return nil, fmt.Errorf("index: analyzer %s missing", analyzerEN)
	}
	vocab, stems := map[string]bool{}, map[string]bool{}
	for _, t := range kb.Topics() {
		for _, q := range append(append([]string{t.Title.EN, t.Answer.EN}, t.Examples.EN...), t.Keywords.EN...) {
			q = lang.Normalize(q)
			for _, tok := range rawAn.Analyze([]byte(q)) {
				vocab[string(tok.Term)] = true
			}
			for _, tok := range stemAn.Analyze([]byte(q)) {
				stems[string(tok.Term)] = true
			}
		}
	}
	byLen := map[int][]string{}
	for w := range vocab {
		if isLatin(w) {
			byLen[len(w)] = append(byLen[len(w)], w)
		}
	}
	for _, ws := range byLen {
		sort.Strings(ws)
	}
	return &Index{idx: idx, buildTime: time.Since(start), docs: n, rawAn: rawAn, stemAn: stemAn,
		vocabEN: vocab, stemsEN: stems, vocabByLen: byLen}, nil
}

// questionText is what of a message the index searches: the whole message
// when it is short, else its question clauses (the story around a question
// says little about which answer is wanted, and costs search time).
func questionText(r concept.Reading) string {
	norm := r.Text
	focus := r.Focus()
	if utf8.RuneCountInString(norm) <= maxQueryRunes || focus == nil {
		return norm
	}
	var b strings.Builder
	for _, i := range focus {
		c := r.Clauses[i]
		if c.From >= c.To {
			continue
		}
		b.WriteString(norm[r.Tokens[c.From].Start:r.Tokens[c.To-1].End])
		b.WriteByte('\n')
	}
	return b.String()
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	// m.ScoringModel = "bm25"
	// CJK text is indexed as overlapping character pairs plus single
	// characters, so a two-character word typed alone still matches.
	if err := m.AddCustomTokenFilter("beianbot_bigram", map[string]interface{}{
		"type":           cjk.BigramName,
		"output_unigram": true,
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomTokenFilter("beianbot_bigram_only", map[string]interface{}{
		"type":           cjk.BigramName,
		"output_unigram": false,
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomAnalyzer(analyzerZHQuery, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{cjk.WidthName, lowercase.Name, "beianbot_bigram_only"},
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomAnalyzer(analyzerZH, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{cjk.WidthName, lowercase.Name, "beianbot_bigram"},
	}); err != nil {
		return nil, err
	}
	var stops []interface{}
	for _, line := range strings.Split(stopEN, "\n") {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			stops = append(stops, w)
		}
	}
	if err := m.AddCustomTokenMap("beianbot_stop_en", map[string]interface{}{
		"type":   tokenmap.Name,
		"tokens": stops,
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomTokenFilter("beianbot_stop_en", map[string]interface{}{
		"type":           stop.Name,
		"stop_token_map": "beianbot_stop_en",
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomAnalyzer(analyzerEN, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{en.PossessiveName, lowercase.Name, "beianbot_stop_en", porter.Name},
	}); err != nil {
		return nil, err
	}
	if err := m.AddCustomAnalyzer(analyzerRaw, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{en.PossessiveName, lowercase.Name, "beianbot_stop_en"},
	}); err != nil {
		return nil, err
	}
	textField := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range []string{fieldQuestionZH, fieldKeywordZH} {
		dm.AddFieldMappingsAt(f, textField(analyzerZH))
	}
	for _, f := range []string{fieldQuestionEN, fieldKeywordEN} {
		raw := textField(analyzerRaw)
		raw.Name = f + rawSuffix
		dm.AddFieldMappingsAt(f, textField(analyzerEN), raw)
	}
	m.DefaultMapping = dm
	m.DefaultAnalyzer = analyzerZH
	return m, nil
}

// BuildTime is how long Build took.
func (x *Index) BuildTime() time.Duration { return x.buildTime }

// Docs is the number of documents indexed.
func (x *Index) Docs() int { return x.docs }

// Close releases the index.
func (x *Index) Close() error { return x.idx.Close() }

// Search returns the best hit of each topic for a message read as r, best first.
func (x *Index) Search(ctx context.Context, r concept.Reading) ([]Hit, error) {
	text := truncateRunes(questionText(r), maxQueryRunes)
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	q := x.query(text)
	if q == nil {
		return nil, nil
	}
	// The topic is read from the document id ("deadline/zh/3"), so no stored
	// field is loaded per hit.
	// Examples that score alike are taken in id order: which of them make
	// the cut must not change from run to run, nor then the answer. Bleve's
	// scores of one document can differ in their last bits between builds,
	// so they are rounded, and a few more hits than kept are asked for, to
	// decide ties at the cut here.
	req := bleve.NewSearchRequestOptions(q, maxHits+tieSlack, 0, false)
	req.SortBy([]string{"-_score", "_id"})
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	type scored struct {
		id    string
		score float64
	}
	docs := make([]scored, 0, len(res.Hits))
	for _, h := range res.Hits {
		docs = append(docs, scored{h.ID, math.Round(h.Score*1e9) / 1e9})
	}
	sort.SliceStable(docs, func(i, j int) bool {
		if docs[i].score != docs[j].score {
			return docs[i].score > docs[j].score
		}
		return docs[i].id < docs[j].id
	})
	docs = docs[:min(len(docs), maxHits)]
	best := map[string]*Hit{}
	var order []string
	for _, d := range docs {
		topic, _, _ := strings.Cut(d.id, "/")
		if b, ok := best[topic]; ok {
			// A topic scores its best example plus its whole-topic document.
			if strings.HasSuffix(d.id, "/topic") || strings.HasSuffix(b.Doc, "/topic") {
				b.Score += d.score
				if !strings.HasSuffix(d.id, "/topic") {
					b.Doc = d.id
				}
				b.Field = fieldOf(b.Doc)
			}
			continue
		}
		best[topic] = &Hit{Topic: topic, Score: d.score, Doc: d.id, Field: fieldOf(d.id)}
		order = append(order, topic)
	}
	hits := make([]Hit, 0, len(order))
	for _, t := range order {
		hits = append(hits, *best[t])
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	return hits, nil
}

func fieldOf(docID string) string {
	switch {
	case strings.HasSuffix(docID, "/topic"):
		return "keywords"
	case strings.Contains(docID, "/zh/"):
		return "example(zh)"
	default:
		return "example(en)"
	}
}

// query matches text against the fields of the languages it is written in;
// unknown English words of five letters or more also match with one typo. Fuzzy matching stays off the Chinese fields,
// where edit distance counts bytes and would match unrelated characters.
func (x *Index) query(text string) query.Query {
	var qs []query.Query
	han, words := lang.Counts(text)
	for _, b := range boosts {
		isZH := strings.HasSuffix(b.field, "_zh")
		if isZH && han == 0 || !isZH && words == 0 {
			continue
		}
		mq := bleve.NewMatchQuery(text)
		mq.SetField(b.field)
		mq.SetBoost(b.boost)
		if isZH && han >= 2 {
			// Pairs only: single characters match nearly every example,
			// cost most of the search, and add nothing measurable once
			// the pairs are there (cross-validated). The index keeps them
			// for one-character messages.
			mq.Analyzer = analyzerZHQuery
		}
		qs = append(qs, mq)
	}
	fuzzy := 0
	for _, tok := range x.rawAn.Analyze([]byte(text)) {
		term := string(tok.Term)
		if utf8.RuneCountInString(term) < 5 || !isLatin(term) || x.vocabEN[term] || x.knownStem(term) {
			continue
		}
		// A word the index does not know is searched as the indexed words
		// one edit away from it ("verifcation"). Finding them in our own
		// vocabulary is cheap; a bleve fuzzy query would build an automaton
		// per word, the costliest part of a search.
		if fuzzy++; fuzzy > maxFuzzyTerms {
			break
		}
		for _, near := range x.near(term) {
			for _, f := range []struct {
				field string
				boost float64
			}{{fieldQuestionEN, fuzzyBoost}, {fieldKeywordEN, fuzzyBoost * 0.6}} {
				tq := bleve.NewTermQuery(near)
				tq.SetField(f.field + rawSuffix)
				tq.SetBoost(f.boost)
				qs = append(qs, tq)
			}
		}
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// knownStem reports whether w is another form of an indexed word, which
// the stemmed fields match already.
func (x *Index) knownStem(w string) bool {
	toks := x.stemAn.Analyze([]byte(w))
	return len(toks) == 1 && x.stemsEN[string(toks[0].Term)]
}

// near returns the indexed English words one edit from w.
func (x *Index) near(w string) []string {
	var out []string
	for _, n := range []int{len(w) - 1, len(w), len(w) + 1} {
		for _, v := range x.vocabByLen[n] {
			if concept.OneEdit(w, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func isLatin(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

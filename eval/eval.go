// Package eval runs evaluation case files through the answer engine and
// reports on the run: accuracy per set, topic and language, confusions and
// failures, as text figures, results.jsonl, junit.xml and an HTML page, and
// what changed since an earlier run.
package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

// File is one evaluation file: single questions and multi-turn dialogs.
type File struct {
	Name    string   `yaml:"-"`
	Cases   []Case   `yaml:"cases"`
	Dialogs []Dialog `yaml:"dialogs"`
}

// Case is one question and what the engine must answer.
type Case struct {
	Q       string    `yaml:"q"`
	Topic   string    `yaml:"topic"`
	Lang    lang.Lang `yaml:"lang"`
	Matrix  *Verdict  `yaml:"matrix"`
	Clarify bool      `yaml:"clarify"`
	Line    int       `yaml:"-"`
}

// Verdict is an expected who-must-verify answer.
type Verdict struct {
	Principal bool `yaml:"principal" json:"principal"`
	Website   bool `yaml:"website" json:"website"`
}

// Dialog is a conversation: its turns are answered in one Conversation.
type Dialog struct {
	Name  string `yaml:"name"`
	Turns []Case `yaml:"turns"`
}

// Load reads and checks an evaluation file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes an evaluation file strictly: unknown keys, a case without a
// question or topic, or a matrix/clarify expectation on another topic are errors.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	setLines(&root, f)
	var errs []error
	check := func(c Case) {
		switch {
		case c.Q == "":
			errs = append(errs, fmt.Errorf("%s:%d: q: empty", name, c.Line))
		case c.Topic == "":
			errs = append(errs, fmt.Errorf("%s:%d: topic: missing", name, c.Line))
		case (c.Matrix != nil || c.Clarify) && c.Topic != bot.TopicWhoVerifies:
			errs = append(errs, fmt.Errorf("%s:%d: matrix/clarify expected on topic %s", name, c.Line, c.Topic))
		case c.Matrix != nil && c.Clarify:
			errs = append(errs, fmt.Errorf("%s:%d: both matrix and clarify expected", name, c.Line))
		case c.Lang != "" && c.Lang != lang.ZH && c.Lang != lang.EN:
			errs = append(errs, fmt.Errorf("%s:%d: lang: %q is neither zh nor en", name, c.Line, c.Lang))
		}
	}
	for _, c := range f.Cases {
		check(c)
	}
	for _, d := range f.Dialogs {
		if len(d.Turns) == 0 {
			errs = append(errs, fmt.Errorf("%s: dialog %q: no turns", name, d.Name))
		}
		for _, c := range d.Turns {
			check(c)
		}
	}
	if len(f.Cases) == 0 && len(f.Dialogs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no cases and no dialogs", name))
	}
	return f, errors.Join(errs...)
}

// setLines records the line of each case's "q" for failure reports.
func setLines(root *yaml.Node, f *File) {
	if len(root.Content) == 0 {
		return
	}
	doc := root.Content[0]
	seq := func(key string) *yaml.Node {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == key {
				return doc.Content[i+1]
			}
		}
		return nil
	}
	if s := seq("cases"); s != nil {
		for i, n := range s.Content {
			if i < len(f.Cases) {
				f.Cases[i].Line = n.Line
			}
		}
	}
	if s := seq("dialogs"); s != nil {
		for i, d := range s.Content {
			if i >= len(f.Dialogs) {
				break
			}
			for j := 0; j+1 < len(d.Content); j += 2 {
				if d.Content[j].Value != "turns" {
					continue
				}
				for k, n := range d.Content[j+1].Content {
					if k < len(f.Dialogs[i].Turns) {
						f.Dialogs[i].Turns[k].Line = n.Line
					}
				}
			}
		}
	}
}

// Outcome is what happened to one case.
type Outcome struct {
	File      string
	Case      Case
	Dialog    string // "" for single questions
	Turn      int    // the turn's number in its dialog, from 1; 0 for single questions
	Reply     bot.Reply
	Latency   time.Duration
	OK        bool
	WrongFact bool   // the engine stated a who-must-verify verdict that the case says is wrong
	Why       string // what was wrong
}

// Run answers every case of files with e: single questions each in a fresh
// conversation, dialogs turn by turn in one.
func Run(ctx context.Context, e *bot.Engine, files []*File) []Outcome {
	var out []Outcome
	ask := func(conv *bot.Conversation, file, dialog string, turn int, c Case) {
		start := time.Now()
		r := e.Reply(ctx, conv, c.Q)
		o := Outcome{File: file, Case: c, Dialog: dialog, Turn: turn, Reply: r, Latency: time.Since(start)}
		o.OK, o.WrongFact, o.Why = judge(c, r)
		out = append(out, o)
	}
	for _, f := range files {
		for _, c := range f.Cases {
			ask(&bot.Conversation{}, f.Name, "", 0, c)
		}
		for _, d := range f.Dialogs {
			conv := &bot.Conversation{}
			for i, c := range d.Turns {
				ask(conv, f.Name, d.Name, i+1, c)
			}
		}
	}
	return out
}

// judge compares a reply with what the case expects.
func judge(c Case, r bot.Reply) (ok, wrongFact bool, why string) {
	if r.Matrix != nil && c.Topic == bot.TopicWhoVerifies {
		switch {
		case c.Clarify:
			return false, true, fmt.Sprintf("answered %s instead of asking back", verdict(r.Matrix))
		case c.Matrix != nil && (r.Matrix.Principal != c.Matrix.Principal || r.Matrix.Website != c.Matrix.Website):
			return false, true, fmt.Sprintf("answered %s, expected %s", verdict(r.Matrix), verdict(&bot.MatrixAnswer{Principal: c.Matrix.Principal, Website: c.Matrix.Website}))
		}
	}
	switch {
	case r.Topic != c.Topic:
		return false, false, fmt.Sprintf("topic %s, expected %s", r.Topic, c.Topic)
	case c.Clarify && r.Clarify == nil:
		return false, false, "expected an ask-back"
	case c.Matrix != nil && r.Matrix == nil:
		return false, false, "expected a verdict, got an ask-back"
	case c.Lang != "" && r.Lang != c.Lang:
		return false, false, fmt.Sprintf("language %s, expected %s", r.Lang, c.Lang)
	}
	return true, false, ""
}

func verdict(m *bot.MatrixAnswer) string {
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprintf("principal=%s website=%s", yn(m.Principal), yn(m.Website))
}

// TopicStats is precision and recall of one topic.
type TopicStats struct {
	Topic                      string
	Expected, Predicted, Right int
}

// Precision is the share of replies with this topic that were right.
func (s TopicStats) Precision() float64 { return ratio(s.Right, s.Predicted) }

// Recall is the share of cases expecting this topic that got it.
func (s TopicStats) Recall() float64 { return ratio(s.Right, s.Expected) }

// F1 is the harmonic mean of precision and recall.
func (s TopicStats) F1() float64 { return f1(s.Precision(), s.Recall()) }

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Confusion counts cases of one expected topic answered with another.
type Confusion struct {
	Expected, Got string
	Count         int
}

// Summary is the evaluation's result.
type Summary struct {
	Total, Correct, WrongFacts int
	Topics                     []TopicStats
	Languages                  []LangStats // zh, zh-Hant, en: those with cases
	Confusions                 []Confusion
	Failures                   []Outcome
	P50, P99                   time.Duration
}

// LangStats is the accuracy on the cases written in one language or script,
// and the precision, recall and F1 of its topics, averaged over the topics
// its cases expect (macro average).
type LangStats struct {
	Lang                  string // "zh" (Simplified), "zh-Hant" (Traditional) or "en"
	Total, Correct        int
	Precision, Recall, F1 float64
}

// Accuracy is the share of this language's cases answered right.
func (l LangStats) Accuracy() float64 { return ratio(l.Correct, l.Total) }

// Languages are the scripts reported, in report order.
var Languages = []string{"zh", "zh-Hant", "en"}

// Script names the language a case is written in: en, zh (Simplified) or
// zh-Hant (Traditional characters, including Cantonese). A case without a
// language of its own ("2") counts as the language it expects.
func Script(c Case) string {
	switch {
	case c.Lang == lang.EN:
		return "en"
	case lang.IsTraditional(c.Q):
		return "zh-Hant"
	case c.Lang == "":
		if l, _ := lang.Detect(c.Q); l == lang.EN {
			return "en"
		}
	}
	return "zh"
}

// Accuracy is the share of cases answered right.
func (s Summary) Accuracy() float64 { return ratio(s.Correct, s.Total) }

// Macro is precision, recall and F1 averaged over the topics the cases expect.
func (s Summary) Macro() (precision, recall, f float64) {
	return macro(s.Topics)
}

func macro(topics []TopicStats) (precision, recall, f float64) {
	n := 0
	for _, t := range topics {
		if t.Expected == 0 {
			continue
		}
		precision += t.Precision()
		recall += t.Recall()
		f += t.F1()
		n++
	}
	if n == 0 {
		return 0, 0, 0
	}
	return precision / float64(n), recall / float64(n), f / float64(n)
}

// Summarize computes the report's figures from outcomes.
func Summarize(outs []Outcome) Summary {
	s := Summary{Total: len(outs), Topics: topicStats(outs)}
	conf := map[[2]string]int{}
	var lat []time.Duration
	byLang := map[string][]Outcome{}
	for _, o := range outs {
		lat = append(lat, o.Latency)
		sc := Script(o.Case)
		byLang[sc] = append(byLang[sc], o)
		if o.Reply.Topic != o.Case.Topic {
			conf[[2]string{o.Case.Topic, o.Reply.Topic}]++
		}
		if o.OK {
			s.Correct++
		} else {
			s.Failures = append(s.Failures, o)
		}
		if o.WrongFact {
			s.WrongFacts++
		}
	}
	for _, l := range Languages {
		outs := byLang[l]
		if len(outs) == 0 {
			continue
		}
		ls := LangStats{Lang: l, Total: len(outs)}
		for _, o := range outs {
			if o.OK {
				ls.Correct++
			}
		}
		ls.Precision, ls.Recall, ls.F1 = macro(topicStats(outs))
		s.Languages = append(s.Languages, ls)
	}
	for k, n := range conf {
		s.Confusions = append(s.Confusions, Confusion{Expected: k[0], Got: k[1], Count: n})
	}
	sort.Slice(s.Confusions, func(i, j int) bool {
		a, b := s.Confusions[i], s.Confusions[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Expected+a.Got < b.Expected+b.Got
	})
	slices.Sort(lat)
	s.P50, s.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return s
}

// topicStats counts, per topic, the cases expecting it, the replies giving
// it and the replies giving it rightly; sorted by topic.
func topicStats(outs []Outcome) []TopicStats {
	stats := map[string]*TopicStats{}
	stat := func(t string) *TopicStats {
		if stats[t] == nil {
			stats[t] = &TopicStats{Topic: t}
		}
		return stats[t]
	}
	for _, o := range outs {
		stat(o.Case.Topic).Expected++
		stat(o.Reply.Topic).Predicted++
		if o.Reply.Topic == o.Case.Topic {
			stat(o.Case.Topic).Right++
		}
	}
	var out []TopicStats
	for _, st := range stats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Glob expands the arguments of `beianbot eval`: files, or directories whose
// *.yaml files are all read.
func Glob(args []string) ([]string, error) {
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("eval %s: %w", a, err)
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, err
		}
		paths = append(paths, m...)
	}
	return paths, nil
}

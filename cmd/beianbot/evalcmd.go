package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/eval"
	"github.com/beianbot/beianbot/knowledge"
)

// gates is the repeatable --gate SET=MIN flag.
type gates map[string]float64

func (g gates) String() string { return fmt.Sprint(map[string]float64(g)) }

func (g gates) Set(v string) error {
	name, min, ok := strings.Cut(v, "=")
	f, err := strconv.ParseFloat(min, 64)
	if !ok || name == "" || err != nil || f < 0 || f > 1 {
		return fmt.Errorf("want SET=MIN with MIN between 0 and 1, e.g. testdata/blind=0.95")
	}
	g[strings.TrimRight(name, "/")] = f
	return nil
}

// caseSet is a set's case files, as named on the command line.
type caseSet struct {
	name  string
	files []*eval.File
}

// loadCaseSets reads each FILE|DIR argument as one set.
func loadCaseSets(args []string) ([]caseSet, error) {
	var sets []caseSet
	for _, arg := range args {
		paths, err := eval.Glob([]string{arg})
		if err != nil {
			return nil, err
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("eval %s: no *.yaml case files in it", arg)
		}
		cs := caseSet{name: strings.TrimRight(arg, "/")}
		for _, p := range paths {
			f, err := eval.Load(p)
			if err != nil {
				return nil, err
			}
			cs.files = append(cs.files, f)
		}
		sets = append(sets, cs)
	}
	return sets, nil
}

// runCaseSets answers every set's questions with e.
func runCaseSets(ctx context.Context, e *bot.Engine, sets []caseSet, minOf func(string) float64) []eval.Set {
	var out []eval.Set
	for _, cs := range sets {
		out = append(out, eval.NewSet(cs.name, eval.Run(ctx, e, cs.files), minOf(cs.name)))
	}
	return out
}

const evalUsage = "usage: beianbot eval [--min 0.95] [--gate SET=MIN] [--cv K] [--json] [--all] [--out DIR] [--junit FILE] [--baseline OLD/results.jsonl] FILE|DIR..."

func runEval(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval", strings.TrimPrefix(evalUsage, "usage: "), stderr)
	minAcc := fs.Float64("min", 0.95, "fail (exit 1) when a set's accuracy is below this")
	perSet := gates{}
	fs.Var(perSet, "gate", "SET=MIN: a set's own minimum accuracy instead of --min (repeatable)")
	folds := fs.Int("cv", 0, "also cross-validate over the knowledge base's examples with this many folds")
	asJSON := fs.Bool("json", false, "print the summaries as JSON")
	showAll := fs.Bool("all", false, "list every failure and change (default: the first 30 of each)")
	outDir := fs.String("out", "", "write report.html, results.jsonl and junit.xml into this directory")
	junitFile := fs.String("junit", "", "write JUnit XML (one test case per question) to this file")
	baseline := fs.String("baseline", "", "an earlier run's results.jsonl: report what changed since")
	reportOnly := fs.Bool("report", false, "report only: print what would fail, but exit 0 (for sets that measure and gate nothing)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() == 0 && *folds == 0 {
		fmt.Fprintln(stderr, evalUsage)
		return 2
	}
	if *folds == 1 || *folds < 0 {
		fmt.Fprintln(stderr, "beianbot: --cv needs at least 2 folds")
		return 2
	}
	inputs, err := loadCaseSets(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}
	for name := range perSet {
		found := name == cvName(*folds)
		for _, in := range inputs {
			found = found || in.name == name
		}
		if !found {
			fmt.Fprintf(stderr, "beianbot: --gate names %s, which is not among the sets evaluated\n", name)
			return 2
		}
	}
	var old []eval.Record
	if *baseline != "" {
		if old, err = eval.LoadRecords(*baseline); err != nil {
			fmt.Fprintln(stderr, "beianbot: --baseline:", err)
			return 2
		}
	}
	start := time.Now()
	e, code := buildEngine(ctx, cfg, false, stderr)
	if e == nil {
		return code
	}
	defer e.Close()
	startup := time.Since(start)

	minOf := func(name string) float64 {
		if m, ok := perSet[name]; ok {
			return m
		}
		return *minAcc
	}
	sets := runCaseSets(ctx, e, inputs, minOf)
	if *folds > 0 {
		opts, err := engineOptions(cfg, false, newLogger(cfg, stderr))
		if err != nil {
			fmt.Fprintln(stderr, "beianbot:", err)
			return 2
		}
		outs, err := eval.CrossValidate(ctx, e.Knowledge(), *folds, opts)
		if err != nil {
			fmt.Fprintln(stderr, "beianbot:", err)
			return 2
		}
		sets = append(sets, eval.NewSet(cvName(*folds), outs, minOf(cvName(*folds))))
	}
	var changes *eval.Changes
	if old != nil {
		c := eval.Compare(old, eval.Records(sets))
		changes = &c
	}

	if *asJSON {
		writeEvalJSON(stdout, sets, changes)
	} else {
		if changes != nil {
			writeChangesText(stdout, "since "+*baseline, *changes, *showAll)
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "engine: %d index documents, started in %s\n\n", e.Index().Docs(), startup.Round(time.Millisecond))
		writeEvalText(stdout, sets, *showAll)
	}
	if *outDir != "" || *junitFile != "" {
		rep := eval.Report{
			Sets: sets, Changes: changes, Baseline: *baseline,
			MinScore: e.MinScore(), Topics: knowledge.IDs(), Rows: e.Matrix().Rows(),
			Generated: time.Now(), Notes: runNotes(cfg, e),
		}
		if err := writeEvalFiles(rep, *outDir, *junitFile); err != nil {
			fmt.Fprintln(stderr, "beianbot:", err)
			return 2
		}
		if *outDir != "" {
			fmt.Fprintf(stderr, "beianbot eval: wrote %s\n", filepath.Join(*outDir, "report.html"))
		}
	}
	failed := false
	verdict := "FAIL"
	if *reportOnly {
		verdict = "would fail (report only)"
	}
	for _, s := range sets {
		if s.Summary.WrongFacts > 0 {
			fmt.Fprintf(stderr, "beianbot eval: %s: %s: %d wrong who-must-verify answers\n", verdict, s.Name, s.Summary.WrongFacts)
			failed = true
		}
		if s.Summary.Accuracy() < s.Min {
			fmt.Fprintf(stderr, "beianbot eval: %s: %s: accuracy %.1f%% below %.1f%%\n", verdict, s.Name, 100*s.Summary.Accuracy(), 100*s.Min)
			failed = true
		}
	}
	if failed && !*reportOnly {
		return 1
	}
	return 0
}

// runNotes describe the engine for the report's header.
func runNotes(cfg config.Config, e *bot.Engine) []string {
	kb := "embedded knowledge base"
	if cfg.KnowledgeDir != "" {
		kb = "knowledge base " + cfg.KnowledgeDir
	}
	return []string{kb, fmt.Sprintf("%d index documents", e.Index().Docs())}
}

// writeEvalFiles writes report.html, results.jsonl and junit.xml into dir
// (created if missing) when dir is set, and JUnit XML to junitFile when set.
func writeEvalFiles(rep eval.Report, dir, junitFile string) error {
	write := func(path string, fn func(io.Writer) error) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	junit := func(w io.Writer) error { return eval.WriteJUnit(w, rep.Sets) }
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		files := []struct {
			name string
			fn   func(io.Writer) error
		}{
			{"results.jsonl", func(w io.Writer) error { return eval.WriteRecords(w, eval.Records(rep.Sets)) }},
			{"junit.xml", junit},
			{"report.html", func(w io.Writer) error { return eval.WriteHTML(w, rep) }},
		}
		for _, f := range files {
			if err := write(filepath.Join(dir, f.name), f.fn); err != nil {
				return err
			}
		}
	}
	if junitFile != "" {
		return write(junitFile, junit)
	}
	return nil
}

// writeChangesText prints what changed from a baseline run, newly wrong
// answers first; lead says which runs ("since OLD/results.jsonl").
func writeChangesText(w io.Writer, lead string, c eval.Changes, all bool) {
	fmt.Fprintf(w, "%s: %d questions in both runs: %d newly wrong, %d newly right, %d answered differently",
		lead, c.Compared, len(c.NewlyWrong), len(c.NewlyRight), len(c.AnswerChanged))
	if len(c.Added)+len(c.Removed) > 0 {
		fmt.Fprintf(w, "; new questions: %d, no longer asked: %d", len(c.Added), len(c.Removed))
	}
	fmt.Fprintln(w)
	list := func(title string, changes []eval.Change, line func(eval.Change)) {
		if len(changes) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for i, ch := range changes {
			if i == 30 && !all {
				fmt.Fprintf(w, "  … and %d more (--all lists them)\n", len(changes)-i)
				break
			}
			fmt.Fprintf(w, "  %s  %q: ", ch.New.Where(), oneLine(ch.New.Question, 80))
			line(ch)
		}
	}
	list("newly wrong", c.NewlyWrong, func(ch eval.Change) {
		fmt.Fprintf(w, "%s (was %s)\n", ch.New.Why, ch.Old.Got.Topic)
	})
	list("newly right", c.NewlyRight, func(ch eval.Change) {
		fmt.Fprintf(w, "%s (was: %s)\n", ch.New.Got.Topic, ch.Old.Why)
	})
	list("answered differently", c.AnswerChanged, func(ch eval.Change) {
		if ch.Old.Got.Topic != ch.New.Got.Topic {
			fmt.Fprintf(w, "topic %s → %s\n", ch.Old.Got.Topic, ch.New.Got.Topic)
		} else {
			fmt.Fprintf(w, "%s, answer changed\n", ch.New.Got.Topic)
		}
		a, b := eval.FirstDifference(ch.Old.Answer, ch.New.Answer)
		fmt.Fprintf(w, "      - %s\n      + %s\n", oneLine(a, 100), oneLine(b, 100))
	})
	if c.None() {
		fmt.Fprintln(w, "every question was answered exactly as in the baseline")
	}
}

func cvName(folds int) string {
	if folds == 0 {
		return ""
	}
	return fmt.Sprintf("cv%d", folds)
}

// writeEvalText prints the sets side by side, then each set's detail.
func writeEvalText(w io.Writer, sets []eval.Set, all bool) {
	fmt.Fprintf(w, "%-22s %6s %9s %8s %8s %8s %7s %9s %9s\n", "set", "cases", "accuracy", "zh", "zh-Hant", "en", "wrong", "p50", "p99")
	for _, s := range sets {
		byLang := map[string]string{}
		for _, l := range s.Summary.Languages {
			byLang[l.Lang] = fmt.Sprintf("%.1f%%", 100*l.Accuracy())
		}
		cell := func(l string) string {
			if v, ok := byLang[l]; ok {
				return v
			}
			return "—"
		}
		fmt.Fprintf(w, "%-22s %6d %8.1f%% %8s %8s %8s %7d %9s %9s\n", s.Name, s.Summary.Total, 100*s.Summary.Accuracy(),
			cell("zh"), cell("zh-Hant"), cell("en"), s.Summary.WrongFacts, round(s.Summary.P50), round(s.Summary.P99))
	}
	fmt.Fprintln(w, "\n(wrong: who-must-verify verdicts that differ from the table, or given where the case expects an ask-back)")
	for _, s := range sets {
		fmt.Fprintf(w, "\n== %s: accuracy %.1f%% (%d/%d)\n\n", s.Name, 100*s.Summary.Accuracy(), s.Summary.Correct, s.Summary.Total)
		writeSetText(w, s.Summary, all)
	}
}

func round(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
}

func writeSetText(w io.Writer, s eval.Summary, all bool) {
	fmt.Fprintf(w, "%-26s %5s %9s %7s\n", "topic", "cases", "precision", "recall")
	for _, t := range s.Topics {
		fmt.Fprintf(w, "%-26s %5d %8.1f%% %6.1f%%\n", t.Topic, t.Expected, 100*t.Precision(), 100*t.Recall())
	}
	if len(s.Confusions) > 0 {
		fmt.Fprintln(w, "\nmost common confusions (expected → got):")
		for i, c := range s.Confusions {
			if i == 10 {
				break
			}
			fmt.Fprintf(w, "  %3d  %s → %s\n", c.Count, c.Expected, c.Got)
		}
	}
	if len(s.Failures) > 0 {
		fmt.Fprintln(w, "\nfailures:")
		for i, f := range s.Failures {
			if i == 30 && !all {
				fmt.Fprintf(w, "  … and %d more (--all lists them)\n", len(s.Failures)-i)
				break
			}
			where := fmt.Sprintf("%s:%d", f.File, f.Case.Line)
			if f.Case.Line == 0 {
				where = f.File
			}
			if f.Dialog != "" {
				where += " (dialog " + f.Dialog + ")"
			}
			fmt.Fprintf(w, "  %s  %q: %s\n", where, oneLine(f.Case.Q, 80), f.Why)
		}
	}
}

func oneLine(s string, n int) string { return eval.OneLine(s, n) }

func writeEvalJSON(w io.Writer, sets []eval.Set, changes *eval.Changes) {
	type topic struct {
		Topic     string  `json:"topic"`
		Cases     int     `json:"cases"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
	}
	type language struct {
		Lang     string  `json:"lang"`
		Cases    int     `json:"cases"`
		Accuracy float64 `json:"accuracy"`
	}
	type failure struct {
		File     string `json:"file"`
		Line     int    `json:"line"`
		Dialog   string `json:"dialog,omitempty"`
		Question string `json:"question"`
		Expected string `json:"expected"`
		Got      string `json:"got"`
		Why      string `json:"why"`
	}
	type set struct {
		Name       string           `json:"set"`
		Accuracy   float64          `json:"accuracy"`
		Correct    int              `json:"correct"`
		Total      int              `json:"total"`
		WrongFacts int              `json:"wrong_matrix_answers"`
		P50ms      float64          `json:"p50_ms"`
		P99ms      float64          `json:"p99_ms"`
		Languages  []language       `json:"languages"`
		Topics     []topic          `json:"topics"`
		Confusions []eval.Confusion `json:"confusions"`
		Failures   []failure        `json:"failures"`
	}
	type change struct {
		Old eval.Record `json:"old"`
		New eval.Record `json:"new"`
	}
	type changeList struct {
		Compared      int           `json:"compared"`
		NewlyWrong    []change      `json:"newly_wrong"`
		NewlyRight    []change      `json:"newly_right"`
		AnswerChanged []change      `json:"answer_changed"`
		Added         []eval.Record `json:"added"`
		Removed       []eval.Record `json:"removed"`
	}
	out := struct {
		Changes *changeList `json:"changes,omitempty"`
		Sets    []set       `json:"sets"`
	}{Sets: []set{}}
	if changes != nil {
		conv := func(cs []eval.Change) []change {
			out := []change{}
			for _, c := range cs {
				out = append(out, change{c.Old, c.New})
			}
			return out
		}
		out.Changes = &changeList{Compared: changes.Compared, NewlyWrong: conv(changes.NewlyWrong), NewlyRight: conv(changes.NewlyRight),
			AnswerChanged: conv(changes.AnswerChanged), Added: append([]eval.Record{}, changes.Added...), Removed: append([]eval.Record{}, changes.Removed...)}
	}
	for _, es := range sets {
		s := es.Summary
		js := set{Name: es.Name, Accuracy: s.Accuracy(), Correct: s.Correct, Total: s.Total, WrongFacts: s.WrongFacts,
			P50ms: float64(s.P50.Microseconds()) / 1000, P99ms: float64(s.P99.Microseconds()) / 1000,
			Languages: []language{}, Topics: []topic{}, Confusions: s.Confusions, Failures: []failure{}}
		for _, l := range s.Languages {
			js.Languages = append(js.Languages, language{l.Lang, l.Total, l.Accuracy()})
		}
		for _, t := range s.Topics {
			js.Topics = append(js.Topics, topic{t.Topic, t.Expected, t.Precision(), t.Recall()})
		}
		for _, f := range s.Failures {
			js.Failures = append(js.Failures, failure{f.File, f.Case.Line, f.Dialog, f.Case.Q, f.Case.Topic, f.Reply.Topic, f.Why})
		}
		out.Sets = append(out.Sets, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}

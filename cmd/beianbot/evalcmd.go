package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/eval"
)

// evalSet is one set of cases reported on its own: a file or directory
// named on the command line, or the knowledge base's cross-validation.
type evalSet struct {
	name    string
	summary eval.Summary
	min     float64
}

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

func runEval(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval", "beianbot eval [--min 0.95] [--gate SET=MIN] [--cv K] [--json] [--all] FILE|DIR...", stderr)
	minAcc := fs.Float64("min", 0.95, "fail (exit 1) when a set's accuracy is below this")
	perSet := gates{}
	fs.Var(perSet, "gate", "SET=MIN: a set's own minimum accuracy instead of --min (repeatable)")
	folds := fs.Int("cv", 0, "also cross-validate over the knowledge base's examples with this many folds")
	asJSON := fs.Bool("json", false, "print the summaries as JSON")
	showAll := fs.Bool("all", false, "list every failure (default: the first 30 of each set)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() == 0 && *folds == 0 {
		fmt.Fprintln(stderr, "usage: beianbot eval [--min 0.95] [--gate SET=MIN] [--cv K] FILE|DIR...")
		return 2
	}
	if *folds == 1 || *folds < 0 {
		fmt.Fprintln(stderr, "beianbot: --cv needs at least 2 folds")
		return 2
	}
	type input struct {
		name  string
		files []*eval.File
	}
	var inputs []input
	for _, arg := range fs.Args() {
		paths, err := eval.Glob([]string{arg})
		if err != nil {
			fmt.Fprintln(stderr, "beianbot:", err)
			return 2
		}
		in := input{name: strings.TrimRight(arg, "/")}
		for _, p := range paths {
			f, err := eval.Load(p)
			if err != nil {
				fmt.Fprintln(stderr, "beianbot:", err)
				return 2
			}
			in.files = append(in.files, f)
		}
		inputs = append(inputs, in)
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
	var sets []evalSet
	for _, in := range inputs {
		sets = append(sets, evalSet{name: in.name, summary: eval.Summarize(eval.Run(ctx, e, in.files)), min: minOf(in.name)})
	}
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
		sets = append(sets, evalSet{name: cvName(*folds), summary: eval.Summarize(outs), min: minOf(cvName(*folds))})
	}

	if *asJSON {
		writeEvalJSON(stdout, sets)
	} else {
		fmt.Fprintf(stdout, "engine: %d index documents, started in %s\n\n", e.Index().Docs(), startup.Round(time.Millisecond))
		writeEvalText(stdout, sets, *showAll)
	}
	failed := false
	for _, s := range sets {
		if s.summary.WrongFacts > 0 {
			fmt.Fprintf(stderr, "beianbot eval: FAIL: %s: %d wrong who-must-verify answers\n", s.name, s.summary.WrongFacts)
			failed = true
		}
		if s.summary.Accuracy() < s.min {
			fmt.Fprintf(stderr, "beianbot eval: FAIL: %s: accuracy %.1f%% below %.1f%%\n", s.name, 100*s.summary.Accuracy(), 100*s.min)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

func cvName(folds int) string {
	if folds == 0 {
		return ""
	}
	return fmt.Sprintf("cv%d", folds)
}

// writeEvalText prints the sets side by side, then each set's detail.
func writeEvalText(w io.Writer, sets []evalSet, all bool) {
	fmt.Fprintf(w, "%-22s %6s %9s %8s %8s %8s %7s %9s %9s\n", "set", "cases", "accuracy", "zh", "zh-Hant", "en", "wrong", "p50", "p99")
	for _, s := range sets {
		byLang := map[string]string{}
		for _, l := range s.summary.Languages {
			byLang[l.Lang] = fmt.Sprintf("%.1f%%", 100*l.Accuracy())
		}
		cell := func(l string) string {
			if v, ok := byLang[l]; ok {
				return v
			}
			return "—"
		}
		fmt.Fprintf(w, "%-22s %6d %8.1f%% %8s %8s %8s %7d %9s %9s\n", s.name, s.summary.Total, 100*s.summary.Accuracy(),
			cell("zh"), cell("zh-Hant"), cell("en"), s.summary.WrongFacts, round(s.summary.P50), round(s.summary.P99))
	}
	fmt.Fprintln(w, "\n(wrong: who-must-verify verdicts that differ from the table, or given where the case expects an ask-back)")
	for _, s := range sets {
		fmt.Fprintf(w, "\n== %s: accuracy %.1f%% (%d/%d)\n\n", s.name, 100*s.summary.Accuracy(), s.summary.Correct, s.summary.Total)
		writeSetText(w, s.summary, all)
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

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func writeEvalJSON(w io.Writer, sets []evalSet) {
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
	out := struct {
		Sets []set `json:"sets"`
	}{Sets: []set{}}
	for _, es := range sets {
		s := es.summary
		js := set{Name: es.name, Accuracy: s.Accuracy(), Correct: s.Correct, Total: s.Total, WrongFacts: s.WrongFacts,
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

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/eval"
)

func runEval(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval", "beianbot eval [--min 0.95] [--json] [--all] FILE|DIR...", stderr)
	minAcc := fs.Float64("min", 0.95, "fail (exit 1) below this accuracy")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	showAll := fs.Bool("all", false, "list every failure (default: the first 30)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: beianbot eval [--min 0.95] FILE|DIR...")
		return 2
	}
	paths, err := eval.Glob(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}
	var files []*eval.File
	for _, p := range paths {
		f, err := eval.Load(p)
		if err != nil {
			fmt.Fprintln(stderr, "beianbot:", err)
			return 2
		}
		files = append(files, f)
	}
	e, code := buildEngine(ctx, cfg, false, stderr)
	if e == nil {
		return code
	}
	defer e.Close()
	s := eval.Summarize(eval.Run(ctx, e, files))
	if !*asJSON {
		fmt.Fprintf(stdout, "index: %d documents built in %s\n", e.Index().Docs(), e.Index().BuildTime().Round(time.Millisecond))
	}
	if *asJSON {
		writeEvalJSON(stdout, s)
	} else {
		writeEvalText(stdout, s, *showAll)
	}
	if s.WrongFacts > 0 {
		fmt.Fprintf(stderr, "beianbot eval: FAIL: %d wrong who-must-verify answers\n", s.WrongFacts)
		return 1
	}
	if s.Accuracy() < *minAcc {
		fmt.Fprintf(stderr, "beianbot eval: FAIL: accuracy %.1f%% below %.1f%%\n", 100*s.Accuracy(), 100**minAcc)
		return 1
	}
	return 0
}

func writeEvalText(w io.Writer, s eval.Summary, all bool) {
	fmt.Fprintf(w, "accuracy %.1f%% (%d/%d), wrong who-must-verify answers: %d\n", 100*s.Accuracy(), s.Correct, s.Total, s.WrongFacts)
	fmt.Fprintf(w, "latency p50 %s, p99 %s\n\n", s.P50, s.P99)
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

func writeEvalJSON(w io.Writer, s eval.Summary) {
	type topic struct {
		Topic     string  `json:"topic"`
		Cases     int     `json:"cases"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
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
	out := struct {
		Accuracy   float64          `json:"accuracy"`
		Correct    int              `json:"correct"`
		Total      int              `json:"total"`
		WrongFacts int              `json:"wrong_matrix_answers"`
		P50ms      float64          `json:"p50_ms"`
		P99ms      float64          `json:"p99_ms"`
		Topics     []topic          `json:"topics"`
		Confusions []eval.Confusion `json:"confusions"`
		Failures   []failure        `json:"failures"`
	}{Accuracy: s.Accuracy(), Correct: s.Correct, Total: s.Total, WrongFacts: s.WrongFacts,
		P50ms: float64(s.P50.Microseconds()) / 1000, P99ms: float64(s.P99.Microseconds()) / 1000,
		Topics: []topic{}, Confusions: s.Confusions, Failures: []failure{}}
	for _, t := range s.Topics {
		out.Topics = append(out.Topics, topic{t.Topic, t.Expected, t.Precision(), t.Recall()})
	}
	for _, f := range s.Failures {
		out.Failures = append(out.Failures, failure{f.File, f.Case.Line, f.Dialog, f.Case.Q, f.Case.Topic, f.Reply.Topic, f.Why})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}

package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/eval"
	"github.com/beianbot/beianbot/knowledge"
)

// runKBDiff prints what changed between two knowledge-base directories:
// `beianbot kb diff OLD_DIR NEW_DIR [--all] [--eval FILE|DIR...]`. With
// --eval, both are put to the evaluation sets named, and the questions the
// new one answers differently are listed as `eval --baseline` lists them.
const kbUsage = "usage: beianbot kb lint [DIR]\n       beianbot kb diff OLD_DIR NEW_DIR [--all] [--eval FILE|DIR...]"

func runKBDiff(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	var dirs, sets []string
	all, inEval := false, false
	for _, a := range args {
		switch {
		case a == "--help" || a == "-h" || a == "-help":
			fmt.Fprintln(stdout, strings.TrimPrefix(kbUsage, "usage: ")+"\n\nEvery command also takes --config FILE.")
			return 0
		case a == "--all" || a == "-all":
			all = true
		case a == "--eval" || a == "-eval":
			inEval = true
		case strings.HasPrefix(a, "--eval=") || strings.HasPrefix(a, "-eval="):
			inEval = true
			sets = append(sets, a[strings.Index(a, "=")+1:])
		case strings.HasPrefix(a, "-") && len(a) > 1:
			fmt.Fprintf(stderr, "beianbot kb diff: unknown flag %s\n%s\n", a, kbUsage)
			return 2
		case inEval:
			sets = append(sets, a)
		default:
			dirs = append(dirs, a)
		}
	}
	if len(dirs) != 2 || inEval && len(sets) == 0 {
		fmt.Fprintln(stderr, kbUsage)
		return 2
	}
	var kbs [2]*knowledge.Base
	for i, dir := range dirs {
		kb, err := knowledge.LoadDir(dir)
		if err != nil {
			fmt.Fprintln(stderr, "beianbot kb diff:", err)
			return 2
		}
		kbs[i] = kb
	}
	caseSets, err := loadCaseSets(sets)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot kb diff:", err)
		return 2
	}

	d := knowledge.Compare(kbs[0], kbs[1])
	fmt.Fprintf(stdout, "knowledge base %s → %s\n", dirs[0], dirs[1])
	writeKBDiff(stdout, d)
	if len(caseSets) == 0 {
		return 0
	}

	var runs [2][]eval.Record
	for i, kb := range kbs {
		opts, err := engineOptions(cfg, false, newLogger(cfg, stderr))
		if err != nil {
			fmt.Fprintln(stderr, "beianbot kb diff:", err)
			return 2
		}
		opts.Knowledge = kb
		e, err := bot.New(ctx, opts)
		if err != nil {
			fmt.Fprintf(stderr, "beianbot kb diff: engine on %s: %v\n", dirs[i], err)
			return 2
		}
		runs[i] = eval.Records(runCaseSets(ctx, e, caseSets, func(string) float64 { return 0 }))
		e.Close()
	}
	fmt.Fprintln(stdout)
	writeChangesText(stdout, fmt.Sprintf("answers with %s instead of %s", dirs[1], dirs[0]), eval.Compare(runs[0], runs[1]), all)
	return 0
}

// writeKBDiff prints a knowledge-base diff for a terminal: answers as line
// diffs, examples and keywords as the items added (+) and removed (−); an
// example that left one topic for another says so.
func writeKBDiff(w io.Writer, d knowledge.Diff) {
	if d.Empty() {
		fmt.Fprintln(w, "no topic, answer, example, keyword or message changed")
		return
	}
	fmt.Fprintf(w, "%d topics changed, %d added, %d removed\n", len(d.Changed), len(d.Added), len(d.Removed))
	for _, t := range d.Added {
		fmt.Fprintf(w, "\n+ topic %s (%s): %d + %d examples\n", t.ID, t.File, len(t.Examples.ZH), len(t.Examples.EN))
	}
	for _, t := range d.Removed {
		fmt.Fprintf(w, "\n- topic %s (%s)\n", t.ID, t.File)
	}
	// Where each removed item went, to say "moved" rather than remove + add.
	leftFrom := map[string]string{}
	for _, t := range d.Changed {
		for _, l := range t.Lists {
			for _, s := range l.Removed {
				leftFrom[l.Field+"\x00"+s] = t.ID
			}
		}
	}
	wentTo := map[string]string{}
	for _, t := range d.Changed {
		for _, l := range t.Lists {
			for _, s := range l.Added {
				wentTo[l.Field+"\x00"+s] = t.ID
			}
		}
	}
	for _, t := range d.Changed {
		fmt.Fprintf(w, "\n~ topic %s\n", t.ID)
		for _, c := range t.Texts {
			fmt.Fprintf(w, "  %s:\n", c.Field)
			for _, l := range lineDiff(c.Old, c.New) {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		for _, l := range t.Lists {
			fmt.Fprintf(w, "  %s: %d added, %d removed\n", l.Field, len(l.Added), len(l.Removed))
			for _, s := range l.Removed {
				note := ""
				if to, ok := wentTo[l.Field+"\x00"+s]; ok && to != t.ID {
					note = "   (moved to " + to + ")"
				}
				fmt.Fprintf(w, "    − %s%s\n", s, note)
			}
			for _, s := range l.Added {
				note := ""
				if from, ok := leftFrom[l.Field+"\x00"+s]; ok && from != t.ID {
					note = "   (moved from " + from + ")"
				}
				fmt.Fprintf(w, "    + %s%s\n", s, note)
			}
		}
	}
}

// lineDiff is a line-by-line diff of two texts: unchanged lines with two
// spaces, removed with "−", added with "+" (longest common subsequence;
// answers are a few lines long).
func lineDiff(old, cur string) []string {
	a := strings.Split(strings.TrimRight(old, "\n"), "\n")
	b := strings.Split(strings.TrimRight(cur, "\n"), "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "− "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	return out
}

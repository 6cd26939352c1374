package eval

import (
	"fmt"
	"strings"
)

// Change is one question answered differently from the baseline run.
type Change struct {
	Old, New Record
}

// Changes is what changed since a baseline run, question by question.
type Changes struct {
	Compared   int      // questions in both runs
	NewlyRight []Change // wrong in the baseline, right now
	NewlyWrong []Change // right in the baseline, wrong now
	// AnswerChanged are questions right (or wrong) in both runs whose answer
	// text or topic differs.
	AnswerChanged []Change
	Added         []Record // questions only in this run
	Removed       []Record // questions only in the baseline
}

// None says whether nothing changed at all.
func (c Changes) None() bool {
	return len(c.NewlyRight)+len(c.NewlyWrong)+len(c.AnswerChanged)+len(c.Added)+len(c.Removed) == 0
}

// Compare matches the questions of two runs and lists what changed.
// Questions from case files match by file, dialog, turn and wording (so that
// adding a case above another does not unmatch it); the knowledge base's
// own examples (--cv) by set, wording and expected topic, since a moved
// example changes its fold. A question asked twice in the same place
// matches in order.
func Compare(old, cur []Record) Changes {
	var c Changes
	oldByKey := map[string][]Record{}
	var oldKeys []string
	for _, k := range keys(old) {
		oldKeys = append(oldKeys, k.key)
		oldByKey[k.key] = append(oldByKey[k.key], k.rec)
	}
	matched := map[string]int{}
	for _, k := range keys(cur) {
		list := oldByKey[k.key]
		i := matched[k.key]
		if i >= len(list) {
			c.Added = append(c.Added, k.rec)
			continue
		}
		matched[k.key]++
		o, n := list[i], k.rec
		c.Compared++
		switch {
		case !o.Pass && n.Pass:
			c.NewlyRight = append(c.NewlyRight, Change{o, n})
		case o.Pass && !n.Pass:
			c.NewlyWrong = append(c.NewlyWrong, Change{o, n})
		case o.Answer != n.Answer || o.Got.Topic != n.Got.Topic:
			c.AnswerChanged = append(c.AnswerChanged, Change{o, n})
		}
	}
	seen := map[string]int{}
	for i, k := range oldKeys {
		seen[k]++
		if seen[k] > matched[k] {
			c.Removed = append(c.Removed, old[i])
		}
	}
	return c
}

type keyed struct {
	key string
	rec Record
}

// keys gives each record its matching key, numbering repeats.
func keys(recs []Record) []keyed {
	out := make([]keyed, 0, len(recs))
	for _, r := range recs {
		var k string
		if r.Line == 0 && r.Dialog == "" {
			k = fmt.Sprintf("example\x00%s\x00%s\x00%s", r.Set, r.Expected.Topic, r.Question)
		} else {
			k = fmt.Sprintf("case\x00%s\x00%s\x00%d\x00%s", r.File, r.Dialog, r.Turn, r.Question)
		}
		out = append(out, keyed{k, r})
	}
	return out
}

// Where names a record's place for a reader: file:line, and the dialog.
func (r Record) Where() string {
	where := r.File
	if r.Line > 0 {
		where = fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	if r.Dialog != "" {
		where += fmt.Sprintf(" (dialog %s, turn %d)", r.Dialog, r.Turn)
	}
	return where
}

// FirstDifference returns the first line on which two answers differ, as
// each has it ("" past its end): what a reader needs to see what changed.
func FirstDifference(old, cur string) (string, string) {
	a, b := strings.Split(old, "\n"), strings.Split(cur, "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x, y
		}
	}
	return "", ""
}

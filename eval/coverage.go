package eval

import (
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/matrix"
)

// Coverage is what the sets' questions exercise: each knowledge-base topic
// (questions expecting it) and each row of the verification table (verdicts
// given from it), per set.
type Coverage struct {
	Sets   []string
	Topics []CoverageLine
	Rows   []CoverageLine
}

// CoverageLine is one topic or table row: per set, how many questions
// exercised it and how many of those were answered right.
type CoverageLine struct {
	Name, Note    string // Note: the row's English label
	Counts, Right []int  // indexed like Coverage.Sets
}

// Total is how many questions of all sets exercised the line.
func (l CoverageLine) Total() int {
	n := 0
	for _, c := range l.Counts {
		n += c
	}
	return n
}

// Uncovered lists the names of lines no set exercises.
func Uncovered(lines []CoverageLine) []string {
	var out []string
	for _, l := range lines {
		if l.Total() == 0 {
			out = append(out, l.Name)
		}
	}
	return out
}

// NewCoverage counts, for topics (the knowledge base's ids) and rows (the
// verification table), which questions of each set exercise them.
func NewCoverage(sets []Set, topics []string, rows []matrix.Row) Coverage {
	cov := Coverage{}
	for _, s := range sets {
		cov.Sets = append(cov.Sets, s.Name)
	}
	line := func(name, note string) CoverageLine {
		return CoverageLine{Name: name, Note: note, Counts: make([]int, len(sets)), Right: make([]int, len(sets))}
	}
	topicAt := map[string]int{}
	for _, t := range topics {
		topicAt[t] = len(cov.Topics)
		cov.Topics = append(cov.Topics, line(t, ""))
	}
	rowAt := map[string]int{}
	for _, r := range rows {
		rowAt[r.Label(lang.ZH)] = len(cov.Rows)
		cov.Rows = append(cov.Rows, line(r.Label(lang.ZH), r.Label(lang.EN)))
	}
	count := func(l *CoverageLine, i int, ok bool) {
		l.Counts[i]++
		if ok {
			l.Right[i]++
		}
	}
	for i, s := range sets {
		for _, o := range s.Outcomes {
			if n, ok := topicAt[o.Case.Topic]; ok {
				count(&cov.Topics[n], i, o.OK)
			}
			if o.Reply.Matrix == nil {
				continue
			}
			for _, c := range o.Reply.Matrix.Cases {
				if n, ok := rowAt[RowLabel(c)]; ok {
					count(&cov.Rows[n], i, o.OK)
				}
			}
		}
	}
	return cov
}

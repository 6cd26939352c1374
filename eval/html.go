package eval

import (
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/beianbot/beianbot/matrix"
)

// Report is what report.html shows: the sets of one run, and optionally
// what changed since a baseline run.
type Report struct {
	Sets      []Set
	Changes   *Changes // nil without a baseline
	Baseline  string   // the baseline's file name
	MinScore  float64  // the engine's confidence threshold, drawn on the histogram
	Topics    []string // the knowledge base's topic ids, for coverage and the heatmap
	Rows      []matrix.Row
	Generated time.Time
	Notes     []string // about the run: the engine, the knowledge base
}

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"num": func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"ms":  func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) },
	"add": func(a, b int) int { return a + b },
	"idx": func(xs []int, i int) int { return xs[i] },
	"diffLines": func(old, cur string) []string {
		a, b := FirstDifference(old, cur)
		return []string{a, b}
	},
	"macro": func(s Summary) struct{ P, R, F float64 } {
		p, r, f := s.Macro()
		return struct{ P, R, F float64 }{p, r, f}
	},
	"langCells": func(s Summary) []string {
		var cells []string
		for _, l := range Languages {
			cell := "—"
			for _, ls := range s.Languages {
				if ls.Lang == l {
					cell = fmt.Sprintf("%.1f%%", 100*ls.Accuracy())
				}
			}
			cells = append(cells, cell)
		}
		return cells
	},
	"passes": func(s Set) bool { return s.Passes() },
	"expect": func(r Record) string { return r.Expected.String() },
	"got":    func(r Record) string { return r.Got.String() },
}).Parse(reportHTML))

// WriteHTML writes the report as one self-contained page: inline CSS and
// SVG, no scripts, fonts or anything fetched.
func WriteHTML(w io.Writer, r Report) error {
	if err := reportTemplate.Execute(w, newPage(r)); err != nil {
		return fmt.Errorf("write report.html: %w", err)
	}
	return nil
}

// page is the template's data, everything computed.
type page struct {
	Report
	All       Summary // every set's outcomes together
	Heatmap   template.HTML
	Histogram template.HTML
	Hist      histogram
	Coverage  Coverage
	Uncovered struct{ Topics, Rows []string }
	Failures  []pageSet
}

type pageSet struct {
	Set
	Failures []pageFailure
}

type pageFailure struct {
	Where, Question, Expected, Got, Why, Answer string
	WrongFact                                   bool
	Explain                                     []string
}

func newPage(r Report) page {
	p := page{Report: r}
	var all []Outcome
	for _, s := range r.Sets {
		all = append(all, s.Outcomes...)
		ps := pageSet{Set: s}
		for _, o := range s.Summary.Failures {
			ps.Failures = append(ps.Failures, pageFailure{
				Where: NewRecord(s.Name, o).Where(), Question: o.Case.Q,
				Expected: ExpectedText(o.Case), Got: GotText(o.Reply), Why: o.Why,
				WrongFact: o.WrongFact, Answer: o.Reply.Text, Explain: ExplainLines(o.Reply),
			})
		}
		p.Failures = append(p.Failures, ps)
	}
	p.All = Summarize(all)
	p.Heatmap = heatmapSVG(all, r.Topics)
	p.Hist = newHistogram(all, r.MinScore)
	p.Histogram = p.Hist.svg()
	p.Coverage = NewCoverage(r.Sets, r.Topics, r.Rows)
	p.Uncovered.Topics = Uncovered(p.Coverage.Topics)
	p.Uncovered.Rows = Uncovered(p.Coverage.Rows)
	return p
}

// esc escapes text for SVG markup written by hand.
func esc(s string) string { return html.EscapeString(s) }

// heatmapSVG draws the confusion matrix: expected topics as rows, answered
// topics as columns, the count in each cell; the diagonal in green, the
// confusions in red, darker for more.
func heatmapSVG(outs []Outcome, topics []string) template.HTML {
	order := append([]string{}, topics...)
	at := map[string]int{}
	for i, t := range order {
		at[t] = i
	}
	for _, o := range outs { // topics outside the knowledge base's list go last
		for _, t := range []string{o.Case.Topic, o.Reply.Topic} {
			if _, ok := at[t]; !ok {
				at[t] = len(order)
				order = append(order, t)
			}
		}
	}
	n := len(order)
	counts := make([][]int, n)
	for i := range counts {
		counts[i] = make([]int, n)
	}
	rowTotal := make([]int, n)
	maxWrong := 1
	for _, o := range outs {
		i, j := at[o.Case.Topic], at[o.Reply.Topic]
		counts[i][j]++
		rowTotal[i]++
	}
	for i := range counts {
		for j, c := range counts[i] {
			if i != j {
				maxWrong = max(maxWrong, c)
			}
		}
	}
	const cell, left, top = 36, 170, 168
	width, height := left+n*cell+10, top+n*cell+4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="heatmap" role="img" aria-labelledby="heatmap-title" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, width, height, width, height)
	b.WriteString(`<title id="heatmap-title">Confusion matrix: expected topic (rows) against the topic answered (columns)</title>`)
	fmt.Fprintf(&b, `<text x="4" y="14" class="axis">expected ↓ · answered →</text>`)
	for j, t := range order {
		x := left + j*cell + cell/2
		fmt.Fprintf(&b, `<text class="col" transform="translate(%d %d) rotate(-60)">%s</text>`, x+4, top-6, esc(t))
	}
	for i, t := range order {
		y := top + i*cell
		fmt.Fprintf(&b, `<text class="row" x="%d" y="%d">%s</text>`, left-6, y+cell/2+4, esc(t))
		for j := range order {
			c := counts[i][j]
			x := left + j*cell
			// The diagonal is shaded by the row's recall, a confusion by
			// its count against the largest confusion.
			fill, strength := "#f4f5f7", 0.0
			switch {
			case c > 0 && i == j:
				strength = float64(c) / float64(rowTotal[i])
				fill = shade(46, 125, 50, strength)
			case c > 0:
				strength = 0.25 + 0.75*float64(c)/float64(maxWrong)
				fill = shade(198, 40, 40, strength)
			}
			textClass := "n"
			if strength > 0.5 {
				textClass = "n light"
			}
			fmt.Fprintf(&b, `<g class="cell" data-expected="%s" data-got="%s" data-count="%d"><rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s → %s: %d</title></rect>`,
				esc(order[i]), esc(order[j]), c, x, y, cell-2, cell-2, fill, esc(order[i]), esc(order[j]), c)
			if c > 0 {
				fmt.Fprintf(&b, `<text class="%s" x="%d" y="%d">%d</text>`, textClass, x+(cell-2)/2, y+cell/2+3, c)
			}
			b.WriteString(`</g>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// shade mixes the colour (r, g, b) with white: f 0 is white, 1 the colour.
func shade(r, g, b int, f float64) string {
	f = math.Max(0.12, math.Min(1, f))
	mix := func(c int) int { return int(255 - f*float64(255-c) + 0.5) }
	return fmt.Sprintf("#%02x%02x%02x", mix(r), mix(g), mix(b))
}

// histogram counts the top topic confidence (the engine's combined score,
// Explain.Scores[0]) of right and wrong answers in bins of 0.05.
type histogram struct {
	Right, Wrong   [20]int
	MinScore       float64
	Unscored       int // answers decided before any scoring: pasted MIIT messages, answers to an ask-back
	RightBelow     int // right answers whose confidence is under MinScore
	WrongAtOrAbove int // wrong answers whose confidence is at least MinScore
	Scored         int
}

func newHistogram(outs []Outcome, minScore float64) histogram {
	h := histogram{MinScore: minScore}
	for _, o := range outs {
		if o.Reply.Explain == nil || len(o.Reply.Explain.Scores) == 0 {
			h.Unscored++
			continue
		}
		h.Scored++
		s := o.Reply.Explain.Scores[0].Score
		bin := min(max(int(s*20), 0), 19)
		if o.OK {
			h.Right[bin]++
			if s < minScore {
				h.RightBelow++
			}
		} else {
			h.Wrong[bin]++
			if s >= minScore {
				h.WrongAtOrAbove++
			}
		}
	}
	return h
}

// svg draws the histogram mirrored: right answers up, wrong answers down,
// each half on its own scale (wrong answers are few), with the threshold as
// a dashed line.
func (h histogram) svg() template.HTML {
	const left, width, half, mid = 48, 600, 120, 150
	barW := width / 20
	maxR, maxW := 1, 1
	for i := range h.Right {
		maxR, maxW = max(maxR, h.Right[i]), max(maxW, h.Wrong[i])
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="histogram" role="img" aria-labelledby="hist-title" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, left+width+20, mid+half+50, left+width+20, mid+half+50)
	b.WriteString(`<title id="hist-title">Top topic confidence of right answers (up) and wrong answers (down), with the min_score threshold</title>`)
	for i := 0; i < 20; i++ {
		x := left + i*barW
		if c := h.Right[i]; c > 0 {
			bh := max(1, half*c/maxR)
			fmt.Fprintf(&b, `<rect class="right" x="%d" y="%d" width="%d" height="%d"><title>right, confidence %.2f–%.2f: %d</title></rect>`, x+1, mid-bh, barW-2, bh, float64(i)/20, float64(i+1)/20, c)
		}
		if c := h.Wrong[i]; c > 0 {
			bh := max(1, half*c/maxW)
			fmt.Fprintf(&b, `<rect class="wrong" x="%d" y="%d" width="%d" height="%d"><title>wrong, confidence %.2f–%.2f: %d</title></rect>`, x+1, mid+1, barW-2, bh, float64(i)/20, float64(i+1)/20, c)
			fmt.Fprintf(&b, `<text class="count" x="%d" y="%d">%d</text>`, x+barW/2, mid+bh+12, c)
		}
	}
	fmt.Fprintf(&b, `<line class="axis-line" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, mid, left+width, mid)
	for i := 0; i <= 10; i++ {
		x := left + i*width/10
		fmt.Fprintf(&b, `<line class="tick" x1="%d" y1="%d" x2="%d" y2="%d"/><text class="tick-label" x="%d" y="%d">%.1f</text>`, x, mid, x, mid+4, x, mid+half+28, float64(i)/10)
	}
	fmt.Fprintf(&b, `<text class="scale" x="%d" y="%d">%d</text><text class="scale" x="%d" y="%d">%d</text>`, left-6, mid-half+4, maxR, left-6, mid+half, maxW)
	fmt.Fprintf(&b, `<text class="side right-label" x="%d" y="%d">right</text><text class="side wrong-label" x="%d" y="%d">wrong</text>`, left-6, mid-half/2, left-6, mid+half/2)
	tx := left + int(h.MinScore*float64(width)+0.5)
	fmt.Fprintf(&b, `<line id="threshold" class="threshold" x1="%d" y1="%d" x2="%d" y2="%d"/>`, tx, mid-half-14, tx, mid+half+14)
	fmt.Fprintf(&b, `<text class="threshold-label" x="%d" y="%d">min_score %.2f</text>`, tx+4, mid-half-4, h.MinScore)
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d">top topic confidence (combined score)</text>`, left+width/2, mid+half+44)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

package eval

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/beianbot/beianbot/bot"
)

// Set is one set of cases reported on its own: a file or directory named on
// the command line, or the knowledge base's cross-validation.
type Set struct {
	Name     string
	Outcomes []Outcome
	Summary  Summary
	Min      float64 // the accuracy below which the set fails
}

// NewSet summarises a set's outcomes.
func NewSet(name string, outs []Outcome, min float64) Set {
	return Set{Name: name, Outcomes: outs, Summary: Summarize(outs), Min: min}
}

// Passes says whether the set meets its gate: accuracy at least Min and no
// wrong who-must-verify verdict.
func (s Set) Passes() bool {
	return s.Summary.WrongFacts == 0 && s.Summary.Accuracy() >= s.Min
}

// Record is one line of results.jsonl: one question (a case or a dialog
// turn) and what the engine did with it. It is the format --baseline reads
// back, so fields are only ever added to it.
type Record struct {
	Set       string    `json:"set"`
	File      string    `json:"file"`
	Line      int       `json:"line,omitempty"` // 0 for the knowledge base's examples (--cv)
	Dialog    string    `json:"dialog,omitempty"`
	Turn      int       `json:"turn,omitempty"`
	Question  string    `json:"question"`
	Lang      string    `json:"lang"` // the script the question is written in: zh, zh-Hant or en
	Expected  Expected  `json:"expected"`
	Got       Got       `json:"got"`
	Scores    []bot.Hit `json:"scores,omitempty"` // the engine's best topics, combined confidence
	Rule      string    `json:"rule"`
	LatencyMS float64   `json:"latency_ms"`
	Pass      bool      `json:"pass"`
	WrongFact bool      `json:"wrong_verdict,omitempty"`
	Why       string    `json:"why,omitempty"`
	Answer    string    `json:"answer"`
}

// Expected is what a case asks of the engine.
type Expected struct {
	Topic   string   `json:"topic"`
	Lang    string   `json:"lang,omitempty"`
	Matrix  *Verdict `json:"matrix,omitempty"`
	Clarify bool     `json:"clarify,omitempty"`
}

// Got is what the engine answered.
type Got struct {
	Topic   string   `json:"topic"`
	Lang    string   `json:"lang"`
	Matrix  *Verdict `json:"matrix,omitempty"`
	Rows    []string `json:"rows,omitempty"` // the table rows of the verdict, "业务 / 细分情况"
	Clarify bool     `json:"clarify,omitempty"`
}

// String says what was expected in a few words: "who-verifies,
// principal=yes website=no", "who-verifies, an ask-back", "deadline".
func (x Expected) String() string {
	s := x.Topic
	if x.Matrix != nil {
		s += ", " + verdict(&bot.MatrixAnswer{Principal: x.Matrix.Principal, Website: x.Matrix.Website})
	}
	if x.Clarify {
		s += ", an ask-back"
	}
	return s
}

// String says what was answered in the same words.
func (g Got) String() string {
	return Expected{Topic: g.Topic, Matrix: g.Matrix, Clarify: g.Clarify}.String()
}

// Records turns the sets' outcomes into results.jsonl lines, in run order.
func Records(sets []Set) []Record {
	var out []Record
	for _, s := range sets {
		for _, o := range s.Outcomes {
			out = append(out, NewRecord(s.Name, o))
		}
	}
	return out
}

// NewRecord is the record of one outcome in set.
func NewRecord(set string, o Outcome) Record {
	r := Record{
		Set: set, File: o.File, Line: o.Case.Line, Dialog: o.Dialog, Turn: o.Turn,
		Question: o.Case.Q, Lang: Script(o.Case),
		Expected:  Expected{Topic: o.Case.Topic, Lang: string(o.Case.Lang), Matrix: o.Case.Matrix, Clarify: o.Case.Clarify},
		Got:       Got{Topic: o.Reply.Topic, Lang: string(o.Reply.Lang), Clarify: o.Reply.Clarify != nil},
		LatencyMS: float64(o.Latency.Microseconds()) / 1000,
		Pass:      o.OK, WrongFact: o.WrongFact, Why: o.Why,
		Answer: o.Reply.Text,
	}
	if m := o.Reply.Matrix; m != nil {
		r.Got.Matrix = &Verdict{Principal: m.Principal, Website: m.Website}
		for _, c := range m.Cases {
			r.Got.Rows = append(r.Got.Rows, RowLabel(c))
		}
	}
	if x := o.Reply.Explain; x != nil {
		r.Rule = x.Rule
		r.Scores = x.Scores
	}
	return r
}

// RowLabel names a table row as the report and results do: "业务 / 细分情况",
// or the business alone for a row without subcase.
func RowLabel(c bot.Case) string {
	if c.Subcase == "" {
		return c.Business
	}
	return c.Business + " / " + c.Subcase
}

// Latency is the record's latency as a duration.
func (r Record) Latency() time.Duration {
	return time.Duration(r.LatencyMS * float64(time.Millisecond))
}

// WriteRecords writes one JSON object per line.
func WriteRecords(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
	}
	return bw.Flush()
}

// maxRecordBytes bounds one line of a results file; a longer one is an error.
const maxRecordBytes = 4 << 20

// ReadRecords reads a results.jsonl written by WriteRecords; name is the
// file's name in errors, which give its line. Blank lines are skipped.
func ReadRecords(r io.Reader, name string) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxRecordBytes)
	var out []Record
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec Record
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s:%d: not a results record: %w", name, n, err)
		}
		if rec.Question == "" && rec.Expected.Topic == "" {
			return nil, fmt.Errorf("%s:%d: not a results record: no question and no expected topic", name, n)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s: a line is longer than %d bytes: not a results file", name, maxRecordBytes)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no results in it", name)
	}
	return out, nil
}

// LoadRecords reads a results.jsonl file.
func LoadRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	defer f.Close()
	return ReadRecords(f, path)
}

package eval

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/matrix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report")

const stableFile = "testdata/report/stable.yaml"

// stableRun answers testdata/report/stable.yaml with the embedded engine,
// normalised for golden files: what moves with the engine's tuning (scores,
// the reading's slots and row scores) and timing is taken out, leaving the
// kind of rule that decided ("pasted MIIT message", "the words describe a
// filing type"). Topics, verdicts and pass/fail of these cases do not hang
// on tuning: see the file's comment.
func stableRun(t *testing.T) ([]Set, *bot.Engine) {
	t.Helper()
	f, err := Load(stableFile)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(context.Background(), bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	outs := Run(context.Background(), e, []*File{f})
	for i := range outs {
		outs[i].Latency = 0
		if x := outs[i].Reply.Explain; x != nil {
			rule, _, _ := strings.Cut(x.Rule, ":")
			outs[i].Reply.Explain = &bot.Explain{Rule: rule, Message: x.Message}
		}
	}
	return []Set{NewSet(stableFile, outs, 0.5)}, e
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "report", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./eval -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./eval -run Golden -update rewrites it; review the diff):\n--- got\n%s", path, got)
	}
}

func TestGoldenResults(t *testing.T) {
	sets, _ := stableRun(t)
	var b bytes.Buffer
	if err := WriteRecords(&b, Records(sets)); err != nil {
		t.Fatal(err)
	}
	golden(t, "results.golden.jsonl", b.Bytes())

	// What was written reads back as it was.
	recs, err := ReadRecords(bytes.NewReader(b.Bytes()), "results.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 || recs[7].Dialog == "" || recs[7].Turn != 1 || recs[8].Turn != 2 || recs[8].Got.Rows[0] != "变更备案 / 主体网站均变更" {
		t.Errorf("records read back: %+v", recs)
	}
	if c := Compare(recs, Records(sets)); c.Compared != 9 || !c.None() {
		t.Errorf("a run compared with itself: %+v", c)
	}
}

func TestGoldenJUnit(t *testing.T) {
	sets, _ := stableRun(t)
	var b bytes.Buffer
	if err := WriteJUnit(&b, sets); err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.golden.xml", b.Bytes())
	checkJUnit(t, b.Bytes(), 9, 2)
}

// checkJUnit decodes a JUnit document and checks what CI systems rely on:
// counts that add up, a name and class on every test case, a message on
// every failure; and, where xmllint is installed (Debian: libxml2-utils),
// validity against testdata/junit.xsd.
func checkJUnit(t *testing.T, data []byte, tests, failures int) {
	t.Helper()
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	n, nf := 0, 0
	for _, s := range doc.Suites {
		sf := 0
		for _, c := range s.Cases {
			if c.Name == "" || c.Classname == "" || c.Time == "" {
				t.Errorf("test case without name, class or time: %+v", c)
			}
			if c.Failure != nil {
				sf++
				if c.Failure.Message == "" || c.Failure.Text == "" {
					t.Errorf("failure without message or detail: %+v", c)
				}
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != sf {
			t.Errorf("suite %s says %d tests %d failures, has %d and %d", s.Name, s.Tests, s.Failures, len(s.Cases), sf)
		}
		n += len(s.Cases)
		nf += sf
	}
	if n != tests || nf != failures || doc.Tests != n || doc.Failures != nf {
		t.Errorf("%d tests %d failures (document says %d and %d), want %d and %d", n, nf, doc.Tests, doc.Failures, tests, failures)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Log("xmllint not installed (apt-get install libxml2-utils): schema validation skipped")
		return
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput()
	if err != nil {
		t.Errorf("junit.xml is not valid against testdata/junit.xsd: %v\n%s", err, out)
	}
}

// Questions with markup, control characters and invalid UTF-8 still make a
// well-formed, valid document.
func TestJUnitBadText(t *testing.T) {
	outs := []Outcome{
		{File: "x.yaml", Case: Case{Q: "a <b> & \"c\" \x00\x1b ]]>", Topic: "deadline", Line: 3}, Reply: bot.Reply{Topic: "unknown", Text: "\xff\xfe"}, Why: "topic unknown, expected deadline"},
		{File: "x.yaml", Case: Case{Q: strings.Repeat("长", 5000), Topic: "deadline", Line: 4}, Reply: bot.Reply{Topic: "deadline"}, OK: true},
	}
	var b bytes.Buffer
	if err := WriteJUnit(&b, []Set{NewSet("odd", outs, 0)}); err != nil {
		t.Fatal(err)
	}
	checkJUnit(t, b.Bytes(), 2, 1)
}

func TestReadRecordsErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"empty", "", "no results"},
		{"not json", "{\"set\":\"a\",\"question\":\"q\"}\nnot json\n", "old.jsonl:2"},
		{"binary", "\x00\x01\x02", "old.jsonl:1"},
		{"other json", "{\"colour\":\"red\"}\n", "old.jsonl:1: not a results record"},
		{"huge line", strings.Repeat("x", maxRecordBytes+10), "longer than"},
	}
	for _, tc := range tests {
		_, err := ReadRecords(strings.NewReader(tc.data), "old.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	rec := func(file string, line int, q string, pass bool, topic, answer string) Record {
		return Record{Set: "s", File: file, Line: line, Question: q, Pass: pass, Got: Got{Topic: topic}, Answer: answer, Expected: Expected{Topic: "deadline"}}
	}
	old := []Record{
		rec("a.yaml", 1, "same", true, "deadline", "A"),
		rec("a.yaml", 2, "breaks", true, "deadline", "A"),
		rec("a.yaml", 3, "mends", false, "unknown", "U"),
		rec("a.yaml", 4, "reworded", true, "deadline", "A"),
		rec("a.yaml", 5, "dropped", true, "deadline", "A"),
		rec("a.yaml", 6, "twice", true, "deadline", "A"),
		rec("a.yaml", 7, "twice", true, "deadline", "A"),
		{Set: "cv5", File: "cv fold 1/5", Question: "example", Pass: true, Got: Got{Topic: "deadline"}, Expected: Expected{Topic: "deadline"}},
	}
	cur := []Record{
		rec("a.yaml", 11, "same", true, "deadline", "A"), // a case added above: lines moved
		rec("a.yaml", 12, "breaks", false, "unknown", "U"),
		rec("a.yaml", 13, "mends", true, "deadline", "A"),
		rec("a.yaml", 14, "reworded", true, "deadline", "A2"),
		rec("a.yaml", 16, "twice", true, "deadline", "A"),
		rec("a.yaml", 17, "twice", true, "deadline", "B"),
		rec("a.yaml", 18, "new", true, "deadline", "A"),
		{Set: "cv5", File: "cv fold 3/5", Question: "example", Pass: true, Got: Got{Topic: "deadline"}, Expected: Expected{Topic: "deadline"}},
	}
	c := Compare(old, cur)
	qs := func(cs []Change) string {
		var out []string
		for _, ch := range cs {
			out = append(out, ch.New.Question)
		}
		return strings.Join(out, ",")
	}
	if c.Compared != 7 || qs(c.NewlyWrong) != "breaks" || qs(c.NewlyRight) != "mends" || qs(c.AnswerChanged) != "reworded,twice" ||
		len(c.Added) != 1 || c.Added[0].Question != "new" || len(c.Removed) != 1 || c.Removed[0].Question != "dropped" {
		t.Errorf("compared %d, newly wrong %q, newly right %q, changed %q, added %+v, removed %+v",
			c.Compared, qs(c.NewlyWrong), qs(c.NewlyRight), qs(c.AnswerChanged), c.Added, c.Removed)
	}
	if c.AnswerChanged[1].Old.Line != 7 {
		t.Errorf("a repeated question matches in order: %+v", c.AnswerChanged[1])
	}
	if a, b := FirstDifference("x\ny\nz", "x\ny2\nz"); a != "y" || b != "y2" {
		t.Errorf("first difference %q %q", a, b)
	}
}

// The page has every part the support team reads, and nothing that would
// reach the network.
func TestHTMLReport(t *testing.T) {
	sets, e := stableRun(t)
	recs := Records(sets)
	old := append([]Record{}, recs...)
	old[0].Pass, old[0].Why = false, "topic unknown, expected no-record-found" // now newly right
	old[1].Answer = "an older answer"                                          // now answered differently
	changes := Compare(old, recs)
	rep := Report{
		Sets: sets, Changes: &changes, Baseline: "old/results.jsonl", MinScore: e.MinScore(),
		Topics: knowledge.IDs(), Rows: e.Matrix().Rows(), Generated: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Notes: []string{"embedded knowledge base"},
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}

	// Self-contained: no scripts, no external style, images, fonts or frames.
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed":
			if n.Type == html.ElementNode {
				t.Errorf("<%s> in a self-contained page", n.Data)
			}
		}
		for _, a := range n.Attr {
			if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("<%s %s=%q> points outside the page", n.Data, a.Key, a.Val)
			}
		}
		if n.Data == "style" && n.FirstChild != nil && (strings.Contains(n.FirstChild.Data, "url(") || strings.Contains(n.FirstChild.Data, "@import")) {
			t.Error("the style sheet loads something")
		}
	})

	// The parts, in order: changes first.
	var ids []string
	walk(doc, func(n *html.Node) {
		if n.Data == "section" {
			ids = append(ids, attr(n, "id"))
		}
	})
	if strings.Join(ids, " ") != "changes accuracy languages confusion confidence coverage set-0" {
		t.Errorf("sections %q", ids)
	}
	changesText := text(byID(doc, "changes"))
	for _, want := range []string{"old/results.jsonl", "1 newly right", "0 newly wrong", "1 answered differently", "您的短信核验已全部完成", "an older answer"} {
		if !strings.Contains(changesText, want) {
			t.Errorf("changes section lacks %q:\n%s", want, changesText)
		}
	}

	// Accuracy per set and per language, precision, recall and F1.
	acc := text(byID(doc, "accuracy"))
	for _, want := range []string{stableFile, "77.8%", "F1", "precision", "recall", "fail"} {
		if !strings.Contains(acc, want) {
			t.Errorf("accuracy section lacks %q:\n%s", want, acc)
		}
	}
	if langs := text(byID(doc, "languages")); !strings.Contains(langs, "zh") || !strings.Contains(langs, "F1") {
		t.Errorf("languages section: %s", langs)
	}

	// The heatmap: a cell per pair of topics, the confusion counted.
	cells := 0
	var confusion *html.Node
	walk(byID(doc, "confusion"), func(n *html.Node) {
		if n.Data == "g" && attr(n, "class") == "cell" {
			cells++
			if attr(n, "data-expected") == "deadline" && attr(n, "data-got") == "no-application-to-resend" {
				confusion = n
			}
		}
	})
	if nt := len(knowledge.IDs()); cells != nt*nt {
		t.Errorf("%d heatmap cells, want %d", cells, nt*nt)
	}
	if confusion == nil || attr(confusion, "data-count") != "1" || !strings.Contains(text(confusion), "1") {
		t.Error("the confusion deadline → no-application-to-resend is not in the heatmap with its count")
	}

	// The histogram with the threshold where min_score is.
	th := byID(doc, "threshold")
	if th == nil || th.Data != "line" {
		t.Fatal("no threshold line on the histogram")
	}
	x, _ := strconv.Atoi(attr(th, "x1"))
	if want := 48 + int(e.MinScore()*600+0.5); x != want {
		t.Errorf("threshold at x=%d, want %d for min_score %.2f", x, want, e.MinScore())
	}
	if !strings.Contains(text(byID(doc, "confidence")), "min_score 0.20") {
		t.Error("the threshold is not labelled")
	}

	// Coverage: every topic and every table row, those never exercised marked.
	topics, rows := byID(doc, "coverage-topics").NextSibling, byID(doc, "coverage-rows").NextSibling
	for topics != nil && topics.Data != "table" {
		topics = topics.NextSibling
	}
	for rows != nil && rows.Data != "table" {
		rows = rows.NextSibling
	}
	if topics == nil || rows == nil {
		t.Fatal("coverage tables missing")
	}
	if n := countRows(topics); n != len(knowledge.IDs()) {
		t.Errorf("topic coverage has %d rows, want %d", n, len(knowledge.IDs()))
	}
	table, _ := matrix.Embedded()
	if n := countRows(rows); n != len(table.Rows()) || n != 16 {
		t.Errorf("row coverage has %d rows, want 16", n)
	}
	cov := text(byID(doc, "coverage"))
	for _, want := range []string{"首次备案", "取消接入 / 接入商发起", "never", "Topics no question expects", "Table rows no verdict came from"} {
		if !strings.Contains(cov, want) {
			t.Errorf("coverage lacks %q", want)
		}
	}

	// The failures, each with its explain detail and the answer given.
	var failures []*html.Node
	walk(byID(doc, "set-0"), func(n *html.Node) {
		if n.Data == "article" && strings.Contains(attr(n, "class"), "failure") {
			failures = append(failures, n)
		}
	})
	if len(failures) != 2 {
		t.Fatalf("%d failures shown, want 2", len(failures))
	}
	for _, f := range failures {
		if s := text(f); !strings.Contains(s, "why: ") || !strings.Contains(s, "expected") || !strings.Contains(s, "answer given") {
			t.Errorf("failure without its detail: %s", s)
		}
	}
	if !strings.Contains(attr(failures[1], "class"), "verdict") {
		t.Error("a wrong verdict is not marked as one")
	}
	// Markup in a question is text, not markup.
	if strings.Contains(b.String(), "<b>该条") {
		t.Error("a question's markup reached the page unescaped")
	}
}

func walk(n *html.Node, fn func(*html.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if found == nil && n.Type == html.ElementNode && attr(n, "id") == id {
			found = n
		}
	})
	return found
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// countRows counts a table's body rows (those with td cells).
func countRows(table *html.Node) int {
	n := 0
	walk(table, func(c *html.Node) {
		if c.Data == "tr" {
			for d := c.FirstChild; d != nil; d = d.NextSibling {
				if d.Data == "td" {
					n++
					return
				}
			}
		}
	})
	return n
}

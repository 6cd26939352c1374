package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/eval"
)

const stableCases = "../../eval/testdata/report/stable.yaml"

// kbCopies writes two copies of the embedded knowledge base: old as it is;
// cur with the first Chinese example of how-to-verify moved to
// hk-macau-pass, and a line added to no-record-found's Chinese answer (so
// that pasted messages of that topic, matched as text, change for sure).
// It returns the example moved.
func kbCopies(t *testing.T) (old, cur, moved string) {
	return kbCopiesAt(t, t.TempDir(), true)
}

// kbCopiesAt writes the copies of kbCopies into dir/old and dir/new; the
// answer is edited only when editAnswer is set.
func kbCopiesAt(t *testing.T, dir string, editAnswer bool) (old, cur, moved string) {
	t.Helper()
	old, cur = filepath.Join(dir, "old"), filepath.Join(dir, "new")
	src, err := filepath.Glob("../../knowledge/data/*.yaml")
	if err != nil || len(src) == 0 {
		t.Fatal("no knowledge files", err)
	}
	files := map[string]string{}
	for _, p := range src {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(data)
	}
	const zhExamples = "examples:\n  zh:\n"
	from := files["how-to-verify.yaml"]
	i := strings.Index(from, zhExamples)
	if i < 0 {
		t.Fatal("how-to-verify.yaml: no examples.zh block")
	}
	start := i + len(zhExamples)
	end := start + strings.Index(from[start:], "\n") + 1
	line := from[start:end]
	moved = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
	newFiles := map[string]string{}
	for k, v := range files {
		newFiles[k] = v
	}
	newFiles["how-to-verify.yaml"] = from[:start] + from[end:]
	newFiles["hk-macau-pass.yaml"] = strings.Replace(files["hk-macau-pass.yaml"], zhExamples, zhExamples+line, 1)
	if editAnswer {
		newFiles["no-record-found.yaml"] = strings.Replace(files["no-record-found.yaml"], "answer:\n  zh: |\n", "answer:\n  zh: |\n    【本地修改】\n", 1)
	}
	for dir, set := range map[string]map[string]string{old: files, cur: newFiles} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range set {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if editAnswer && newFiles["no-record-found.yaml"] == files["no-record-found.yaml"] || newFiles["hk-macau-pass.yaml"] == files["hk-macau-pass.yaml"] {
		t.Fatal("the knowledge base's layout changed: the edits did not apply")
	}
	return old, cur, moved
}

func TestEvalOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report") // created by eval
	code, out, errOut := runCLI(t, "", "eval", "--min", "0", "--out", dir, stableCases)
	// The file holds a deliberately wrong verdict: eval fails, and still writes the report.
	if code != 1 || !strings.Contains(out, "accuracy 77.8% (7/9)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	recs, err := eval.LoadRecords(filepath.Join(dir, "results.jsonl"))
	if err != nil || len(recs) != 9 {
		t.Fatalf("results.jsonl: %d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.Set != stableCases || r.File != stableCases || r.Line == 0 || r.Question == "" || r.Expected.Topic == "" || r.Got.Topic == "" || r.Answer == "" || r.Rule == "" {
			t.Errorf("incomplete record: %+v", r)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 9 || doc.Failures != 2 {
		t.Errorf("junit.xml: %+v %v", doc, err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(page), `<svg class="heatmap"`) || !strings.Contains(string(page), `id="threshold"`) {
		t.Errorf("report.html: %v", err)
	}

	// --junit alone writes that file and nothing else.
	junit := filepath.Join(t.TempDir(), "eval.xml")
	if code, _, errOut := runCLI(t, "", "eval", "--min", "0", "--junit", junit, stableCases); code != 1 {
		t.Fatalf("--junit: exit %d: %s", code, errOut)
	}
	if data, err := os.ReadFile(junit); err != nil || !strings.Contains(string(data), `<testsuites name="beianbot eval" tests="9" failures="2"`) {
		t.Errorf("--junit file: %v\n%s", err, data)
	}
	if entries, _ := os.ReadDir(filepath.Dir(junit)); len(entries) != 1 {
		t.Errorf("--junit wrote %d files", len(entries))
	}

	// An --out that cannot be a directory is a clear error.
	file := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(file, nil, 0o644)
	if code, _, errOut := runCLI(t, "", "eval", "--out", file, stableCases); code != 2 || !strings.Contains(errOut, "plain") {
		t.Errorf("--out on a file: exit %d: %s", code, errOut)
	}
}

// --baseline lists exactly the questions whose outcome or answer differs
// between a run on a knowledge base and a run on a copy with one example
// moved (and one answer edited), as found by joining the two runs'
// results.jsonl by file and line.
func TestEvalBaselineExactly(t *testing.T) {
	oldKB, newKB, _ := kbCopies(t)
	oldOut, newOut := t.TempDir(), t.TempDir()
	sets := []string{"../../testdata/eval", stableCases}

	t.Setenv("BEIANBOT_KNOWLEDGE_DIR", oldKB)
	if code, _, errOut := runCLI(t, "", append([]string{"eval", "--min", "0", "--out", oldOut}, sets...)...); code > 1 {
		t.Fatalf("baseline run: exit %d: %s", code, errOut)
	}
	t.Setenv("BEIANBOT_KNOWLEDGE_DIR", newKB)
	baseline := filepath.Join(oldOut, "results.jsonl")
	code, out, errOut := runCLI(t, "", append([]string{"eval", "--min", "0", "--json", "--out", newOut, "--baseline", baseline}, sets...)...)
	if code > 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Changes struct {
			Compared      int
			NewlyWrong    []struct{ New eval.Record } `json:"newly_wrong"`
			NewlyRight    []struct{ New eval.Record } `json:"newly_right"`
			AnswerChanged []struct{ New eval.Record } `json:"answer_changed"`
			Added         []eval.Record
			Removed       []eval.Record
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}

	load := func(path string) map[string]eval.Record {
		recs, err := eval.LoadRecords(path)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]eval.Record{}
		for _, r := range recs {
			m[r.Where()] = r
		}
		if len(m) != len(recs) {
			t.Fatalf("%s: file and line do not identify its questions", path)
		}
		return m
	}
	before, after := load(baseline), load(filepath.Join(newOut, "results.jsonl"))
	want := map[string]map[string]bool{"newly wrong": {}, "newly right": {}, "answer changed": {}}
	for k, a := range after {
		b, ok := before[k]
		switch {
		case !ok:
			t.Fatalf("%s only in the new run", k)
		case b.Pass && !a.Pass:
			want["newly wrong"][k] = true
		case !b.Pass && a.Pass:
			want["newly right"][k] = true
		case b.Answer != a.Answer || b.Got.Topic != a.Got.Topic:
			want["answer changed"][k] = true
		}
	}
	listed := map[string][]struct{ New eval.Record }{"newly wrong": got.Changes.NewlyWrong, "newly right": got.Changes.NewlyRight, "answer changed": got.Changes.AnswerChanged}
	for kind, changes := range listed {
		seen := map[string]bool{}
		for _, c := range changes {
			seen[c.New.Where()] = true
			if !want[kind][c.New.Where()] {
				t.Errorf("%s lists %s, whose %s did not change that way", kind, c.New.Where(), kind)
			}
		}
		for k := range want[kind] {
			if !seen[k] {
				t.Errorf("%s misses %s", kind, k)
			}
		}
	}
	if got.Changes.Compared != len(after) || len(got.Changes.Added)+len(got.Changes.Removed) != 0 {
		t.Errorf("compared %d of %d, added %d, removed %d", got.Changes.Compared, len(after), len(got.Changes.Added), len(got.Changes.Removed))
	}
	// The edited answer reaches the pasted messages of no-record-found.
	if !want["answer changed"][stableCases+":7"] {
		t.Errorf("the edited answer of no-record-found is not among the changes: %v", want["answer changed"])
	}

	// The text output starts with the same summary; the report too.
	code, text, _ := runCLI(t, "", "eval", "--min", "0", "--baseline", baseline, "--out", newOut, sets[0], sets[1])
	first := strings.SplitN(text, "\n", 2)[0]
	if code > 1 || !strings.HasPrefix(first, "since "+baseline+": ") || !strings.Contains(text, "answered differently:") || !strings.Contains(text, "【本地修改】") {
		t.Errorf("text output:\n%s", text)
	}
	page, _ := os.ReadFile(filepath.Join(newOut, "report.html"))
	if i, j := strings.Index(string(page), `id="changes"`), strings.Index(string(page), `id="accuracy"`); i < 0 || i > j {
		t.Error("report.html does not open with the changes")
	}
}

func TestEvalBaselineErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "old.jsonl")
	os.WriteFile(bad, []byte("{\"set\":\"a\",\"question\":\"q\",\"expected\":{\"topic\":\"deadline\"}}\n{broken\n"), 0o644)
	if code, _, errOut := runCLI(t, "", "eval", "--baseline", bad, stableCases); code != 2 || !strings.Contains(errOut, "old.jsonl:2") {
		t.Errorf("broken baseline: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "eval", "--baseline", filepath.Join(t.TempDir(), "none.jsonl"), stableCases); code != 2 || !strings.Contains(errOut, "none.jsonl") {
		t.Errorf("missing baseline: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "eval", t.TempDir()); code != 2 || !strings.Contains(errOut, "no *.yaml case files") {
		t.Errorf("empty set directory: exit %d: %s", code, errOut)
	}
}

func TestKBDiff(t *testing.T) {
	oldKB, newKB, moved := kbCopies(t)
	code, out, errOut := runCLI(t, "", "kb", "diff", oldKB, newKB)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"3 topics changed, 0 added, 0 removed",
		"− " + moved + "   (moved to hk-macau-pass)",
		"+ " + moved + "   (moved from how-to-verify)",
		"~ topic no-record-found\n  answer.zh:\n    + 【本地修改】\n      ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kb diff lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runCLI(t, "", "kb", "diff", oldKB, oldKB); code != 0 || !strings.Contains(out, "no topic, answer, example, keyword or message changed") {
		t.Errorf("same base: exit %d\n%s", code, out)
	}

	// --eval: the questions the new base answers differently.
	code, out, errOut = runCLI(t, "", "kb", "diff", oldKB, newKB, "--eval", stableCases)
	if code != 0 || !strings.Contains(out, "answers with "+newKB+" instead of "+oldKB+": 9 questions in both runs") ||
		!strings.Contains(out, stableCases+":7") || !strings.Contains(out, stableCases+":22") || !strings.Contains(out, "+ 【本地修改】") {
		t.Errorf("--eval: exit %d\n%s\n%s", code, out, errOut)
	}

	// Errors name what is wrong.
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "deadline.yaml"), []byte("id: deadline\ncolour: red\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"kb", "diff", oldKB}, "usage"},
		{[]string{"kb", "diff", oldKB, newKB, "--eval"}, "usage"},
		{[]string{"kb", "diff", oldKB, newKB, "--colour"}, "unknown flag --colour"},
		{[]string{"kb", "diff", oldKB, filepath.Join(broken, "missing")}, "missing"},
		{[]string{"kb", "diff", oldKB, broken}, "deadline.yaml"},
		{[]string{"kb", "diff", oldKB, newKB, "--eval", filepath.Join(broken, "none.yaml")}, "none.yaml"},
	} {
		if code, _, errOut := runCLI(t, "", tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d: %s", tc.args, code, errOut)
		}
	}
}

func TestLineDiff(t *testing.T) {
	got := strings.Join(lineDiff("a\nb\nc\n", "a\nB\nc\nd"), "|")
	if want := "  a|− b|+ B|  c|+ d"; got != want {
		t.Errorf("lineDiff: %q, want %q", got, want)
	}
}

package eval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

func evalFiles(t *testing.T) []*File { return setFiles(t, "../testdata/eval") }

// setFiles loads the case files of one evaluation set.
func setFiles(t *testing.T, dir string) []*File {
	t.Helper()
	paths, err := Glob([]string{dir})
	if err != nil || len(paths) == 0 {
		t.Fatalf("no evaluation files: %v", err)
	}
	var files []*File
	for _, p := range paths {
		f, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// kbExamples maps every knowledge-base example (compacted) to its topic.
func kbExamples(t *testing.T) map[string]string {
	t.Helper()
	kb, err := knowledge.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]string{}
	for _, tp := range kb.Topics() {
		for _, q := range append(append([]string{}, tp.Examples.ZH...), tp.Examples.EN...) {
			examples[lang.Compact(q)] = tp.ID
		}
	}
	return examples
}

// eachQuestion calls fn for every case and dialog turn of a set.
func eachQuestion(t *testing.T, dir string, fn func(f *File, c Case)) (questions, dialogs int) {
	for _, f := range setFiles(t, dir) {
		for _, c := range f.Cases {
			questions++
			fn(f, c)
		}
		for _, d := range f.Dialogs {
			dialogs++
			for _, c := range d.Turns {
				questions++
				fn(f, c)
			}
		}
	}
	return questions, dialogs
}

// The development set must not test the engine on its own training examples.
func TestEvalDisjointFromKnowledgeBase(t *testing.T) {
	examples := kbExamples(t)
	n, _ := eachQuestion(t, "../testdata/eval", func(f *File, c Case) {
		if id, ok := examples[lang.Compact(c.Q)]; ok {
			t.Errorf("%s:%d: %q is an example question of topic %s", f.Name, c.Line, c.Q, id)
		}
	})
	if n < 150 {
		t.Errorf("only %d evaluation questions; the set needs at least 150", n)
	}
}

// A blind set's wording never enters the knowledge base. Its writers, who
// never saw the KB, wrote some questions that were already examples (short
// natural ones, pasted MIIT messages); kb-overlap.txt records those, as
// found when the set was frozen. A question outside that list that is also
// an example means the KB was taught the blind set.
func TestBlindSetsStayBlind(t *testing.T) {
	examples := kbExamples(t)
	dirs, err := filepath.Glob("../testdata/blind*")
	if err != nil || len(dirs) < 4 {
		t.Fatalf("blind sets: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "kb-overlap.txt"))
		if err != nil {
			t.Fatal(err)
		}
		frozen := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				frozen[lang.Compact(line)] = true
			}
		}
		n, dialogs := eachQuestion(t, dir, func(f *File, c Case) {
			k := lang.Compact(c.Q)
			if _, ok := examples[k]; ok && !frozen[k] && len([]rune(k)) > 2 {
				t.Errorf("%s:%d: %q is now a knowledge-base example: blind wording must not be added to the KB", f.Name, c.Line, c.Q)
			}
		})
		if n < 400 || dialogs < 20 {
			t.Errorf("%s: %d questions and %d dialogs; a blind set has at least 400 and 20", dir, n, dialogs)
		}
	}
}

// The set covers every topic and every row of the verification table.
func TestEvalCoverage(t *testing.T) {
	kb, err := knowledge.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]int{}
	dialogs := 0
	for _, f := range evalFiles(t) {
		for _, c := range f.Cases {
			topics[c.Topic]++
		}
		dialogs += len(f.Dialogs)
	}
	for _, id := range knowledge.IDs() {
		if _, ok := kb.Topic(id); ok && topics[id] < 3 {
			t.Errorf("topic %s has %d evaluation cases, want at least 3", id, topics[id])
		}
	}
	if dialogs < 10 {
		t.Errorf("%d dialogs, want at least 10", dialogs)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "cases:\n  - q: hi\n    topic: greeting\n    colour: red\n", "colour"},
		{"no topic", "cases:\n  - q: hi\n", "topic: missing"},
		{"matrix on other topic", "cases:\n  - q: hi\n    topic: greeting\n    matrix: {principal: true, website: true}\n", "matrix/clarify expected on topic greeting"},
		{"bad lang", "cases:\n  - q: hi\n    topic: greeting\n    lang: fr\n", "neither zh nor en"},
		{"empty", "cases: []\n", "no cases"},
		{"syntax", "cases: [\n", "x.yaml"},
	}
	for _, tc := range tests {
		_, err := Parse("x.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%s: error %v, want one naming x.yaml and %q", tc.name, err, tc.want)
		}
	}
}

// Run and Summarize on a small file with known outcomes: one right, one
// wrong topic, one wrong verdict.
func TestRunAndSummarize(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "small.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(context.Background(), bot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := Summarize(Run(context.Background(), e, []*File{f}))
	if s.Total != 4 || s.Correct != 2 || s.WrongFacts != 1 || len(s.Failures) != 2 {
		t.Fatalf("total %d correct %d wrong facts %d failures %d; want 4 2 1 2", s.Total, s.Correct, s.WrongFacts, len(s.Failures))
	}
	if s.Failures[0].Case.Line == 0 {
		t.Error("failures must carry the case's line")
	}
	found := false
	for _, c := range s.Confusions {
		if c.Expected == "deadline" && c.Got == "sms-not-received" && c.Count == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("confusion deadline → sms-not-received not counted: %+v", s.Confusions)
	}
}

package knowledge

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

// baseWith returns the embedded data with the files of testdata/<name>
// added or replacing embedded ones, so each case breaks exactly one thing.
func baseWith(t *testing.T, name string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	data := EmbeddedFS()
	copyInto(t, m, data)
	if name != "" {
		copyInto(t, m, os.DirFS(path.Join("testdata", name)))
	}
	return m
}

func copyInto(t *testing.T, m fstest.MapFS, fsys fs.FS) {
	t.Helper()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = &fstest.MapFile{Data: b}
	}
}

// want describes one expected problem; msg is a substring of Problem.Msg.
type want struct {
	file, field string
	line        int
	msg         string
}

func (w want) matches(p Problem) bool {
	return p.File == w.file && p.Field == w.field && p.Line == w.line && strings.Contains(p.Msg, w.msg)
}

func TestLintErrors(t *testing.T) {
	const kb = "kb"
	tests := []struct {
		name string
		want []want // every error Lint must report, and no other error
	}{
		{"unknown-field", []want{{"kb/deadline.yaml", "title.fr", 5, `unknown field "fr"`}}},
		{"unknown-top-field", []want{{"kb/deadline.yaml", "category", 16, `unknown field "category"`}}},
		{"missing-en-answer", []want{{"kb/deadline.yaml", "answer.en", 5, "missing"}}},
		{"empty-en-answer", []want{{"kb/deadline.yaml", "answer.en", 8, "empty"}}},
		{"duplicate-id", []want{{"kb/deadline.yml", "id", 1, `duplicate id "deadline", already used by kb/deadline.yaml`}}},
		{"bad-placeholder", []want{{"kb/deadline.yaml", "answer.zh", 8, `unknown placeholder "{supprot}"`}}},
		{"stray-brace", []want{{"kb/deadline.yaml", "answer.en", 9, `unknown placeholder "{"`}}},
		{"invalid-utf8", []want{{"kb/deadline.yaml", "", 3, "invalid UTF-8"}}},
		{"binary", []want{{"kb/deadline.yaml", "", 1, "binary file"}}},
		{"syntax-error", []want{{"kb/deadline.yaml", "", 4, "YAML syntax: mapping values are not allowed"}}},
		{"too-few-examples", []want{{"kb/deadline.yaml", "examples.en", 12, "9 example questions, need at least 10"}}},
		{"wrong-shape", []want{{"kb/deadline.yaml", "examples", 10, "expected zh: and en:"}}},
		{"unknown-id", []want{{"kb/extra.yaml", "id", 1, `unknown topic id "extra"`}}},
		{"message-twice", []want{{"kb/unknown.yaml", "messages[0]", 17, `also explained by topic "no-record-found"`}}},
		{"id-mismatch", []want{
			{"kb/deadline.yaml", "id", 1, `id "dead-line" does not match the file name "deadline"`},
			{"kb/deadline.yaml", "id", 1, `unknown topic id "dead-line"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := baseWith(t, tt.name)
			var errs []Problem
			for _, p := range Lint(fsys, kb) {
				if !p.Warning {
					errs = append(errs, p)
				}
			}
			for _, w := range tt.want {
				found := false
				for _, p := range errs {
					found = found || w.matches(p)
				}
				if !found {
					t.Errorf("no error %+v; got %q", w, errs)
				}
			}
			for _, p := range errs {
				expected := false
				for _, w := range tt.want {
					expected = expected || w.matches(p)
				}
				if !expected {
					t.Errorf("unexpected error %q", p)
				}
			}

			// Load fails with the same problems, each as "file:line: field: msg".
			_, err := Load(fsys, kb)
			if err == nil {
				t.Fatal("Load accepted a broken knowledge base")
			}
			for _, p := range errs {
				if !strings.Contains(err.Error(), p.Error()) {
					t.Errorf("Load error %q lacks %q", err, p.Error())
				}
			}
		})
	}
}

func TestLintWarnings(t *testing.T) {
	tests := []struct {
		name string
		want []want
	}{
		{"long-answer", []want{{"kb/deadline.yaml", "answer.zh", 6, "540 characters, aim for at most 500"}}},
		{"duplicate-example", []want{
			{"kb/unknown.yaml", "examples.zh[10]", 11, `"短信核验怎么操作" is also an example of topic "how-to-verify"`},
			{"kb/unknown.yaml", "examples.en[10]", 12, `"Q1!" repeats examples.en[0] of the same topic`},
		}},
		{"message-twice", []want{
			{"kb/unknown.yaml", "messages[0]", 17, "answer.zh does not quote this message exactly"},
			{"kb/unknown.yaml", "messages[0]", 17, "answer.en does not quote this message exactly"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := baseWith(t, tt.name)
			problems := Lint(fsys, "kb")
			var warnings []Problem
			for _, p := range problems {
				if p.Warning {
					warnings = append(warnings, p)
				}
			}
			if len(warnings) != len(tt.want) {
				t.Errorf("got %d warnings, want %d: %q", len(warnings), len(tt.want), warnings)
			}
			for _, w := range tt.want {
				found := false
				for _, p := range warnings {
					found = found || w.matches(p)
				}
				if !found {
					t.Errorf("no warning %+v; got %q", w, warnings)
				}
			}
			if tt.name == "message-twice" {
				return // also has an error, tested above
			}
			if _, err := Load(fsys, "kb"); err != nil {
				t.Errorf("Load rejected a base with only warnings: %v", err)
			}
		})
	}
}

func TestLintMissingTopic(t *testing.T) {
	fsys := baseWith(t, "")
	delete(fsys, "deadline.yaml")
	fsys["README.md"] = &fstest.MapFile{Data: []byte("not a topic, ignored")}
	problems := Lint(fsys, "kb")
	if len(problems) != 1 || !(want{"kb", "", 0, `missing topic "deadline" (expected in deadline.yaml)`}).matches(problems[0]) {
		t.Errorf("got %q, want only the missing deadline topic", problems)
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "knowledge/data/deadline.yaml", Field: "answer.en", Line: 12, Msg: "empty"},
			"knowledge/data/deadline.yaml:12: answer.en: empty"},
		{Problem{File: "kb", Msg: `missing topic "deadline"`}, `kb: missing topic "deadline"`},
		{Problem{File: "kb/x.yaml", Field: "answer.zh", Line: 3, Msg: "600 characters", Warning: true},
			"kb/x.yaml:3: answer.zh: warning: 600 characters"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestBadPlaceholders(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"联系{support}，登录{filing_system}，{provider}", nil},
		{"{Provider}", []string{"{Provider}"}},
		{"a {b} c", []string{"{b}"}},
		{"open { only", []string{"{"}},
		{"close } only", []string{"}"}},
		{"{{support}}", []string{"{", "}"}},
		{"{}", []string{"{}"}},
		{"{sup\nport}", []string{"{", "}"}},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range badPlaceholders(tt.in) {
			got = append(got, p.text)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("badPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzCheckFile: whatever bytes a topic file holds, validation reports
// problems and never panics.
func FuzzCheckFile(f *testing.F) {
	_ = fs.WalkDir(os.DirFS("testdata"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := fs.ReadFile(os.DirFS("testdata"), p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("id: &a x\ntitle: *a\n"))
	f.Add([]byte("---\nid: a\n---\nid: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		topic, _, problems := checkFile("fuzz.yaml", "fuzz", data)
		if topic == nil && len(problems) == 0 {
			t.Error("no topic and no problem")
		}
		for _, p := range problems {
			if p.File != "fuzz.yaml" {
				t.Errorf("problem names file %q", p.File)
			}
		}
	})
}

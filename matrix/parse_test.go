package matrix

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// wantMarker is how a broken file in testdata/ says where its error is:
// "# want: FIELD" on the line the error must name.
var wantMarker = regexp.MustCompile(`#\s*want:\s*(\S+)`)

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		wantLine, wantField := 0, ""
		for i, line := range strings.Split(string(data), "\n") {
			if m := wantMarker.FindStringSubmatch(line); m != nil {
				wantLine, wantField = i+1, m[1]
			}
		}
		if wantLine == 0 {
			continue // not a file with a marked error
		}
		checked++
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Parse(file, data, lexicon(t))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want a *ParseError at line %d, field %s", err, wantLine, wantField)
			}
			if pe.File != file || pe.Line != wantLine || pe.Field != wantField {
				t.Errorf("error at %s:%d field %q, want %s:%d field %q (%v)", pe.File, pe.Line, pe.Field, file, wantLine, wantField, err)
			}
			if !strings.HasPrefix(err.Error(), file+":") || !strings.Contains(err.Error(), wantField) {
				t.Errorf("message %q should start with the file and name the field %s", err, wantField)
			}
		})
	}
	if checked < 10 {
		t.Errorf("only %d marked files in testdata", checked)
	}
}

func TestParseEmptyAndSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []string // substrings of the message
	}{
		{"empty.yaml", "", []string{"empty.yaml:1:", "businesses"}},
		{"comments.yaml", "# nothing here\n", []string{"comments.yaml:1:", "businesses"}},
		{"syntax.yaml", "businesses:\n  - name: 首次备案\n    en: [First\n    rows:\n", []string{"syntax.yaml", "line"}},
		{"list.yaml", "- a\n- b\n", []string{"list.yaml:1:", "mapping"}},
		{"scalar.yaml", "businesses: 3\n", []string{"scalar.yaml:1:", "businesses"}},
	} {
		_, err := Parse(tc.name, []byte(tc.data), lexicon(t))
		if err == nil {
			t.Errorf("Parse(%s) succeeded, want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%s) error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	data, err := os.ReadFile("testdata/syntax_error.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("testdata/syntax_error.yaml", data, lexicon(t)); err == nil || !strings.Contains(err.Error(), "testdata/syntax_error.yaml") {
		t.Errorf("syntax error = %v, want one naming the file", err)
	}
}

func TestParseValid(t *testing.T) {
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Parse("testdata/valid.yaml", data, lexicon(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(tb.Rows()); !slices.Equal(got, []string{"首次备案", "注销主体/接入商发起", "注销网站/接入商发起"}) {
		t.Errorf("rows = %v", got)
	}
	if r := tb.Rows()[1]; !r.Principal || r.Website {
		t.Errorf("true/false not read: %+v", r)
	}
	// The rows are what their slots say: cancelling the website is 注销网站.
	if got := keys(tb.Select(read(t, "cancel the website")).Rows); !slices.Equal(got, []string{"注销网站/接入商发起"}) {
		t.Errorf("Select(cancel the website) = %v", got)
	}
	if a, ok := tb.AskOf("注销网站"); !ok || a.EN != "Which one?" || a.Yes != "" {
		t.Errorf("AskOf(注销网站) = %+v, %v", a, ok)
	}
	if _, ok := tb.AskOf("首次备案"); ok {
		t.Error("首次备案 has no ask-back, AskOf says it has")
	}
}

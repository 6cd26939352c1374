package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The example outputs in the README and docs/ are produced by the commands
// they show, so they cannot drift: every ```console block is run, command by
// command, and its output compared. `go test ./cmd/beianbot -run TestDocs
// -update-docs` rewrites the blocks from what the commands print now.
var updateDocs = flag.Bool("update-docs", false, "rewrite the console examples in README.md and docs/*.md")

// A console block holds commands each followed by the output it prints on
// standard output. A command is "beianbot ARGS", run in-process from the
// repository's top directory, optionally with VAR=value assignments before
// it, "printf '…' | " feeding it, and "2>&1", "> /dev/null" or "| head -N"
// after it. $WORK is a scratch directory shared by the commands of one run;
// it holds kb-edited/, the knowledge base with one example moved (the one
// kbCopies moves), for the examples of knowledge-base editing.
var consoleBlock = regexp.MustCompile("(?s)```console\n(.*?)```")

// timings vary from run to run; they are compared as "…", with the padding
// before them, since a slower run ("10.78ms" for "0.59ms") widens a column.
var timings = regexp.MustCompile(` *\b\d+(\.\d+)?(ns|µs|us|ms|s)\b`)

func TestDocs(t *testing.T) {
	work := t.TempDir()
	_, edited, _ := kbCopiesAt(t, work, false)
	if err := os.Rename(edited, filepath.Join(work, "kb-edited")); err != nil {
		t.Fatal(err)
	}
	t.Chdir("../..")
	// The examples show beianbot as a fresh machine runs it: none of the
	// caller's settings (a bot token above all) may reach them.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "BEIANBOT_") || strings.HasPrefix(name, "OPENAI_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "README.md")
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		out := consoleBlock.ReplaceAllStringFunc(string(data), func(block string) string {
			body := consoleBlock.FindStringSubmatch(block)[1]
			var b strings.Builder
			for _, c := range splitCommands(body) {
				checked++
				got, err := runDocCommand(t, c.command, work)
				if err != nil {
					t.Errorf("%s: %q: %v", file, c.command, err)
					got = c.output
				}
				if norm(got) != norm(c.output) {
					changed = true
					if !*updateDocs {
						t.Errorf("%s: the output of\n  %s\nhas changed (go test ./cmd/beianbot -run TestDocs -update-docs rewrites it):\n--- documented\n%s--- now\n%s", file, c.command, c.output, got)
					}
				}
				b.WriteString("$ " + c.command + "\n" + got)
			}
			return "```console\n" + b.String() + "```"
		})
		if changed && *updateDocs {
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if checked == 0 {
		t.Error("no console examples found in README.md and docs/")
	}
}

type docCommand struct{ command, output string }

// splitCommands splits a console block into its commands and outputs.
func splitCommands(body string) []docCommand {
	var out []docCommand
	for _, line := range strings.SplitAfter(body, "\n") {
		if strings.HasPrefix(line, "$ ") {
			out = append(out, docCommand{command: strings.TrimSuffix(strings.TrimPrefix(line, "$ "), "\n")})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].output += line
		}
	}
	return out
}

func norm(s string) string {
	s = timings.ReplaceAllString(s, " …")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// runDocCommand runs one documented command in-process and returns what it
// prints, with the scratch directory's path written back as $WORK.
func runDocCommand(t *testing.T, command, work string) (string, error) {
	command = strings.ReplaceAll(command, "$WORK", work)
	discard, both, head := false, false, -1
	if rest, ok := strings.CutSuffix(command, " > /dev/null"); ok {
		command, discard = rest, true
	}
	if i := strings.LastIndex(command, " | head -"); i > 0 {
		n, err := strconv.Atoi(command[i+len(" | head -"):])
		if err != nil {
			return "", fmt.Errorf("head takes a line count")
		}
		command, head = command[:i], n
	}
	if rest, ok := strings.CutSuffix(command, " 2>&1"); ok {
		command, both = rest, true
	}
	stdin := ""
	if rest, ok := strings.CutPrefix(command, "printf "); ok {
		pipe := strings.Index(rest, " | ")
		if pipe < 0 {
			return "", fmt.Errorf("printf without a pipe")
		}
		words, err := shellWords(rest[:pipe])
		if err != nil || len(words) != 1 {
			return "", fmt.Errorf("printf takes one quoted argument here")
		}
		stdin = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(words[0])
		command = rest[pipe+3:]
	}
	words, err := shellWords(command)
	if err != nil {
		return "", err
	}
	for len(words) > 0 && strings.Contains(words[0], "=") && strings.HasPrefix(words[0], "BEIANBOT_") {
		name, value, _ := strings.Cut(words[0], "=")
		t.Setenv(name, value)
		defer os.Unsetenv(name)
		words = words[1:]
	}
	if len(words) == 0 || words[0] != "beianbot" {
		return "", fmt.Errorf("only beianbot commands can be run")
	}
	var stdout, stderr bytes.Buffer
	errOut := io.Writer(&stderr)
	if both {
		errOut = &stdout
	}
	run(context.Background(), words[1:], strings.NewReader(stdin), &stdout, errOut)
	out := stdout.String()
	if discard {
		out = ""
	}
	if head >= 0 {
		lines := strings.SplitAfter(out, "\n")
		if len(lines) > head {
			out = strings.Join(lines[:head], "")
		}
	}
	return strings.ReplaceAll(out, work, "$WORK"), nil
}

// shellWords splits a command line as a POSIX shell would for the simple
// quoting the docs use: '…' verbatim, "…" with \" and \\ escapes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unclosed \" in %q", s)
			}
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	for in, want := range map[string][]string{
		`beianbot ask "a b" 'c d' e`:    {"beianbot", "ask", "a b", "c d", "e"},
		`beianbot ask "say \"hi\""`:     {"beianbot", "ask", `say "hi"`},
		`beianbot ask --lang en "变更主体"`: {"beianbot", "ask", "--lang", "en", "变更主体"},
	} {
		got, err := shellWords(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("shellWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := shellWords(`beianbot ask "open`); err == nil {
		t.Error("an unclosed quote was accepted")
	}
}

// Links between the README and the guides point at files and headings that
// exist, so moving a section cannot leave a reader at a dead link.
func TestDocLinks(t *testing.T) {
	t.Chdir("../..")
	files, _ := filepath.Glob("docs/*.md")
	files = append(files, "README.md")
	anchors := map[string]map[string]bool{}
	for _, f := range files {
		anchors[f] = headingAnchors(t, f)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			file := f
			if path != "" {
				file = filepath.Join(filepath.Dir(f), path)
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s: link to %s: no such file", f, target)
					continue
				}
			}
			if anchor != "" {
				a, ok := anchors[file]
				if !ok {
					a = headingAnchors(t, file)
				}
				if !a[anchor] {
					t.Errorf("%s: link to %s: no heading with that anchor in %s", f, target, file)
				}
			}
		}
	}
}

// headingAnchors lists the anchors GitHub gives a Markdown file's headings:
// lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(t *testing.T, file string) map[string]bool {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// A slower run changes timings and the width of their columns, not the rest.
func TestNormIgnoresTimingsOnly(t *testing.T) {
	documented := "started in 122ms\ntestdata/blind            608     98.0%       0    0.13ms    0.59ms\n"
	for _, tc := range []struct {
		now  string
		same bool
	}{
		{"started in 1.754s\ntestdata/blind            608     98.0%       0    1.38ms   10.78ms\n", true},
		{"started in 95µs\ntestdata/blind            608     98.0%       0  120.10ms 1200.00ms\n", true},
		{"started in 122ms\ntestdata/blind            608     98.4%       0    0.13ms    0.59ms\n", false},
		{"started in 122ms\ntestdata/blind            608     98.0%       1    0.13ms    0.59ms\n", false},
	} {
		if got := norm(tc.now) == norm(documented); got != tc.same {
			t.Errorf("norm(%q) == norm(documented) is %v, want %v", tc.now, got, tc.same)
		}
	}
}

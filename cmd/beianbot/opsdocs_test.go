package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docs/operators.md shows output and commands; these tests keep them true.
const operatorsDoc = "../../docs/operators.md"

// docBlock returns the lines of the fenced block between the begin and end
// markers of name, without the fences.
func docBlock(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(operatorsDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- "+name+":begin -->\n")
	block, _, ok2 := strings.Cut(rest, "<!-- "+name+":end -->")
	if !ok || !ok2 {
		t.Fatalf("%s has no %s:begin/end markers", operatorsDoc, name)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		if !strings.HasPrefix(l, "```") {
			lines = append(lines, l)
		}
	}
	return lines
}

// The guide's queries are the recording rules of deploy/prometheus-rules.yml,
// which Prometheus' own tools check and test on made-up series.
func TestPrometheusRules(t *testing.T) {
	data, err := os.ReadFile("../../deploy/prometheus-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct{ Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	var shown []string
	for _, l := range docBlock(t, "promql") {
		if !strings.HasPrefix(l, "#") {
			shown = append(shown, l)
		}
	}
	if !slices.Equal(shown, exprs) {
		t.Errorf("the guide's queries:\n%s\nthe rules' expressions:\n%s", strings.Join(shown, "\n"), strings.Join(exprs, "\n"))
	}
	promtool := requireTool(t, "promtool", "TEST_REQUIRE_PROMTOOL", "apt-get install prometheus")
	for _, args := range [][]string{{"check", "rules", "prometheus-rules.yml"}, {"test", "rules", "prometheus-rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../deploy"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// The guide's release build line builds, in a git clone, a binary that
// reports the version git describes.
func TestReleaseBuildLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binary")
	}
	lines := docBlock(t, "build")
	if len(lines) != 1 || !strings.Contains(lines[0], "-trimpath") || !strings.Contains(lines[0], "-o beianbot ") {
		t.Fatalf("the guide's build line: %q", lines)
	}
	describe, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Skipf("not in a git work tree: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "beianbot")
	cmd := exec.Command("sh", "-c", strings.Replace(lines[0], "-o beianbot ", "-o "+bin+" ", 1))
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", lines[0], err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if want := "beianbot " + strings.TrimSpace(string(describe)) + "\n"; err != nil || !strings.HasPrefix(string(out), want) {
		t.Errorf("--version of the release build: %v\n%s\nwant it to start %q", err, out, want)
	}
}

// The guide's `beianbot version` output is what the command prints for
// those values.
func TestVersionExampleInTheGuide(t *testing.T) {
	lines := docBlock(t, "version")
	value := func(i int) string {
		if i >= len(lines) {
			return ""
		}
		_, v, _ := strings.Cut(lines[i], ":")
		return strings.TrimSpace(v)
	}
	var b bytes.Buffer
	buildInfo{Version: strings.TrimPrefix(lines[0], "beianbot "), Revision: value(1), Time: value(2), Modified: value(3), Go: value(4)}.write(&b)
	if got := strings.Join(lines, "\n") + "\n"; got != b.String() {
		t.Errorf("the guide shows:\n%s\nthe command prints:\n%s", got, b.String())
	}
}

// logSignature is a JSON log line's message and keys, the part of it that
// does not change from run to run.
func logSignature(line string) (string, bool) {
	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) != nil {
		return "", false
	}
	var keys []string
	for k := range rec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	msg, _ := rec["msg"].(string)
	return msg + " " + strings.Join(keys, ","), true
}

// checkLogExample fails unless each line of the guide's JSON log example
// has the message and keys of a line serve wrote.
func checkLogExample(t *testing.T, stderr string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(stderr, "\n") {
		if sig, ok := logSignature(line); ok {
			got = append(got, sig)
		}
	}
	for _, line := range docBlock(t, "logs") {
		sig, ok := logSignature(line)
		if !ok {
			t.Errorf("the guide's log example has a line that is not JSON: %q", line)
			continue
		}
		if !slices.Contains(got, sig) {
			t.Errorf("the guide's log line %q has no like in serve's log (message and keys):\n%s", sig, strings.Join(got, "\n"))
		}
	}
}

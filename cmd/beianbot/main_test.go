package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/lang"
)

// runCLI runs the command as main would, with stdin, and returns exit code,
// stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

type jsonReply struct {
	Question string `json:"question"`
	Lang     string `json:"lang"`
	Topic    string `json:"topic"`
	Answer   string `json:"answer"`
	Matrix   *struct {
		Principal bool `json:"principal"`
		Website   bool `json:"website"`
		Cases     []struct {
			Business string `json:"business"`
			Subcase  string `json:"subcase"`
		} `json:"cases"`
	} `json:"matrix"`
	Clarify *struct {
		Question string `json:"question"`
		Options  []struct {
			Business, Subcase, Label string
		} `json:"options"`
	} `json:"clarify"`
	Handoff *bool `json:"handoff"`
}

func decodeLines(t *testing.T, out string) []jsonReply {
	t.Helper()
	var rs []jsonReply
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var r jsonReply
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestAskJSONContract(t *testing.T) {
	code, out, errOut := runCLI(t, "", "ask", "--json", "变更主体 不涉及变更省份 谁要核验", "变更备案谁要核验", "how do I verify")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rs := decodeLines(t, out)
	if len(rs) != 3 {
		t.Fatalf("%d replies, want 3", len(rs))
	}
	m := rs[0].Matrix
	if rs[0].Topic != "who-verifies" || m == nil || !m.Principal || m.Website || len(m.Cases) != 1 ||
		m.Cases[0].Business != "变更主体" || m.Cases[0].Subcase != "不涉及变更省份" || rs[0].Clarify != nil {
		t.Errorf("verdict reply: %+v", rs[0])
	}
	if rs[1].Clarify == nil || len(rs[1].Clarify.Options) != 4 || rs[1].Matrix != nil {
		t.Errorf("ask-back reply: %+v", rs[1])
	}
	if rs[2].Topic != "how-to-verify" || rs[2].Lang != "en" || rs[2].Handoff == nil || *rs[2].Handoff {
		t.Errorf("FAQ reply: %+v", rs[2])
	}
	if strings.Contains(out, `"explain"`) {
		t.Error("explain must only appear with --explain")
	}
}

// Every input line gets exactly one reply, whatever it holds.
func TestAskStdinBadLines(t *testing.T) {
	lines := []string{"", "   ", strings.Repeat("短信", 10000), "a\x00b", "\xff\xfe", "收不到短信", "2"}
	code, out, errOut := runCLI(t, strings.Join(lines, "\n")+"\n", "ask", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if rs := decodeLines(t, out); len(rs) != len(lines) {
		t.Fatalf("%d replies for %d lines", len(rs), len(lines))
	}
}

func TestChatPiped(t *testing.T) {
	code, out, errOut := runCLI(t, "变更主体要谁核验\n2\n", "chat", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rs := decodeLines(t, out)
	if len(rs) != 2 || rs[0].Clarify == nil || rs[1].Matrix == nil || rs[1].Matrix.Principal || rs[1].Matrix.Website {
		t.Fatalf("dialog: %+v", rs)
	}
}

func TestMatrixJSON(t *testing.T) {
	code, out, _ := runCLI(t, "", "matrix", "--json")
	if code != 0 {
		t.Fatal("exit", code)
	}
	var rows []struct {
		Business, Subcase  string
		Principal, Website bool
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 16 || rows[0].Business != "首次备案" || rows[15].Business != "取消接入" || rows[15].Subcase != "接入商发起" {
		t.Errorf("rows: %+v", rows)
	}
}

func TestMatrixText(t *testing.T) {
	for _, tc := range []struct{ lang, want string }{
		{"zh", "变更主体"}, {"en", "Change entity"}, {"zh-hant", "變更主體"}, {"zh-hk", "變更主體"},
	} {
		code, out, _ := runCLI(t, "", "matrix", "--lang", tc.lang)
		if code != 0 || strings.Count(out, "\n") < 18 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want %q in:\n%s", tc.lang, code, tc.want, out)
		}
	}
}

func TestKBLint(t *testing.T) {
	if code, out, _ := runCLI(t, "", "kb", "lint"); code != 0 || !strings.Contains(out, "0 errors") {
		t.Errorf("embedded: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "deadline.yaml"), []byte("id: deadline\ncolour: red\n"), 0o644)
	code, out, _ := runCLI(t, "", "kb", "lint", dir)
	if code != 1 || !strings.Contains(out, "deadline.yaml") || !strings.Contains(out, "colour") {
		t.Errorf("broken dir: exit %d\n%s", code, out)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("telegram:\n  mode: polling\n  colour: red\n"), 0o644)
	code, _, errOut := runCLI(t, "", "ask", "--config", bad, "hi")
	if code != 2 || !strings.Contains(errOut, "bad.yaml") || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "colour") {
		t.Errorf("unknown key: exit %d: %s", code, errOut)
	}
	os.WriteFile(bad, []byte("telegram: [\n"), 0o644)
	if code, _, errOut := runCLI(t, "", "matrix", "--config="+bad); code != 2 || !strings.Contains(errOut, "bad.yaml") {
		t.Errorf("syntax error: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "ask", "--config", filepath.Join(dir, "missing.yaml"), "hi"); code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing file: exit %d: %s", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := runCLI(t, "", "ask", "--lang", "fr", "hi"); code != 2 {
		t.Errorf("--lang fr: exit %d", code)
	}
	if code, out, _ := runCLI(t, "", "help"); code != 0 || !strings.Contains(out, "beianbot ask") {
		t.Errorf("help: exit %d", code)
	}
}

func TestEvalCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "", "eval", "--min", "0", "../../eval/testdata/small.yaml")
	// The file holds a deliberately wrong verdict: eval must fail on it.
	if code != 1 || !strings.Contains(errOut, "wrong who-must-verify") || !strings.Contains(out, "accuracy 50.0%") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	// --report prints the same, and gates nothing.
	code, _, errOut = runCLI(t, "", "eval", "--report", "../../eval/testdata/small.yaml")
	if code != 0 || !strings.Contains(errOut, "would fail (report only)") {
		t.Errorf("--report: exit %d\n%s", code, errOut)
	}
}

// knowledge_dir replaces the embedded knowledge base; a broken one stops
// the program with the file and field named.
func TestKnowledgeDir(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Glob("../../knowledge/data/*.yaml")
	if err != nil || len(src) == 0 {
		t.Fatal("no knowledge files", err)
	}
	for _, p := range src {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(p) == "deadline.yaml" {
			data = []byte(strings.Replace(string(data), "answer:\n  zh: |\n", "answer:\n  zh: |\n    【本地版本】\n", 1))
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o644)
	}
	t.Setenv("BEIANBOT_KNOWLEDGE_DIR", dir)
	code, out, errOut := runCLI(t, "", "ask", "超过24小时没核验怎么办")
	if code != 0 || !strings.Contains(out, "【本地版本】") {
		t.Fatalf("exit %d, knowledge_dir not used:\n%s%s", code, out, errOut)
	}
	os.WriteFile(filepath.Join(dir, "deadline.yaml"), []byte("id: deadline\ncolour: red\n"), 0o644)
	code, _, errOut = runCLI(t, "", "ask", "hi")
	if code != 2 || !strings.Contains(errOut, "deadline.yaml") || !strings.Contains(errOut, "colour") {
		t.Errorf("broken knowledge_dir: exit %d: %s", code, errOut)
	}
}

// Every command's --help exits 0, lists --config and prints defaults as
// they are written in the config (0.3, not 0.30000000000000004).
func TestEveryCommandHelp(t *testing.T) {
	for _, cmd := range [][]string{{"ask"}, {"chat"}, {"matrix"}, {"eval"}, {"kb"}, {"kb", "lint"}, {"serve"}, {"report"}, {"purge"}, {"health"}} {
		for _, help := range []string{"--help", "-h"} {
			code, out, errOut := runCLI(t, "", append(cmd, help)...)
			if code != 0 || !strings.Contains(out, "-config") || !strings.Contains(out, "Usage: beianbot "+cmd[0]) {
				t.Errorf("%v %s: exit %d\n%s%s", cmd, help, code, out, errOut)
			}
		}
	}
	if code, out, _ := runCLI(t, "", "help", "report"); code != 0 || !strings.Contains(out, "(default 0.3)") || strings.Contains(out, "0.3000") {
		t.Errorf("help report: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, "", "purge", "--help"); code != 0 || !strings.Contains(out, `(default "30d")`) {
		t.Errorf("purge --help: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "", "ask", "--frobnicate"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

// An unknown BEIANBOT_ variable is an error naming it; with two unknown
// keys in the file, each problem is on its own line.
func TestUnknownVariableAndProblemLines(t *testing.T) {
	t.Setenv("BEIANBOT_TELEGRAM_TOKN", "123:abc")
	code, _, errOut := runCLI(t, "", "ask", "hi")
	if code != 2 || !strings.Contains(errOut, "BEIANBOT_TELEGRAM_TOKN") || strings.Contains(errOut, "123:abc") {
		t.Errorf("unknown variable: exit %d: %s", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("telegram:\n  colour: red\n  flavour: mint\n"), 0o644)
	code, _, errOut = runCLI(t, "", "matrix", "--config", bad)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 2 || len(lines) != 3 {
		t.Fatalf("exit %d, want 3 lines:\n%s", code, errOut)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "beianbot: ") {
			t.Errorf("line %q lacks the program's name", l)
		}
	}
	if !strings.Contains(lines[0], `line 2: unknown key "colour"`) || !strings.Contains(lines[1], `line 3: unknown key "flavour"`) || !strings.Contains(lines[2], "BEIANBOT_TELEGRAM_TOKN") {
		t.Errorf("lines:\n%s", errOut)
	}
}

// --lang zh-hant (zh-hk, zh-tw) answers in Traditional characters.
func TestAskLangTraditional(t *testing.T) {
	for _, tag := range []string{"zh-hant", "zh-hk", "zh-tw"} {
		code, out, errOut := runCLI(t, "", "ask", "--json", "--lang", tag, "how do I verify")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tag, code, errOut)
		}
		r := decodeLines(t, out)[0]
		if r.Lang != "zh" || !lang.IsTraditional(r.Answer) || !strings.Contains(out, `"traditional":true`) {
			t.Errorf("%s: %+v", tag, r)
		}
	}
	code, out, _ := runCLI(t, "", "ask", "--json", "--lang", "zh", "how do I verify")
	if code != 0 || lang.IsTraditional(decodeLines(t, out)[0].Answer) {
		t.Errorf("--lang zh answered in Traditional: %s", out)
	}
}

// Log lines carry no customer number and no part of a secret, whatever a
// library puts in them.
func TestLogsArePrivate(t *testing.T) {
	var buf bytes.Buffer
	cfg := config.Default()
	cfg.LLM.APIKey = "sk-test-7f3a9c1e5b2d4f60"
	log := newLogger(cfg, &buf)
	log.Warn("customer said 我的手机 139.1234.5678", "question", "身份证 1101 0119 9003 0712 3X",
		"err", errors.New("401: Incorrect API key provided: sk-test-7f****4f60"), "chat", int64(4242424242),
		slog.Group("g", "mail", "li.ming@example.com"))
	out := buf.String()
	for _, leak := range []string{"5678", "123X", "sk-test", "li.ming"} {
		if strings.Contains(out, leak) {
			t.Errorf("log line leaks %q:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "chat=4242424242") {
		t.Errorf("numeric attributes must stay as they are:\n%s", out)
	}
}

// An error echoing a secret never reaches standard error whole or in part.
func TestStderrScrubsSecrets(t *testing.T) {
	var buf bytes.Buffer
	w := scrubWriter{&buf, []string{"sk-test-7f3a9c1e5b2d4f60"}}
	fmt.Fprintln(w, "beianbot: llm: server said: bad key sk-test-7f3a…")
	if strings.Contains(buf.String(), "sk-test-7f") {
		t.Errorf("stderr: %q", buf.String())
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/store"
)

func TestSupportOpsAndTidy(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	st, err := store.Open(ctx, t.TempDir(), store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()

	sup, err := supportOps(ctx, cfg, st, slog.New(slog.DiscardHandler))
	if err != nil || sup.Questions == nil || sup.Reminders == nil || sup.Threads == nil {
		t.Fatalf("supportOps = %+v, %v", sup, err)
	}
	// The question log logs with the database's own salt when none is configured.
	if _, err := sup.Questions.Record(ctx, 42, bot.Reply{Question: "q", Topic: "deadline"}); err != nil {
		t.Fatal(err)
	}
	st.Save(ctx, 1, bot.Conversation{LastTopic: "deadline"})

	log := slog.New(slog.DiscardHandler)
	// A day later: the conversation is past chat_ttl (24h), the question within retention.
	now = t0.Add(25 * time.Hour)
	tidy(ctx, cfg, st, log, now, true)
	if c, _ := st.Load(ctx, 1); c.LastTopic != "" {
		t.Error("conversation idle past chat_ttl kept")
	}
	if qs, _ := st.QuestionsSince(ctx, time.Time{}); len(qs) != 1 {
		t.Errorf("question purged within retention: %d left", len(qs))
	}
	// Past retention_days the question goes.
	now = t0.AddDate(0, 0, cfg.QuestionLog.RetentionDays+1)
	tidy(ctx, cfg, st, log, now, true)
	if qs, _ := st.QuestionsSince(ctx, time.Time{}); len(qs) != 0 {
		t.Errorf("question kept past retention: %d left", len(qs))
	}
}

// serveUntilAnswered runs `beianbot serve` with args against api until the
// bot has sent want messages, then stops it as SIGTERM would, and returns
// the exit code, standard error and the texts sent.
func serveUntilAnswered(t *testing.T, api *fakeBotAPI, want int, args ...string) (int, string, []string) {
	return serveAndCheck(t, api, want, nil, args...)
}

// serveAndCheck is serveUntilAnswered that calls check, with standard error,
// once the messages are sent and before the bot stops.
func serveAndCheck(t *testing.T, api *fakeBotAPI, want int, check func(stderr *syncBuffer), args ...string) (int, string, []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	var stderr syncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), &stdout, &stderr) }()
	var sent []string
	for len(sent) < want {
		select {
		case text := <-api.sent:
			sent = append(sent, text)
		case code := <-exit:
			t.Fatalf("serve exited %d before answering:\n%s", code, stderr.String())
		case <-time.After(30 * time.Second):
			t.Fatalf("no answer after 30 s; calls %v:\n%s", api.calls(), stderr.String())
		}
	}
	if check != nil {
		check(&stderr)
	}
	cancel()
	select {
	case code := <-exit:
		return code, stderr.String(), sent
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", stderr.String())
	}
	return 0, "", nil
}

// With log.format json, `serve` writes nothing but JSON objects on standard
// error, one a line, from every package (store, telegram, the engine); the
// token, read from BEIANBOT_TELEGRAM_TOKEN_FILE, works and is never printed,
// and the customer's text stays out of the log at info level.
func TestServeLogsJSONAndReadsTheTokenFromAFile(t *testing.T) {
	const token = "123456789:AAH7x9Qz2kLm4Np8Rt6Vw3Yb5Cd1Fg0Hj"
	const question = "收不到短信验证码怎么办"
	api := newFakeBotAPI(t, token, privateMessage(1, question))
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "telegram_token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "beianbot.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf("data_dir: %s\nlog:\n  format: json\ntelegram:\n  api_url: %s\n  poll_timeout: 1s\n",
		filepath.Join(dir, "data"), api.srv.URL)), 0o600)
	t.Setenv("BEIANBOT_TELEGRAM_TOKEN_FILE", tokenFile)

	code, stderr, sent := serveUntilAnswered(t, api, 1, "--config", cfgFile)
	if code != 0 {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(sent[0], "短信") {
		t.Errorf("the answer: %q", sent[0])
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		var rec struct {
			Time  time.Time `json:"time"`
			Level string    `json:"level"`
			Msg   string    `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time.IsZero() || rec.Level == "" || rec.Msg == "" {
			t.Errorf("not a JSON log line: %q", line)
		}
		msgs = append(msgs, rec.Msg)
	}
	// The store's, the server's and the per-reply lines are all there.
	for _, want := range []string{"database ready", "telegram bot running", "reply", "telegram bot stopped"} {
		if !slices.Contains(msgs, want) {
			t.Errorf("no %q line in the log:\n%s", want, stderr)
		}
	}
	checkLogExample(t, stderr) // docs/operators.md shows these lines
	_, secret, _ := strings.Cut(token, ":")
	for _, leak := range []string{secret, secret[:10], question, "短信验证码"} {
		if strings.Contains(stderr, leak) {
			t.Errorf("standard error holds %q:\n%s", leak, stderr)
		}
	}
}

// log.format text (the default) writes key=value lines, and so does every
// package: no line in the log package's own format.
func TestServeLogsTextByDefault(t *testing.T) {
	const token = "123456789:AAJ2m8Kq4Zx7Wv1Ps9Ld3Hf6Gt0Bn5Cr"
	api := newFakeBotAPI(t, token, privateMessage(1, "hello"))
	t.Setenv("BEIANBOT_TELEGRAM_TOKEN", token)
	t.Setenv("BEIANBOT_TELEGRAM_API_URL", api.srv.URL)
	t.Setenv("BEIANBOT_DATA_DIR", t.TempDir())
	code, stderr, _ := serveUntilAnswered(t, api, 1)
	if code != 0 {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") {
			t.Errorf("not a text log line: %q", line)
		}
	}
	if !strings.Contains(stderr, `msg="database ready"`) {
		t.Errorf("the store's line is missing:\n%s", stderr)
	}
}

// serve's /metrics (telegram.metrics_listen) passes promtool and carries the
// Go and process series, the reply by route, the open handoff threads from
// the database, and the LLM rephraser's outcomes.
func TestServeMetrics(t *testing.T) {
	const token = "123456789:AAK5t7Yh2Ug9Ij4Ok1Pl8Zm3Xn6Cb0Vq"
	api := newFakeBotAPI(t, token, privateMessage(1, "超过24小时没核验怎么办"))
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	}))
	defer llm.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "beianbot.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`data_dir: %s
log:
  format: json
telegram:
  api_url: %s
  poll_timeout: 1s
  metrics_listen: 127.0.0.1:0
llm:
  enabled: true
  base_url: %s/v1
  model: test-model
`, filepath.Join(dir, "data"), api.srv.URL, llm.URL)), 0o600)
	t.Setenv("BEIANBOT_TELEGRAM_TOKEN", token)
	t.Setenv("BEIANBOT_LLM_API_KEY", "sk-9QxZ7wLp2Rt5Yv8Nk3Hd4Jc6")

	var page string
	check := func(stderr *syncBuffer) {
		// The reply's log line comes after it is counted.
		stderr.waitFor(t, `"msg":"reply"`)
		var addr string
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "metrics listening" {
				addr = rec.Addr
			}
		}
		if addr == "" {
			t.Fatalf("no metrics address in the log:\n%s", stderr.String())
		}
		// The probe Docker's HEALTHCHECK runs.
		if code, out, errOut := runCLI(t, "", "health", "--url", "http://"+addr+"/healthz"); code != 0 {
			t.Errorf("beianbot health on a running serve: exit %d\n%s%s", code, out, errOut)
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
	}
	if code, stderr, _ := serveAndCheck(t, api, 1, check, "--config", cfgFile); code != 0 {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		`beianbot_telegram_replies_total{lang="zh",topic="deadline"} 1`,
		`beianbot_telegram_reply_seconds_count{route="index"} 1`,
		`beianbot_telegram_open_threads 0`,
		`beianbot_llm_rephrase_total{outcome="error",reason=""} 1`,
		`beianbot_llm_rephrase_total{outcome="accepted",reason=""} 0`,
		"# TYPE go_goroutines gauge",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
	promtoolCheck(t, page)
}

// promtoolCheck runs `promtool check metrics` on a page; CI sets
// TEST_REQUIRE_PROMTOOL=1, so there a missing promtool fails the test.
func promtoolCheck(t *testing.T, page string) {
	t.Helper()
	cmd := exec.Command(requireTool(t, "promtool", "TEST_REQUIRE_PROMTOOL", "apt-get install prometheus"), "check", "metrics")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

package telegram

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// count reads a counter; labels as for inc.
func (m *metrics) count(name string, labels ...string) float64 {
	f, ok := m.families[name]
	if !ok || len(labels) != 2*len(f.labels) {
		return -1
	}
	values := make([]string, len(f.labels))
	for i := range f.labels {
		values[i] = labels[2*i+1]
	}
	c, err := m.counters[name].GetMetricWithLabelValues(values...)
	if err != nil {
		return -1
	}
	var d dto.Metric
	c.Write(&d)
	return d.GetCounter().GetValue()
}

// scrape renders the metrics page as Prometheus asks for it.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// promtoolCheck runs `promtool check metrics` (Prometheus' own linter) on a
// page when promtool is installed; CI installs it and sets
// TEST_REQUIRE_PROMTOOL=1, so there a missing promtool fails the test.
func promtoolCheck(t *testing.T, page string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("TEST_REQUIRE_PROMTOOL") != "" {
			t.Fatal("promtool is not installed, and TEST_REQUIRE_PROMTOOL is set (apt-get install prometheus)")
		}
		t.Skip("promtool not installed (apt-get install prometheus); the exposition is not linted")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func testMetrics(queued int) *metrics {
	return newMetrics(metricsSources{
		queued:      func() int { return queued },
		openThreads: func(context.Context) (int, error) { return 2, nil },
		llmStats: func() map[string]int64 {
			return map[string]int64{"accepted": 5, "cached": 2, "rejected:missing-fact": 1, "rejected:added-url": 3,
				"breaker-open": 4, "timeout": 1, "something-new": 1}
		},
		log: slog.New(slog.DiscardHandler),
	})
}

func TestMetricsExposition(t *testing.T) {
	m := testMetrics(3)
	m.inc("beianbot_telegram_replies_total", "topic", `we"ird\`, "lang", "zh")
	m.inc("beianbot_telegram_replies_total", "topic", "deadline", "lang", "fr")
	m.inc("beianbot_telegram_reminders_failed_total", "kind", "before")
	m.inc("beianbot_telegram_no_such_total")                 // not declared: counts nothing
	m.inc("beianbot_telegram_updates_total", "flavour", "x") // wrong label: counts nothing
	m.observe("table", 30*time.Millisecond)
	m.observe("", 2*time.Second)
	page := scrape(t, m.handler())
	for _, want := range []string{
		`beianbot_telegram_replies_total{lang="zh",topic="we\"ird\\"} 1`,
		`beianbot_telegram_replies_total{lang="other",topic="deadline"} 1`,
		`beianbot_telegram_reminders_failed_total{kind="before"} 1`,
		`beianbot_telegram_reminders_sent_total{kind="before"} 0`, // known values exported from the start
		`beianbot_telegram_updates_total{kind="message"} 0`,
		`beianbot_telegram_poll_errors_total 0`,
		`beianbot_telegram_reply_seconds_bucket{route="table",le="0.025"} 0`,
		`beianbot_telegram_reply_seconds_bucket{route="table",le="0.05"} 1`,
		`beianbot_telegram_reply_seconds_bucket{route="frontend",le="2.5"} 1`,
		`beianbot_telegram_reply_seconds_count{route="pasted"} 0`,
		`beianbot_telegram_queue_length 3`,
		`beianbot_telegram_open_threads 2`,
		`beianbot_llm_rephrase_total{outcome="accepted",reason=""} 5`,
		`beianbot_llm_rephrase_total{outcome="rejected",reason="missing-fact"} 1`,
		`beianbot_llm_rephrase_total{outcome="rejected",reason="added-url"} 3`,
		`beianbot_llm_rephrase_total{outcome="breaker_open",reason=""} 4`,
		`beianbot_llm_rephrase_total{outcome="error",reason=""} 0`,
		`beianbot_llm_rephrase_total{outcome="other",reason=""} 1`,
		"# TYPE beianbot_telegram_reply_seconds histogram",
		// The Go runtime's and the process's own series.
		"# TYPE go_goroutines gauge",
		"# TYPE go_memstats_heap_inuse_bytes gauge",
		"# TYPE process_resident_memory_bytes gauge",
		"# TYPE process_cpu_seconds_total counter",
		"# TYPE go_build_info gauge",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(page, "no_such") || strings.Contains(page, "flavour") {
		t.Error("an undeclared metric or label was exported")
	}
	// Every family has help text.
	for _, line := range strings.Split(page, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "#" && f[1] == "HELP" && len(f) < 4 {
			t.Errorf("empty help: %q", line)
		}
	}
	if t.Failed() {
		t.Log(page)
	}
	promtoolCheck(t, page)
}

// The topic label takes at most maxTopics values; the rest count as "other".
func TestMetricsTopicsAreBounded(t *testing.T) {
	m := testMetrics(0)
	for i := range maxTopics + 50 {
		m.inc("beianbot_telegram_replies_total", "topic", "t"+strconv.Itoa(i), "lang", "en")
	}
	m.inc("beianbot_telegram_replies_total", "topic", "t0", "lang", "en")
	if got := m.count("beianbot_telegram_replies_total", "topic", "other", "lang", "en"); got != 50 {
		t.Errorf("other: %v, want 50", got)
	}
	if got := m.count("beianbot_telegram_replies_total", "topic", "t0", "lang", "en"); got != 2 {
		t.Errorf("a topic seen before the limit: %v, want 2", got)
	}
}

// A failed count of open threads leaves that series out of the scrape and
// the rest of the page intact.
func TestMetricsOpenThreadsFailure(t *testing.T) {
	var logs syncBuffer
	m := newMetrics(metricsSources{
		queued:      func() int { return 0 },
		openThreads: func(context.Context) (int, error) { return 0, errors.New("database is locked") },
		log:         slog.New(slog.NewTextHandler(&logs, nil)),
	})
	page := scrape(t, m.handler())
	if strings.Contains(page, "beianbot_telegram_open_threads ") || !strings.Contains(page, "beianbot_telegram_queue_length 0") {
		t.Errorf("page:\n%s", page)
	}
	if !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
	if strings.Contains(page, "beianbot_llm_") {
		t.Error("LLM series without an LLM")
	}
}

// Every s.metrics.inc call in the package names a declared family with its
// labels in order: a typo would otherwise count nothing, silently.
func TestEveryCountedMetricIsDeclared(t *testing.T) {
	declared := map[string]family{}
	for _, f := range families {
		declared[f.name] = f
	}
	files, _ := filepath.Glob("*.go")
	calls := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "inc" {
				return true
			}
			if x, ok := sel.X.(*ast.SelectorExpr); !ok || x.Sel.Name != "metrics" {
				return true
			}
			calls++
			var args []string
			for _, a := range call.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok {
					args = append(args, "") // a value: fine past the name, in value places
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				args = append(args, s)
			}
			if len(args) == 0 || args[0] == "" {
				t.Errorf("%s: metrics.inc without a literal name", path)
				return true
			}
			fam, ok := declared[args[0]]
			if !ok {
				t.Errorf("%s: %s is not declared in families", path, args[0])
				return true
			}
			labels := args[1:]
			if len(labels) != 2*len(fam.labels) {
				t.Errorf("%s: %s counted with labels %q, declared %q", path, args[0], labels, fam.labels)
				return true
			}
			for i, l := range fam.labels {
				if labels[2*i] != l {
					t.Errorf("%s: %s label %d is %q, declared %q", path, args[0], i, labels[2*i], l)
				}
			}
			return true
		})
	}
	if calls < 20 {
		t.Errorf("only %d metrics.inc calls found", calls)
	}
}

// familyLine finds the beianbot families on a page, with their type.
var familyLine = regexp.MustCompile(`(?m)^# TYPE (beianbot_\w+) (\w+)$`)

var update = flag.Bool("update", false, "rewrite the metrics table in docs/operators.md")

// operatorsDoc is the operators' guide, whose metrics table this test keeps true.
const operatorsDoc = "../docs/operators.md"

// docBlock returns what lies between the begin and end markers of name.
func docBlock(text, name string) (before, block, after string, ok bool) {
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i := strings.Index(text, begin)
	j := strings.Index(text, end)
	if i < 0 || j < i {
		return "", "", "", false
	}
	return text[:i+len(begin)], text[i+len(begin) : j], text[j:], true
}

// metricsTable renders the beianbot series on a page as the guide's table:
// name, type and labels.
func metricsTable(page string) string {
	labels := map[string][]string{}
	sample := regexp.MustCompile(`(?m)^(beianbot_\w+?)(_bucket|_sum|_count)?\{([^}]*)\}`)
	for _, m := range sample.FindAllStringSubmatch(page, -1) {
		for _, pair := range strings.Split(m[3], ",") {
			k, _, _ := strings.Cut(pair, "=")
			if k != "le" && !slices.Contains(labels[m[1]], k) {
				labels[m[1]] = append(labels[m[1]], k)
			}
		}
	}
	var b strings.Builder
	b.WriteString("| series | type | labels |\n|---|---|---|\n")
	for _, m := range familyLine.FindAllStringSubmatch(page, -1) {
		l := "—"
		if ls := labels[m[1]]; len(ls) > 0 {
			l = "`" + strings.Join(ls, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", m[1], m[2], l)
	}
	return b.String()
}

// The guide lists every beianbot series /metrics has, with its type and
// labels (go test ./telegram -run TestOperatorsDoc -update rewrites it).
func TestOperatorsDocListsEveryMetric(t *testing.T) {
	doc, err := os.ReadFile(operatorsDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, block, after, ok := docBlock(string(doc), "metrics")
	if !ok {
		t.Fatalf("%s has no metrics:begin/end markers", operatorsDoc)
	}
	// A family shows on the page once it has a series: count one of each.
	m := testMetrics(0)
	for _, f := range families {
		var labels []string
		for _, l := range f.labels {
			labels = append(labels, l, "x")
		}
		m.inc(f.name, labels...)
	}
	want := metricsTable(scrape(t, m.handler()))
	if *update {
		if err := os.WriteFile(operatorsDoc, []byte(before+want+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if block != want {
		t.Errorf("%s lists other metrics than /metrics has; run go test ./telegram -run TestOperatorsDoc -update. Want:\n%s", operatorsDoc, want)
	}
}

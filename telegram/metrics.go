package telegram

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics counts what the server does and writes it in Prometheus' text
// format. It is a few maps rather than client_golang: that module's own
// dependencies are not in go.sum, and the exposition format is simple.
type metrics struct {
	mu       sync.Mutex
	counters map[string]map[string]float64 // name → rendered labels → value
	gauges   map[string]func() float64
	latency  histogram
}

type histogram struct {
	bounds []float64 // upper bounds in seconds
	counts []uint64  // per bound, not cumulative
	sum    float64
	n      uint64
}

var metricHelp = map[string]string{
	"beianbot_telegram_updates_total":          "Updates received, by kind (message, callback, edited, other, ignored, duplicate, flood_noticed, flood_dropped, flood_unanswered, backlog_dropped).",
	"beianbot_telegram_replies_total":          "Replies sent, by topic and language.",
	"beianbot_telegram_reply_seconds":          "Time from receiving an update to its reply being sent.",
	"beianbot_telegram_send_errors_total":      "Failed Bot API call attempts, by kind (rate_limited, blocked, server, network, bad_request, migrated, unauthorized, other).",
	"beianbot_telegram_unsure_sends_total":     "Bot API calls whose answer was lost after the request was sent (they may have been carried out), by method.",
	"beianbot_telegram_poll_errors_total":      "Failed getUpdates calls.",
	"beianbot_telegram_panics_total":           "Handler panics recovered.",
	"beianbot_telegram_feedback_total":         "Feedback taps, by vote.",
	"beianbot_telegram_webhook_rejected_total": "Webhook requests refused, by reason (secret, too_large, malformed, busy).",
	"beianbot_telegram_queue_length":           "Updates taken and not yet answered (in the inbox).",
}

func newMetrics() *metrics {
	return &metrics{
		counters: map[string]map[string]float64{},
		gauges:   map[string]func() float64{},
		latency: histogram{
			bounds: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
			counts: make([]uint64, 11),
		},
	}
}

// inc adds one to a counter; labels are name/value pairs.
func (m *metrics) inc(name string, labels ...string) {
	key := renderLabels(labels)
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counters[name]
	if c == nil {
		c = map[string]float64{}
		m.counters[name] = c
	}
	c[key]++
}

// count reads a counter (for tests).
func (m *metrics) count(name string, labels ...string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counters[name][renderLabels(labels)]
}

func (m *metrics) observe(d time.Duration) {
	s := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := &m.latency
	h.sum += s
	h.n++
	for i, b := range h.bounds {
		if s <= b {
			h.counts[i]++
			break
		}
	}
}

func (m *metrics) gauge(name string, f func() float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gauges[name] = f
}

// write renders every metric in the Prometheus text exposition format.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, name := range sortedKeys(m.counters) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, metricHelp[name], name)
		for _, labels := range sortedKeys(m.counters[name]) {
			fmt.Fprintf(&b, "%s%s %g\n", name, labels, m.counters[name][labels])
		}
	}
	for _, name := range sortedKeys(m.gauges) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, metricHelp[name], name, name, m.gauges[name]())
	}
	const h = "beianbot_telegram_reply_seconds"
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", h, metricHelp[h], h)
	var cum uint64
	for i, bound := range m.latency.bounds {
		cum += m.latency.counts[i]
		fmt.Fprintf(&b, "%s_bucket{le=\"%g\"} %d\n", h, bound, cum)
	}
	fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", h, m.latency.n, h, m.latency.sum, h, m.latency.n)
	io.WriteString(w, b.String())
}

// handler serves /metrics.
func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(w)
	})
}

func renderLabels(pairs []string) string {
	if len(pairs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=\"%s\"", pairs[i], labelEscaper.Replace(pairs[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

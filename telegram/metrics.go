package telegram

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/beianbot/beianbot/bot"
)

// metrics are the server's Prometheus series. They live on a registry of
// their own, not the process-wide default, so two servers (or two tests)
// never share counts. Every family is declared in families below with its
// help text and labels; code counts with inc(name, label, value, …).
type metrics struct {
	reg      *prometheus.Registry
	counters map[string]*prometheus.CounterVec
	families map[string]family
	latency  *prometheus.HistogramVec

	mu     sync.Mutex
	topics map[string]bool // topic label values seen, bounded by maxTopics
}

// family is one counter family: its help text, label names, and the label
// values exported at 0 from the start (so rate() sees the first event).
type family struct {
	name, help string
	labels     []string
	known      [][]string
}

// Label values that are fixed sets.
var (
	updateKinds  = []string{"message", "callback", "edited", "other", "ignored", "duplicate", "flood_noticed", "flood_dropped", "flood_unanswered", "backlog_dropped"}
	sendKinds    = []string{string(kindRateLimited), string(kindBlocked), string(kindServer), string(kindNetwork), string(kindBadRequest), string(kindMigrated), string(kindUnauthorized), string(kindOther)}
	webhookWhys  = []string{"secret", "too_large", "malformed", "busy"}
	votes        = []string{"up", "down"}
	reminderKind = []string{"before", "expired"}
	replyLangs   = []string{"zh", "en"}
)

// routeFrontend labels the replies the Telegram front end writes itself
// (welcome, language menu, reminders, handoff notes): no engine route.
const routeFrontend = "frontend"

// maxTopics bounds the topic label: the knowledge base's topics and the
// front end's own reply kinds are far fewer; a knowledge base that somehow
// had more would count the rest as "other".
const maxTopics = 300

var families = []family{
	{name: "beianbot_telegram_updates_total", labels: []string{"kind"}, known: each(updateKinds),
		help: "Updates received, by kind: message, callback (a button tapped), edited, other, ignored (not for the bot), duplicate (delivered twice), flood_noticed, flood_dropped, flood_unanswered (over the per-user limit), backlog_dropped (a chat's backlog full)."},
	{name: "beianbot_telegram_replies_total", labels: []string{"topic", "lang"},
		help: "Replies delivered, by knowledge-base topic (or the front end's own reply kind, e.g. welcome, remind_scheduled) and reply language (zh, en)."},
	{name: "beianbot_telegram_send_errors_total", labels: []string{"kind"}, known: each(sendKinds),
		help: "Failed Bot API call attempts, by kind: rate_limited (429), blocked (403: the user blocked the bot), server (5xx), network (no answer), bad_request (400), migrated, unauthorized (401), other."},
	{name: "beianbot_telegram_unsure_sends_total", labels: []string{"method"},
		help: "Bot API calls whose answer was lost after the request was sent (they may have been carried out), by method."},
	{name: "beianbot_telegram_poll_errors_total",
		help: "Failed getUpdates calls."},
	{name: "beianbot_telegram_panics_total",
		help: "Handler panics recovered (the user got an apology)."},
	{name: "beianbot_telegram_feedback_total", labels: []string{"vote"}, known: each(votes),
		help: "Feedback buttons tapped under answers, by vote (up, down)."},
	{name: "beianbot_telegram_webhook_rejected_total", labels: []string{"reason"}, known: each(webhookWhys),
		help: "Webhook requests refused, by reason: secret (wrong secret token), too_large, malformed, busy (inbox full or stopping)."},
	{name: "beianbot_telegram_handoffs_total",
		help: "Conversations handed to the support group (/human or the button)."},
	{name: "beianbot_telegram_agent_replies_total",
		help: "Replies of support agents relayed to customers."},
	{name: "beianbot_telegram_reminders_scheduled_total",
		help: "24-hour deadline reminders scheduled."},
	{name: "beianbot_telegram_reminders_sent_total", labels: []string{"kind"}, known: each(reminderKind),
		help: "Reminder messages delivered, by kind: before (the deadline is ahead), expired (it has passed)."},
	{name: "beianbot_telegram_reminders_failed_total", labels: []string{"kind"}, known: each(reminderKind),
		help: "Reminder messages that failed, by kind; a message that certainly did not go out is given back and tried again at a later tick."},
}

// each turns a list of values into label value sets of one label.
func each(values []string) [][]string {
	out := make([][]string, len(values))
	for i, v := range values {
		out[i] = []string{v}
	}
	return out
}

// metricsSources are what the server reads at scrape time.
type metricsSources struct {
	queued      func() int                             // updates in the inbox
	openThreads func(ctx context.Context) (int, error) // nil: no handoff storage
	llmStats    func() map[string]int64                // nil: no LLM rephrasing
	log         *slog.Logger
}

func newMetrics(src metricsSources) *metrics {
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		counters: map[string]*prometheus.CounterVec{},
		families: map[string]family{},
		topics:   map[string]bool{},
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	for _, f := range families {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: f.name, Help: f.help}, f.labels)
		for _, values := range f.known {
			v.WithLabelValues(values...)
		}
		if len(f.labels) == 0 {
			v.WithLabelValues() // a counter without labels is exported from the start
		}
		m.reg.MustRegister(v)
		m.counters[f.name] = v
		m.families[f.name] = f
	}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "beianbot_telegram_reply_seconds",
		Help: "Time from receiving an update to its reply being sent, by the engine's route: pasted (a MIIT message), table (the verification table), index (a FAQ topic), unknown, direct (a topic asked for by name), frontend (the bot's own texts).",
		// From a cached answer (a few ms) to an LLM rewording at its 3 s timeout and Bot API retries.
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"route"})
	for _, r := range bot.Routes {
		m.latency.WithLabelValues(string(r))
	}
	m.latency.WithLabelValues(routeFrontend)
	m.reg.MustRegister(m.latency)
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "beianbot_telegram_queue_length",
		Help: "Updates taken and not yet answered (in the inbox).",
	}, func() float64 { return float64(src.queued()) }))
	if src.openThreads != nil {
		m.reg.MustRegister(&openThreadsCollector{count: src.openThreads, log: src.log})
	}
	if src.llmStats != nil {
		m.reg.MustRegister(llmCollector{stats: src.llmStats})
	}
	return m
}

// inc adds one to a counter; labels are name/value pairs in the family's
// label order. A name or label that is not declared counts nothing (a test
// checks every call against families).
func (m *metrics) inc(name string, labels ...string) {
	v, ok := m.counters[name]
	f := m.families[name]
	if !ok || len(labels) != 2*len(f.labels) {
		return
	}
	values := make([]string, len(f.labels))
	for i := range f.labels {
		if labels[2*i] != f.labels[i] {
			return
		}
		values[i] = labels[2*i+1]
	}
	if name == "beianbot_telegram_replies_total" {
		values[0], values[1] = m.topic(values[0]), replyLang(values[1])
	}
	v.WithLabelValues(values...).Inc()
}

// observe records one reply's latency under its route.
func (m *metrics) observe(route string, d time.Duration) {
	if route == "" {
		route = routeFrontend
	}
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// topic keeps the topic label within maxTopics values.
func (m *metrics) topic(t string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.topics[t] {
		return t
	}
	if len(m.topics) >= maxTopics {
		return "other"
	}
	m.topics[t] = true
	return t
}

func replyLang(l string) string {
	for _, known := range replyLangs {
		if l == known {
			return l
		}
	}
	return "other"
}

// handler serves /metrics in the format the scraper asks for (Prometheus
// text by default).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// openThreadsCollector reads the number of open handoff threads from the
// database at each scrape; a failed read leaves the series out of that
// scrape (and is logged) rather than failing the whole page.
type openThreadsCollector struct {
	count func(ctx context.Context) (int, error)
	log   *slog.Logger
}

var openThreadsDesc = prometheus.NewDesc("beianbot_telegram_open_threads",
	"Handoff threads open (a customer waiting for or talking with the support team).", nil, nil)

func (c *openThreadsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- openThreadsDesc }

func (c *openThreadsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		c.log.Warn("metrics: cannot count open threads", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(openThreadsDesc, prometheus.GaugeValue, float64(n))
}

// llmCollector exports the rephraser's outcome counts (rephrase.Client.Stats).
type llmCollector struct{ stats func() map[string]int64 }

var llmDesc = prometheus.NewDesc("beianbot_llm_rephrase_total",
	"LLM rephrasing attempts, by outcome: accepted (the guard kept the rewording), cached (an accepted one reused), rejected (by the guard, reason given), timeout, error, canceled, breaker_open (calls skipped while the server fails), skipped (nothing to rephrase).",
	[]string{"outcome", "reason"}, nil)

// llmOutcomes are exported at 0 before they first happen.
var llmOutcomes = []string{"accepted", "cached", "timeout", "error", "canceled", "breaker_open", "skipped"}

func (llmCollector) Describe(ch chan<- *prometheus.Desc) { ch <- llmDesc }

func (c llmCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[[2]string]float64{}
	for _, o := range llmOutcomes {
		counts[[2]string{o, ""}] = 0
	}
	for key, n := range c.stats() {
		outcome, reason, _ := strings.Cut(key, ":")
		outcome = strings.ReplaceAll(outcome, "-", "_")
		known := outcome == "rejected"
		for _, o := range llmOutcomes {
			known = known || o == outcome
		}
		if !known {
			outcome, reason = "other", ""
		}
		counts[[2]string{outcome, reason}] += float64(n)
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(llmDesc, prometheus.CounterValue, v, k[0], k[1])
	}
}

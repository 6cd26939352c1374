// Package rephrase lets an LLM on any OpenAI-compatible server reword
// beianbot's deterministic answers, and keeps a rewording only if Guard finds every fact intact.
package rephrase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/lru"
)

// Tuning that nobody has needed to configure yet.
const (
	defaultTimeout   = 3 * time.Second
	breakerThreshold = 5                // consecutive failures that open the breaker
	breakerCooldown  = 30 * time.Second // how long it stays open before one trial call
	cacheSize        = 1024             // accepted rephrasings kept
	retryDelay       = 100 * time.Millisecond
	maxAnswerRunes   = 4000    // longer answers are not worth the tokens (and none exists)
	maxBodyBytes     = 1 << 20 // a completion of max_tokens is far smaller
	maxErrorRunes    = 200     // of an error message in a log line
)

// Topics that are never sent: the table's verdict must reach the customer
// exactly as the table says, and "unknown" has nothing to rephrase. The engine
// filters them too; this is the second line.
var skipTopics = map[string]bool{"who-verifies": true, "unknown": true}

// Verdicts (RephraseResult.Verdict) other than guard rejections, which read
// "rejected: <reason>".
const (
	VerdictAccepted    = "accepted"
	VerdictTimeout     = "timeout"
	VerdictCanceled    = "canceled"
	VerdictBreakerOpen = "breaker-open"
)

// ErrDisabled is returned by New when the configuration has the LLM switched off.
var ErrDisabled = errors.New("llm rephrasing is disabled (llm.enabled is false)")

// Errors for completions that arrived but carry nothing usable.
var (
	errEmptyChoices = errors.New("empty choices")
	errEmptyContent = errors.New("empty content")
	errTruncated    = errors.New("truncated")
)

// Client rephrases answers through an OpenAI-compatible chat-completions
// endpoint. It is safe for concurrent use and satisfies bot.Rephraser.
type Client struct {
	api         *openai.Client
	model       string
	host        string // base URL's host, for logs
	apiKey      string // only to scrub it from error texts before they are logged
	timeout     time.Duration
	maxTokens   int
	temperature float32
	log         *slog.Logger
	breaker     *breaker
	cache       *lru.Cache[string, string] // accepted rephrasings, by cacheKey

	mu    sync.Mutex
	stats map[string]int64
}

var _ bot.Rephraser = (*Client)(nil)

// Option changes how New builds a Client.
type Option func(*options)

type options struct {
	logger *slog.Logger
	now    func() time.Time
	http   *http.Client
}

// WithLogger sets the logger (default: nowhere).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the clock the circuit breaker reads (default: time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithHTTPClient sets the HTTP client (default: a plain http.Client; the
// per-call timeout comes from the context, not from the client).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.http = c } }

// New builds a Client from the llm section of the configuration.
func New(cfg config.LLM, opts ...Option) (*Client, error) {
	if !cfg.Enabled {
		return nil, ErrDisabled
	}
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now, http: &http.Client{}}
	for _, opt := range opts {
		opt(&o)
	}
	base, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		// The URL is not echoed: it may carry credentials.
		return nil, errors.New("llm.base_url: want an http or https URL such as https://api.openai.com/v1")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm.model: required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}

	apiCfg := openai.DefaultConfig(cfg.APIKey) // the key goes only into the Authorization header
	apiCfg.BaseURL = strings.TrimRight(base.String(), "/")
	apiCfg.HTTPClient = limitedDoer{o.http}

	return &Client{
		api:         openai.NewClientWithConfig(apiCfg),
		model:       strings.TrimSpace(cfg.Model),
		host:        base.Host,
		apiKey:      cfg.APIKey,
		timeout:     cfg.Timeout,
		maxTokens:   cfg.MaxTokens,
		temperature: float32(cfg.Temperature),
		log:         o.logger,
		breaker:     &breaker{threshold: breakerThreshold, cooldown: breakerCooldown, now: o.now},
		cache:       lru.New[string, string](cacheSize, 0, nil),
		stats:       make(map[string]int64),
	}, nil
}

// Rephrase asks the LLM to reword req.Answer for req.Question and returns the
// rewording only if Guard accepts it. It never takes longer than the
// configured timeout; on any failure it returns at once with Accepted false,
// and the caller sends the original answer.
func (c *Client) Rephrase(ctx context.Context, req bot.RephraseRequest) bot.RephraseResult {
	if c == nil {
		return bot.RephraseResult{Verdict: "skipped: rephrasing off"}
	}
	if why := skipReason(req); why != "" {
		c.count("skipped")
		return bot.RephraseResult{Verdict: "skipped: " + why}
	}
	key := cacheKey(req)
	if text, ok := c.cache.Get(key); ok {
		c.count("cached")
		return bot.RephraseResult{Text: text, Accepted: true, Verdict: VerdictAccepted, Cached: true}
	}
	allowed, probe := c.breaker.allow()
	if !allowed {
		c.count(VerdictBreakerOpen)
		return bot.RephraseResult{Verdict: VerdictBreakerOpen}
	}

	start := time.Now()
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	text, attempts, err := c.complete(callCtx, req)

	var res bot.RephraseResult
	switch {
	case errors.Is(err, errTruncated):
		// The server works; the model just ran out of tokens.
		c.breaker.done(probe, succeeded)
		res.Verdict = "rejected: " + ReasonTruncated
		c.count("rejected:" + ReasonTruncated)
	case err != nil:
		stat, verdict, o := classify(ctx, err)
		if c.breaker.done(probe, o) {
			c.log.Warn("llm circuit breaker open", "host", c.host, "cooldown", breakerCooldown)
		}
		res.Verdict = verdict
		c.count(stat)
	default:
		c.breaker.done(probe, succeeded)
		if ok, reason := Guard(req.Answer, text, req.Lang, req.Traditional); !ok {
			res.Verdict = "rejected: " + reason
			c.count("rejected:" + ReasonCode(reason))
			break
		}
		c.cache.Put(key, text)
		res = bot.RephraseResult{Text: text, Accepted: true, Verdict: VerdictAccepted}
		c.count(VerdictAccepted)
	}
	c.logCall(ctx, req, res, attempts, time.Since(start), err)
	return res
}

// Stats returns how many calls ended in each outcome: accepted, cached,
// rejected:<reason>, timeout, error, canceled, breaker-open, skipped.
func (c *Client) Stats() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.stats))
	for k, v := range c.stats {
		out[k] = v
	}
	return out
}

func (c *Client) count(outcome string) {
	c.mu.Lock()
	c.stats[outcome]++
	c.mu.Unlock()
}

func skipReason(req bot.RephraseRequest) string {
	switch {
	case skipTopics[req.Topic]:
		return req.Topic
	case strings.TrimSpace(req.Answer) == "":
		return "empty answer"
	case req.Lang != lang.ZH && req.Lang != lang.EN:
		return "no reply language"
	case utf8.RuneCountInString(req.Answer) > maxAnswerRunes:
		return "answer too long"
	}
	return ""
}

// complete sends the request, retrying once on 429 or 5xx while the deadline
// allows, and returns the completion's text.
func (c *Client) complete(ctx context.Context, req bot.RephraseRequest) (text string, attempts int, err error) {
	creq := openai.ChatCompletionRequest{
		Model:       c.model,
		Messages:    messages(req),
		MaxTokens:   c.maxTokens,
		Temperature: c.temperature,
	}
	// Reasoning models (o1, o3, gpt-5…) refuse max_tokens and temperature;
	// the library knows which they are.
	if openai.NewReasoningValidator().Validate(creq) != nil {
		creq.MaxCompletionTokens, creq.MaxTokens, creq.Temperature = c.maxTokens, 0, 0
	}
	var resp openai.ChatCompletionResponse
	for {
		attempts++
		resp, err = c.api.CreateChatCompletion(ctx, creq)
		if err == nil {
			break
		}
		if attempts > 1 || !retryable(err) {
			return "", attempts, err
		}
		wait := time.NewTimer(retryDelay)
		select {
		case <-ctx.Done():
			wait.Stop()
			return "", attempts, fmt.Errorf("wait to retry after %v: %w", err, ctx.Err())
		case <-wait.C:
		}
	}
	if len(resp.Choices) == 0 {
		return "", attempts, errEmptyChoices
	}
	choice := resp.Choices[0]
	text = strings.TrimSpace(stripThinking(choice.Message.Content))
	switch {
	case choice.FinishReason == openai.FinishReasonLength:
		return "", attempts, errTruncated
	case text == "":
		return "", attempts, errEmptyContent
	}
	return text, attempts, nil
}

// retryable reports rate limiting and server errors, the failures that a
// second try may get past.
func retryable(err error) bool {
	code := statusCode(err)
	return code == http.StatusTooManyRequests || code >= 500
}

func statusCode(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// classify turns a failed call into its stats key, its verdict and what it
// tells the breaker. ctx is the caller's context: when the caller gave up,
// the server is not to blame.
func classify(ctx context.Context, err error) (stat, verdict string, o outcome) {
	var (
		urlErr    *url.Error
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case ctx.Err() != nil:
		return VerdictCanceled, VerdictCanceled, neutral
	case errors.Is(err, context.DeadlineExceeded):
		return VerdictTimeout, VerdictTimeout, failed
	case statusCode(err) != 0:
		return "error", "error: http " + strconv.Itoa(statusCode(err)), failed
	case errors.As(err, &urlErr): // connection refused, reset, closed…
		return "error", "error: transport", failed
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "error", "error: malformed response", failed
	case errors.Is(err, errEmptyChoices), errors.Is(err, errEmptyContent):
		return "error", "error: " + err.Error(), failed
	}
	return "error", "error: request", failed
}

// logCall logs one call: model, host, latency, outcome. Never the key, never
// the customer's text.
func (c *Client) logCall(ctx context.Context, req bot.RephraseRequest, res bot.RephraseResult, attempts int, took time.Duration, err error) {
	attrs := []slog.Attr{
		slog.String("model", c.model),
		slog.String("host", c.host),
		slog.String("topic", req.Topic),
		slog.String("lang", string(req.Lang)),
		slog.Duration("latency", took),
		slog.Int("attempts", attempts),
		slog.String("outcome", logOutcome(res.Verdict)),
	}
	level := slog.LevelInfo
	if err != nil && !errors.Is(err, errTruncated) {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", c.scrub(err)))
	}
	c.log.LogAttrs(ctx, level, "llm rephrase", attrs...)
}

// logOutcome drops a rejection's detail: it is the model's text, which may
// echo the customer's phone number or other personal data.
func logOutcome(verdict string) string {
	if rest, ok := strings.CutPrefix(verdict, "rejected: "); ok {
		return "rejected: " + ReasonCode(rest)
	}
	return verdict
}

// scrub shortens an error for a log line and removes the API key, or any
// part of it, from it: a misbehaving server may echo request headers in its
// error body.
func (c *Client) scrub(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // the URL may hold credentials; the host is logged apart
	}
	// Servers echo a key's first characters ("sk-test-se****"), not only
	// the whole key: Scrub removes any six or more of them.
	return detailN(config.Scrub(err.Error(), c.apiKey), maxErrorRunes)
}

func detailN(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// stripThinking drops a leading <think>…</think> block, which reasoning
// models served by vLLM or Ollama put into the content.
func stripThinking(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "<think>") {
		return s
	}
	if _, after, ok := strings.Cut(t, "</think>"); ok {
		return after
	}
	return "" // never finished thinking: nothing usable
}

// limitedDoer caps response bodies: the library reads them whole.
type limitedDoer struct{ c *http.Client }

func (d limitedDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxBodyBytes), resp.Body}
	return resp, nil
}

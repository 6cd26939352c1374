package telegram

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"golang.org/x/time/rate"

	"github.com/beianbot/beianbot/lru"
)

// The library sends each call once and turns Telegram's answers into errors.
// Retrying, waiting out 429s, keeping within Telegram's rate limits, and
// telling a failure that proves nothing happened from one that does not, are
// done here.
//
// A failed call either proves the request was not carried out — the
// connection was refused, the name did not resolve, Telegram (or a proxy in
// front of it) answered with an error — or leaves it unknown: the request
// was written and the answer never came (a timeout, a reset connection). The
// first kind is retried, with jittered back-off, until the call's deadline
// (minutes for a reply, so an outage of a minute loses nothing). The second
// kind is retried only as far as the call's lostPolicy allows, because the
// message may already be on the customer's screen.
const (
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 10 * time.Second
	// startupDeadline bounds the retries of the calls made at start (getMe, setWebhook…).
	startupDeadline = 10 * time.Second
)

// Outgoing limits Telegram documents: about 30 messages a second in all,
// one a second per chat (short bursts tolerated), 20 a minute per group.
type sendLimits struct {
	global        rate.Limit
	globalBurst   int
	perChat       rate.Limit
	perChatBurst  int
	perGroup      rate.Limit
	perGroupBurst int
}

var telegramLimits = sendLimits{
	global: 30, globalBurst: 30,
	perChat: 1, perChatBurst: 3,
	perGroup: rate.Limit(20.0 / 60), perGroupBurst: 3,
}

// errKind names why a call failed, for logs and metrics.
type errKind string

const (
	kindRateLimited  errKind = "rate_limited"
	kindBlocked      errKind = "blocked"
	kindServer       errKind = "server"
	kindNetwork      errKind = "network"
	kindBadRequest   errKind = "bad_request"
	kindMigrated     errKind = "migrated"
	kindUnauthorized errKind = "unauthorized"
	kindCanceled     errKind = "canceled"
	kindOther        errKind = "other"
)

// lostPolicy says what a call does after an attempt whose answer was lost.
type lostPolicy int

const (
	// retryLost: the call can be repeated harmlessly (getMe, answerCallbackQuery, edits).
	retryLost lostPolicy = iota
	// resendOnce: an answer; sent again once at most, so a customer sees it twice at worst.
	resendOnce
	// neverResend: a reminder; taken as sent, so it is never seen twice.
	neverResend
)

// maxLost is how many lost answers a policy tolerates before giving up (0: any number).
func (p lostPolicy) maxLost() int {
	switch p {
	case resendOnce:
		return 2
	case neverResend:
		return 1
	}
	return 0
}

// callSpec describes one Bot API call.
type callSpec struct {
	method    string
	chat      int64
	group     bool
	message   bool      // posts a message: counts against the per-chat limits
	unlimited bool      // skips the global limit too (a flood toast: best effort, never waits)
	deadline  time.Time // proven failures are retried until then; zero: never retried
	lost      lostPolicy
	lostSoFar int // answers already lost for this message (known from the outbox)
}

// sendError is a call that failed for good. Its message has the token
// scrubbed; the wrapped error is kept for errors.Is.
type sendError struct {
	kind   errKind
	status int
	msg    string
	err    error
	// lost counts attempts whose answer was lost: the message may have gone
	// out (lost > 0) although the call failed.
	lost int
}

func (e *sendError) Error() string { return fmt.Sprintf("%s: %s", e.kind, e.msg) }
func (e *sendError) Unwrap() error { return e.err }

// unsure reports whether a failed call may nevertheless have been carried out.
func (e *sendError) unsure() bool { return e.lost > 0 }

type sender struct {
	limits  sendLimits
	global  *rate.Limiter
	chats   *lru.Cache[int64, *rate.Limiter]
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
	jitter  func() float64 // in [0, 1): spreads retries so chats do not retry in step
	scrub   func(string) string
	log     *slog.Logger
	metrics *metrics
	// onMigrate is told when a group became a supergroup under a new id.
	onMigrate func(ctx context.Context, from, to int64)
	// onUnauthorized is told when Telegram rejects the token.
	onUnauthorized func()
	// cut, when done, cuts the requests on their way (see attempt); nil: never.
	cut context.Context
}

func newSender(l sendLimits, maxChats int, now func() time.Time, sleep func(context.Context, time.Duration) error, jitter func() float64) *sender {
	return &sender{
		limits: l,
		global: rate.NewLimiter(l.global, l.globalBurst),
		chats:  lru.New[int64, *rate.Limiter](maxChats, 10*time.Minute, now),
		sleep:  sleep,
		now:    now,
		jitter: jitter,
	}
}

// statusKey carries a *atomic.Int32 in a request's context; statusClient
// stores the HTTP status there. The library reports 5xx answers as untyped
// errors (and non-JSON bodies, like a proxy's 502 page, as decode errors), so
// the status is the reliable way to tell a server error — and that an
// answer came at all.
type statusKey struct{}

type statusClient struct {
	client *http.Client
}

// maxResponseBytes bounds what is read of one Bot API answer.
const maxResponseBytes = 32 << 20

func (c statusClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.GetBody == nil {
		// The library streams the form through a pipe. Read first, the
		// request can be sent again by net/http when a kept-alive
		// connection turns out closed before anything was written: that
		// is safe, and saves a call that would otherwise look lost.
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, unsentError{err}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	if st, ok := req.Context().Value(statusKey{}).(*atomic.Int32); ok {
		st.Store(int32(resp.StatusCode))
	}
	resp.Body = limitedBody{Reader: http.MaxBytesReader(nil, resp.Body, maxResponseBytes), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// unsentError is a request that failed before it left.
type unsentError struct{ err error }

func (e unsentError) Error() string { return "request not sent: " + e.err.Error() }
func (e unsentError) Unwrap() error { return e.err }

// call runs one Bot API call with retries. fn gets the chat id to use, which
// changes when Telegram says the group migrated.
//
// Once a request is on its way it is not cut short, even when ctx ends
// (shutdown): a cut request may still be carried out, and then nobody would
// know. ctx ending stops the waits between attempts and any further attempt.
// Only when shutdown stops waiting for it is it cut (see attempt).
func (s *sender) call(ctx context.Context, sp callSpec, fn func(ctx context.Context, chatID int64) error) error {
	backoff := firstBackoff
	migrated := false
	lost := sp.lostSoFar
	chatID := sp.chat
	fail := func(kind errKind, status int, err error) error {
		return &sendError{kind: kind, status: status, msg: s.scrub(err.Error()), err: err, lost: lost - sp.lostSoFar}
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(kindCanceled, 0, err)
		}
		if err := s.wait(ctx, chatID, sp); err != nil {
			return fail(kindCanceled, 0, err)
		}
		status := new(atomic.Int32)
		err := s.attempt(ctx, status, chatID, fn)
		if err == nil {
			return nil
		}
		st := int(status.Load())
		kind, retryAfter := classify(err, st)
		s.metrics.inc("beianbot_telegram_send_errors_total", "kind", string(kind))
		var mig *tg.MigrateError
		switch {
		case kind == kindMigrated && errors.As(err, &mig) && !migrated:
			migrated = true
			to := int64(mig.MigrateToChatID)
			s.log.Info("chat migrated to a supergroup", "method", sp.method, "chat", chatID, "to", to)
			if s.onMigrate != nil {
				s.onMigrate(ctx, chatID, to)
			}
			chatID = to
			continue
		case kind == kindUnauthorized && s.onUnauthorized != nil:
			s.onUnauthorized()
		}
		switch carriedOut(err, st) {
		case answerUnreadable:
			// Telegram said yes, in words the library could not read: it went out.
			lost++
			s.metrics.inc("beianbot_telegram_unsure_sends_total", "method", sp.method)
			return fail(kindOther, st, err)
		case answerLost:
			lost++
			s.metrics.inc("beianbot_telegram_unsure_sends_total", "method", sp.method)
			if m := sp.lost.maxLost(); m > 0 && lost >= m {
				s.log.Warn("Bot API answer lost; not sending again", "method", sp.method, "chat", chatID, "lost", lost)
				return fail(kind, st, err)
			}
		}
		retry := kind == kindRateLimited || kind == kindServer || kind == kindNetwork
		if !retry {
			return fail(kind, st, err)
		}
		delay := retryAfter
		if kind != kindRateLimited {
			// Equal jitter: half the back-off, plus up to as much again.
			delay = backoff/2 + time.Duration(s.jitter()*float64(backoff/2))
			backoff = min(2*backoff, maxBackoff)
		}
		if sp.deadline.IsZero() || s.now().Add(delay).After(sp.deadline) {
			s.log.Warn("Bot API call failed; its deadline leaves no time to retry", "method", sp.method, "chat", chatID, "kind", kind)
			return fail(kind, st, err)
		}
		s.log.Debug("retrying Bot API call", "method", sp.method, "chat", chatID, "kind", kind, "wait", delay)
		if err := s.sleep(ctx, delay); err != nil {
			return fail(kindCanceled, st, err)
		}
	}
}

// attempt makes one request. It does not end with ctx (see call), only
// when s.cut is done: shutdown cuts what is still on its way when it stops
// waiting, so that no request outlives Run — its outcome is then unknown,
// and the message is recorded as unsure before the journal closes.
func (s *sender) attempt(ctx context.Context, status *atomic.Int32, chatID int64, fn func(ctx context.Context, chatID int64) error) error {
	actx, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), statusKey{}, status))
	defer cancel()
	if s.cut != nil {
		defer context.AfterFunc(s.cut, cancel)()
	}
	return fn(actx, chatID)
}

// wait blocks until the global limit, and for messages the chat's, allow one more call.
func (s *sender) wait(ctx context.Context, chatID int64, sp callSpec) error {
	if sp.unlimited {
		return nil
	}
	limiters := []*rate.Limiter{s.global}
	if sp.message {
		limiters = append(limiters, s.chatLimiter(chatID, sp.group))
	}
	for _, l := range limiters {
		if l.Limit() == rate.Inf {
			continue
		}
		r := l.ReserveN(s.now(), 1)
		if !r.OK() {
			return errors.New("rate limiter burst is zero")
		}
		if d := r.DelayFrom(s.now()); d > 0 {
			if err := s.sleep(ctx, d); err != nil {
				r.Cancel()
				return err
			}
		}
	}
	return nil
}

func (s *sender) chatLimiter(chatID int64, group bool) *rate.Limiter {
	return s.chats.GetOrPut(chatID, func() *rate.Limiter {
		if group {
			return rate.NewLimiter(s.limits.perGroup, s.limits.perGroupBurst)
		}
		return rate.NewLimiter(s.limits.perChat, s.limits.perChatBurst)
	})
}

// readyAt is when chatID may next be sent a message without waiting: the
// zero time when it may now, else when its limiter will have a token again.
// The scheduler starts no work for a chat before then, so a busy group
// waits aside instead of in a worker.
func (s *sender) readyAt(chatID int64, group bool) time.Time {
	l, ok := s.chats.Get(chatID)
	if !ok || l.Limit() == rate.Inf {
		return time.Time{}
	}
	now := s.now()
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return time.Time{}
	}
	// Rounded up to the millisecond, so the limiter surely has its token then.
	ms := math.Ceil((1 - tokens) / float64(l.Limit()) * 1000)
	return now.Add(time.Duration(ms) * time.Millisecond)
}

// classify tells what a failed call means and how long Telegram asks to wait.
// The client's own timeout counts as a network failure: calls never see the
// caller's cancellation (see call).
func classify(err error, status int) (errKind, time.Duration) {
	var tooMany *tg.TooManyRequestsError
	var mig *tg.MigrateError
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.As(err, &tooMany):
		// retry_after is whole seconds, at least 1 when present.
		return kindRateLimited, time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
	case errors.As(err, &mig):
		return kindMigrated, 0
	case errors.Is(err, tg.ErrorForbidden):
		return kindBlocked, 0
	case errors.Is(err, tg.ErrorUnauthorized):
		return kindUnauthorized, 0
	case errors.Is(err, tg.ErrorBadRequest), errors.Is(err, tg.ErrorNotFound):
		return kindBadRequest, 0
	case status >= 500:
		return kindServer, 0
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		return kindNetwork, 0
	}
	return kindOther, 0
}

// outcome is what a failed attempt says about whether it was carried out.
type outcome int

const (
	notCarriedOut    outcome = iota // proven: nothing happened
	answerLost                      // unknown: the request was sent, no answer came
	answerUnreadable                // carried out: Telegram answered 2xx, unreadably
)

// carriedOut tells whether a failed attempt may have been carried out.
// status is the HTTP status of the answer (0: none came).
func carriedOut(err error, status int) outcome {
	switch {
	case status >= 200 && status < 300:
		return answerUnreadable
	case status != 0:
		// An answer with an error status (Telegram's 4xx, 429, 5xx, or a
		// proxy's 502): the request was refused, not carried out.
		return notCarriedOut
	case notSent(err):
		return notCarriedOut
	}
	return answerLost
}

// notSent reports errors that happen before a request leaves: no
// connection, no address, no TLS session, or a context that ended first.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var unsent unsentError
	if errors.As(err, &unsent) {
		return true
	}
	var dns *net.DNSError
	var verify *tls.CertificateVerificationError
	var header tls.RecordHeaderError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var alert tls.AlertError
	switch {
	case errors.As(err, &dns), errors.As(err, &verify), errors.As(err, &header),
		errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &alert):
		return true
	case strings.Contains(err.Error(), "TLS handshake timeout"),
		// A kept-alive connection the server had closed: net/http returns
		// this when nothing of the request was written.
		strings.Contains(err.Error(), "server closed idle connection"):
		return true
	}
	return false
}

// isParseError reports a message Telegram could not parse as HTML.
func isParseError(err error) bool {
	return errors.Is(err, tg.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "can't parse entities")
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

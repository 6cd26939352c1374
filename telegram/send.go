package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	tg "github.com/go-telegram/bot"
	"golang.org/x/time/rate"
)

// The library sends each call once and turns Telegram's answers into errors;
// retrying, waiting out 429s and keeping within Telegram's rate limits is
// done here.
const (
	maxAttempts   = 5
	maxRetryAfter = 60 * time.Second // a longer ban is not waited out in a handler
	firstBackoff  = 500 * time.Millisecond
	maxBackoff    = 8 * time.Second
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

// sendError is a call that failed for good. Its message has the token
// scrubbed; the wrapped error is kept for errors.Is.
type sendError struct {
	kind   errKind
	status int
	msg    string
	err    error
}

func (e *sendError) Error() string { return fmt.Sprintf("%s: %s", e.kind, e.msg) }
func (e *sendError) Unwrap() error { return e.err }

type sender struct {
	limits  sendLimits
	global  *rate.Limiter
	chats   *lru[int64, *rate.Limiter]
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
	scrub   func(string) string
	log     *slog.Logger
	metrics *metrics
	// onMigrate is told when a group became a supergroup under a new id.
	onMigrate func(ctx context.Context, from, to int64)
	// onUnauthorized is told when Telegram rejects the token.
	onUnauthorized func()
}

func newSender(l sendLimits, maxChats int, now func() time.Time, sleep func(context.Context, time.Duration) error) *sender {
	return &sender{
		limits: l,
		global: rate.NewLimiter(l.global, l.globalBurst),
		chats:  newLRU[int64, *rate.Limiter](maxChats, 10*time.Minute, now),
		sleep:  sleep,
		now:    now,
	}
}

// statusKey carries a *atomic.Int32 in a request's context; statusClient
// stores the HTTP status there. The library reports 5xx answers as untyped
// errors (and non-JSON bodies, like a proxy's 502 page, as decode errors), so
// the status is the reliable way to tell a server error.
type statusKey struct{}

type statusClient struct {
	client *http.Client
}

// maxResponseBytes bounds what the library reads of one Bot API answer.
const maxResponseBytes = 32 << 20

func (c statusClient) Do(req *http.Request) (*http.Response, error) {
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

// call runs one Bot API call for chatID with retries. message says whether
// the call posts a message (and so counts against the per-chat limits);
// group whether the chat is a group. fn gets the chat id to use, which
// changes when Telegram says the group migrated.
func (s *sender) call(ctx context.Context, method string, chatID int64, group, message bool, fn func(ctx context.Context, chatID int64) error) error {
	backoff := firstBackoff
	migrated := false
	for attempt := 1; ; attempt++ {
		if err := s.wait(ctx, chatID, group, message); err != nil {
			return &sendError{kind: kindCanceled, msg: err.Error(), err: err}
		}
		status := new(atomic.Int32)
		err := fn(context.WithValue(ctx, statusKey{}, status), chatID)
		if err == nil {
			return nil
		}
		kind, retryAfter := classify(err, int(status.Load()))
		if ctx.Err() != nil {
			kind = kindCanceled
		}
		if kind != kindCanceled {
			s.metrics.inc("beianbot_telegram_send_errors_total", "kind", string(kind))
		}
		var mig *tg.MigrateError
		switch {
		case kind == kindMigrated && errors.As(err, &mig) && !migrated:
			migrated = true
			to := int64(mig.MigrateToChatID)
			s.log.Info("chat migrated to a supergroup", "method", method, "chat", chatID, "to", to)
			if s.onMigrate != nil {
				s.onMigrate(ctx, chatID, to)
			}
			chatID = to
			continue
		case kind == kindUnauthorized && s.onUnauthorized != nil:
			s.onUnauthorized()
		}
		retry := kind == kindRateLimited || kind == kindServer || kind == kindNetwork
		if !retry || attempt == maxAttempts || retryAfter > maxRetryAfter {
			return &sendError{kind: kind, status: int(status.Load()), msg: s.scrub(err.Error()), err: err}
		}
		delay := retryAfter
		if kind != kindRateLimited {
			delay, backoff = backoff, min(2*backoff, maxBackoff)
		}
		s.log.Debug("retrying Bot API call", "method", method, "chat", chatID, "kind", kind, "attempt", attempt, "wait", delay)
		if err := s.sleep(ctx, delay); err != nil {
			return &sendError{kind: kindCanceled, msg: err.Error(), err: err}
		}
	}
}

// wait blocks until the global limit, and for messages the chat's, allow one more call.
func (s *sender) wait(ctx context.Context, chatID int64, group, message bool) error {
	limiters := []*rate.Limiter{s.global}
	if message {
		limiters = append(limiters, s.chats.GetOrPut(chatID, func() *rate.Limiter {
			if group {
				return rate.NewLimiter(s.limits.perGroup, s.limits.perGroupBurst)
			}
			return rate.NewLimiter(s.limits.perChat, s.limits.perChatBurst)
		}))
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

// classify tells what a failed call means and how long Telegram asks to wait.
func classify(err error, status int) (errKind, time.Duration) {
	var tooMany *tg.TooManyRequestsError
	var mig *tg.MigrateError
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return kindCanceled, 0
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

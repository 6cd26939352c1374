package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	tg "github.com/go-telegram/bot"
)

// startWebhook tells Telegram where to post updates and starts listening.
// TLS is expected to end at a reverse proxy in front (Telegram only posts
// to https on ports 443, 80, 88 or 8443).
func (s *Server) startWebhook(ctx context.Context) (*http.Server, error) {
	pub, _ := url.Parse(s.cfg.Webhook.PublicURL) // checked by New
	ln, err := net.Listen("tcp", s.cfg.Webhook.Listen)
	if err != nil {
		return nil, fmt.Errorf("telegram.webhook.listen %s: %w", s.cfg.Webhook.Listen, err)
	}
	srv := &http.Server{
		Handler:           s.webhookHandler(pub.Path),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("webhook server: %w", err))
		}
	}()
	params := &tg.SetWebhookParams{
		URL:            s.cfg.Webhook.PublicURL,
		SecretToken:    s.secret,
		AllowedUpdates: allowedUpdates,
	}
	err = s.send.call(ctx, s.startupSpec("setWebhook"), func(ctx context.Context, _ int64) error {
		_, err := s.api.SetWebhook(ctx, params)
		return err
	})
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("telegram setWebhook: %w", err)
	}
	s.webhookAddr = ln.Addr().String()
	s.log.Info("webhook listening", "addr", s.webhookAddr, "path", pub.Path)
	return srv, nil
}

// webhookHandler serves the update path and /healthz. An update is stored
// in the inbox before it is answered 200: a crash after that loses nothing,
// and one before it leaves the update with Telegram, which posts it again.
func (s *Server) webhookHandler(path string) http.Handler {
	if path == "" {
		path = "/"
	}
	want := sha256.Sum256([]byte(s.secret))
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Comparing digests keeps the comparison constant-time whatever the lengths.
		got := sha256.Sum256([]byte(r.Header.Get("X-Telegram-Bot-Api-Secret-Token")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			s.metrics.inc("beianbot_telegram_webhook_rejected_total", "reason", "secret")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.Webhook.MaxBodyBytes))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			s.metrics.inc("beianbot_telegram_webhook_rejected_total", "reason", "too_large")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		var u struct {
			ID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(body, &u); err != nil || u.ID <= 0 {
			s.metrics.inc("beianbot_telegram_webhook_rejected_total", "reason", "malformed")
			s.log.Warn("malformed webhook update", "bytes", len(body))
			http.Error(w, "malformed update", http.StatusBadRequest)
			return
		}
		if !s.healthy.Load() || s.sched.len() >= s.cfg.InboxLimit {
			// Telegram keeps the update and posts it again later.
			s.metrics.inc("beianbot_telegram_webhook_rejected_total", "reason", "busy")
			w.Header().Set("Retry-After", "5")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b := s.triageAll([]json.RawMessage{body})
		if err := s.commit(r.Context(), 0, b); err != nil {
			s.log.Error("cannot store a webhook update in the inbox", "update", u.ID, "err", err)
			http.Error(w, "cannot store the update", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

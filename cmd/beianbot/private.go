package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/support"
)

// privateHandler keeps customers' numbers and our secrets out of every log
// line: each message and each text value (errors included) is scrubbed of
// any part of a configured secret, then redacted like the question log
// (phones, IDs, codes, e-mails). Whatever a library or a server puts in an
// error, it reaches the log only this way.
type privateHandler struct {
	next    slog.Handler
	secrets []string
}

func (h privateHandler) clean(s string) string {
	return support.Redact(config.Scrub(s, h.secrets...))
}

func (h privateHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h privateHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.clean(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h privateHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	cleaned := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		cleaned[i] = h.attr(a)
	}
	return privateHandler{h.next.WithAttrs(cleaned), h.secrets}
}

func (h privateHandler) WithGroup(name string) slog.Handler {
	return privateHandler{h.next.WithGroup(name), h.secrets}
}

// attr cleans text values; numbers, times and durations carry no customer text.
func (h privateHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.clean(v.String()))
	case slog.KindGroup:
		group := v.Group()
		cleaned := make([]any, len(group))
		for i, g := range group {
			cleaned[i] = h.attr(g)
		}
		return slog.Group(a.Key, cleaned...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.clean(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.clean(x.String()))
		case []byte:
			return slog.String(a.Key, h.clean(string(x)))
		default:
			return slog.String(a.Key, h.clean(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// scrubWriter removes secrets from what the program writes to standard
// error: error messages may quote a server that echoed a key.
type scrubWriter struct {
	w       io.Writer
	secrets []string
}

func (s scrubWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, config.Scrub(string(p), s.secrets...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

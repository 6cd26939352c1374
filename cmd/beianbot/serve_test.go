package main

import (
	"context"
	"log/slog"
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

	sup, err := supportOps(ctx, cfg, st)
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

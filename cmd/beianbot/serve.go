package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/store"
	"github.com/beianbot/beianbot/support"
	"github.com/beianbot/beianbot/telegram"
)

// runServe runs the Telegram bot until SIGINT or SIGTERM:
// `beianbot serve [--mode polling|webhook] [--memory]`. The token comes from
// BEIANBOT_TELEGRAM_TOKEN or telegram.token. Exit codes: 0 after a clean
// stop, 2 for a configuration problem (token missing, malformed or
// rejected), 1 when the bot fails while running.
func runServe(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "beianbot serve [--config FILE] [--mode polling|webhook] [--memory]", stderr)
	mode := fs.String("mode", cfg.Telegram.Mode, "how updates arrive: polling or webhook (telegram.mode)")
	memory := fs.Bool("memory", false, "keep chat state and the inbox in memory only, instead of the database in data_dir (a restart loses unanswered updates)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg.Telegram.Mode = *mode
	logger := newLogger(cfg, stderr)
	// From here on a problem is told the way the log is written, so that a
	// log shipper reading JSON gets only JSON.
	report := func(err error) {
		if cfg.Log.Format == "json" {
			logger.Error("serve failed", "err", err)
			return
		}
		fmt.Fprintln(stderr, "beianbot:", err)
	}
	// A bad token (or mode, URL, secret) is found before the slower engine build.
	if err := telegram.CheckConfig(cfg.Telegram); err != nil {
		report(err)
		return 2
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	engOpts, err := engineOptions(cfg, cfg.LLM.Enabled, logger)
	if err != nil {
		report(err)
		return 2
	}
	eng, err := bot.New(ctx, engOpts)
	if err != nil {
		report(err)
		return 2
	}
	defer eng.Close()

	opts := []telegram.Option{telegram.WithLogger(logger)}
	if r, ok := engOpts.Rephraser.(interface{ Stats() map[string]int64 }); ok {
		opts = append(opts, telegram.WithLLMStats(r.Stats)) // its outcomes, in the metrics
	}
	if !*memory {
		st, err := store.Open(ctx, cfg.DataDir, store.WithLogger(logger))
		if err != nil {
			report(fmt.Errorf("%w (or run with --memory)", err))
			return 2
		}
		defer st.Close()
		// The inbox: updates taken and not yet answered survive a crash or restart.
		opts = append(opts, telegram.WithConversations(st), telegram.WithInbox(st))
		sup, err := supportOps(ctx, cfg, st, logger)
		if err != nil {
			report(err)
			return 2
		}
		opts = append(opts, telegram.WithSupport(sup))
		tidyCtx, stopTidy := context.WithCancel(ctx)
		housekeeping := make(chan struct{})
		defer func() { stopTidy(); <-housekeeping }() // before st.Close: defers run last first
		go func() { defer close(housekeeping); keepTidy(tidyCtx, cfg, st, logger) }()
	}
	srv, err := telegram.New(cfg.Telegram, eng, opts...)
	if err != nil {
		report(err)
		return 2
	}
	if err := srv.Run(ctx); err != nil {
		report(err)
		var ce *telegram.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	return 0
}

// supportOps builds the question log, handoff and reminders over the store.
// Handoff needs telegram.support_chat_id as well; without it /human points
// customers to the provider's support.
func supportOps(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) (telegram.Support, error) {
	salt, err := support.Salt(ctx, cfg.QuestionLog.Salt, st)
	if err != nil {
		return telegram.Support{}, err
	}
	ql, err := support.NewQuestionLog(st, salt)
	if err != nil {
		return telegram.Support{}, err
	}
	return telegram.Support{
		Questions:   ql,
		Threads:     st,
		Reminders:   support.NewReminders(st, cfg.Reminders.Before, support.WithLogger(log)),
		SupportName: cfg.Provider.Support,
		Clock:       time.Now,
		Tick:        time.Minute,
	}, nil
}

// keepTidy runs until ctx ends: once a day it purges what is older than the
// retention period (question_log.retention_days), and every hour it forgets
// conversations idle longer than telegram.chat_ttl.
func keepTidy(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) {
	const expireEvery, purgeEvery = time.Hour, 24 * time.Hour
	tick := time.NewTicker(expireEvery)
	defer tick.Stop()
	var lastPurge time.Time
	for {
		now := time.Now()
		purge := now.Sub(lastPurge) >= purgeEvery
		if purge {
			lastPurge = now
		}
		tidy(ctx, cfg, st, log, now, purge)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// tidy is one round of keepTidy; purge says whether the daily purge is due.
func tidy(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger, now time.Time, purge bool) {
	if cfg.Telegram.ChatTTL > 0 {
		if n, err := st.ExpireConversations(ctx, now.Add(-cfg.Telegram.ChatTTL)); err != nil {
			if ctx.Err() == nil {
				log.Warn("cannot expire idle conversations", "err", err)
			}
		} else if n > 0 {
			log.Info("expired idle conversations", "count", n)
		}
	}
	if days := cfg.QuestionLog.RetentionDays; days > 0 && purge {
		n, err := st.Purge(ctx, now.AddDate(0, 0, -days))
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("daily purge failed", "err", err)
			}
			return
		}
		log.Info("daily purge", "retention_days", days, "questions", n.Questions, "threads", n.Threads, "reminders", n.Reminders, "conversations", n.Conversations)
	}
}

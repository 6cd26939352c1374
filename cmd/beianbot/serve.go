package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/store"
	"github.com/beianbot/beianbot/telegram"
)

// runServe runs the Telegram bot until SIGINT or SIGTERM:
// `beianbot serve [--mode polling|webhook] [--memory]`. The token comes from
// BEIANBOT_TELEGRAM_TOKEN or telegram.token. Exit codes: 0 after a clean
// stop, 2 for a configuration problem (token missing, malformed or
// rejected), 1 when the bot fails while running.
func runServe(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	mode := fs.String("mode", cfg.Telegram.Mode, "how updates arrive: polling or webhook (telegram.mode)")
	memory := fs.Bool("memory", false, "keep chat state in memory only, instead of the database in data_dir")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: beianbot serve [--config FILE] [--mode polling|webhook] [--memory]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg.Telegram.Mode = *mode
	// A bad token (or mode, URL, secret) is found before the slower engine build.
	if err := telegram.CheckConfig(cfg.Telegram); err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := newLogger(cfg, stderr)

	eng, err := newEngine(ctx, cfg, cfg.LLM.Enabled, logger)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}
	defer eng.Close()

	opts := []telegram.Option{telegram.WithLogger(logger)}
	if !*memory {
		st, err := store.Open(ctx, cfg.DataDir)
		if err != nil {
			fmt.Fprintln(stderr, "beianbot:", err, "(or run with --memory)")
			return 2
		}
		defer st.Close()
		opts = append(opts, telegram.WithConversations(st), telegram.WithOffsets(storeOffsets{st}))
	}
	srv, err := telegram.New(cfg.Telegram, eng, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		var ce *telegram.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	return 0
}

// storeOffsets keeps the last handled update_id in the database, so that a
// restart does not answer an update twice.
type storeOffsets struct{ st *store.Store }

func (o storeOffsets) Last(ctx context.Context) (int64, error) { return o.st.LastUpdateID(ctx) }
func (o storeOffsets) Save(ctx context.Context, id int64) error {
	return o.st.SetLastUpdateID(ctx, id)
}

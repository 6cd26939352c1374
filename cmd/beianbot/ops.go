package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/store"
	"github.com/beianbot/beianbot/support"
)

// runReport prints what customers asked over a period, from the question
// log in data_dir: `beianbot report [--since 7d] [--format text|csv|json]`.
func runReport(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", "beianbot report [--since 7d] [--format text|csv|json] [--low-score N] [--similarity 0.5]", stderr)
	since := fs.String("since", "7d", "period to report: a duration (7d, 36h, 2w) or a date (2025-03-01, Beijing time)")
	format := fs.String("format", "text", "output format: text, csv or json")
	minScore := cfg.Index.MinScore
	if minScore == 0 {
		minScore = bot.DefaultMinScore
	}
	low := floatFlag(math.Round(1.5*minScore*1000) / 1000) // 0.3, not 0.30000000000000004
	fs.Var(&low, "low-score", "answers given with a confidence below this count as low confidence (1.5 × index.min_score)")
	sim := floatFlag(support.DefaultSimilarity)
	fs.Var(&sim, "similarity", "group questions this similar (0–1, character pairs in common)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	lowScore, similarity := (*float64)(&low), (*float64)(&sim)
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "beianbot report: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	now := time.Now().Truncate(time.Second)
	from, err := parseSince(*since, now)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot report: --since:", err)
		return 2
	}
	var write func(support.Report, io.Writer) error
	switch *format {
	case "text":
		write = support.Report.WriteText
	case "csv":
		write = support.Report.WriteCSV
	case "json":
		write = support.Report.WriteJSON
	default:
		fmt.Fprintf(stderr, "beianbot report: --format %q is not text, csv or json\n", *format)
		return 2
	}
	if *similarity <= 0 || *similarity > 1 {
		fmt.Fprintln(stderr, "beianbot report: --similarity must be above 0 and at most 1")
		return 2
	}

	st, err := store.Open(ctx, cfg.DataDir, store.MustExist(), store.WithLogger(newLogger(cfg, stderr)))
	if err != nil {
		fmt.Fprintln(stderr, "beianbot report:", err)
		return 1
	}
	defer st.Close()
	rep, err := support.BuildReport(ctx, st, support.ReportOptions{
		Since: from, Until: now, LowScore: *lowScore, Similarity: *similarity,
	})
	if err != nil {
		fmt.Fprintln(stderr, "beianbot report:", err)
		return 1
	}
	if err := write(rep, stdout); err != nil {
		fmt.Fprintln(stderr, "beianbot report:", err)
		return 1
	}
	return 0
}

// runPurge deletes what is older than the retention period (config
// question_log.retention_days): `beianbot purge [--older-than 30d]`.
// Run it daily, e.g. from cron or a systemd timer.
func runPurge(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("purge", "beianbot purge [--older-than 30d]", stderr)
	olderThan := fs.String("older-than", strconv.Itoa(cfg.QuestionLog.RetentionDays)+"d",
		"delete what is older than this (question_log.retention_days)")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "beianbot purge: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	age, err := parseAge(*olderThan)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot purge: --older-than:", err)
		return 2
	}
	st, err := store.Open(ctx, cfg.DataDir, store.MustExist(), store.WithLogger(newLogger(cfg, stderr)))
	if err != nil {
		fmt.Fprintln(stderr, "beianbot purge:", err)
		return 1
	}
	defer st.Close()
	cut := time.Now().Truncate(time.Second).Add(-age)
	n, err := st.Purge(ctx, cut)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot purge:", err)
		return 1
	}
	fmt.Fprintf(stdout, "purged what was older than %s (Beijing time): %d questions, %d closed threads, %d finished reminders, %d idle conversations\n",
		cut.In(support.Beijing).Format("2006-01-02 15:04"), n.Questions, n.Threads, n.Reminders, n.Conversations)
	return 0
}

// parseSince reads --since: an age (7d, 36h, 2w) before now, or a date
// (2006-01-02) or date and time (2006-01-02 15:04) in Beijing time.
func parseSince(s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, support.Beijing); err == nil {
			if t.After(now) {
				return time.Time{}, fmt.Errorf("%s is in the future", s)
			}
			return t, nil
		}
	}
	age, err := parseAge(s)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(-age), nil
}

// parseAge reads a positive duration, accepting days (d) and weeks (w)
// besides Go's units: 30d, 2w, 36h, 90m.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	switch {
	case strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w"):
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		var n float64
		n, err = strconv.ParseFloat(s[:len(s)-1], 64)
		d = time.Duration(n * float64(unit))
	default:
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, errors.New(strconv.Quote(s) + " is not a positive duration like 7d, 2w or 36h")
	}
	return d, nil
}

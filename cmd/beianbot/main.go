// Command beianbot answers questions about the SMS-verification step of
// China's ICP filing: a CLI harness for the support team and a Telegram bot.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

const usage = `beianbot — help with the SMS verification (短信核验) of ICP filing (备案)

Usage:
  beianbot ask   [--json] [--lang zh|zh-hant|en] [--explain] [--rephrase] [QUESTION...]
                 answer each question on its own; with no QUESTION, one per line (a prompt on a terminal)
  beianbot chat  [--json] [--lang zh|zh-hant|en] [--explain] [--rephrase]
                 one conversation: a prompt with line editing and history on a terminal, one turn per line when piped
  beianbot matrix [--json] [--lang zh|zh-hant|en]
                 print who must verify for each filing type
  beianbot eval  [--min 0.95] [--gate SET=MIN] [--report] [--cv K] [--json] [--all]
                 [--out DIR] [--junit FILE] [--baseline OLD/results.jsonl] FILE|DIR...
                 run evaluation sets (and K-fold cross-validation over the knowledge
                 base's examples) and report accuracy per set, language and topic;
                 --out writes report.html, results.jsonl and junit.xml; --baseline
                 lists the questions answered differently since that run; --report
                 prints what would fail but exits 0
  beianbot kb lint [DIR]
                 check a knowledge-base directory (default: the embedded one)
  beianbot kb diff OLD_DIR NEW_DIR [--all] [--eval FILE|DIR...]
                 topics, answers and examples added, removed or changed; with --eval,
                 the questions of those sets that the new knowledge base answers differently
  beianbot serve  [--mode polling|webhook] [--memory]
                 run the Telegram bot (token from BEIANBOT_TELEGRAM_TOKEN or the file BEIANBOT_TELEGRAM_TOKEN_FILE names)
  beianbot report [--since 7d] [--format text|csv|json]
                 what customers asked: volume, unanswered questions, 👎, handoffs, suggested examples
  beianbot purge  [--older-than 30d]
                 delete logged questions and finished threads older than the retention period
  beianbot health [--url URL]
                 ask a running serve whether it is healthy (/healthz; for Docker's HEALTHCHECK)
  beianbot version (or --version)
                 the version, VCS revision and time, and Go version it was built with

Every command takes --config FILE; settings can also come from BEIANBOT_* environment variables.
beianbot COMMAND --help (or beianbot help COMMAND) lists a command's flags and their defaults.
`

const (
	askUsage  = "beianbot ask [--json] [--lang zh|zh-hant|en] [--explain] [--rephrase] [QUESTION...]"
	chatUsage = "beianbot chat [--json] [--lang zh|zh-hant|en] [--explain] [--rephrase]"
)

// defaultMemoryLimit is the Go heap's soft limit when GOMEMLIMIT is not set:
// start-up (reading and indexing the knowledge base, training the
// classifier) makes short-lived garbage that would otherwise raise the
// resident memory well above what the engine keeps (measured: 48 MB resident
// instead of 60–70 MB, with the same start-up time). It is soft: a busier
// server may use more, collected more often.
const defaultMemoryLimit = 32 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	// The context ends with the signal as its cause, so that chat and ask
	// exit with 130 after Ctrl-C (143 after SIGTERM) and serve stops cleanly.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range sigs {
			cancel(signalCause{sig})
		}
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	os.Exit(code)
}

// run is main without the process: it returns the exit code, so tests can
// drive every command. 0 success, 1 a failed check (eval below --min, lint
// errors), 2 bad usage or configuration.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" {
		args = []string{args[1], "--help"}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, rest := args[0], args[1:]
	if cmd == "version" || cmd == "--version" || cmd == "-version" {
		return runVersion(rest, stdout, stderr) // needs no configuration
	}
	cfgPath, rest, err := extractConfigFlag(rest)
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}
	cfg, err := config.Load(cfgPath, os.Environ())
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "beianbot:", line)
		}
		return 2
	}
	// From here on, nothing written to standard error carries a secret, and
	// no log line a secret or a customer's number.
	stderr = scrubWriter{stderr, cfg.Secrets()}
	// Our packages log through the logger they are given; this catches what
	// a library writes through the log package, in the same format.
	slog.SetDefault(newLogger(cfg, stderr))
	switch cmd {
	case "ask":
		return runAsk(ctx, cfg, rest, stdin, stdout, stderr)
	case "chat":
		return runChat(ctx, cfg, rest, stdin, stdout, stderr)
	case "matrix":
		return runMatrix(ctx, cfg, rest, stdout, stderr)
	case "eval":
		return runEval(ctx, cfg, rest, stdout, stderr)
	case "kb":
		return runKB(ctx, cfg, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, cfg, rest, stdout, stderr)
	case "report":
		return runReport(ctx, cfg, rest, stdout, stderr)
	case "purge":
		return runPurge(ctx, cfg, rest, stdout, stderr)
	case "health":
		return runHealth(ctx, cfg, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "beianbot: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// extractConfigFlag takes --config FILE (or --config=FILE) out of args, so
// that every command accepts it wherever it stands.
func extractConfigFlag(args []string) (string, []string, error) {
	var path string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return "", nil, errors.New("--config needs a file name")
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	return path, rest, nil
}

// newEngine builds the answer engine from the configuration: the knowledge
// base (embedded or knowledge_dir), the provider's names, and, when asked
// for and configured, LLM rephrasing.
func newEngine(ctx context.Context, cfg config.Config, rephrase bool, logger *slog.Logger) (*bot.Engine, error) {
	opts, err := engineOptions(cfg, rephrase, logger)
	if err != nil {
		return nil, err
	}
	return bot.New(ctx, opts)
}

// engineOptions are the engine's options from the configuration: the
// provider's names, thresholds, a knowledge-base directory, the rephraser.
func engineOptions(cfg config.Config, rephrase bool, logger *slog.Logger) (bot.Options, error) {
	opts := bot.Options{
		Provider: &knowledge.Provider{
			Name:         knowledge.Text(cfg.Provider.Name),
			FilingSystem: knowledge.Text(cfg.Provider.FilingSystem),
			Support:      knowledge.Text(cfg.Provider.Support),
		},
		MinScore:  cfg.Index.MinScore,
		MinMargin: cfg.Index.MinMargin,
		Logger:    logger,
	}
	if cfg.KnowledgeDir != "" {
		kb, err := knowledge.LoadDir(cfg.KnowledgeDir)
		if err != nil {
			return bot.Options{}, err
		}
		opts.Knowledge = kb
	}
	if rephrase {
		r, err := newRephraser(cfg, logger)
		if err != nil {
			return bot.Options{}, err
		}
		opts.Rephraser = r
	}
	return opts, nil
}

// newLogger logs to stderr in the configured format (log.format) from the
// configured level (log.level) up, through privateHandler.
func newLogger(cfg config.Config, stderr io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		level = slog.LevelInfo // config.Load has refused anything else
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if cfg.Log.Format == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	return slog.New(privateHandler{h, cfg.Secrets()})
}

// commonFlags are the flags ask and chat share.
type commonFlags struct {
	json, explain, rephrase bool
	lang                    string
	pinned                  lang.Lang // from lang
	traditional             bool      // lang asked for Traditional characters
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print one JSON object per reply")
	fs.BoolVar(&c.explain, "explain", false, "show why: matched rows, index hits, the deciding rule")
	fs.BoolVar(&c.rephrase, "rephrase", false, "let the configured LLM rephrase answers (llm.enabled must be true)")
	fs.StringVar(&c.lang, "lang", "", "reply language: zh, zh-hant (Traditional; also zh-hk, zh-tw) or en (default: the question's)")
}

// newFlagSet is a command's flags, with --config listed (run takes it out
// of the arguments before the command sees them) and a usage line.
func newFlagSet(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("beianbot "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "settings file (YAML, see config.example.yaml); BEIANBOT_* variables override it")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; done is true when the command is over: --help
// (usage on standard output, exit 0) or a bad flag (exit 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0, true
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2, true
	}
	return 0, false
}

// floatFlag prints its default as a person would write it (0.45, not
// 0.44999999999999996, for a default computed from the config).
type floatFlag float64

func (f *floatFlag) String() string { return strconv.FormatFloat(float64(*f), 'g', 10, 64) }

func (f *floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return errors.New("not a number")
	}
	*f = floatFlag(v)
	return nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
	"golang.org/x/text/width"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/eval"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/matrix"
)

// maxLineBytes bounds one line of standard input; the rest of a longer line
// is skipped, and the line still gets its one reply.
const maxLineBytes = 1 << 20

// startSession parses the flags ask and chat share and builds the engine;
// code is the exit code when e is nil.
func startSession(ctx context.Context, cfg config.Config, name, usage string, args []string, stdout, stderr io.Writer) (e *bot.Engine, f commonFlags, rest []string, code int) {
	fs := newFlagSet(name, usage, stderr)
	f.register(fs)
	if code, done := parseFlags(fs, args, stdout); done {
		return nil, f, nil, code
	}
	var ok bool
	f.pinned, f.traditional, ok = parseLangFlag(f.lang, stderr)
	if !ok {
		return nil, f, nil, 2
	}
	e, code = buildEngine(ctx, cfg, f.rephrase, stderr)
	return e, f, fs.Args(), code
}

// conversation is a fresh conversation in the language --lang pins.
func (f commonFlags) conversation() *bot.Conversation {
	return &bot.Conversation{Lang: f.pinned, Traditional: f.traditional}
}

func runAsk(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e, f, questions, code := startSession(ctx, cfg, "ask", askUsage, args, stdout, stderr)
	if e == nil {
		return code
	}
	defer e.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if len(questions) > 0 {
		for _, q := range questions {
			if code, stop := answer(ctx, e, f.conversation(), q, out, f); stop {
				return code
			}
		}
		return 0
	}
	// No question: one per line. On a terminal, with a prompt.
	var src lineSource = newPipedLines(stdin)
	if in, ok := terminal(stdin); ok && !f.json {
		fmt.Fprintln(out, "beianbot ask — one question per line, each answered on its own. Ctrl-D ends.")
		out.Flush()
		src = newTerminalLines(in, stdout, "? ", historyPath())
	}
	return readAndAnswer(ctx, "ask", src, out, stderr, func(line string) (int, bool) {
		return answer(ctx, e, f.conversation(), line, out, f)
	})
}

func runChat(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e, f, extra, code := startSession(ctx, cfg, "chat", chatUsage, args, stdout, stderr)
	if e == nil {
		return code
	}
	defer e.Close()
	if len(extra) > 0 {
		fmt.Fprintln(stderr, "beianbot chat takes no questions as arguments; type them, or use beianbot ask")
		return 2
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	in, interactive := terminal(stdin)
	interactive = interactive && !f.json
	var src lineSource = newPipedLines(stdin)
	if interactive {
		fmt.Fprintln(out, "beianbot chat — ask in 中文 or English. /reset starts over; /quit, Ctrl-D or Ctrl-C ends; ↑/↓ recall earlier questions.")
		fmt.Fprintln(out)
		out.Flush()
		src = newTerminalLines(in, stdout, "> ", historyPath())
	}
	conv := f.conversation()
	return readAndAnswer(ctx, "chat", src, out, stderr, func(line string) (int, bool) {
		switch strings.TrimSpace(line) {
		case "/quit", "/exit":
			return 0, true
		case "/reset":
			conv = f.conversation()
			if !f.json {
				fmt.Fprint(out, "(new conversation · 新对话)\n\n")
				out.Flush()
			}
			return 0, false
		case "":
			if interactive {
				return 0, false // an empty line: a new prompt, not a reply
			}
		}
		return answer(ctx, e, conv, line, out, f)
	})
}

// readAndAnswer hands each line to handle until the input ends, handle says
// stop, or a signal arrives; a signal ends the command at once.
func readAndAnswer(ctx context.Context, name string, src lineSource, out *bufio.Writer, stderr io.Writer, handle func(string) (int, bool)) int {
	ls := startLines(src)
	defer ls.stop()
	defer src.restore()
	for {
		line, err := ls.next(ctx)
		switch {
		case errors.Is(err, errInterrupted):
			fmt.Fprintln(out)
			return 130
		case ctx.Err() != nil:
			fmt.Fprintln(out)
			return exitInterrupted(ctx)
		case err == io.EOF:
			return 0
		case err != nil:
			fmt.Fprintf(stderr, "beianbot %s: read standard input: %v\n", name, err)
			return 1
		}
		if code, stop := handle(line); stop {
			return code
		}
	}
}

// answer prints the reply to one message. A signal while the reply is
// worked out (an LLM call can take seconds) cancels it: nothing is printed
// and stop is true.
func answer(ctx context.Context, e *bot.Engine, conv *bot.Conversation, q string, out *bufio.Writer, f commonFlags) (code int, stop bool) {
	done := make(chan bot.Reply, 1)
	go func() { done <- e.Reply(ctx, conv, q) }()
	select {
	case r := <-done:
		if ctx.Err() == nil {
			printReply(out, r, f)
			out.Flush()
			return 0, false
		}
	case <-ctx.Done():
	}
	fmt.Fprintln(out)
	out.Flush()
	return exitInterrupted(ctx), true
}

// exitInterrupted is the exit code once ctx has ended: the signal's, or 130.
func exitInterrupted(ctx context.Context) int {
	if code, ok := interruptedCode(ctx); ok {
		return code
	}
	return 130
}

func parseLangFlag(s string, stderr io.Writer) (l lang.Lang, traditional, ok bool) {
	if s == "" {
		return "", false, true
	}
	l, traditional, ok = lang.ParseTag(s)
	if !ok {
		fmt.Fprintf(stderr, "beianbot: --lang %q: use zh, zh-hant (also zh-hk, zh-tw) or en\n", s)
	}
	return l, traditional, ok
}

func buildEngine(ctx context.Context, cfg config.Config, rephrase bool, stderr io.Writer) (*bot.Engine, int) {
	e, err := newEngine(ctx, cfg, rephrase, newLogger(cfg, stderr))
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return nil, 2
	}
	return e, 0
}

// terminal reports whether r is a terminal, and the file to drive it.
func terminal(r io.Reader) (*os.File, bool) {
	f, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, false
	}
	return f, true
}

// printReply writes one reply: a JSON object on one line, or readable text.
func printReply(w io.Writer, r bot.Reply, f commonFlags) {
	if !f.explain {
		r.Explain = nil
	}
	if f.json {
		b, err := json.Marshal(r)
		if err != nil { // cannot happen for these types; say so rather than drop the reply
			b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
		}
		w.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(w, "[%s · %s]\n%s\n", r.Topic, r.Lang, r.Text)
	if r.Handoff {
		fmt.Fprintln(w, "(handoff offered)")
	}
	if f.explain {
		printExplain(w, r)
	}
	fmt.Fprintln(w)
}

func printExplain(w io.Writer, r bot.Reply) {
	if r.Explain == nil {
		return
	}
	for _, l := range eval.ExplainLines(r) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if r.Rephrase != nil {
		fmt.Fprintf(w, "  rephrase: accepted=%v verdict=%s cached=%v\n", r.Rephrase.Accepted, r.Rephrase.Verdict, r.Rephrase.Cached)
		if r.Original != "" {
			fmt.Fprintf(w, "  original:\n    %s\n", strings.ReplaceAll(r.Original, "\n", "\n    "))
		}
	}
}

func runMatrix(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("matrix", "beianbot matrix [--json] [--lang zh|zh-hant|en]", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of the rows")
	langFlag := fs.String("lang", "zh", "language of the table: zh, zh-hant (Traditional characters) or en; --json always gives the source's names")
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	l, traditional, ok := parseLangFlag(*langFlag, stderr)
	if !ok {
		return 2
	}
	t, err := matrix.Embedded()
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return 2
	}
	if *asJSON {
		type row struct {
			Business  string `json:"business"`
			Subcase   string `json:"subcase"`
			Principal bool   `json:"principal"`
			Website   bool   `json:"website"`
		}
		rows := []row{}
		for _, r := range t.Rows() {
			rows = append(rows, row{r.Business, r.Subcase, r.Principal, r.Website})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rows); err != nil {
			fmt.Fprintln(stderr, "beianbot:", err)
			return 1
		}
		return 0
	}
	var table strings.Builder
	printTable(&table, t, l)
	if traditional {
		fmt.Fprint(stdout, lang.ToTraditional(table.String()))
	} else {
		fmt.Fprint(stdout, table.String())
	}
	return 0
}

// printTable lays the verification table out in columns, measuring Chinese
// characters as two cells wide as terminals draw them.
func printTable(w io.Writer, t *matrix.Table, l lang.Lang) {
	head := []string{"业务", "细分情况", "主体负责人", "网站负责人"}
	yes, no := "需核验", "—"
	if l == lang.EN {
		head = []string{"Filing type", "Case", "Entity owner", "Website owner"}
		yes = "verifies"
	}
	cells := [][]string{head}
	for _, r := range t.Rows() {
		business, subcase := r.Business, r.Subcase
		if l == lang.EN {
			business, subcase = r.BusinessEN, r.SubcaseEN
		}
		if subcase == "" {
			subcase = "/"
		}
		p, s := no, no
		if r.Principal {
			p = yes
		}
		if r.Website {
			s = yes
		}
		cells = append(cells, []string{business, subcase, p, s})
	}
	widths := make([]int, len(head))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for n, row := range cells {
		var b strings.Builder
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			total := 0
			for _, wd := range widths {
				total += wd + 2
			}
			fmt.Fprintln(w, strings.Repeat("-", total-2))
		}
	}
	if l == lang.EN {
		fmt.Fprintln(w, "\nThe emergency contact number never receives the SMS. Whoever must verify has 24 hours.")
	} else {
		fmt.Fprintln(w, "\n应急联系电话不会收到核验短信。需核验的负责人须在 24 小时内完成核验。")
	}
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func runKB(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "diff" {
		return runKBDiff(ctx, cfg, args[1:], stdout, stderr)
	}
	fs := newFlagSet("kb", "beianbot kb lint [DIR]   (DIR: default knowledge_dir, else the embedded knowledge base)\n       beianbot kb diff OLD_DIR NEW_DIR [--all] [--eval FILE|DIR...]", stderr)
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	args = fs.Args()
	if len(args) == 0 || args[0] != "lint" || len(args) > 2 {
		fs.Usage()
		return 2
	}
	dir := cfg.KnowledgeDir
	if len(args) == 2 {
		dir = args[1]
	}
	var problems []knowledge.Problem
	name := "embedded knowledge base"
	if dir == "" {
		problems = knowledge.Lint(knowledge.EmbeddedFS(), "knowledge/data")
	} else {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "beianbot kb lint: %s is not a directory\n", dir)
			return 2
		}
		name = dir
		problems = knowledge.Lint(os.DirFS(dir), dir)
	}
	errs, warns := 0, 0
	for _, p := range problems {
		kind := "error"
		if p.Warning {
			kind = "warning"
			warns++
		} else {
			errs++
		}
		fmt.Fprintf(stdout, "%s: %s\n", kind, p.Error())
	}
	fmt.Fprintf(stdout, "%s: %d errors, %d warnings\n", name, errs, warns)
	if errs > 0 {
		return 1
	}
	return 0
}

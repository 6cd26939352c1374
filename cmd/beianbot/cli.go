package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

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
func startSession(ctx context.Context, cfg config.Config, name string, args []string, stderr io.Writer) (e *bot.Engine, f commonFlags, rest []string, pinned lang.Lang, code int) {
	fs := newFlagSet(name, stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, f, nil, "", 2
	}
	pinned, ok := parseLangFlag(f.lang, stderr)
	if !ok {
		return nil, f, nil, "", 2
	}
	e, code = buildEngine(ctx, cfg, f.rephrase, stderr)
	return e, f, fs.Args(), pinned, code
}

func runAsk(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e, f, questions, pinned, code := startSession(ctx, cfg, "ask", args, stderr)
	if e == nil {
		return code
	}
	defer e.Close()
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	answer := func(q string) bool {
		conv := &bot.Conversation{Lang: pinned}
		printReply(out, e.Reply(ctx, conv, q), f)
		out.Flush()
		return ctx.Err() == nil
	}
	if len(questions) > 0 {
		for _, q := range questions {
			answer(q)
		}
		return 0
	}
	if err := eachLine(stdin, answer); err != nil {
		fmt.Fprintln(stderr, "beianbot ask: read standard input:", err)
		return 1
	}
	return 0
}

func runChat(ctx context.Context, cfg config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e, f, extra, pinned, code := startSession(ctx, cfg, "chat", args, stderr)
	if e == nil {
		return code
	}
	defer e.Close()
	if len(extra) > 0 {
		fmt.Fprintln(stderr, "beianbot chat takes no questions as arguments; type them, or use beianbot ask")
		return 2
	}
	interactive := isTerminal(stdin) && !f.json
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	conv := &bot.Conversation{Lang: pinned}
	prompt := func() {
		if interactive {
			fmt.Fprint(out, "> ")
			out.Flush()
		}
	}
	if interactive {
		fmt.Fprintln(out, "beianbot chat — ask in 中文 or English. /reset starts over, /quit (or Ctrl-D) ends.")
		fmt.Fprintln(out)
	}
	prompt()
	err := eachLine(stdin, func(line string) bool {
		switch strings.TrimSpace(line) {
		case "/quit", "/exit":
			return false
		case "/reset":
			conv = &bot.Conversation{Lang: pinned}
			prompt()
			return true
		}
		printReply(out, e.Reply(ctx, conv, line), f)
		out.Flush()
		prompt()
		return ctx.Err() == nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "beianbot chat: read standard input:", err)
		return 1
	}
	return 0
}

func parseLangFlag(s string, stderr io.Writer) (lang.Lang, bool) {
	if s == "" {
		return "", true
	}
	l, ok := lang.Parse(s)
	if !ok {
		fmt.Fprintf(stderr, "beianbot: --lang %q: use zh or en\n", s)
	}
	return l, ok
}

func buildEngine(ctx context.Context, cfg config.Config, rephrase bool, stderr io.Writer) (*bot.Engine, int) {
	e, err := newEngine(ctx, cfg, rephrase, newLogger(cfg, stderr))
	if err != nil {
		fmt.Fprintln(stderr, "beianbot:", err)
		return nil, 2
	}
	return e, 0
}

// eachLine calls fn for every line of r, each bounded to maxLineBytes,
// until fn returns false or the input ends.
func eachLine(r io.Reader, fn func(string) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(line) < maxLineBytes {
			line = append(line, chunk[:min(len(chunk), maxLineBytes-len(line))]...)
		}
		if err == io.EOF {
			if len(line) > 0 {
				fn(string(line))
			}
			return nil
		}
		if err != nil {
			return err
		}
		if !isPrefix {
			if !fn(string(line)) {
				return nil
			}
			line = line[:0]
		}
	}
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
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
	fs := newFlagSet("matrix", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of the rows")
	langFlag := fs.String("lang", "zh", "language of the table: zh or en")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l, ok := parseLangFlag(*langFlag, stderr)
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
	printTable(stdout, t, l)
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

const kbUsage = "usage: beianbot kb lint [DIR]\n       beianbot kb diff OLD_DIR NEW_DIR [--all] [--eval FILE|DIR...]"

func runKB(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "diff" {
		return runKBDiff(ctx, cfg, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "lint" || len(args) > 2 {
		fmt.Fprintln(stderr, kbUsage)
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

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"

	"github.com/beianbot/beianbot/support"
)

// A lineSource gives the lines the user types or pipes in. On a terminal it
// is x/term's line editor (arrows, Home/End, Ctrl-W, Ctrl-U, history on
// ↑/↓); otherwise plain lines.
type lineSource interface {
	// readLine returns the next line, io.EOF at the end (Ctrl-D), or
	// errInterrupted when the user pressed Ctrl-C.
	readLine() (string, error)
	// restore gives the terminal back as it was; safe to call any time.
	restore()
}

var errInterrupted = errors.New("interrupted")

// pipedLines reads lines from a pipe or file, each bounded to maxLineBytes.
type pipedLines struct {
	r *bufio.Reader
}

func newPipedLines(r io.Reader) *pipedLines {
	return &pipedLines{r: bufio.NewReaderSize(r, 64<<10)}
}

func (p *pipedLines) readLine() (string, error) {
	var line []byte
	for {
		chunk, isPrefix, err := p.r.ReadLine()
		if len(line) < maxLineBytes {
			line = append(line, chunk[:min(len(chunk), maxLineBytes-len(line))]...)
		}
		switch {
		case err == io.EOF && len(line) > 0:
			return string(line), nil
		case err != nil:
			return "", err
		case !isPrefix:
			return string(line), nil
		}
	}
}

func (p *pipedLines) restore() {}

// terminalLines is the line editor on a terminal. The terminal is in raw
// mode only while a line is read: while a reply is worked out, Ctrl-C is the
// usual signal and cancels it.
type terminalLines struct {
	fd          int
	t           *term.Terminal
	interrupted atomic.Bool

	mu  sync.Mutex
	raw *term.State // the state to restore while a line is read
}

// newTerminalLines sets up the editor on in and out with the prompt, and
// history kept in historyFile ("" for none).
func newTerminalLines(in *os.File, out io.Writer, prompt, historyFile string) *terminalLines {
	tl := &terminalLines{fd: int(in.Fd())}
	tl.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{ctrlCReader{in, &tl.interrupted}, out}, prompt)
	tl.t.History = loadHistory(historyFile)
	if w, _, err := term.GetSize(tl.fd); err == nil && w > 0 {
		tl.t.SetSize(w, 0)
	}
	return tl
}

func (tl *terminalLines) readLine() (string, error) {
	st, err := term.MakeRaw(tl.fd)
	if err != nil {
		return "", fmt.Errorf("set up the terminal: %w", err)
	}
	tl.mu.Lock()
	tl.raw = st
	tl.mu.Unlock()
	line, err := tl.t.ReadLine()
	tl.restore()
	if tl.interrupted.Load() {
		return "", errInterrupted
	}
	if errors.Is(err, term.ErrPasteIndicator) {
		err = nil // a pasted line is a line
	}
	return line, err
}

func (tl *terminalLines) restore() {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.raw != nil {
		term.Restore(tl.fd, tl.raw)
		tl.raw = nil
	}
}

// ctrlCReader notes a Ctrl-C typed at the prompt: in raw mode it is a byte,
// not a signal, and the line editor reads it as end of input.
type ctrlCReader struct {
	r    io.Reader
	seen *atomic.Bool
}

func (c ctrlCReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if b == 3 {
			c.seen.Store(true)
		}
	}
	return n, err
}

// maxHistory is how many lines the history file keeps.
const maxHistory = 500

// fileHistory is the line editor's history, kept in a file in the user's
// cache directory (0600). Lines are stored redacted: support staff paste
// customers' questions, phone numbers and all. This session's lines stay
// as typed in memory.
type fileHistory struct {
	path    string
	entries []string // oldest first
}

// historyPath is <user cache dir>/beianbot/history, or "" when there is no
// cache directory.
func historyPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "beianbot", "history")
}

func loadHistory(path string) *fileHistory {
	h := &fileHistory{path: path}
	if path == "" {
		return h
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			h.entries = append(h.entries, l)
		}
	}
	if len(h.entries) > maxHistory {
		h.entries = h.entries[len(h.entries)-maxHistory:]
		h.save()
	}
	return h
}

func (h *fileHistory) Add(entry string) {
	if strings.TrimSpace(entry) == "" || len(h.entries) > 0 && h.entries[len(h.entries)-1] == entry {
		return
	}
	h.entries = append(h.entries, entry)
	if len(h.entries) > 2*maxHistory {
		h.entries = h.entries[len(h.entries)-maxHistory:]
		h.save()
		return
	}
	h.appendToFile(entry)
}

func (h *fileHistory) Len() int { return len(h.entries) }

// At returns the idx-th most recent entry, as term.History asks.
func (h *fileHistory) At(idx int) string { return h.entries[len(h.entries)-1-idx] }

func (h *fileHistory) appendToFile(entry string) {
	if h.path == "" || os.MkdirAll(filepath.Dir(h.path), 0o700) != nil {
		return
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return // no history is no reason to stop answering
	}
	defer f.Close()
	fmt.Fprintln(f, historyLine(support.Redact(entry)))
}

func (h *fileHistory) save() {
	if h.path == "" || os.MkdirAll(filepath.Dir(h.path), 0o700) != nil {
		return
	}
	var b strings.Builder
	for _, e := range h.entries {
		b.WriteString(historyLine(support.Redact(e)) + "\n")
	}
	tmp := h.path + ".tmp"
	if os.WriteFile(tmp, []byte(b.String()), 0o600) == nil {
		os.Rename(tmp, h.path)
	}
}

func historyLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// interruptedCode is the exit code for a command ended by a signal: 130 for
// SIGINT (Ctrl-C), 143 for SIGTERM. ok is false when no signal ended it.
func interruptedCode(ctx context.Context) (int, bool) {
	var sig signalCause
	if errors.As(context.Cause(ctx), &sig) {
		if s, isSys := sig.sig.(syscall.Signal); isSys {
			return 128 + int(s), true
		}
		return 130, true
	}
	return 0, false
}

// signalCause is why main's context ends: a signal arrived.
type signalCause struct{ sig os.Signal }

func (s signalCause) Error() string { return "stopped by " + s.sig.String() }

// lines hands out one line at a time from a source read in its own
// goroutine, so that a signal ends the wait at once.
type lines struct {
	src  lineSource
	req  chan struct{}
	resp chan lineResult
}

type lineResult struct {
	line string
	err  error
}

func startLines(src lineSource) *lines {
	l := &lines{src: src, req: make(chan struct{}), resp: make(chan lineResult, 1)}
	go func() {
		for range l.req {
			line, err := src.readLine()
			l.resp <- lineResult{line, err}
			if err != nil {
				return
			}
		}
	}()
	return l
}

// next returns the next line, or the context's error when it ends first.
func (l *lines) next(ctx context.Context) (string, error) {
	select {
	case l.req <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r := <-l.resp:
		return r.line, r.err
	case <-ctx.Done():
		l.src.restore()
		return "", ctx.Err()
	}
}

func (l *lines) stop() { close(l.req) }

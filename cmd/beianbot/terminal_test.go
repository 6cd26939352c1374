package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The terminal tests run the real binary on a pseudo-terminal, as a person
// at a keyboard would: keys go in, the screen comes out.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds beianbot once for all terminal tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "beianbot-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "beianbot")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// waitLimit bounds every wait for the screen: a failure, never a pace.
const waitLimit = 20 * time.Second

// session is the binary running on a pty.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // Wait's error, once done

	mu     sync.Mutex
	screen bytes.Buffer
	grew   chan struct{} // closed and replaced whenever screen grows
}

func start(t *testing.T, env []string, args ...string) *session {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cmd: cmd, pty: f, done: make(chan struct{}), grew: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.screen.Write(buf[:n])
			close(s.grew)
			s.grew = make(chan struct{})
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
		f.Close()
	})
	return s
}

// waitFor waits until the screen shows want count times in all.
func (s *session) waitFor(want string, count int) {
	s.t.Helper()
	deadline := time.After(waitLimit)
	for {
		s.mu.Lock()
		n := strings.Count(s.screen.String(), want)
		grew := s.grew
		s.mu.Unlock()
		if n >= count {
			return
		}
		select {
		case <-grew:
		case <-s.done:
			s.mu.Lock()
			n = strings.Count(s.screen.String(), want)
			s.mu.Unlock()
			if n >= count {
				return
			}
			s.t.Fatalf("exited (%v) before showing %q ×%d:\n%s", s.err, want, count, s.text())
		case <-deadline:
			s.t.Fatalf("screen never showed %q ×%d:\n%s", want, count, s.text())
		}
	}
}

func (s *session) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.String()
}

func (s *session) typeKeys(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.pty, keys); err != nil {
		s.t.Fatal(err)
	}
}

// exitCode waits for the process and returns its exit code.
func (s *session) exitCode() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(waitLimit):
		s.t.Fatalf("still running:\n%s", s.text())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatal(s.err)
	}
	return 0
}

// cacheEnv gives the process its own cache directory (the history's home)
// and no BEIANBOT_* settings from the test's environment.
func cacheEnv(t *testing.T) (env []string, cache string) {
	cache = t.TempDir()
	return []string{"XDG_CACHE_HOME=" + cache, "HOME=" + t.TempDir()}, cache
}

// Ctrl-C at an idle prompt ends chat at once, with exit code 130.
func TestChatCtrlCAtIdlePrompt(t *testing.T) {
	env, _ := cacheEnv(t)
	s := start(t, env, "chat")
	s.waitFor("> ", 1)
	pressed := time.Now()
	s.typeKeys("\x03")
	code := s.exitCode()
	took := time.Since(pressed)
	if code != 130 {
		t.Errorf("exit code %d, want 130", code)
	}
	if took > time.Second {
		t.Errorf("Ctrl-C took %v to end an idle chat, want under a second", took)
	}
	t.Logf("Ctrl-C to exit: %v", took)
}

// SIGTERM ends an idle chat too (143), and leaves the terminal as it was.
func TestChatSIGTERMAtIdlePrompt(t *testing.T) {
	env, _ := cacheEnv(t)
	s := start(t, env, "chat")
	s.waitFor("> ", 1)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.exitCode(); code != 143 {
		t.Errorf("exit code %d, want 143", code)
	}
}

// Line editing, history across sessions (kept redacted), an empty line, /reset.
func TestChatLineEditingAndHistory(t *testing.T) {
	env, cache := cacheEnv(t)
	s := start(t, env, "chat")
	s.waitFor("> ", 1)

	// A typo fixed with backspace, and a word inserted after moving left.
	s.typeKeys("how do i verifx\x7fy\r")
	s.waitFor("[how-to-verify · en]", 1)
	s.waitFor("> ", 2)
	s.typeKeys("收不到 短信\x1b[D\x1b[D\x1b[D核验\r") // ← ← ← moves before " 短信"
	s.waitFor("[sms-not-received · zh]", 1)
	s.waitFor("> ", 3)

	// ↑ ↑ recalls the first question.
	s.typeKeys("\x1b[A\x1b[A\r")
	s.waitFor("[how-to-verify · en]", 2)
	s.waitFor("> ", 4)

	// An empty line gets a new prompt, no reply; /reset says so.
	s.typeKeys("\r")
	s.waitFor("> ", 5)
	s.typeKeys("/reset\r")
	s.waitFor("new conversation", 1)
	if strings.Contains(s.text(), "empty") || strings.Contains(s.text(), "[greeting") {
		t.Errorf("an empty line got a reply:\n%s", s.text())
	}
	if strings.Contains(s.text(), "^[[A") {
		t.Error("the up arrow was typed as ^[[A")
	}

	// A phone number typed at the prompt is kept in the history redacted.
	s.waitFor("> ", 6)
	s.typeKeys("我的手机 139 1234 5678 收不到\r")
	s.waitFor("> ", 7)
	s.typeKeys("\x04") // Ctrl-D
	if code := s.exitCode(); code != 0 {
		t.Errorf("Ctrl-D: exit code %d, want 0", code)
	}

	path := filepath.Join(cache, "beianbot", "history")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no history file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %#o, want 0600", st.Mode().Perm())
	}
	hist, _ := os.ReadFile(path)
	if strings.Contains(string(hist), "1234") || !strings.Contains(string(hist), "how do i verify") {
		t.Errorf("history file:\n%s", hist)
	}

	// A new session recalls the last session's question.
	s2 := start(t, env, "chat")
	s2.waitFor("> ", 1)
	// ↑ ×4: past the phone question, /reset and the repeated question.
	s2.typeKeys("\x1b[A\x1b[A\x1b[A\x1b[A\r")
	s2.waitFor("[sms-not-received · zh]", 1)
	s2.waitFor("> ", 2)
	s2.typeKeys("\x04")
	if code := s2.exitCode(); code != 0 {
		t.Errorf("second session: exit code %d", code)
	}
}

// ask with no question on a terminal shows a prompt.
func TestAskPromptsOnATerminal(t *testing.T) {
	env, _ := cacheEnv(t)
	s := start(t, env, "ask", "--lang", "zh-hant")
	s.waitFor("? ", 1)
	s.typeKeys("how do I verify\r")
	s.waitFor("[how-to-verify · zh]", 1)
	s.waitFor("驗證碼", 1) // Traditional, as --lang asked
	s.waitFor("? ", 2)
	s.typeKeys("\x04")
	if code := s.exitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// Ctrl-C while a reply is being worked out (here: a slow LLM) cancels it:
// the request to the server is dropped and chat ends with 130.
func TestChatCtrlCCancelsARunningReply(t *testing.T) {
	received := make(chan struct{}, 1)
	canceled := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		received <- struct{}{}
		<-r.Context().Done() // never answers; the client must give up
		canceled <- struct{}{}
	}))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "llm.yaml")
	os.WriteFile(cfg, []byte("llm:\n  enabled: true\n  base_url: "+srv.URL+"/v1\n  model: test-model\n  timeout: 60s\n"), 0o600)

	env, _ := cacheEnv(t)
	s := start(t, env, "chat", "--config", cfg, "--rephrase")
	s.waitFor("> ", 1)
	s.typeKeys("收不到核验短信怎么办\r")
	select {
	case <-received:
	case <-time.After(waitLimit):
		t.Fatalf("the LLM server got no request:\n%s", s.text())
	}
	s.typeKeys("\x03")
	if code := s.exitCode(); code != 130 {
		t.Errorf("exit code %d, want 130:\n%s", code, s.text())
	}
	select {
	case <-canceled:
	case <-time.After(waitLimit):
		t.Error("the request to the LLM server was not canceled")
	}
	if strings.Contains(s.text(), "[sms-not-received") {
		t.Errorf("the canceled reply was printed:\n%s", s.text())
	}
}

package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beianbot/beianbot/lang"
)

// The crash test re-runs this test binary as a child that writes until it is
// killed. The child is selected by this variable, before any test runs.
const crashChildEnv = "BEIANBOT_STORE_CRASH_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// crashChild writes a reminder, a handoff thread and an inbox update per round and reports
// each on stdout only after its transaction committed.
func crashChild(dir string) int {
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for i := int64(1); ; i++ {
		r, err := s.ScheduleReminder(ctx, NewReminder{
			ChatID: i, Lang: lang.ZH, SMSAt: t0, Deadline: t0.Add(24 * time.Hour),
			Steps: []NewStep{{Before, t0.Add(12 * time.Hour)}, {Expired, t0.Add(24 * time.Hour)}},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(out, "reminder %d %d\n", r.ID, i)
		th, _, err := s.OpenThread(ctx, NewThread{CustomerChatID: i, SupportChatID: -100, Lang: lang.EN, Topic: "unknown"})
		if err == nil {
			err = s.AddSupportMessage(ctx, th.ID, -100, 1000+i, false)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(out, "thread %d %d\n", th.ID, i)
		if _, err := s.AcceptUpdates(ctx, i, []InboxUpdate{{ID: i, ChatID: i, Body: []byte("{}"), ReceivedAt: t0}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(out, "update %d %d\n", i, i)
		out.Flush() // one write per round: the parent never sees half a line
	}
}

func TestKilledMidWriteLosesNothingCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	// Create the schema first so the child spends its time writing rows.
	s0, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s0.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type record struct {
		kind     string
		id, chat int64
	}
	var reported []record
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			t.Fatalf("child wrote %q", sc.Text())
		}
		id, _ := strconv.ParseInt(f[1], 10, 64)
		chat, _ := strconv.ParseInt(f[2], 10, 64)
		reported = append(reported, record{f[0], id, chat})
		// Kill while the child is busy writing; keep reading what it had
		// already reported before it died.
		if len(reported) >= 60 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child stopped by itself after %d records: %v\n%s", len(reported), err, stderr.String())
	}

	c := newClock(t0.Add(13 * time.Hour))
	s := openTest(t, dir, c)
	ctx := context.Background()
	for _, r := range reported {
		switch r.kind {
		case "reminder":
			got, ok, err := s.ActiveReminder(ctx, r.chat)
			if err != nil || !ok || got.ID != r.id || len(got.Steps) != 2 {
				t.Errorf("reminder %d of chat %d: %+v, %v, %v", r.id, r.chat, got, ok, err)
			}
		case "thread":
			got, ok, err := s.ThreadBySupportMessage(ctx, -100, 1000+r.chat)
			if err != nil || !ok || got.ID != r.id || got.CustomerChatID != r.chat {
				t.Errorf("thread %d of chat %d: %+v, %v, %v", r.id, r.chat, got, ok, err)
			}
		}
	}
	pending := map[int64]bool{}
	for _, id := range pendingIDs(t, s) {
		pending[id] = true
	}
	offset, _ := s.InboxOffset(ctx)
	for _, r := range reported {
		if r.kind == "update" && (!pending[r.id] || offset < r.id) {
			t.Errorf("update %d reported accepted: in the inbox %v, offset %d", r.id, pending[r.id], offset)
		}
	}
	// Whatever the child had in flight is either whole or absent.
	var steps, reminders int
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM reminder_steps").Scan(&steps)
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM reminders").Scan(&reminders)
	if steps != 2*reminders {
		t.Errorf("%d steps for %d reminders: a transaction was torn", steps, reminders)
	}
	t.Logf("child reported %d commits before SIGKILL; %d reminders on disk", len(reported), reminders)
}

package telegram

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// The kill test runs the bot as a child process (this test binary, started
// again with childEnv set) on a database in a temporary directory, against
// the parent's fake Bot API, and kills it in the middle of a backlog.
const childEnv = "BEIANBOT_TELEGRAM_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// runChild is `beianbot serve` with an echo engine: it answers until
// SIGTERM. spec is "data dir|API URL".
func runChild(spec string) int {
	dir, apiURL, _ := strings.Cut(spec, "|")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	st, err := store.Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	cfg := testConfig(apiURL)
	// Next to no grace: a SIGTERM leaves most of the backlog to the next start.
	cfg.ShutdownGrace = time.Millisecond
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := realEngine()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	eng := funcEngine{Engine: e, reply: func(_ context.Context, _ *bot.Conversation, text string) bot.Reply {
		return bot.Reply{Lang: lang.EN, Topic: "echo", Text: "echo: " + text}
	}}
	srv, err := newServer(cfg, eng, WithInbox(st), WithConversations(st), WithLogger(log))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv.limits = noLimits
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// tally counts, per question, how many answers reached the fake API.
func tally(api *fakeAPI) map[string]int {
	n := map[string]int{}
	for _, c := range api.sent(0) {
		n[c.text()]++
	}
	return n
}

func TestKillMidBacklogLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	api := newFakeAPI(t)
	api.patience = 3 * time.Minute
	dir := t.TempDir()
	const chats, each = 100, 20
	questions := map[string]bool{}
	for n := range each {
		for c := range chats {
			u := tUser{id: int64(60000 + c), name: "customer"}
			q := fmt.Sprintf("q %d/%d", c, n)
			questions["echo: "+q] = true
			api.push(textUpdate(privateChat(u), u, q))
		}
	}
	total := chats * each

	var stderr strings.Builder
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir+"|"+api.URL())
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// answered counts the questions answered at least once.
	answered := func() int {
		n := 0
		for text := range tally(api) {
			if questions[text] {
				n++
			}
		}
		return n
	}
	duplicates := func() int {
		d := 0
		for _, n := range tally(api) {
			d += n - 1
		}
		return d
	}

	// Two kills in the backlog, a stop (SIGTERM) in it, then a run to the
	// end; each after the child has sent some answers.
	phases := []struct {
		sig  syscall.Signal
		sent int // answers the child sends first (0: all)
	}{{syscall.SIGKILL, 300}, {syscall.SIGKILL, 400}, {syscall.SIGTERM, 300}, {syscall.SIGTERM, 0}}
	var dupsBefore []int
	for _, ph := range phases {
		polls, before := api.pollCount(), api.sentCount()
		cmd := child()
		// Running (its signal handler set) once it polls.
		api.waitFor(t, "the child polling", func() bool { return api.pollCount() > polls })
		if ph.sent == 0 {
			api.waitFor(t, "every question answered", func() bool { return answered() == total })
		} else {
			api.waitFor(t, fmt.Sprint(ph.sent, " answers"), func() bool { return api.sentCount() >= before+ph.sent })
		}
		dupsBefore = append(dupsBefore, duplicates())
		if err := cmd.Process.Signal(ph.sig); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ph.sig == syscall.SIGTERM && err != nil {
			t.Fatalf("child stopped by SIGTERM: %v\n%s", err, stderr.String())
		}
		t.Logf("%v with %d of %d answered (%d duplicates so far)", ph.sig, answered(), total, duplicates())
	}
	lost := total - answered()
	dups := duplicates()
	// The duplicates a restart causes show up in the run after it.
	perKill := []int{dupsBefore[1] - dupsBefore[0], dupsBefore[2] - dupsBefore[1]}
	afterTerm := dupsBefore[3] - dupsBefore[2]
	t.Logf("%d updates, 2 SIGKILLs and a SIGTERM mid-backlog: %d lost, %d duplicated (after each kill: %v; after the SIGTERM: %d)",
		total, lost, dups, perKill, afterTerm)
	if lost != 0 {
		t.Errorf("%d questions never answered", lost)
	}
	if dups*20 >= total {
		t.Errorf("%d duplicate answers, want under 5%% of %d", dups, total)
	}
	if afterTerm != 0 {
		t.Errorf("%d duplicates after a SIGTERM, want none", afterTerm)
	}
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if pending, err := st.PendingUpdates(context.Background()); err != nil || len(pending) != 0 {
		t.Errorf("%d updates still in the inbox, %v", len(pending), err)
	}
}

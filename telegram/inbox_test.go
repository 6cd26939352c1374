package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// An update that cannot be read is skipped with a log line: the offset moves
// past it, so the poller neither asks for it again and again nor stops.
func TestMalformedUpdateIsSkipped(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	chat := privateChat(bob)
	h.say(t, chat, bob, "hi", 1)
	bad := h.api.push(map[string]any{"message": "not an object"}) // the last update waiting
	h.waitHandled(t, bad)
	h.api.waitFor(t, "a poll past the malformed update", func() bool {
		for _, c := range h.api.callsOf("getUpdates", 0) {
			if c.Fields["offset"] == fmt.Sprint(bad+1) {
				return true
			}
		}
		return false
	})
	if got := h.say(t, chat, bob, "again", 1); !strings.Contains(got[0].Fields["text"], "again") {
		t.Errorf("after the malformed update, answered %q", got[0].Fields["text"])
	}
	if !strings.Contains(h.logs.String(), fmt.Sprintf("update=%d", bad)) {
		t.Errorf("the skipped update is not logged by its id:\n%s", h.logs.String())
	}
}

// An update interrupted by shutdown is answered after the restart from the
// chat state it started with, not from the one its first, unfinished run
// made: here a typed "2" answers the question "q" asked.
func TestInterruptedUpdateIsAnsweredFromTheStateItStartedWith(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reached := make(chan struct{})
	var interrupted atomic.Bool
	eng := funcEngine{Engine: engineForTest(t), reply: func(ctx context.Context, c *bot.Conversation, text string) bot.Reply {
		if text == "q" {
			c.LastTopic = "asked" // stands for an ask-back now pending
			return bot.Reply{Lang: lang.EN, Topic: "echo", Text: "which one? 1 or 2"}
		}
		seen := c.LastTopic
		c.LastTopic = "consumed" // the answer uses the ask-back up
		if interrupted.CompareAndSwap(false, true) {
			close(reached)
			<-ctx.Done() // shutdown comes before the answer is sent
		}
		return bot.Reply{Lang: lang.EN, Topic: "echo", Text: "2, in answer to " + seen}
	}}
	opts := []Option{WithInbox(st), WithConversations(st)}
	h := start(t, setup{engine: eng, opts: opts, cfg: func(c *config.Telegram) { c.ShutdownGrace = 50 * time.Millisecond }})
	chat := privateChat(bob)
	h.say(t, chat, bob, "q", 1)
	h.api.push(textUpdate(chat, bob, "2"))
	<-reached
	if err := h.stop(t); err != nil { // SIGTERM
		t.Fatal(err)
	}
	if pending, err := st.PendingUpdates(context.Background()); err != nil || len(pending) != 1 {
		t.Fatalf("pending after the stop: %d, %v; want the interrupted update", len(pending), err)
	}
	if conv, err := st.Load(context.Background(), chat.id); err != nil || conv.LastTopic != "asked" {
		t.Errorf("stored state %q (%v), want the one the interrupted update started with", conv.LastTopic, err)
	}

	h2 := start(t, setup{engine: eng, api: h.api, opts: opts})
	if got := h2.api.waitSent(t, chat.id, 2)[1].text(); got != "2, in answer to asked" {
		t.Errorf("after the restart, answered %q", got)
	}
}

// progressLog is an Inbox that remembers each RecordProgress.
type progressLog struct {
	*memoryInbox
	mu      sync.Mutex
	records []store.Progress
}

func (p *progressLog) RecordProgress(ctx context.Context, pr store.Progress) error {
	p.mu.Lock()
	p.records = append(p.records, pr)
	p.mu.Unlock()
	return p.memoryInbox.RecordProgress(ctx, pr)
}

// A state saved while answering an update is written only in the same
// step as that update's done mark: a crash or shutdown before the mark
// leaves the state the update started with.
func TestJournalWritesAnUpdatesStateWithItsDoneMark(t *testing.T) {
	log := &progressLog{memoryInbox: newMemoryInbox(0)}
	under := NewMemoryConversations(10, time.Hour)
	ctx := context.Background()
	seven := forUpdate(ctx, 7)
	made := bot.Conversation{LastTopic: "made by 7"}

	j := newJournal(log, true, slog.New(slog.DiscardHandler))
	convs := journaledConversations{Conversations: under, j: j}
	if err := convs.Save(seven, 1, made); err != nil {
		t.Fatal(err)
	}
	if got, _ := convs.Load(seven, 1); !reflect.DeepEqual(got, made) {
		t.Errorf("update 7 reads back %+v, want what it saved", got)
	}
	j.sent(store.OutboxMessage{UpdateID: 7, ChatID: 1, MessageID: 40})
	j.done(8) // other progress is written meanwhile
	j.close() // shutdown (or a crash) before 7 is done
	// A save after shutdown goes nowhere either.
	if err := convs.Save(seven, 1, made); err != nil {
		t.Fatal(err)
	}
	for _, pr := range log.records {
		if _, ok := pr.States[1]; ok {
			t.Errorf("chat 1's state written before update 7 was done: %+v", pr)
		}
	}
	if got, _ := under.Load(ctx, 1); !reflect.DeepEqual(got, bot.Conversation{}) {
		t.Errorf("chat 1's state saved around the journal: %+v", got)
	}

	log.records = nil
	j = newJournal(log, true, slog.New(slog.DiscardHandler))
	convs = journaledConversations{Conversations: under, j: j}
	if err := convs.Save(seven, 1, made); err != nil {
		t.Fatal(err)
	}
	j.done(7)
	j.close()
	found := false
	for _, pr := range log.records {
		if c, ok := pr.States[1]; ok {
			found = reflect.DeepEqual(c, made) && slices.Contains(pr.Done, 7)
		}
	}
	if !found {
		t.Errorf("update 7's state not written with its done mark: %+v", log.records)
	}
}

// flakyInbox fails its first fails RecordProgress calls (all of them when
// fails < 0), then records them; recorded is told of each one recorded.
type flakyInbox struct {
	progressLog
	fails    int
	recorded chan struct{}
}

func (f *flakyInbox) RecordProgress(ctx context.Context, pr store.Progress) error {
	f.mu.Lock()
	if f.fails != 0 {
		f.fails--
		f.mu.Unlock()
		return errors.New("disk I/O error")
	}
	f.mu.Unlock()
	err := f.progressLog.RecordProgress(ctx, pr)
	select {
	case f.recorded <- struct{}{}:
	default:
	}
	return err
}

// Progress the database cannot take is kept and written once it can again,
// however many tries that takes: dropping it would undo chat states and make
// a restart send answers again.
func TestJournalKeepsProgressUntilItIsWritten(t *testing.T) {
	in := &flakyInbox{progressLog: progressLog{memoryInbox: newMemoryInbox(0)}, fails: 3, recorded: make(chan struct{}, 1)}
	j := newJournal(in, true, slog.New(slog.DiscardHandler))
	convs := journaledConversations{Conversations: NewMemoryConversations(10, time.Hour), j: j}
	ctx := context.Background()
	made := bot.Conversation{LastTopic: "made by 5"}
	convs.Save(forUpdate(ctx, 5), 1, made)
	j.sent(store.OutboxMessage{UpdateID: 6, ChatID: 2, MessageID: 41})
	j.done(5)
	select {
	case <-in.recorded:
	case <-time.After(time.Minute):
		t.Fatal("progress never written after the database recovered")
	}
	j.close()
	var states []bot.Conversation
	var sent []store.OutboxMessage
	var done []int64
	for _, pr := range in.records {
		for _, c := range pr.States {
			states = append(states, c)
		}
		sent, done = append(sent, pr.Sent...), append(done, pr.Done...)
	}
	if len(states) != 1 || !reflect.DeepEqual(states[0], made) || len(sent) != 1 || !reflect.DeepEqual(done, []int64{5}) {
		t.Errorf("written after 3 failures: states %+v, sent %+v, done %v; want each once", states, sent, done)
	}
}

// A database that never recovers does not keep shutdown waiting.
func TestJournalCloseEndsWhenTheDatabaseIsGone(t *testing.T) {
	in := &flakyInbox{progressLog: progressLog{memoryInbox: newMemoryInbox(0)}, fails: -1}
	logs := &syncBuffer{}
	j := newJournal(in, true, slogTo(logs))
	j.done(5)
	closed := make(chan struct{})
	go func() { j.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("close waits for a database that never recovers")
	}
	if !strings.Contains(logs.String(), "will be answered again after a restart") {
		t.Errorf("the lost progress is not logged:\n%s", logs)
	}
}

// A long answer whose first part's Bot API answer is lost twice (so that
// part is probably on the screen, and not sent a third time) still sends
// its other parts.
func TestAnswerGoesOnAfterAnUnsurePart(t *testing.T) {
	long := strings.Repeat("first part. ", 300) + "\n\n" + strings.Repeat("second part. ", 300)
	h := start(t, setup{engine: funcEngine{Engine: engineForTest(t), reply: func(context.Context, *bot.Conversation, string) bot.Reply {
		return bot.Reply{Lang: lang.EN, Topic: "long", Text: long}
	}}})
	chat := privateChat(alice)
	first := func(f map[string]string) bool { return strings.HasPrefix(f["text"], "first part.") }
	for range 2 {
		h.api.fail("sendMessage", scripted{status: lostAnswer, match: first})
	}
	h.api.push(textUpdate(chat, alice, "tell me everything"))
	h.quiet(t)
	var firsts, seconds int
	for _, s := range h.api.sent(chat.id) {
		switch {
		case strings.HasPrefix(s.text(), "first part."):
			firsts++
		case strings.HasPrefix(s.text(), "second part."):
			seconds++
		}
	}
	if firsts != 2 || seconds != 1 {
		t.Errorf("delivered the first part %d times and the second %d times, want 2 (sent again once) and 1", firsts, seconds)
	}
}

// A message whose Bot API answer has not come when shutdown stops waiting
// is recorded as unsure before Run returns — not answered after the journal
// closed and never recorded — so the restart sends it once more at most.
func TestShutdownRecordsASendStillOnItsWay(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := []Option{WithInbox(st), WithConversations(st)}
	h := start(t, setup{engine: echo(t), opts: opts, cfg: func(c *config.Telegram) { c.ShutdownGrace = 50 * time.Millisecond }})
	chat := privateChat(bob)
	h.api.fail("sendMessage", scripted{status: stallAnswer, match: func(f map[string]string) bool { return f["chat_id"] == fmt.Sprint(chat.id) }})
	h.api.push(textUpdate(chat, bob, "hi"))
	h.api.waitSent(t, chat.id, 1) // delivered; Telegram's answer held back
	// SIGTERM.
	if err := h.stop(t); err != nil {
		t.Fatal(err)
	}
	pending, err := st.PendingUpdates(context.Background())
	if err != nil || len(pending) != 1 {
		t.Fatalf("%d updates pending after the stop, %v; want the one", len(pending), err)
	}
	if sent := pending[0].Sent; len(sent) != 1 || sent[0].Unsure != 1 {
		t.Fatalf("outbox after the stop: %+v; want its message recorded as unsure", sent)
	}
	if strings.Contains(h.logs.String(), "not recorded") {
		t.Errorf("progress made after shutdown:\n%s", h.logs)
	}

	h2 := start(t, setup{engine: echo(t), api: h.api, opts: opts})
	h2.quiet(t)
	h2.stop(t)
	if n := len(h.api.sent(chat.id)); n > 2 {
		t.Errorf("the answer arrived %d times, want twice at most", n)
	}
	if pending, _ := st.PendingUpdates(context.Background()); len(pending) != 0 {
		t.Errorf("%d updates still pending after the restart", len(pending))
	}
}

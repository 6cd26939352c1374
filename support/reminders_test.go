package support

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// t0 is when the SMS arrives in most tests: 10:00 Beijing time.
var t0 = time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)

var defaultBefore = []time.Duration{12 * time.Hour, 2 * time.Hour}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPlan(t *testing.T) {
	h := time.Hour
	cases := []struct {
		name     string
		smsAt    time.Time
		now      time.Time
		before   []time.Duration
		wantDue  []time.Duration // after t0
		wantErr  error
		deadline time.Duration
	}{
		{"just arrived", t0, t0, defaultBefore, []time.Duration{12 * h, 22 * h, 24 * h}, nil, 24 * h},
		{"arrived 13h ago: 12h reminder past", t0, t0.Add(13 * h), defaultBefore, []time.Duration{22 * h, 24 * h}, nil, 24 * h},
		{"exactly at a reminder time: skipped", t0, t0.Add(12 * h), defaultBefore, []time.Duration{22 * h, 24 * h}, nil, 24 * h},
		{"23h ago: only the deadline message", t0, t0.Add(23 * h), defaultBefore, []time.Duration{24 * h}, nil, 24 * h},
		{"unsorted, repeated, out of range", t0, t0, []time.Duration{2 * h, 12 * h, 2 * h, 0, 30 * h}, []time.Duration{12 * h, 22 * h, 24 * h}, nil, 24 * h},
		{"no reminders configured", t0, t0, nil, []time.Duration{24 * h}, nil, 24 * h},
		{"deadline passed", t0, t0.Add(24 * h), defaultBefore, nil, ErrDeadlinePassed, 24 * h},
		{"a minute in the future counts as now", t0.Add(time.Minute), t0, defaultBefore, []time.Duration{12 * h, 22 * h, 24 * h}, nil, 24 * h},
		{"an hour in the future", t0.Add(h), t0, defaultBefore, nil, ErrFutureArrival, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			deadline, steps, err := Plan(tc.smsAt, tc.now, tc.before)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !deadline.Equal(t0.Add(tc.deadline)) {
				t.Errorf("deadline = %s, want t0+%s", deadline, tc.deadline)
			}
			var got []time.Duration
			for i, st := range steps {
				got = append(got, st.DueAt.Sub(t0))
				wantKind := store.Before
				if i == len(steps)-1 {
					wantKind = store.Expired
				}
				if st.Kind != wantKind {
					t.Errorf("step %d kind %s, want %s", i, st.Kind, wantKind)
				}
			}
			if !reflect.DeepEqual(got, tc.wantDue) {
				t.Errorf("due at t0+%v, want t0+%v", got, tc.wantDue)
			}
		})
	}
}

// tickAt ticks and returns what was due, as "kind left" pairs for easy comparison.
func tickAt(t *testing.T, r *Reminders, at time.Time) []Due {
	t.Helper()
	due, err := r.Tick(context.Background(), at)
	if err != nil {
		t.Fatalf("Tick at t0+%s: %v", at.Sub(t0), err)
	}
	return due
}

func expectDue(t *testing.T, got []Due, chat int64, kind store.StepKind, left time.Duration) {
	t.Helper()
	if len(got) != 1 || got[0].ChatID != chat || got[0].Kind != kind || got[0].Left != left {
		t.Fatalf("due = %+v, want one %s for chat %d with %s left", got, kind, chat, left)
	}
}

func expectNone(t *testing.T, got []Due) {
	t.Helper()
	if len(got) != 0 {
		t.Fatalf("due = %+v, want nothing", got)
	}
}

func TestRemindersNormal(t *testing.T) {
	r := NewReminders(openStore(t, t.TempDir()), defaultBefore)
	ctx := context.Background()
	rem, err := r.Schedule(ctx, 42, lang.ZH, true, t0, t0.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !rem.Deadline.Equal(t0.Add(24*time.Hour)) || len(rem.Steps) != 3 {
		t.Fatalf("scheduled %+v", rem)
	}
	expectNone(t, tickAt(t, r, t0.Add(11*time.Hour)))
	due := tickAt(t, r, t0.Add(12*time.Hour))
	expectDue(t, due, 42, store.Before, 12*time.Hour)
	if due[0].Lang != lang.ZH || !due[0].Traditional || due[0].ReminderID != rem.ID {
		t.Errorf("due carries %+v", due[0])
	}
	expectNone(t, tickAt(t, r, t0.Add(12*time.Hour))) // never twice
	expectNone(t, tickAt(t, r, t0.Add(13*time.Hour)))
	expectDue(t, tickAt(t, r, t0.Add(22*time.Hour+30*time.Second)), 42, store.Before, 2*time.Hour-30*time.Second)
	expectDue(t, tickAt(t, r, t0.Add(24*time.Hour)), 42, store.Expired, 0)
	expectNone(t, tickAt(t, r, t0.Add(48*time.Hour)))
	if _, ok, _ := r.Active(ctx, 42); ok {
		t.Error("finished reminder still active")
	}
}

func TestRemindersDone(t *testing.T) {
	r := NewReminders(openStore(t, t.TempDir()), defaultBefore)
	ctx := context.Background()
	rem, _ := r.Schedule(ctx, 42, lang.EN, false, t0, t0)
	other, _ := r.Schedule(ctx, 43, lang.EN, false, t0, t0)
	expectNone(t, tickAt(t, r, t0.Add(time.Hour)))
	due := tickAt(t, r, t0.Add(12*time.Hour))
	if len(due) != 2 {
		t.Fatalf("due = %+v, want both chats", due)
	}
	if ok, err := r.Cancel(ctx, 42, other.ID); err != nil || ok {
		t.Errorf("chat 42 cancelled chat 43's reminder: %v, %v", ok, err)
	}
	if ok, err := r.Cancel(ctx, 42, rem.ID); err != nil || !ok {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	if ok, _ := r.Cancel(ctx, 42, rem.ID); ok {
		t.Error("second Cancel reported success")
	}
	expectDue(t, tickAt(t, r, t0.Add(22*time.Hour)), 43, store.Before, 2*time.Hour)
	expectDue(t, tickAt(t, r, t0.Add(25*time.Hour)), 43, store.Expired, 0) // no after-deadline message for 42
}

func TestRemindersRestartBeforeDue(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s1, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewReminders(s1, defaultBefore).Schedule(ctx, 7, lang.EN, false, t0, t0); err != nil {
		t.Fatal(err)
	}
	s1.Close()

	r := NewReminders(openStore(t, dir), defaultBefore)
	expectNone(t, tickAt(t, r, t0.Add(6*time.Hour)))
	expectDue(t, tickAt(t, r, t0.Add(12*time.Hour)), 7, store.Before, 12*time.Hour)
}

func TestRemindersDownOverAReminder(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s1, _ := store.Open(ctx, dir)
	NewReminders(s1, defaultBefore).Schedule(ctx, 7, lang.ZH, false, t0, t0)
	s1.Close()

	// Down from t0 to t0+23h: both reminders fell due; one goes out at
	// start (the current one), then only the after-deadline message.
	r := NewReminders(openStore(t, dir), defaultBefore)
	expectDue(t, tickAt(t, r, t0.Add(23*time.Hour)), 7, store.Before, time.Hour)
	expectNone(t, tickAt(t, r, t0.Add(23*time.Hour+time.Minute)))
	expectDue(t, tickAt(t, r, t0.Add(24*time.Hour)), 7, store.Expired, 0)
}

func TestRemindersRestartAfterDeadline(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s1, _ := store.Open(ctx, dir)
	r1 := NewReminders(s1, defaultBefore)
	r1.Schedule(ctx, 7, lang.EN, false, t0, t0)
	expectDue(t, tickAt(t, r1, t0.Add(12*time.Hour)), 7, store.Before, 12*time.Hour)
	s1.Close()

	// Down from t0+12h to t0+30h: the 2-hour reminder is stale; the
	// after-deadline message goes out, once.
	r := NewReminders(openStore(t, dir), defaultBefore)
	expectDue(t, tickAt(t, r, t0.Add(30*time.Hour)), 7, store.Expired, 0)
	expectNone(t, tickAt(t, r, t0.Add(30*time.Hour)))
	expectNone(t, tickAt(t, r, t0.Add(31*time.Hour)))
}

func TestRemindersNeverTwiceAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	// Two handles on one file stand for two processes (e.g. an old and a
	// new bot during a deploy), ticking at the same moments.
	a := NewReminders(openStore(t, dir), defaultBefore)
	b := NewReminders(openStore(t, dir), defaultBefore)
	for chat := int64(1); chat <= 20; chat++ {
		if _, err := a.Schedule(ctx, chat, lang.EN, false, t0, t0); err != nil {
			t.Fatal(err)
		}
	}
	sent := map[int64]int{}
	var mu sync.Mutex
	for _, at := range []time.Duration{12 * time.Hour, 22 * time.Hour, 30 * time.Hour} {
		var wg sync.WaitGroup
		for _, r := range []*Reminders{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				due, err := r.Tick(ctx, t0.Add(at))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, d := range due {
					sent[d.StepID]++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	if len(sent) != 60 {
		t.Errorf("%d messages sent, want 60 (3 for each of 20 chats)", len(sent))
	}
	for step, n := range sent {
		if n != 1 {
			t.Errorf("step %d sent %d times", step, n)
		}
	}
}

func TestRemindersFailedIsRetried(t *testing.T) {
	r := NewReminders(openStore(t, t.TempDir()), defaultBefore)
	ctx := context.Background()
	r.Schedule(ctx, 7, lang.EN, false, t0, t0)
	due := tickAt(t, r, t0.Add(12*time.Hour))
	expectDue(t, due, 7, store.Before, 12*time.Hour)
	if err := r.Failed(ctx, due[0]); err != nil {
		t.Fatal(err)
	}
	expectDue(t, tickAt(t, r, t0.Add(12*time.Hour+time.Minute)), 7, store.Before, 12*time.Hour-time.Minute)
}

func TestRemindersScheduleReplaces(t *testing.T) {
	r := NewReminders(openStore(t, t.TempDir()), defaultBefore)
	ctx := context.Background()
	r.Schedule(ctx, 7, lang.EN, false, t0, t0)
	// The customer corrects the time: the SMS came 6 hours later.
	r.Schedule(ctx, 7, lang.EN, false, t0.Add(6*time.Hour), t0.Add(6*time.Hour))
	expectNone(t, tickAt(t, r, t0.Add(12*time.Hour)))
	expectDue(t, tickAt(t, r, t0.Add(18*time.Hour)), 7, store.Before, 12*time.Hour)
	if _, err := r.Schedule(ctx, 8, lang.EN, false, t0, t0.Add(25*time.Hour)); !errors.Is(err, ErrDeadlinePassed) {
		t.Errorf("Schedule after the deadline: %v", err)
	}
	if _, ok, _ := r.Active(ctx, 8); ok {
		t.Error("a reminder was stored although the deadline had passed")
	}
}

func TestRunSendsAtStart(t *testing.T) {
	r := NewReminders(openStore(t, t.TempDir()), defaultBefore)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.Schedule(ctx, 7, lang.EN, false, t0, t0)
	var got []Due
	// The first tick runs before any waiting; the send stops the loop.
	err := r.Run(ctx, time.Hour, func() time.Time { return t0.Add(13 * time.Hour) }, func(_ context.Context, d Due) {
		got = append(got, d)
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	expectDue(t, got, 7, store.Before, 11*time.Hour)
}

// failingDue is a store whose DueReminders fails.
type failingDue struct{ ReminderStore }

func (failingDue) DueReminders(context.Context, time.Time) ([]store.Reminder, error) {
	return nil, errors.New("disk on fire")
}

// recordHandler hands each record to a channel.
type recordHandler struct{ records chan slog.Record }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.records <- r
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

// A failed tick is told to the logger Reminders was given, not the default one.
func TestRunLogsFailedTicksToItsLogger(t *testing.T) {
	h := recordHandler{records: make(chan slog.Record, 1)}
	r := NewReminders(failingDue{}, defaultBefore, WithLogger(slog.New(h)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx, time.Hour, func() time.Time { return t0 }, func(context.Context, Due) {}) }()
	rec := <-h.records // Run ticks at once
	cancel()
	<-done
	var msg string
	rec.Attrs(func(a slog.Attr) bool { msg += a.Key + "=" + a.Value.String(); return true })
	if rec.Level != slog.LevelError || rec.Message != "reminders: tick failed" || msg != "err=disk on fire" {
		t.Errorf("logged %s %q %s", rec.Level, rec.Message, msg)
	}
}

func TestRemindersStopChat(t *testing.T) {
	r := NewReminders(openStore(t, t.TempDir()), defaultBefore)
	ctx := context.Background()
	r.Schedule(ctx, 42, lang.EN, false, t0, t0)
	r.Schedule(ctx, 43, lang.EN, false, t0, t0)
	if n, err := r.StopChat(ctx, 42); err != nil || n != 1 {
		t.Fatalf("StopChat = %d, %v; want 1 reminder stopped", n, err)
	}
	if n, err := r.StopChat(ctx, 42); err != nil || n != 0 {
		t.Errorf("second StopChat = %d, %v; want nothing left", n, err)
	}
	// Only the other chat is reminded, also after the deadline.
	expectDue(t, tickAt(t, r, t0.Add(12*time.Hour)), 43, store.Before, 12*time.Hour)
	expectDue(t, tickAt(t, r, t0.Add(25*time.Hour)), 43, store.Expired, 0)
}

package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

func TestThreads(t *testing.T) {
	c := newClock(t0)
	s := openTest(t, t.TempDir(), c)
	ctx := context.Background()
	const customer, group = 5001, -1009

	if _, ok, err := s.ThreadByCustomer(ctx, customer); err != nil || ok {
		t.Fatalf("ThreadByCustomer before any = %v, %v", ok, err)
	}
	th, created, err := s.OpenThread(ctx, NewThread{CustomerChatID: customer, SupportChatID: group, Lang: lang.ZH, Traditional: true, Topic: "unknown"})
	if err != nil || !created || !th.Open || th.CreatedAt != t0 || th.Lang != lang.ZH || !th.Traditional {
		t.Fatalf("OpenThread = %+v, %v, %v", th, created, err)
	}
	// A second handoff while one is open returns the same thread.
	again, created, err := s.OpenThread(ctx, NewThread{CustomerChatID: customer, SupportChatID: group, Lang: lang.EN})
	if err != nil || created || again.ID != th.ID || again.Lang != lang.ZH {
		t.Fatalf("second OpenThread = %+v, %v, %v", again, created, err)
	}
	for _, m := range []struct {
		id    int64
		agent bool
	}{{100, false}, {101, true}, {101, true}} { // the repeat is harmless
		if err := s.AddSupportMessage(ctx, th.ID, group, m.id, m.agent); err != nil {
			t.Fatal(err)
		}
	}
	for _, msg := range []int64{100, 101} {
		got, ok, err := s.ThreadBySupportMessage(ctx, group, msg)
		if err != nil || !ok || got.ID != th.ID || got.CustomerChatID != customer {
			t.Errorf("ThreadBySupportMessage(%d) = %+v, %v, %v", msg, got, ok, err)
		}
	}
	if _, ok, _ := s.ThreadBySupportMessage(ctx, group, 102); ok {
		t.Error("an unmapped message found a thread")
	}
	if _, ok, _ := s.ThreadBySupportMessage(ctx, -1, 100); ok {
		t.Error("the same message id in another chat found a thread")
	}

	// The group becomes a supergroup: new posts go to the new id; old
	// mappings stay under the old id, and the new chat's message 100 is not
	// mistaken for the old one.
	other, _, _ := s.OpenThread(ctx, NewThread{CustomerChatID: 5002, SupportChatID: -2000, Lang: lang.EN})
	moved, err := s.MigrateSupportChat(ctx, group, -100777)
	if err != nil || len(moved) != 1 || moved[0].ID != th.ID || moved[0].SupportChatID != -100777 {
		t.Fatalf("MigrateSupportChat = %+v, %v", moved, err)
	}
	if got, _, _ := s.ThreadByCustomer(ctx, 5002); got.SupportChatID != -2000 {
		t.Errorf("a thread of another group moved: %+v", got)
	}
	if _, ok, _ := s.ThreadBySupportMessage(ctx, -100777, 100); ok {
		t.Error("old message id matched in the new chat")
	}
	if _, ok, _ := s.ThreadBySupportMessage(ctx, group, 100); !ok {
		t.Error("old mapping lost after migration")
	}

	if n, err := s.OpenThreads(ctx); n != 2 || err != nil {
		t.Errorf("OpenThreads = %d, %v; want 2", n, err)
	}
	c.Set(t0.Add(time.Hour))
	if ok, err := s.CloseThread(ctx, th.ID, "deadline"); err != nil || !ok {
		t.Fatalf("CloseThread = %v, %v", ok, err)
	}
	if n, err := s.OpenThreads(ctx); n != 1 || err != nil {
		t.Errorf("OpenThreads after closing one = %d, %v; want 1", n, err)
	}
	if ok, err := s.CloseThread(ctx, th.ID, ""); err != nil || ok {
		t.Errorf("second CloseThread = %v, %v; want false", ok, err)
	}
	if _, ok, _ := s.ThreadByCustomer(ctx, customer); ok {
		t.Error("closed thread still open for the customer")
	}
	closed, ok, err := s.ThreadBySupportMessage(ctx, group, 101)
	if err != nil || !ok || closed.Open || closed.ClosedAt != t0.Add(time.Hour) || closed.ResolvedTopic != "deadline" {
		t.Errorf("closed thread = %+v, %v, %v", closed, ok, err)
	}
	// After closing, the customer can be handed over again.
	if nt, created, err := s.OpenThread(ctx, NewThread{CustomerChatID: customer, SupportChatID: -100777, Lang: lang.ZH}); err != nil || !created || nt.ID == th.ID {
		t.Errorf("reopen = %+v, %v, %v", nt, created, err)
	}

	sum, err := s.ThreadsSince(ctx, t0)
	if err != nil || len(sum) != 3 {
		t.Fatalf("ThreadsSince = %+v, %v", sum, err)
	}
	if sum[0].ID != th.ID || sum[0].AgentMessages != 1 || !sum[0].FirstAgentAt.Equal(t0) {
		t.Errorf("summary of the first thread = %+v", sum[0])
	}
	if sum[1].ID != other.ID || sum[1].AgentMessages != 0 || !sum[1].FirstAgentAt.IsZero() {
		t.Errorf("summary of the second thread = %+v", sum[1])
	}
}

func TestOpenThreadConcurrentOneWins(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[int64]int{}
	createdCount := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th, created, err := s.OpenThread(ctx, NewThread{CustomerChatID: 9, SupportChatID: -1, Lang: lang.EN})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[th.ID]++
			if created {
				createdCount++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(ids) != 1 || createdCount != 1 {
		t.Errorf("concurrent OpenThread made %v (created %d times), want one thread", ids, createdCount)
	}
}

func TestReminderClaimIsExclusive(t *testing.T) {
	c := newClock(t0)
	s := openTest(t, t.TempDir(), c)
	ctx := context.Background()
	r, err := s.ScheduleReminder(ctx, NewReminder{
		ChatID: 77, Lang: lang.EN, SMSAt: t0, Deadline: t0.Add(24 * time.Hour),
		Steps: []NewStep{{Before, t0.Add(12 * time.Hour)}, {Before, t0.Add(22 * time.Hour)}, {Expired, t0.Add(24 * time.Hour)}},
	})
	if err != nil || len(r.Steps) != 3 || r.Steps[2].Kind != Expired || r.Cancelled {
		t.Fatalf("ScheduleReminder = %+v, %v", r, err)
	}
	if due, _ := s.DueReminders(ctx, t0.Add(11*time.Hour)); len(due) != 0 {
		t.Fatalf("due before time: %+v", due)
	}
	due, err := s.DueReminders(ctx, t0.Add(12*time.Hour))
	if err != nil || len(due) != 1 || due[0].ID != r.ID {
		t.Fatalf("DueReminders = %+v, %v", due, err)
	}

	// Many claimers, one winner.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.MarkReminderSent(ctx, r.ID, r.Steps[0].ID, nil)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d claimers won, want 1", wins)
	}
	if due, _ := s.DueReminders(ctx, t0.Add(13*time.Hour)); len(due) != 0 {
		t.Errorf("claimed step still due: %+v", due)
	}

	// A claim with a wrong reminder id changes nothing.
	if ok, _ := s.MarkReminderSent(ctx, r.ID+1, r.Steps[1].ID, nil); ok {
		t.Error("claimed a step through another reminder's id")
	}
	// Released (the send failed for sure): due again.
	if err := s.ReleaseReminderStep(ctx, r.Steps[0].ID); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueReminders(ctx, t0.Add(13*time.Hour)); len(due) != 1 {
		t.Errorf("released step not due again")
	}

	active, ok, err := s.ActiveReminder(ctx, 77)
	if err != nil || !ok || active.ID != r.ID {
		t.Fatalf("ActiveReminder = %+v, %v, %v", active, ok, err)
	}
	// Cancel needs the right chat.
	if ok, _ := s.CancelReminder(ctx, 78, r.ID); ok {
		t.Error("another chat cancelled the reminder")
	}
	if ok, err := s.CancelReminder(ctx, 77, r.ID); err != nil || !ok {
		t.Fatalf("CancelReminder = %v, %v", ok, err)
	}
	if ok, _ := s.MarkReminderSent(ctx, r.ID, r.Steps[1].ID, nil); ok {
		t.Error("claimed a step of a cancelled reminder")
	}
	if due, _ := s.DueReminders(ctx, t0.Add(30*time.Hour)); len(due) != 0 {
		t.Errorf("cancelled reminder still due: %+v", due)
	}
	if _, ok, _ := s.ActiveReminder(ctx, 77); ok {
		t.Error("cancelled reminder still active")
	}
}

func TestScheduleReplacesTheChatsReminder(t *testing.T) {
	s := openTest(t, t.TempDir(), nil)
	ctx := context.Background()
	first, _ := s.ScheduleReminder(ctx, NewReminder{ChatID: 1, Lang: lang.ZH, SMSAt: t0, Deadline: t0.Add(24 * time.Hour),
		Steps: []NewStep{{Expired, t0.Add(24 * time.Hour)}}})
	other, _ := s.ScheduleReminder(ctx, NewReminder{ChatID: 2, Lang: lang.ZH, SMSAt: t0, Deadline: t0.Add(24 * time.Hour),
		Steps: []NewStep{{Expired, t0.Add(24 * time.Hour)}}})
	second, _ := s.ScheduleReminder(ctx, NewReminder{ChatID: 1, Lang: lang.ZH, SMSAt: t0.Add(time.Hour), Deadline: t0.Add(25 * time.Hour),
		Steps: []NewStep{{Expired, t0.Add(25 * time.Hour)}}})
	due, err := s.DueReminders(ctx, t0.Add(48*time.Hour))
	if err != nil || len(due) != 2 || due[0].ID != other.ID || due[1].ID != second.ID {
		t.Errorf("due = %+v, %v; want reminders %d and %d (not %d)", due, err, other.ID, second.ID, first.ID)
	}
}

func TestQuestionLogAndPurge(t *testing.T) {
	c := newClock(t0)
	s := openTest(t, t.TempDir(), c)
	ctx := context.Background()
	log := func(at time.Time, hash, text string) int64 {
		id, err := s.LogQuestion(ctx, Question{At: at, ChatHash: hash, Lang: lang.ZH, Topic: "unknown", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	old := log(t0.Add(-40*24*time.Hour), "a", "旧问题")
	q1 := log(t0.Add(-time.Hour), "a", "一")
	q2 := log(t0, "a", "二")
	log(t0, "b", "别人的")

	if ok, err := s.SetFeedback(ctx, q2, "b", -1); err != nil || ok {
		t.Errorf("feedback from another chat = %v, %v; want refused", ok, err)
	}
	if ok, err := s.SetFeedback(ctx, q2, "a", 1); err != nil || !ok {
		t.Errorf("SetFeedback = %v, %v", ok, err)
	}
	if _, err := s.SetFeedback(ctx, q2, "a", 2); err == nil {
		t.Error("vote 2 accepted")
	}
	recent, err := s.RecentQuestions(ctx, "a", 2)
	if err != nil || len(recent) != 2 || recent[0].ID != q1 || recent[1].ID != q2 || recent[1].Feedback != 1 {
		t.Errorf("RecentQuestions = %+v, %v", recent, err)
	}

	// A question handed over, answered by an agent and closed counts as resolved by a person.
	th, _, _ := s.OpenThread(ctx, NewThread{CustomerChatID: 1, SupportChatID: -1, Lang: lang.ZH, QuestionID: q1})
	s.AddSupportMessage(ctx, th.ID, -1, 1, false)
	qs, _ := s.QuestionsSince(ctx, t0.Add(-2*time.Hour))
	if len(qs) != 3 || qs[0].HumanResolved {
		t.Fatalf("before the agent answers: %+v", qs)
	}
	s.AddSupportMessage(ctx, th.ID, -1, 2, true)
	s.CloseThread(ctx, th.ID, "sms-not-received")
	qs, _ = s.QuestionsSince(ctx, t0.Add(-2*time.Hour))
	if !qs[0].HumanResolved || qs[0].ResolvedTopic != "sms-not-received" {
		t.Errorf("after close: %+v", qs[0])
	}

	// Purge everything older than 30 days: the old question only; the
	// closed thread is recent. Then a purge in the future takes the rest but
	// keeps open threads and live reminders.
	s.Save(ctx, 1, botConv())
	st, err := s.Purge(ctx, t0.Add(-30*24*time.Hour))
	if err != nil || st != (PurgeStats{Questions: 1}) {
		t.Errorf("Purge = %+v, %v", st, err)
	}
	if qs, _ := s.QuestionsSince(ctx, time.Time{}); len(qs) != 3 || qs[0].ID == old {
		t.Errorf("after purge: %+v", qs)
	}
	s.OpenThread(ctx, NewThread{CustomerChatID: 2, SupportChatID: -1, Lang: lang.EN})
	s.ScheduleReminder(ctx, NewReminder{ChatID: 3, Lang: lang.EN, SMSAt: t0, Deadline: t0.Add(24 * time.Hour),
		Steps: []NewStep{{Expired, t0.Add(24 * time.Hour)}}})
	done, _ := s.ScheduleReminder(ctx, NewReminder{ChatID: 4, Lang: lang.EN, SMSAt: t0, Deadline: t0.Add(24 * time.Hour),
		Steps: []NewStep{{Expired, t0.Add(24 * time.Hour)}}})
	s.CancelReminder(ctx, 4, done.ID)
	st, err = s.Purge(ctx, t0.Add(100*24*time.Hour))
	if err != nil || st != (PurgeStats{Questions: 3, Threads: 1, Reminders: 1, Conversations: 1}) {
		t.Errorf("second Purge = %+v, %v", st, err)
	}
	if _, ok, _ := s.ThreadByCustomer(ctx, 2); !ok {
		t.Error("purge removed an open thread")
	}
	if _, ok, _ := s.ActiveReminder(ctx, 3); !ok {
		t.Error("purge removed a live reminder")
	}
}

func botConv() bot.Conversation { return bot.Conversation{Lang: lang.ZH} }

func TestSupportChatFollowsMigration(t *testing.T) {
	c := newClock(t0)
	dir := t.TempDir()
	s := openTest(t, dir, c)
	ctx := context.Background()
	if got, err := s.SupportChat(ctx, -500); err != nil || got != -500 {
		t.Fatalf("SupportChat before any migration = %d, %v; want the configured id", got, err)
	}
	if _, err := s.MigrateSupportChat(ctx, -500, -100500); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MigrateSupportChat(ctx, -100500, -100600); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir, c) // the config still names -500 after a restart
	if got, err := s.SupportChat(ctx, -500); err != nil || got != -100600 {
		t.Errorf("SupportChat(-500) = %d, %v; want -100600", got, err)
	}
	if got, _ := s.SupportChat(ctx, -7); got != -7 {
		t.Errorf("an unrelated chat changed: %d", got)
	}
}

func TestExpireConversations(t *testing.T) {
	c := newClock(t0)
	s := openTest(t, t.TempDir(), c)
	ctx := context.Background()
	s.Save(ctx, 1, bot.Conversation{LastTopic: "deadline"})
	c.Set(t0.Add(2 * time.Hour))
	s.Save(ctx, 2, bot.Conversation{LastTopic: "deadline"})
	n, err := s.ExpireConversations(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("ExpireConversations = %d, %v; want 1", n, err)
	}
	if c1, _ := s.Load(ctx, 1); c1.LastTopic != "" {
		t.Error("old conversation kept")
	}
	if c2, _ := s.Load(ctx, 2); c2.LastTopic != "deadline" {
		t.Error("recent conversation expired")
	}
}

package store

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
)

func inboxUpdate(id, chat int64) InboxUpdate {
	return InboxUpdate{ID: id, ChatID: chat, Body: []byte(`{"update_id":` + strconv.FormatInt(id, 10) + `}`), ReceivedAt: t0}
}

func pendingIDs(t *testing.T, s *Store) []int64 {
	t.Helper()
	us, err := s.PendingUpdates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}

func TestInboxAcceptAndComplete(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, nil)
	ctx := context.Background()

	fresh, err := s.AcceptUpdates(ctx, 12, []InboxUpdate{inboxUpdate(11, 1), inboxUpdate(10, 2)})
	if err != nil || !reflect.DeepEqual(fresh, []bool{true, true}) {
		t.Fatalf("AcceptUpdates = %v, %v", fresh, err)
	}
	if off, err := s.InboxOffset(ctx); err != nil || off != 12 {
		t.Errorf("offset = %d, %v; want 12 (set in the same step)", off, err)
	}
	// A second delivery is recognised; offset 0 leaves the offset alone.
	fresh, err = s.AcceptUpdates(ctx, 0, []InboxUpdate{inboxUpdate(11, 1), inboxUpdate(13, 1)})
	if err != nil || !reflect.DeepEqual(fresh, []bool{false, true}) {
		t.Fatalf("AcceptUpdates again = %v, %v", fresh, err)
	}
	if off, _ := s.InboxOffset(ctx); off != 12 {
		t.Errorf("offset moved to %d on an offset of 0", off)
	}
	if got := pendingIDs(t, s); !reflect.DeepEqual(got, []int64{10, 11, 13}) {
		t.Errorf("pending = %v, want oldest first", got)
	}

	// Messages sent for 11 and 13; 10 done. A record for an update not in
	// the inbox is ignored rather than failing the batch.
	sent := []OutboxMessage{
		{UpdateID: 11, Seq: 0, ChatID: 1, MessageID: 501},
		{UpdateID: 11, Seq: 1, ChatID: 1, Unsure: 1},
		{UpdateID: 13, Seq: 0, ChatID: 1, MessageID: 502},
		{UpdateID: 10, Seq: 0, ChatID: 2, MessageID: 9},
		{UpdateID: 99, Seq: 0, ChatID: 3, MessageID: 1},
	}
	if err := s.RecordProgress(ctx, Progress{Sent: sent, Done: []int64{10}}); err != nil {
		t.Fatal(err)
	}
	// The second send of 11/1 was lost too; 13 is done.
	// Chat state goes with it.
	states := map[int64]bot.Conversation{1: {LastTopic: "deadline"}, 2: {}}
	if err := s.Save(ctx, 2, bot.Conversation{LastTopic: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordProgress(ctx, Progress{States: states, Sent: []OutboxMessage{{UpdateID: 11, Seq: 1, ChatID: 1, Unsure: 2}}, Done: []int64{13}}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openTest(t, dir, nil)
	us, err := s.PendingUpdates(ctx)
	if err != nil || len(us) != 1 || us[0].ID != 11 {
		t.Fatalf("pending after reopen = %+v, %v", us, err)
	}
	want := []OutboxMessage{{UpdateID: 11, Seq: 0, ChatID: 1, MessageID: 501}, {UpdateID: 11, Seq: 1, ChatID: 1, Unsure: 2}}
	if !reflect.DeepEqual(us[0].Sent, want) || string(us[0].Body) != `{"update_id":11}` || !us[0].ReceivedAt.Equal(t0) {
		t.Errorf("pending 11 = %+v, want sent %+v", us[0], want)
	}
	var bodies, outbox int
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM inbox WHERE body IS NOT NULL").Scan(&bodies)
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox").Scan(&outbox)
	if bodies != 1 || outbox != 2 {
		t.Errorf("%d bodies and %d outbox rows kept, want only those of the pending update (1, 2)", bodies, outbox)
	}
	if c, _ := s.Load(ctx, 1); c.LastTopic != "deadline" {
		t.Errorf("chat 1 state = %+v, want the one recorded with the progress", c)
	}
	if c, _ := s.Load(ctx, 2); c.LastTopic != "" {
		t.Errorf("chat 2 state = %+v, want it deleted (a zero state)", c)
	}
	// A done update is still recognised when delivered again.
	if fresh, _ := s.AcceptUpdates(ctx, 0, []InboxUpdate{inboxUpdate(10, 2)}); fresh[0] {
		t.Error("an update done earlier was accepted again")
	}
}

func TestInboxPrunesDoneUpdates(t *testing.T) {
	c := newClock(t0)
	s := openTest(t, t.TempDir(), c)
	ctx := context.Background()
	const n = inboxKeepDone + 2*inboxPruneEach
	batch := make([]InboxUpdate, 0, 500)
	for id := int64(1); id <= n; id++ {
		batch = append(batch, inboxUpdate(id, id%7))
		if len(batch) == cap(batch) {
			if _, err := s.AcceptUpdates(ctx, id, batch); err != nil {
				t.Fatal(err)
			}
			done := make([]int64, len(batch))
			for i, u := range batch {
				done[i] = u.ID
			}
			if id == n {
				done = done[:len(done)-1] // the last one stays pending
			}
			if err := s.RecordProgress(ctx, Progress{Done: done}); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var rows int
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM inbox").Scan(&rows)
	if rows > inboxKeepDone+inboxPruneEach+1 {
		t.Errorf("%d inbox rows kept after %d updates, want about %d", rows, n, inboxKeepDone)
	}
	if got := pendingIDs(t, s); !reflect.DeepEqual(got, []int64{n}) {
		t.Errorf("pending = %v; pruning must keep pending updates", got)
	}
	// A day later, old done rows go whatever their number.
	c.Set(t0.Add(inboxKeepAge + time.Hour))
	for i := 0; i < inboxPruneEach; i++ {
		id := int64(n + 1 + i)
		s.AcceptUpdates(ctx, id, []InboxUpdate{inboxUpdate(id, 1)})
		s.RecordProgress(ctx, Progress{Done: []int64{id}})
	}
	s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM inbox WHERE done_at < ?", millis(t0.Add(time.Hour))).Scan(&rows)
	if rows != 0 {
		t.Errorf("%d done rows older than a day kept", rows)
	}
	if got := pendingIDs(t, s); !reflect.DeepEqual(got, []int64{n}) {
		t.Errorf("pending = %v after the age pruning", got)
	}
}

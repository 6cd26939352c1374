package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/beianbot/beianbot/bot"
)

// The inbox keeps each Telegram update that needs an answer from the moment
// it is taken from Telegram until it is answered. AcceptUpdates stores
// updates and moves the offset in one transaction, before Telegram is told
// (by the next getUpdates, or the webhook's 200) that it may forget them, so
// a crash loses none. The outbox records what was sent for an update not yet
// done, so that answering it again after a crash skips what already went out.

// InboxUpdate is one update waiting to be answered.
type InboxUpdate struct {
	ID         int64  // Telegram's update_id
	ChatID     int64  // the chat whose order it keeps
	Kind       string // what the caller will do with it (its own word)
	Body       []byte // the update as Telegram sent it (JSON)
	ReceivedAt time.Time
	// Sent is filled by PendingUpdates: the messages already sent in reply.
	Sent []OutboxMessage
}

// OutboxMessage is a message sent in reply to an update.
type OutboxMessage struct {
	UpdateID  int64
	Seq       int // its place among the update's messages, from 0
	ChatID    int64
	MessageID int64 // Telegram's id for it; 0 when Telegram's answer was lost
	Unsure    int   // sends of it whose outcome is unknown (the answer was lost)
}

// Done rows are kept a while so that an update a webhook delivers twice is
// recognised; past these bounds they are deleted.
const (
	inboxKeepDone  = 10000          // most recent done updates kept
	inboxKeepAge   = 24 * time.Hour // and none older than this
	inboxPruneEach = 1000           // prune after this many updates done
)

// InboxOffset is the highest update_id taken from Telegram (0: none): polling
// resumes at InboxOffset()+1. It is LastUpdateID.
func (s *Store) InboxOffset(ctx context.Context) (int64, error) { return s.LastUpdateID(ctx) }

// AcceptUpdates stores updates in the inbox and, when offset is not 0, sets
// the offset to it, in one transaction. fresh[i] tells whether us[i] was new:
// an update already in the inbox (pending or recently done) is not stored again.
func (s *Store) AcceptUpdates(ctx context.Context, offset int64, us []InboxUpdate) (fresh []bool, err error) {
	fresh = make([]bool, len(us))
	err = s.inTx(ctx, fmt.Sprintf("accept %d updates into the inbox", len(us)), func(ctx context.Context, tx *sql.Tx) error {
		if len(us) > 0 {
			ins, err := tx.PrepareContext(ctx, `
INSERT INTO inbox(update_id, chat_id, kind, body, received_at) VALUES(?, ?, ?, ?, ?)
ON CONFLICT(update_id) DO NOTHING`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for i, u := range us {
				res, err := ins.ExecContext(ctx, u.ID, u.ChatID, u.Kind, u.Body, millis(u.ReceivedAt))
				if err != nil {
					return fmt.Errorf("update %d: %w", u.ID, err)
				}
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				fresh[i] = n == 1
			}
		}
		if offset != 0 {
			// Overwritten, not raised: Telegram may restart ids lower after a quiet week.
			return setMeta(ctx, tx, "last_update_id", strconv.FormatInt(offset, 10))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// PendingUpdates returns the updates accepted and not yet done, oldest
// first, each with the messages already sent for it.
func (s *Store) PendingUpdates(ctx context.Context) ([]InboxUpdate, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT update_id, chat_id, kind, body, received_at FROM inbox WHERE done_at IS NULL ORDER BY update_id`)
	if err != nil {
		return nil, fmt.Errorf("read the inbox: %w", err)
	}
	defer rows.Close()
	var out []InboxUpdate
	at := map[int64]int{}
	for rows.Next() {
		var u InboxUpdate
		var received int64
		if err := rows.Scan(&u.ID, &u.ChatID, &u.Kind, &u.Body, &received); err != nil {
			return nil, fmt.Errorf("read the inbox: %w", err)
		}
		u.ReceivedAt = fromMillis(received)
		at[u.ID] = len(out)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the inbox: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	sent, err := s.db.QueryContext(ctx, `SELECT update_id, seq, chat_id, message_id, unsure FROM outbox ORDER BY update_id, seq`)
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	defer sent.Close()
	for sent.Next() {
		var m OutboxMessage
		if err := sent.Scan(&m.UpdateID, &m.Seq, &m.ChatID, &m.MessageID, &m.Unsure); err != nil {
			return nil, fmt.Errorf("read the outbox: %w", err)
		}
		if i, ok := at[m.UpdateID]; ok {
			out[i].Sent = append(out[i].Sent, m)
		}
	}
	if err := sent.Err(); err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	return out, nil
}

// Progress is what the work on updates has done since it was last recorded.
type Progress struct {
	// States are chats' conversations to save (as Save does), written
	// before the updates they came from are marked done.
	States map[int64]bot.Conversation
	Sent   []OutboxMessage // messages sent for updates still pending
	Done   []int64         // updates answered
}

// RecordProgress records progress in one transaction. A done update loses
// its body (customer text is not kept once answered) and its outbox rows.
func (s *Store) RecordProgress(ctx context.Context, p Progress) error {
	sent, done := p.Sent, p.Done
	states := make(map[int64]string, len(p.States))
	for chatID, c := range p.States {
		states[chatID] = ""
		if !reflect.ValueOf(c).IsZero() {
			state, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("encode conversation %d: %w", chatID, err)
			}
			states[chatID] = string(state)
		}
	}
	finished := make(map[int64]bool, len(done))
	for _, id := range done {
		finished[id] = true
	}
	n := s.inboxDone.Add(int64(len(done)))
	prune := n/inboxPruneEach != (n-int64(len(done)))/inboxPruneEach
	what := fmt.Sprintf("record %d chat states, %d messages sent and %d updates done", len(states), len(sent), len(done))
	return s.inTx(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		now := millis(s.now())
		for chatID, state := range states {
			var err error
			if state == "" {
				_, err = tx.ExecContext(ctx, "DELETE FROM conversations WHERE chat_id = ?", chatID)
			} else {
				_, err = tx.ExecContext(ctx, `
INSERT INTO conversations(chat_id, state, updated_at) VALUES(?, ?, ?)
ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
					chatID, state, now)
			}
			if err != nil {
				return fmt.Errorf("conversation %d: %w", chatID, err)
			}
		}
		if len(sent) > 0 {
			ins, err := tx.PrepareContext(ctx, `
INSERT INTO outbox(update_id, seq, chat_id, message_id, unsure, sent_at)
SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM inbox WHERE update_id = ? AND done_at IS NULL)
ON CONFLICT(update_id, seq) DO UPDATE SET chat_id = excluded.chat_id, message_id = excluded.message_id,
	unsure = excluded.unsure, sent_at = excluded.sent_at`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, m := range sent {
				if finished[m.UpdateID] {
					continue
				}
				if _, err := ins.ExecContext(ctx, m.UpdateID, m.Seq, m.ChatID, m.MessageID, m.Unsure, now, m.UpdateID); err != nil {
					return fmt.Errorf("update %d message %d: %w", m.UpdateID, m.Seq, err)
				}
			}
		}
		// A statement per few hundred updates rather than per update.
		for rest := done; len(rest) > 0; {
			chunk := rest[:min(len(rest), 500)]
			rest = rest[len(chunk):]
			in := strings.Repeat(",?", len(chunk))[1:]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, now)
			for _, id := range chunk {
				args = append(args, id)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE inbox SET done_at = ?, body = NULL WHERE done_at IS NULL AND update_id IN ("+in+")", args...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE update_id IN ("+in+")", args[1:]...); err != nil {
				return err
			}
		}
		if prune {
			return pruneInbox(ctx, tx, now)
		}
		return nil
	})
}

// pruneInbox deletes done updates beyond the most recent inboxKeepDone, and
// those done longer than inboxKeepAge ago.
func pruneInbox(ctx context.Context, tx *sql.Tx, now int64) error {
	_, err := tx.ExecContext(ctx, `
DELETE FROM inbox WHERE done_at IS NOT NULL
	AND (done_at < ? OR update_id <= (SELECT MAX(update_id) FROM inbox) - ?)`,
		now-inboxKeepAge.Milliseconds(), inboxKeepDone)
	return err
}

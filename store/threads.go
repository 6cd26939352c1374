package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/beianbot/beianbot/lang"
)

// Thread is a customer handed to the support team: the bot posts into the
// support group and relays agents' replies back to the customer.
type Thread struct {
	ID             int64
	CustomerChatID int64
	SupportChatID  int64
	Lang           lang.Lang
	Traditional    bool
	Topic          string // the bot's topic when the customer was handed over
	QuestionID     int64  // the question log entry that led here; 0 for none (e.g. /human)
	Open           bool
	ResolvedTopic  string // the knowledge-base topic the agent named on /close, if any
	CreatedAt      time.Time
	ClosedAt       time.Time // zero while open
}

// NewThread is what OpenThread needs to know.
type NewThread struct {
	CustomerChatID int64
	SupportChatID  int64
	Lang           lang.Lang
	Traditional    bool
	Topic          string
	QuestionID     int64
}

const threadColumns = `id, customer_chat_id, support_chat_id, lang, traditional, topic,
	COALESCE(question_id, 0), open, resolved_topic, created_at, closed_at`

func scanThread(row interface{ Scan(...any) error }) (Thread, error) {
	var t Thread
	var closed sql.NullInt64
	var created int64
	err := row.Scan(&t.ID, &t.CustomerChatID, &t.SupportChatID, &t.Lang, &t.Traditional, &t.Topic,
		&t.QuestionID, &t.Open, &t.ResolvedTopic, &created, &closed)
	t.CreatedAt = fromMillis(created)
	t.ClosedAt = nullMillis(closed)
	return t, err
}

// OpenThread opens a thread for the customer, or returns the one already
// open (created false): a customer has at most one open thread.
func (s *Store) OpenThread(ctx context.Context, nt NewThread) (t Thread, created bool, err error) {
	err = s.inTx(ctx, fmt.Sprintf("open thread for chat %d", nt.CustomerChatID), func(ctx context.Context, tx *sql.Tx) error {
		created = false // this may be a second run (see inTx)
		t, err = scanThread(tx.QueryRowContext(ctx,
			"SELECT "+threadColumns+" FROM threads WHERE customer_chat_id = ? AND open = 1", nt.CustomerChatID))
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var qid any // NULL, not 0, so the foreign key is not checked
		if nt.QuestionID != 0 {
			qid = nt.QuestionID
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO threads(customer_chat_id, support_chat_id, lang, traditional, topic, question_id, open, created_at)
VALUES(?, ?, ?, ?, ?, ?, 1, ?)`,
			nt.CustomerChatID, nt.SupportChatID, string(nt.Lang), boolInt(nt.Traditional), nt.Topic, qid, millis(s.now()))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		t, err = scanThread(tx.QueryRowContext(ctx, "SELECT "+threadColumns+" FROM threads WHERE id = ?", id))
		created = true
		return err
	})
	return t, created, err
}

// ThreadByCustomer returns the customer's open thread; ok is false when there is none.
func (s *Store) ThreadByCustomer(ctx context.Context, customerChatID int64) (t Thread, ok bool, err error) {
	t, err = scanThread(s.db.QueryRowContext(ctx,
		"SELECT "+threadColumns+" FROM threads WHERE customer_chat_id = ? AND open = 1", customerChatID))
	return found(t, err, "find open thread of chat %d", customerChatID)
}

// OpenThreads counts the threads still open (for the metrics).
func (s *Store) OpenThreads(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM threads WHERE open = 1").Scan(&n); err != nil {
		return 0, fmt.Errorf("count open threads: %w", err)
	}
	return n, nil
}

// ThreadBySupportMessage returns the thread a support-group message belongs
// to, open or closed (so a late reply can be told the thread is closed).
func (s *Store) ThreadBySupportMessage(ctx context.Context, supportChatID, messageID int64) (t Thread, ok bool, err error) {
	t, err = scanThread(s.db.QueryRowContext(ctx, `
SELECT `+threadColumns+` FROM threads
WHERE id = (SELECT thread_id FROM thread_messages WHERE support_chat_id = ? AND message_id = ?)`,
		supportChatID, messageID))
	return found(t, err, "find thread of support message %d/%d", supportChatID, messageID)
}

func found(t Thread, err error, format string, args ...any) (Thread, bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return Thread{}, false, nil
	}
	if err != nil {
		return Thread{}, false, fmt.Errorf(format+": %w", append(args, err)...)
	}
	return t, true, nil
}

// AddSupportMessage maps a message in the support group to a thread, so a
// reply to it reaches the customer. agent is true for messages written by
// a person (their replies), false for the bot's own posts. Adding the same
// message twice is not an error.
func (s *Store) AddSupportMessage(ctx context.Context, threadID, supportChatID, messageID int64, agent bool) error {
	_, err := s.exec(ctx, `
INSERT INTO thread_messages(support_chat_id, message_id, thread_id, agent, created_at) VALUES(?, ?, ?, ?, ?)
ON CONFLICT(support_chat_id, message_id) DO NOTHING`,
		supportChatID, messageID, threadID, boolInt(agent), millis(s.now()))
	if err != nil {
		return fmt.Errorf("add support message %d/%d to thread %d: %w", supportChatID, messageID, threadID, err)
	}
	return nil
}

// CloseThread closes a thread; resolvedTopic is the knowledge-base topic the
// agent named (e.g. "/close deadline"), "" for none. ok is false when the
// thread was not open, so a second /close can say so.
func (s *Store) CloseThread(ctx context.Context, threadID int64, resolvedTopic string) (ok bool, err error) {
	res, err := s.exec(ctx,
		"UPDATE threads SET open = 0, closed_at = ?, resolved_topic = ? WHERE id = ? AND open = 1",
		millis(s.now()), resolvedTopic, threadID)
	if err != nil {
		return false, fmt.Errorf("close thread %d: %w", threadID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("close thread %d: %w", threadID, err)
	}
	return n == 1, nil
}

// MigrateSupportChat follows a support group that Telegram upgraded to a
// supergroup (new chat id): open threads post to newID from now on. It
// returns those threads so the caller can post each again in the new chat
// (and AddSupportMessage the new posts): agents cannot reply there to posts
// of the old group. The old (chat, message) mappings stay as they are —
// message ids restart in the new chat, so moving them would misroute replies.
func (s *Store) MigrateSupportChat(ctx context.Context, oldID, newID int64) ([]Thread, error) {
	var moved []Thread
	err := s.inTx(ctx, fmt.Sprintf("move threads from support chat %d to %d", oldID, newID), func(ctx context.Context, tx *sql.Tx) error {
		moved = nil // this may be a second run (see inTx)
		if _, err := tx.ExecContext(ctx,
			"UPDATE threads SET support_chat_id = ? WHERE support_chat_id = ? AND open = 1", newID, oldID); err != nil {
			return err
		}
		// Remembered so a restart with the old id still in the config
		// posts to the new chat (see SupportChat).
		if err := setMeta(ctx, tx, supportChatKey(oldID), strconv.FormatInt(newID, 10)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx,
			"SELECT "+threadColumns+" FROM threads WHERE support_chat_id = ? AND open = 1 ORDER BY id", newID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanThread(rows)
			if err != nil {
				return err
			}
			moved = append(moved, t)
		}
		return rows.Err()
	})
	return moved, err
}

// ThreadSummary is one thread as the report sees it.
type ThreadSummary struct {
	Thread
	AgentMessages int
	FirstAgentAt  time.Time // zero when no agent has written
}

// ThreadsSince returns the threads opened at or after since, oldest first.
func (s *Store) ThreadsSince(ctx context.Context, since time.Time) ([]ThreadSummary, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT `+threadColumns+`,
	(SELECT COUNT(*) FROM thread_messages m WHERE m.thread_id = threads.id AND m.agent = 1),
	(SELECT MIN(created_at) FROM thread_messages m WHERE m.thread_id = threads.id AND m.agent = 1 AND m.created_at > 0)
FROM threads WHERE created_at >= ? ORDER BY created_at, id`, millis(since))
	if err != nil {
		return nil, fmt.Errorf("list threads since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []ThreadSummary
	for rows.Next() {
		var ts ThreadSummary
		var first sql.NullInt64
		var closed sql.NullInt64
		var created int64
		t := &ts.Thread
		if err := rows.Scan(&t.ID, &t.CustomerChatID, &t.SupportChatID, &t.Lang, &t.Traditional, &t.Topic,
			&t.QuestionID, &t.Open, &t.ResolvedTopic, &created, &closed, &ts.AgentMessages, &first); err != nil {
			return nil, fmt.Errorf("list threads: %w", err)
		}
		t.CreatedAt, t.ClosedAt, ts.FirstAgentAt = fromMillis(created), nullMillis(closed), nullMillis(first)
		out = append(out, ts)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	return out, nil
}

func supportChatKey(id int64) string { return "support_chat_moved:" + strconv.FormatInt(id, 10) }

// SupportChat returns the chat a configured support group id stands for
// now: the supergroup it was upgraded to (as recorded by
// MigrateSupportChat), or configured itself.
func (s *Store) SupportChat(ctx context.Context, configured int64) (int64, error) {
	id := configured
	for range 10 { // a chain of upgrades is short; a loop in the data must not hang
		v, ok, err := s.meta(ctx, supportChatKey(id))
		if err != nil || !ok {
			return id, err
		}
		next, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return id, fmt.Errorf("read moved support chat %d from %s: %q: %w", id, s.path, v, err)
		}
		id = next
	}
	return id, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/beianbot/beianbot/lang"
)

// StepKind is what a reminder step sends.
type StepKind string

const (
	// Before is a reminder before the deadline.
	Before StepKind = "before"
	// Expired is the one message after the deadline has passed.
	Expired StepKind = "expired"
)

// Outcome is what became of a step that is done.
type Outcome string

const (
	Pending Outcome = ""        // not yet due or not yet claimed
	Sent    Outcome = "sent"    // claimed by a sender
	Skipped Outcome = "skipped" // passed over, e.g. an older reminder due while the bot was down
)

// Reminder is one customer's 24-hour countdown and the messages it sends.
type Reminder struct {
	ID          int64
	ChatID      int64
	Lang        lang.Lang
	Traditional bool
	SMSAt       time.Time // when the verification SMS arrived
	Deadline    time.Time
	CreatedAt   time.Time
	Cancelled   bool
	Steps       []Step // in due order
}

// Step is one message a reminder may send.
type Step struct {
	ID      int64
	Kind    StepKind
	DueAt   time.Time
	DoneAt  time.Time // zero while pending
	Outcome Outcome
}

// NewReminder is what ScheduleReminder needs to know.
type NewReminder struct {
	ChatID      int64
	Lang        lang.Lang
	Traditional bool
	SMSAt       time.Time
	Deadline    time.Time
	Steps       []NewStep
}

// NewStep is one step to schedule.
type NewStep struct {
	Kind  StepKind
	DueAt time.Time
}

// ScheduleReminder stores a reminder and its steps. A chat has at most one
// active reminder: scheduling cancels the chat's earlier ones in the same
// transaction (a customer who sets a new time means the new one).
func (s *Store) ScheduleReminder(ctx context.Context, nr NewReminder) (Reminder, error) {
	var r Reminder
	err := s.inTx(ctx, fmt.Sprintf("schedule reminder for chat %d", nr.ChatID), func(ctx context.Context, tx *sql.Tx) error {
		now := millis(s.now())
		if _, err := tx.ExecContext(ctx,
			"UPDATE reminders SET cancelled_at = ? WHERE chat_id = ? AND cancelled_at IS NULL", now, nr.ChatID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO reminders(chat_id, lang, traditional, sms_at, deadline, created_at) VALUES(?, ?, ?, ?, ?, ?)`,
			nr.ChatID, string(nr.Lang), boolInt(nr.Traditional), millis(nr.SMSAt), millis(nr.Deadline), now)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for _, st := range nr.Steps {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO reminder_steps(reminder_id, kind, due_at) VALUES(?, ?, ?)",
				id, string(st.Kind), millis(st.DueAt)); err != nil {
				return err
			}
		}
		rs, err := loadReminders(ctx, tx, "r.id = ?", id)
		if err != nil {
			return err
		}
		r = rs[0]
		return nil
	})
	return r, err
}

// dueLimit bounds one DueReminders call; the rest come at the next tick.
const dueLimit = 500

// DueReminders returns the reminders, not cancelled, that have a pending
// step due at or before now (at most 500), with all their steps. It claims
// nothing: MarkReminderSent does.
func (s *Store) DueReminders(ctx context.Context, now time.Time) ([]Reminder, error) {
	rs, err := loadReminders(ctx, s.db, `r.cancelled_at IS NULL AND r.id IN (
	SELECT reminder_id FROM reminder_steps WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?)`,
		millis(now), dueLimit)
	if err != nil {
		return nil, fmt.Errorf("list due reminders: %w", err)
	}
	return rs, nil
}

// ActiveReminder returns the chat's reminder that is not cancelled and still
// has a pending step; ok is false when there is none.
func (s *Store) ActiveReminder(ctx context.Context, chatID int64) (r Reminder, ok bool, err error) {
	rs, err := loadReminders(ctx, s.db, `r.chat_id = ? AND r.cancelled_at IS NULL AND EXISTS (
	SELECT 1 FROM reminder_steps WHERE reminder_id = r.id AND done_at IS NULL)`, chatID)
	if err != nil {
		return Reminder{}, false, fmt.Errorf("find active reminder of chat %d: %w", chatID, err)
	}
	if len(rs) == 0 {
		return Reminder{}, false, nil
	}
	return rs[len(rs)-1], true, nil
}

// MarkReminderSent claims step send of a reminder for sending, and marks
// the steps in skip as skipped, in one transaction. It returns false — and
// changes nothing — when the step was already claimed or the reminder was
// cancelled, so of any number of concurrent callers exactly one gets true.
//
// This is at-most-once delivery: the claim is committed before the message
// is sent, so a crash between the two loses that one message rather than
// sending it twice. The rule is "none is sent twice".
func (s *Store) MarkReminderSent(ctx context.Context, reminderID, send int64, skip []int64) (ok bool, err error) {
	err = s.inTx(ctx, fmt.Sprintf("claim step %d of reminder %d", send, reminderID), func(ctx context.Context, tx *sql.Tx) error {
		ok = false // this may be a second run (see inTx)
		now := millis(s.now())
		res, err := tx.ExecContext(ctx, `
UPDATE reminder_steps SET done_at = ?, outcome = 'sent'
WHERE id = ? AND reminder_id = ? AND done_at IS NULL
	AND EXISTS (SELECT 1 FROM reminders WHERE id = ? AND cancelled_at IS NULL)`,
			now, send, reminderID, reminderID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		for _, id := range skip {
			if _, err := tx.ExecContext(ctx, `
UPDATE reminder_steps SET done_at = ?, outcome = 'skipped'
WHERE id = ? AND reminder_id = ? AND done_at IS NULL`, now, id, reminderID); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	return ok, err
}

// ReleaseReminderStep undoes a claim whose message certainly did not go out
// (Telegram answered with an error), so the next tick tries again. Do not
// release after a timeout: the message may have been delivered.
func (s *Store) ReleaseReminderStep(ctx context.Context, stepID int64) error {
	_, err := s.exec(ctx,
		"UPDATE reminder_steps SET done_at = NULL, outcome = '' WHERE id = ? AND outcome = 'sent'", stepID)
	if err != nil {
		return fmt.Errorf("release reminder step %d: %w", stepID, err)
	}
	return nil
}

// CancelReminder cancels a reminder of a chat (the "done" button). The chat
// id must match, so a forged button cannot cancel another chat's reminder.
// ok is false when there was nothing to cancel.
func (s *Store) CancelReminder(ctx context.Context, chatID, reminderID int64) (ok bool, err error) {
	res, err := s.exec(ctx,
		"UPDATE reminders SET cancelled_at = ? WHERE id = ? AND chat_id = ? AND cancelled_at IS NULL",
		millis(s.now()), reminderID, chatID)
	if err != nil {
		return false, fmt.Errorf("cancel reminder %d of chat %d: %w", reminderID, chatID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cancel reminder %d of chat %d: %w", reminderID, chatID, err)
	}
	return n == 1, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadReminders loads the reminders matching where (on alias r), with
// their steps, in id order.
func loadReminders(ctx context.Context, q querier, where string, args ...any) ([]Reminder, error) {
	rows, err := q.QueryContext(ctx, `
SELECT r.id, r.chat_id, r.lang, r.traditional, r.sms_at, r.deadline, r.created_at, r.cancelled_at IS NOT NULL,
	s.id, s.kind, s.due_at, s.done_at, s.outcome
FROM reminders r LEFT JOIN reminder_steps s ON s.reminder_id = r.id
WHERE `+where+`
ORDER BY r.id, s.due_at, s.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Reminder
	for rows.Next() {
		var r Reminder
		var smsAt, deadline, created int64
		var stepID, due, done sql.NullInt64
		var kind, outcome sql.NullString
		if err := rows.Scan(&r.ID, &r.ChatID, &r.Lang, &r.Traditional, &smsAt, &deadline, &created, &r.Cancelled,
			&stepID, &kind, &due, &done, &outcome); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			r.SMSAt, r.Deadline, r.CreatedAt = fromMillis(smsAt), fromMillis(deadline), fromMillis(created)
			out = append(out, r)
		}
		if stepID.Valid {
			last := &out[len(out)-1]
			last.Steps = append(last.Steps, Step{
				ID: stepID.Int64, Kind: StepKind(kind.String), DueAt: nullMillis(due),
				DoneAt: nullMillis(done), Outcome: Outcome(outcome.String),
			})
		}
	}
	return out, rows.Err()
}

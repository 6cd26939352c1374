package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/beianbot/beianbot/lang"
)

// Question is one entry of the question log. The store keeps what it is
// given: redacting Text and hashing the chat id are the caller's job
// (support.QuestionLog does both).
type Question struct {
	ID               int64
	At               time.Time
	ChatHash         string
	Lang             lang.Lang
	Traditional      bool
	Topic            string
	Score            float64
	Answered         bool
	Feedback         int // +1 👍, -1 👎, 0 none
	Handoff          bool
	Text             string // the customer's question, redacted
	Rephrase         string // the LLM rephraser's verdict; "" when it was not asked
	RephraseAccepted bool

	// Filled by QuestionsSince from the handoff thread the question led to.
	HumanResolved bool   // an agent answered in the thread and it was closed
	ResolvedTopic string // the topic the agent named on /close
}

// LogQuestion appends an entry to the question log and returns its id
// (for the feedback buttons and the handoff thread).
func (s *Store) LogQuestion(ctx context.Context, q Question) (int64, error) {
	at := q.At
	if at.IsZero() {
		at = s.now()
	}
	res, err := s.exec(ctx, `
INSERT INTO questions(at, chat_hash, lang, traditional, topic, score, answered, feedback, handoff, question, rephrase, rephrase_accepted)
VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		millis(at), q.ChatHash, string(q.Lang), boolInt(q.Traditional), q.Topic, q.Score, boolInt(q.Answered),
		q.Feedback, boolInt(q.Handoff), q.Text, q.Rephrase, boolInt(q.RephraseAccepted))
	if err != nil {
		return 0, fmt.Errorf("log question: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("log question: %w", err)
	}
	return id, nil
}

// SetFeedback records 👍 (+1), 👎 (-1) or neither (0) on a logged question.
// The chat hash must match the entry's, so a forged button press from
// another chat changes nothing; ok is false then, or when the id is unknown.
func (s *Store) SetFeedback(ctx context.Context, questionID int64, chatHash string, vote int) (ok bool, err error) {
	if vote < -1 || vote > 1 {
		return false, fmt.Errorf("set feedback on question %d: vote %d is not -1, 0 or 1", questionID, vote)
	}
	res, err := s.exec(ctx,
		"UPDATE questions SET feedback = ? WHERE id = ? AND chat_hash = ?", vote, questionID, chatHash)
	if err != nil {
		return false, fmt.Errorf("set feedback on question %d: %w", questionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("set feedback on question %d: %w", questionID, err)
	}
	return n == 1, nil
}

// MarkHandoff records that a logged question was handed to a person
// (e.g. after 👎 or /human, when the entry was logged without one).
func (s *Store) MarkHandoff(ctx context.Context, questionID int64) error {
	if _, err := s.exec(ctx, "UPDATE questions SET handoff = 1 WHERE id = ?", questionID); err != nil {
		return fmt.Errorf("mark handoff on question %d: %w", questionID, err)
	}
	return nil
}

const questionColumns = `q.id, q.at, q.chat_hash, q.lang, q.traditional, q.topic, q.score, q.answered,
	q.feedback, q.handoff, q.question, q.rephrase, q.rephrase_accepted`

// RecentQuestions returns a chat's last n logged questions, oldest first:
// the "last few turns" a handoff post shows the agent.
func (s *Store) RecentQuestions(ctx context.Context, chatHash string, n int) ([]Question, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT * FROM (
	SELECT `+questionColumns+`, 0, '' FROM questions q WHERE q.chat_hash = ? ORDER BY q.at DESC, q.id DESC LIMIT ?
) ORDER BY at, id`, chatHash, n)
	if err != nil {
		return nil, fmt.Errorf("recent questions: %w", err)
	}
	return scanQuestions(rows)
}

// QuestionsSince returns the log from since on, oldest first, with what
// became of any handoff thread each question led to.
func (s *Store) QuestionsSince(ctx context.Context, since time.Time) ([]Question, error) {
	rows, err := s.db.QueryContext(ctx, `
SELECT `+questionColumns+`,
	EXISTS (SELECT 1 FROM threads t JOIN thread_messages m ON m.thread_id = t.id
		WHERE t.question_id = q.id AND t.open = 0 AND m.agent = 1),
	COALESCE((SELECT t.resolved_topic FROM threads t WHERE t.question_id = q.id AND t.open = 0
		ORDER BY t.id DESC LIMIT 1), '')
FROM questions q WHERE q.at >= ? ORDER BY q.at, q.id`, millis(since))
	if err != nil {
		return nil, fmt.Errorf("list questions since %s: %w", since.Format(time.RFC3339), err)
	}
	return scanQuestions(rows)
}

func scanQuestions(rows *sql.Rows) ([]Question, error) {
	defer rows.Close()
	var out []Question
	for rows.Next() {
		var q Question
		var at int64
		if err := rows.Scan(&q.ID, &at, &q.ChatHash, &q.Lang, &q.Traditional, &q.Topic, &q.Score, &q.Answered,
			&q.Feedback, &q.Handoff, &q.Text, &q.Rephrase, &q.RephraseAccepted, &q.HumanResolved, &q.ResolvedTopic); err != nil {
			return nil, fmt.Errorf("read question log: %w", err)
		}
		q.At = fromMillis(at)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read question log: %w", err)
	}
	return out, nil
}

// PurgeStats counts what Purge deleted.
type PurgeStats struct {
	Questions     int64 `json:"questions"`
	Threads       int64 `json:"threads"`
	Reminders     int64 `json:"reminders"`
	Conversations int64 `json:"conversations"`
}

// Purge deletes what is older than olderThan, in one transaction: question
// log entries, closed threads, reminders whose deadline passed, and
// conversations idle since. Open threads and live reminders are kept.
func (s *Store) Purge(ctx context.Context, olderThan time.Time) (PurgeStats, error) {
	var st PurgeStats
	cut := millis(olderThan)
	err := s.inTx(ctx, "purge data older than "+olderThan.Format(time.RFC3339), func(ctx context.Context, tx *sql.Tx) error {
		for _, d := range []struct {
			n   *int64
			sql string
		}{
			{&st.Threads, "DELETE FROM threads WHERE open = 0 AND closed_at < ?"},
			{&st.Questions, "DELETE FROM questions WHERE at < ?"},
			{&st.Reminders, "DELETE FROM reminders WHERE deadline < ? AND NOT EXISTS (SELECT 1 FROM reminder_steps WHERE reminder_id = reminders.id AND done_at IS NULL AND reminders.cancelled_at IS NULL)"},
			{&st.Conversations, "DELETE FROM conversations WHERE updated_at < ?"},
		} {
			res, err := tx.ExecContext(ctx, d.sql, cut)
			if err != nil {
				return err
			}
			if *d.n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return nil
	})
	return st, err
}

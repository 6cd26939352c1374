package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema's history: migrations[i] takes the database from
// version i to i+1 (PRAGMA user_version). Append new steps; never edit a
// released one, because databases in the field already ran it.
// The SQL is kept plain so it reads the same in PostgreSQL.
var migrations = []string{
	// 1: conversations, the Telegram offset, handoff threads, reminders.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE conversations (
	chat_id    INTEGER PRIMARY KEY,
	state      TEXT    NOT NULL, -- bot.Conversation as JSON
	updated_at INTEGER NOT NULL
);

CREATE TABLE threads (
	id               INTEGER PRIMARY KEY,
	customer_chat_id INTEGER NOT NULL,
	support_chat_id  INTEGER NOT NULL,
	lang             TEXT    NOT NULL,
	traditional      INTEGER NOT NULL DEFAULT 0,
	topic            TEXT    NOT NULL DEFAULT '',
	open             INTEGER NOT NULL DEFAULT 1,
	created_at       INTEGER NOT NULL,
	closed_at        INTEGER
);
-- At most one open thread per customer.
CREATE UNIQUE INDEX threads_open_customer ON threads(customer_chat_id) WHERE open = 1;

-- Posts in the support group that belong to a thread: an agent's reply to
-- any of them is routed to the thread's customer.
CREATE TABLE thread_messages (
	support_chat_id INTEGER NOT NULL,
	message_id      INTEGER NOT NULL,
	thread_id       INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
	PRIMARY KEY (support_chat_id, message_id)
);
CREATE INDEX thread_messages_thread ON thread_messages(thread_id);

CREATE TABLE reminders (
	id           INTEGER PRIMARY KEY,
	chat_id      INTEGER NOT NULL,
	lang         TEXT    NOT NULL,
	traditional  INTEGER NOT NULL DEFAULT 0,
	sms_at       INTEGER NOT NULL,
	deadline     INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	cancelled_at INTEGER
);
CREATE INDEX reminders_chat ON reminders(chat_id);

-- One row per message a reminder may send. done_at is set, with outcome
-- 'sent' or 'skipped', in the same transaction that claims the step.
CREATE TABLE reminder_steps (
	id          INTEGER PRIMARY KEY,
	reminder_id INTEGER NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
	kind        TEXT    NOT NULL CHECK (kind IN ('before', 'expired')),
	due_at      INTEGER NOT NULL,
	done_at     INTEGER,
	outcome     TEXT    NOT NULL DEFAULT '' CHECK (outcome IN ('', 'sent', 'skipped'))
);
CREATE INDEX reminder_steps_reminder ON reminder_steps(reminder_id);
CREATE INDEX reminder_steps_due ON reminder_steps(due_at) WHERE done_at IS NULL;
`,
	// 2: the question log, and what the report needs from threads: which
	// question started one, the topic the agent named on /close, and who
	// wrote each support-group message when.
	`
CREATE TABLE questions (
	id                INTEGER PRIMARY KEY,
	at                INTEGER NOT NULL,
	chat_hash         TEXT    NOT NULL,
	lang              TEXT    NOT NULL,
	traditional       INTEGER NOT NULL DEFAULT 0,
	topic             TEXT    NOT NULL,
	score             REAL    NOT NULL DEFAULT 0,
	answered          INTEGER NOT NULL,
	feedback          INTEGER NOT NULL DEFAULT 0 CHECK (feedback IN (-1, 0, 1)),
	handoff           INTEGER NOT NULL DEFAULT 0,
	question          TEXT    NOT NULL, -- redacted before it gets here
	rephrase          TEXT    NOT NULL DEFAULT '',
	rephrase_accepted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX questions_at ON questions(at);
CREATE INDEX questions_chat ON questions(chat_hash, at);

ALTER TABLE threads ADD COLUMN question_id INTEGER REFERENCES questions(id) ON DELETE SET NULL;
ALTER TABLE threads ADD COLUMN resolved_topic TEXT NOT NULL DEFAULT '';
ALTER TABLE thread_messages ADD COLUMN agent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE thread_messages ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX threads_created ON threads(created_at);
`,
	// 3: the Telegram inbox and outbox. An update is stored when it is taken
	// from Telegram, in the transaction that moves the offset (meta
	// last_update_id), and marked done once answered; the outbox records each
	// message sent for an update not yet done, so that answering it again
	// after a crash does not send those messages twice.
	`
CREATE TABLE inbox (
	update_id   INTEGER PRIMARY KEY,
	chat_id     INTEGER NOT NULL,
	kind        TEXT    NOT NULL DEFAULT '',
	body        BLOB,             -- the update as Telegram sent it; NULL once done
	received_at INTEGER NOT NULL,
	done_at     INTEGER
);
CREATE INDEX inbox_pending ON inbox(update_id) WHERE done_at IS NULL;

CREATE TABLE outbox (
	update_id  INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	chat_id    INTEGER NOT NULL,
	message_id INTEGER NOT NULL DEFAULT 0, -- 0: Telegram's answer was lost
	unsure     INTEGER NOT NULL DEFAULT 0, -- sends whose answer was lost
	sent_at    INTEGER NOT NULL,
	PRIMARY KEY (update_id, seq)
);
`,
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations) }

// migrate applies the missing migrations, each in its own transaction
// together with the version bump, so a crash leaves a whole version.
func (s *Store) migrate(ctx context.Context) (from, to int, err error) {
	from, err = s.version(ctx)
	if err != nil {
		return 0, 0, err
	}
	for v := from; v < len(migrations); v++ {
		err := s.inTx(ctx, fmt.Sprintf("migrate %s to schema version %d", s.path, v+1), func(ctx context.Context, tx *sql.Tx) error {
			// Re-read inside the write lock: another process may have migrated meanwhile.
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
				return err
			}
			if cur != v {
				return nil
			}
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			// PRAGMA takes no parameters; v+1 is our own integer.
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return from, v, err
		}
	}
	to, err = s.version(ctx)
	return from, to, err
}

func (s *Store) version(ctx context.Context) (int, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", s.path, err)
	}
	return v, nil
}

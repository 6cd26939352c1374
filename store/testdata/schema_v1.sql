-- beianbot database at schema version 1, as released before the question log
-- existed. TestMigrateFromV1 loads it and opens it with the current code.
-- Its schema must stay exactly migrations[0] (TestFixtureIsV1 checks).

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

INSERT INTO meta(key, value) VALUES('last_update_id', '912345678');

INSERT INTO conversations(chat_id, state, updated_at) VALUES
	(1001, '{"lang":"zh","traditional":true,"last_topic":"deadline"}', 1741000000000),
	(1002, '{"lang":"en","pending":{"question":"Which change?","options":[{"business":"变更备案","subcase":"","label":"Change filing"}]},"pending_lang":"en"}', 1741000100000);

INSERT INTO threads(id, customer_chat_id, support_chat_id, lang, traditional, topic, open, created_at, closed_at) VALUES
	(1, 1001, -100500, 'zh', 1, 'unknown', 1, 1741000000000, NULL),
	(2, 1003, -100500, 'en', 0, 'sms-not-received', 0, 1740900000000, 1740903600000);

INSERT INTO thread_messages(support_chat_id, message_id, thread_id) VALUES
	(-100500, 10, 1),
	(-100500, 11, 1),
	(-100500, 7, 2);

INSERT INTO reminders(id, chat_id, lang, traditional, sms_at, deadline, created_at, cancelled_at) VALUES
	(1, 1002, 'en', 0, 1741000000000, 1741086400000, 1741000000000, NULL);

INSERT INTO reminder_steps(id, reminder_id, kind, due_at, done_at, outcome) VALUES
	(1, 1, 'before', 1741043200000, 1741043200000, 'sent'),
	(2, 1, 'before', 1741079200000, NULL, ''),
	(3, 1, 'expired', 1741086400000, NULL, '');

PRAGMA user_version = 1;

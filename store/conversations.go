package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/beianbot/beianbot/bot"
)

// Load returns the saved conversation of a chat, or the zero Conversation
// when there is none. A row that no longer decodes is an error; the caller
// may carry on with the zero value.
func (s *Store) Load(ctx context.Context, chatID int64) (bot.Conversation, error) {
	var state string
	err := s.loadConversation.QueryRowContext(ctx, chatID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Conversation{}, nil
	}
	if err != nil {
		return bot.Conversation{}, fmt.Errorf("load conversation %d: %w", chatID, err)
	}
	var c bot.Conversation
	if err := json.Unmarshal([]byte(state), &c); err != nil {
		return bot.Conversation{}, fmt.Errorf("decode conversation %d: %w", chatID, err)
	}
	return c, nil
}

// Save stores a chat's conversation. Saving the zero Conversation deletes
// the row, so chats with nothing pending and no pinned language cost nothing.
func (s *Store) Save(ctx context.Context, chatID int64, c bot.Conversation) error {
	if reflect.ValueOf(c).IsZero() {
		if _, err := s.exec(ctx, "DELETE FROM conversations WHERE chat_id = ?", chatID); err != nil {
			return fmt.Errorf("save conversation %d: %w", chatID, err)
		}
		return nil
	}
	state, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode conversation %d: %w", chatID, err)
	}
	_, err = s.exec(ctx, `
INSERT INTO conversations(chat_id, state, updated_at) VALUES(?, ?, ?)
ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
		chatID, string(state), millis(s.now()))
	if err != nil {
		return fmt.Errorf("save conversation %d: %w", chatID, err)
	}
	return nil
}

// ExpireConversations deletes conversations not saved since olderThan (the
// chat_ttl): a pending ask-back that old is stale, and Purge only removes
// rows after the much longer retention.
func (s *Store) ExpireConversations(ctx context.Context, olderThan time.Time) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM conversations WHERE updated_at < ?", millis(olderThan))
	if err != nil {
		return 0, fmt.Errorf("expire conversations: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("expire conversations: %w", err)
	}
	return n, nil
}

// LastUpdateID returns the id of the last Telegram update taken (stored in
// the inbox or found to need no answer), 0 when none was recorded. Polling
// resumes at LastUpdateID()+1.
func (s *Store) LastUpdateID(ctx context.Context) (int64, error) {
	v, ok, err := s.meta(ctx, "last_update_id")
	if err != nil || !ok {
		return 0, err
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read last update id from %s: %q: %w", s.path, v, err)
	}
	return id, nil
}

// SetLastUpdateID records the last Telegram update taken. It
// overwrites rather than keeping the maximum: Telegram may restart update
// ids at a random lower value after a week without updates.
func (s *Store) SetLastUpdateID(ctx context.Context, id int64) error {
	return s.inTx(ctx, "save last update id", func(ctx context.Context, tx *sql.Tx) error {
		return setMeta(ctx, tx, "last_update_id", strconv.FormatInt(id, 10))
	})
}

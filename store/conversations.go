package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/beianbot/beianbot/bot"
)

// Load returns the saved conversation of a chat, or the zero Conversation
// when there is none. A row that no longer decodes is an error; the caller
// may carry on with the zero value.
func (s *Store) Load(ctx context.Context, chatID int64) (bot.Conversation, error) {
	var state string
	err := s.db.QueryRowContext(ctx, "SELECT state FROM conversations WHERE chat_id = ?", chatID).Scan(&state)
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
// Saves made at the same time are committed together; each returns once its
// own is.
func (s *Store) Save(ctx context.Context, chatID int64, c bot.Conversation) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save conversation %d: %w", chatID, err)
	}
	sc := savedConversation{chatID: chatID}
	if !reflect.ValueOf(c).IsZero() {
		state, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode conversation %d: %w", chatID, err)
		}
		sc.state = string(state)
	}
	if err := s.saves.do(sc); err != nil {
		return fmt.Errorf("save conversation %d: %w", chatID, err)
	}
	return nil
}

// savedConversation is a conversation to write: its JSON, or "" to delete it.
type savedConversation struct {
	chatID int64
	state  string
}

func (s *Store) writeConversations(batch []savedConversation) error {
	return s.inTx(context.Background(), fmt.Sprintf("save %d conversations", len(batch)), func(tx *sql.Tx) error {
		now := millis(s.now())
		for _, sc := range batch {
			var err error
			if sc.state == "" {
				_, err = tx.Exec("DELETE FROM conversations WHERE chat_id = ?", sc.chatID)
			} else {
				_, err = tx.Exec(`
INSERT INTO conversations(chat_id, state, updated_at) VALUES(?, ?, ?)
ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
					sc.chatID, sc.state, now)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
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
	return s.inTx(ctx, "save last update id", func(tx *sql.Tx) error {
		return setMeta(ctx, tx, "last_update_id", strconv.FormatInt(id, 10))
	})
}

// groupCommit writes items that callers hand in at the same time in one
// batch. A caller that finds no batch being written writes everything
// gathered so far, its own item included; the others wait for that batch,
// and whoever's item it missed writes the next one.
type groupCommit[T any] struct {
	write func([]T) error

	mu      sync.Mutex
	turn    *sync.Cond // signalled when a batch is written
	queue   []*pendingWrite[T]
	writing bool
}

type pendingWrite[T any] struct {
	item    T
	err     error
	written bool
}

func newGroupCommit[T any](write func([]T) error) *groupCommit[T] {
	g := &groupCommit[T]{write: write}
	g.turn = sync.NewCond(&g.mu)
	return g
}

func (g *groupCommit[T]) do(item T) error {
	p := &pendingWrite[T]{item: item}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	for g.writing && !p.written {
		g.turn.Wait()
	}
	if p.written {
		g.mu.Unlock()
		return p.err
	}
	g.writing = true
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	items := make([]T, len(batch))
	for i, b := range batch {
		items[i] = b.item
	}
	err := g.write(items)

	g.mu.Lock()
	for _, b := range batch {
		b.err, b.written = err, true
	}
	g.writing = false
	g.turn.Broadcast()
	g.mu.Unlock()
	return err
}

package telegram

import (
	"context"
	"reflect"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lru"
)

// Conversations keeps each chat's engine state between messages. The default
// is in memory (MemoryConversations); a database can implement it to survive
// restarts. Calls for one chat never overlap: the server handles a chat's
// updates one at a time.
type Conversations interface {
	// Load returns the chat's state, the zero Conversation for a new chat.
	Load(ctx context.Context, chatID int64) (bot.Conversation, error)
	Save(ctx context.Context, chatID int64, c bot.Conversation) error
}

// MemoryConversations is a bounded in-memory Conversations: at most max chats,
// each forgotten after ttl without messages (then it starts afresh: no pending
// ask-back, language no longer pinned).
type MemoryConversations struct {
	chats *lru.Cache[int64, bot.Conversation]
}

// NewMemoryConversations keeps at most max chats for ttl each (ttl 0: no expiry).
func NewMemoryConversations(max int, ttl time.Duration) *MemoryConversations {
	return &MemoryConversations{chats: lru.New[int64, bot.Conversation](max, ttl, nil)}
}

func (m *MemoryConversations) Load(_ context.Context, chatID int64) (bot.Conversation, error) {
	c, _ := m.chats.Get(chatID)
	return c, nil
}

func (m *MemoryConversations) Save(_ context.Context, chatID int64, c bot.Conversation) error {
	if reflect.ValueOf(c).IsZero() {
		// Nothing worth keeping: do not spend a slot on it.
		m.chats.Delete(chatID)
		return nil
	}
	m.chats.Put(chatID, c)
	return nil
}

// Len is the number of chats held.
func (m *MemoryConversations) Len() int { return m.chats.Len() }

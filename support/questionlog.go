package support

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/store"
)

// maxLoggedRunes bounds a logged question: enough for any real question,
// not a pasted document.
const maxLoggedRunes = 500

// QuestionStore is the storage QuestionLog needs; *store.Store implements it.
type QuestionStore interface {
	LogQuestion(ctx context.Context, q store.Question) (int64, error)
	SetFeedback(ctx context.Context, questionID int64, chatHash string, vote int) (bool, error)
	MarkHandoff(ctx context.Context, questionID int64) error
	RecentQuestions(ctx context.Context, chatHash string, n int) ([]store.Question, error)
}

// QuestionLog records what customers asked and how it went, for `beianbot
// report`, without keeping who asked or what they pasted: chat ids are
// hashed with a secret salt and questions are redacted before they are stored.
type QuestionLog struct {
	st   QuestionStore
	salt string
}

// NewQuestionLog returns a log that hashes chat ids with salt, which must
// not be empty (see Salt).
func NewQuestionLog(st QuestionStore, salt string) (*QuestionLog, error) {
	if salt == "" {
		return nil, errors.New("question log: empty salt")
	}
	return &QuestionLog{st: st, salt: salt}, nil
}

// Salt returns the configured salt (question_log.salt), or else the
// database's own random one, made once and kept.
func Salt(ctx context.Context, configured string, st interface {
	ChatSalt(ctx context.Context) (string, error)
}) (string, error) {
	if configured != "" {
		return configured, nil
	}
	return st.ChatSalt(ctx)
}

// ChatHash is the salted hash that stands for a chat id in the log:
// HMAC-SHA256 keyed with the salt, hex-encoded. Without the salt it cannot
// be turned back into the id by trying all ids.
func ChatHash(salt string, chatID int64) string {
	m := hmac.New(sha256.New, []byte(salt))
	m.Write([]byte(strconv.FormatInt(chatID, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// Record logs one reply to a chat and returns the entry's id, to put in the
// feedback buttons' callback data and in a handoff thread.
func (l *QuestionLog) Record(ctx context.Context, chatID int64, r bot.Reply) (int64, error) {
	q := store.Question{
		ChatHash:    ChatHash(l.salt, chatID),
		Lang:        r.Lang,
		Traditional: r.Traditional,
		Topic:       r.Topic,
		Score:       Score(r),
		Answered:    r.Topic != "" && r.Topic != bot.TopicUnknown,
		Handoff:     r.Handoff,
		Text:        clip(Redact(r.Question), maxLoggedRunes),
	}
	if r.Rephrase != nil {
		q.Rephrase, q.RephraseAccepted = r.Rephrase.Verdict, r.Rephrase.Accepted
	}
	id, err := l.st.LogQuestion(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("question log: %w", err)
	}
	return id, nil
}

// Score is the engine's confidence in a reply: the best topic's confidence
// (classifier and index combined, 0–1) when it is the topic answered, and
// for unknown replies; 0 when the answer came from elsewhere (the
// verification table, a pasted MIIT message, a button), which is never "low
// confidence".
func Score(r bot.Reply) float64 {
	if r.Explain == nil || len(r.Explain.Scores) == 0 || r.Topic == bot.TopicWhoVerifies {
		return 0
	}
	top := r.Explain.Scores[0]
	if top.Topic == r.Topic || r.Topic == bot.TopicUnknown {
		return top.Score
	}
	return 0
}

// Feedback records 👍 (+1) or 👎 (-1) from a chat on a logged reply. ok is
// false when the entry is gone (purged) or belongs to another chat.
func (l *QuestionLog) Feedback(ctx context.Context, chatID, questionID int64, vote int) (bool, error) {
	return l.st.SetFeedback(ctx, questionID, ChatHash(l.salt, chatID), vote)
}

// Handoff marks a logged question as handed to a person.
func (l *QuestionLog) Handoff(ctx context.Context, questionID int64) error {
	return l.st.MarkHandoff(ctx, questionID)
}

// Recent returns a chat's last n logged questions (redacted), oldest first:
// the "last few turns" to show the agent in a handoff post.
func (l *QuestionLog) Recent(ctx context.Context, chatID int64, n int) ([]store.Question, error) {
	return l.st.RecentQuestions(ctx, ChatHash(l.salt, chatID), n)
}

func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

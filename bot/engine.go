// Package bot is beianbot's conversation engine: it turns a customer's message
// into a Reply, from the verification table, MIIT's messages and the FAQ index.
package bot

import (
	"context"

	"github.com/beianbot/beianbot/lang"
)

// Engine answers customers. It is safe for concurrent use; per-chat state
// lives in the Conversation the caller passes in.
type Engine struct {
}

// Reply answers one message of a conversation and updates conv.
func (e *Engine) Reply(ctx context.Context, conv *Conversation, text string) Reply {
	return Reply{Question: text, Lang: lang.EN, Topic: "unknown", Handoff: true}
}

// Choose answers a tap on option i (0-based) of the pending ask-back.
func (e *Engine) Choose(ctx context.Context, conv *Conversation, i int) Reply {
	return e.Reply(ctx, conv, "")
}

// Topic answers with one knowledge-base topic, e.g. for a deep link or /steps.
func (e *Engine) Topic(ctx context.Context, conv *Conversation, id string, l lang.Lang) Reply {
	return e.Reply(ctx, conv, "")
}

// Who answers who must verify for a business (and subcase, "" for any),
// asking back when the business alone does not decide.
func (e *Engine) Who(ctx context.Context, conv *Conversation, business, subcase string, l lang.Lang) Reply {
	return e.Reply(ctx, conv, "")
}

package telegram

import (
	"context"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/beianbot/beianbot/bot"
)

// An answer that is not ready after typingAfter (an LLM rewording can take
// seconds) shows the customer "typing…", renewed every typingEvery while
// the answer is worked on: Telegram shows it for 5 s, or until the bot's
// next message. A quick answer sends no chat action.
const (
	typingAfter = 300 * time.Millisecond
	typingEvery = 4500 * time.Millisecond
	// typingTimeout bounds one sendChatAction: the answer waits for a chat
	// action under way, so that "typing…" never follows it.
	typingTimeout = 2 * time.Second
)

// realTimer is the default Server.timer.
func realTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// whileAnswering runs answer and returns its reply, showing the chat
// "typing…" while answer takes longer than typingAfter. When it returns, no
// chat action is under way any more.
func (s *Server) whileAnswering(ctx context.Context, rq *request, answer func() bot.Reply) bot.Reply {
	if rq.chat == 0 {
		return answer()
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		wait := typingAfter
		for {
			fired, stop := s.timer(wait)
			select {
			case <-done:
				stop()
				return
			case <-fired:
			}
			select {
			case <-done: // the answer was ready as the timer fired
				return
			default:
			}
			s.sendTyping(ctx, rq)
			wait = typingEvery
		}
	}()
	r := answer()
	close(done)
	<-stopped
	return r
}

// sendTyping shows "typing…" in rq's chat, once and best effort: it is not
// retried and takes no place in the send limits, and a failure is only logged.
// It is not sent through s.send: that may pause, and pausing belongs to
// the worker, not to this goroutine.
func (s *Server) sendTyping(ctx context.Context, rq *request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), typingTimeout)
	defer cancel()
	_, err := s.api.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: rq.chat, MessageThreadID: rq.thread, Action: models.ChatActionTyping})
	if err != nil {
		s.log.Debug("typing indicator not shown", "chat", rq.chat, "err", s.scrub(err.Error()))
	}
}

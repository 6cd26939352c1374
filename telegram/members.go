package telegram

import (
	"context"
	"fmt"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/beianbot/beianbot/bot"
)

// Telegram tells the bot when its own membership of a chat changes
// (my_chat_member): a customer blocked it or unblocked it, a group added it
// or removed it. These updates take the same path as messages — stored in
// the inbox, answered once, in order with the chat's other updates.

// What the bot tells the support group when a customer can no longer be reached.
const (
	supportCustomerBlocked = "Thread #%d closed: the customer blocked the bot, so nothing more reaches them."
	supportCustomerRemoved = "Thread #%d closed: the bot was removed from the customer's group, so nothing more reaches them."
)

// migratedTTL is how long a supergroup that replaced a group is remembered:
// Telegram reports the bot as added to it, which is no reason to introduce
// itself again.
const migratedTTL = 10 * time.Minute

// absent tells whether a member status means the bot is out of the chat
// (blocked, removed, left) rather than in it.
func absent(m models.ChatMember) bool {
	switch m.Type {
	case models.ChatMemberTypeLeft, models.ChatMemberTypeBanned:
		return true
	case models.ChatMemberTypeRestricted:
		return m.Restricted != nil && !m.Restricted.IsMember
	}
	return false
}

// membershipSendsTo is the chat a membership change sends to: the group
// that added the bot (for the introduction), else none.
func membershipSendsTo(m *models.ChatMemberUpdated) int64 {
	if joined(m) && isGroup(m.Chat.Type) {
		return m.Chat.ID
	}
	return 0
}

func joined(m *models.ChatMemberUpdated) bool {
	return absent(m.OldChatMember) && !absent(m.NewChatMember)
}

func departed(m *models.ChatMemberUpdated) bool {
	return !absent(m.OldChatMember) && absent(m.NewChatMember)
}

// noteMigration remembers the supergroup a group became, from Telegram's
// service message (seen at intake, before the bot's "added" update for the
// supergroup is worked on).
func (s *Server) noteMigration(m *models.Message) {
	switch {
	case m.MigrateToChatID != 0:
		s.migrated.Put(m.MigrateToChatID, struct{}{})
	case m.MigrateFromChatID != 0:
		s.migrated.Put(m.Chat.ID, struct{}{})
	}
}

// handleMembership acts on a change of the bot's membership of a chat.
func (s *Server) handleMembership(ctx context.Context, rq *request, m *models.ChatMemberUpdated) {
	switch {
	case departed(m):
		s.farewell(ctx, rq, m)
	case joined(m) && isGroup(m.Chat.Type):
		s.introduce(ctx, rq, m)
	}
}

// farewell forgets a customer who blocked the bot or removed it from their
// group: no more reminders, and their open handoff thread is closed, with a
// note to the support team.
func (s *Server) farewell(ctx context.Context, rq *request, m *models.ChatMemberUpdated) {
	chat := m.Chat.ID
	s.log.Info("the bot was blocked or removed", "chat", chat, "status", m.NewChatMember.Type)
	s.awaiting.Delete(chat)
	if s.sup.Reminders != nil {
		n, err := s.sup.Reminders.StopChat(ctx, chat)
		switch {
		case err != nil:
			s.log.Error("cannot stop the reminders of a chat that blocked the bot", "chat", chat, "err", err)
		case n > 0:
			s.log.Info("reminders stopped", "chat", chat, "count", n)
		}
	}
	if s.sup.Threads == nil {
		return
	}
	th, open, err := s.sup.Threads.ThreadByCustomer(ctx, chat)
	if err != nil {
		s.log.Error("cannot look up the handoff thread of a chat that blocked the bot", "chat", chat, "err", err)
		return
	}
	if !open {
		return
	}
	note := supportCustomerBlocked
	if isGroup(m.Chat.Type) {
		note = supportCustomerRemoved
	}
	// The note first, then the close: after a crash in between, the update
	// is worked on again, finds the thread open, and the outbox keeps the
	// note from going out twice. In the thread, so that a reply to the
	// note is told the thread is closed.
	if err := s.postToThread(ctx, rq, th, fmt.Sprintf(note, th.ID)); err != nil {
		if rq.out != nil && rq.out.interrupted {
			return // shutdown: all of it again after the restart
		}
		s.log.Error("cannot tell the support group a thread closed", "thread", th.ID, "err", err)
	}
	if _, err := s.sup.Threads.CloseThread(ctx, th.ID, ""); err != nil {
		s.log.Error("cannot close the handoff thread of a chat that blocked the bot", "thread", th.ID, "err", err)
		return
	}
	s.log.Info("thread closed: the customer is out of reach", "thread", th.ID)
}

// introduce greets a group that added the bot, saying how to ask it there.
// The support group and a supergroup that merely replaced a group are not
// greeted.
func (s *Server) introduce(ctx context.Context, rq *request, m *models.ChatMemberUpdated) {
	if id := m.Chat.ID; id == s.supportChat.Load() || id == s.cfg.SupportChatID {
		return
	}
	if _, ok := s.migrated.Get(m.Chat.ID); ok {
		return
	}
	l, trad := s.commandLang(bot.Conversation{}, &m.From)
	rq.lang, rq.trad = l, trad
	err := s.sendPlain(ctx, rq, s.text.text("group_intro", l, trad, "bot", s.me.Username), nil)
	s.logReply(rq, "group_intro", l, err)
}

package telegram

import (
	"context"
	"errors"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// replaceTapped shows f in place of the message whose button was tapped:
// the option chosen, as a note, then f, with rows under it (the tapped
// message's own buttons go). A part that does not fit follows as a new
// message. When the message cannot be edited — too old, deleted, not
// accessible to the bot — f is sent as a new message instead.
func (s *Server) replaceTapped(ctx context.Context, rq *request, q *models.CallbackQuery, f formatted, rows [][]inlineButton) error {
	msg := q.Message.Message
	if chosen := tappedLabel(msg, q.Data); chosen != "" {
		f.note = s.text.text("chosen", rq.lang, rq.trad, "option", chosen)
	}
	parts := f.parts(maxMessageUnits)
	if msg == nil || len(parts) == 0 {
		return s.sendParts(ctx, rq, parts, rows)
	}
	var markup models.ReplyMarkup // none: the tapped buttons go
	if len(parts) == 1 && len(rows) > 0 {
		markup = inlineKeyboard{InlineKeyboard: rows}
	}
	err := s.editText(ctx, rq, msg.ID, parts[0], markup)
	switch {
	case err == nil, isNotModified(err):
		// Not modified: it already shows this (the same tap answered before a restart).
	case cannotEdit(err):
		s.log.Info("tapped message cannot be edited; answering in a new message", "chat", rq.chat, "err", err)
		return s.sendParts(ctx, rq, parts, rows)
	default:
		return err
	}
	return s.sendParts(ctx, rq, parts[1:], rows)
}

// editText replaces the text (and buttons) of a message the bot sent. An
// edit can be repeated harmlessly, so a lost answer is retried. If Telegram
// cannot parse the HTML, the plain text is used instead.
func (s *Server) editText(ctx context.Context, rq *request, messageID int, part htmlPart, markup models.ReplyMarkup) error {
	params := &tg.EditMessageTextParams{
		MessageID:          messageID,
		Text:               part.html,
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
		ReplyMarkup:        markup,
	}
	edit := func() error {
		return s.send.call(ctx, s.spec(rq, "editMessageText", false), func(ctx context.Context, chat int64) error {
			params.ChatID = chat
			_, err := s.api.EditMessageText(ctx, params)
			return err
		})
	}
	err := edit()
	if err != nil && isParseError(err) {
		params.Text, params.ParseMode = part.plain, ""
		err = edit()
	}
	s.noteInterrupted(rq, err)
	return err
}

// tappedLabel is the label of the button with callback data under msg.
func tappedLabel(msg *models.Message, data string) string {
	if msg == nil || msg.ReplyMarkup == nil {
		return ""
	}
	for _, row := range msg.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData == data {
				return b.Text
			}
		}
	}
	return ""
}

// isNotModified reports an edit that changed nothing: the message already
// reads so.
func isNotModified(err error) bool {
	return errors.Is(err, tg.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "message is not modified")
}

// cannotEdit reports a message Telegram will not edit: too old (48 hours in
// private chats and groups), deleted, or otherwise out of reach.
func cannotEdit(err error) bool {
	if !errors.Is(err, tg.ErrorBadRequest) {
		return false
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"message can't be edited", "message to edit not found", "message_id_invalid", "message not found"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

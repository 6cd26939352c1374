package telegram

import (
	"context"
	"strings"
	"unicode/utf8"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/beianbot/beianbot/lang"
)

// The bot's profile — command menus and descriptions — is set at each
// start, from strings.yaml and the provider's name, so BotFather needs no
// hand editing and the menus always match what the bot can do.
//
// Telegram picks texts by the user's language as a two-letter ISO 639-1
// code, so it cannot tell Traditional from Simplified Chinese: every zh
// user gets the Simplified texts (replies themselves follow the user's
// script), en users the English ones, and everyone else the default. The
// default is Simplified Chinese: the bot's customers are Chinese filers,
// many of whom run Telegram in a language other than zh.
var profileLangs = []struct {
	code string // Telegram's language_code; "" is the default
	lang lang.Lang
}{{"", lang.ZH}, {"zh", lang.ZH}, {"en", lang.EN}}

// setProfile registers the command menus and the descriptions. A failure
// only costs the menu or the description, so it is logged, not fatal.
func (s *Server) setProfile(ctx context.Context) {
	s.setCommands(ctx)
	s.setDescriptions(ctx)
}

// setCommands registers a menu for private chats and one for groups, in
// each language, with the commands the bot offers there now.
func (s *Server) setCommands(ctx context.Context) {
	for _, scope := range []struct {
		chat  string
		scope models.BotCommandScope
	}{{chatPrivate, &models.BotCommandScopeAllPrivateChats{}}, {chatGroup, &models.BotCommandScopeAllGroupChats{}}} {
		for _, pl := range profileLangs {
			var cmds []models.BotCommand
			for _, c := range s.text.Commands {
				if !s.offers(c, scope.chat == chatGroup) {
					continue
				}
				d := c.EN
				if pl.lang == lang.ZH {
					d = c.ZH
				}
				cmds = append(cmds, models.BotCommand{Command: c.Command, Description: d})
			}
			params := &tg.SetMyCommandsParams{Commands: cmds, Scope: scope.scope, LanguageCode: pl.code}
			err := s.send.call(ctx, s.startupSpec("setMyCommands"), func(ctx context.Context, _ int64) error {
				_, err := s.api.SetMyCommands(ctx, params)
				return err
			})
			if err != nil {
				s.log.Warn("cannot register the command menu", "chats", scope.chat, "language", pl.code, "err", err)
			}
		}
	}
}

// offers tells whether the bot offers command c in a private chat or a
// group: the command is meant for such chats, and the support operation
// it needs is on.
func (s *Server) offers(c commandText, group bool) bool {
	want := chatPrivate
	if group {
		want = chatGroup
	}
	if !contains(c.Chats, want) {
		return false
	}
	switch c.Needs {
	case needsHandoff:
		return s.handoffEnabled()
	case needsReminders:
		return s.sup.Reminders != nil
	}
	return true
}

// commandsList is what /help lists: the commands offered in this kind of chat.
func (s *Server) commandsList(l lang.Lang, trad, group bool) string {
	var b strings.Builder
	b.WriteString(s.text.text("commands_header", l, trad))
	for _, c := range s.text.Commands {
		if s.offers(c, group) {
			b.WriteString("\n/" + c.Command + " " + s.text.pick(c.Help, l, trad))
		}
	}
	return b.String()
}

// setDescriptions sets the description and the short description in each
// language, naming the provider.
func (s *Server) setDescriptions(ctx context.Context) {
	provider := s.engine.Provider()
	for _, pl := range profileLangs {
		name := provider.Name.In(pl.lang)
		long := s.text.pick(s.text.Profile.Description, pl.lang, false, "provider", name)
		short := s.text.pick(s.text.Profile.ShortDescription, pl.lang, false, "provider", name)
		if n := utf8.RuneCountInString(long); n > maxDescription {
			s.log.Warn("description too long with the provider's name; not set", "language", pl.code, "characters", n, "limit", maxDescription)
		} else {
			params := &tg.SetMyDescriptionParams{Description: long, LanguageCode: pl.code}
			s.setProfileText(ctx, "setMyDescription", pl.code, func(ctx context.Context) error {
				_, err := s.api.SetMyDescription(ctx, params)
				return err
			})
		}
		if n := utf8.RuneCountInString(short); n > maxShortDescription {
			s.log.Warn("short description too long with the provider's name; not set", "language", pl.code, "characters", n, "limit", maxShortDescription)
		} else {
			params := &tg.SetMyShortDescriptionParams{ShortDescription: short, LanguageCode: pl.code}
			s.setProfileText(ctx, "setMyShortDescription", pl.code, func(ctx context.Context) error {
				_, err := s.api.SetMyShortDescription(ctx, params)
				return err
			})
		}
	}
}

func (s *Server) setProfileText(ctx context.Context, method, code string, fn func(ctx context.Context) error) {
	err := s.send.call(ctx, s.startupSpec(method), func(ctx context.Context, _ int64) error { return fn(ctx) })
	if err != nil {
		s.log.Warn("cannot set the bot's description", "method", method, "language", code, "err", err)
	}
}

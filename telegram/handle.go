package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
	"github.com/beianbot/beianbot/support"
)

// request is one update being handled: where the answer goes and in which
// language the server's own words are said if something goes wrong.
type request struct {
	update   int64
	chat     int64
	group    bool
	thread   int // forum topic to answer in
	replyTo  int // in groups, the message answered
	from     *models.User
	received time.Time
	callback string // callback query id, answered exactly once
	answered bool
	lang     lang.Lang
	trad     bool
	out      *delivery
}

// delivery is what the work on one update has sent so far. The requests
// made for it (to the customer, to the support group) share it, so its
// messages are numbered in the order sent: the outbox records them by that
// number, and after a restart the same work skips what already went out.
type delivery struct {
	update      int64 // 0: not an update (a reminder): nothing recorded
	seq         int   // the number of the next message
	sent        map[int]store.OutboxMessage
	lost        lostPolicy
	deadline    time.Time
	interrupted bool // stopped by shutdown: the update stays in the inbox
	anySent     bool
}

// to is a request for the same work, answering in another chat.
func (rq *request) to(chat int64, l lang.Lang, trad bool) *request {
	return &request{update: rq.update, chat: chat, group: chat < 0, received: rq.received, lang: l, trad: trad, out: rq.out}
}

// triage decides, quickly and without I/O, what an update needs: an item
// to store and answer, a toast for a tap over the flood limit, or nothing.
// perChat counts the items of the batch being triaged, per chat.
func (s *Server) triage(u *models.Update, perChat map[int64]int) (*item, *models.CallbackQuery) {
	kind := itemAnswer
	var metric string
	switch {
	case u.Message != nil:
		metric = "message"
		m := u.Message
		s.noteMigration(m)
		if s.isSupport(m) {
			if !s.supportWork(m) {
				s.metrics.inc("beianbot_telegram_updates_total", "kind", "ignored")
				return nil, nil
			}
			break
		}
		if !s.wantsAnswer(m) {
			s.metrics.inc("beianbot_telegram_updates_total", "kind", "ignored")
			return nil, nil
		}
		ok, notice := s.admitUser(m.From.ID)
		switch {
		case notice:
			kind, metric = itemFloodNotice, "flood_noticed"
		case !ok:
			s.metrics.inc("beianbot_telegram_updates_total", "kind", "flood_dropped")
			return nil, nil
		}
	case u.CallbackQuery != nil:
		metric = "callback"
		if ok, _ := s.admitUser(u.CallbackQuery.From.ID); !ok {
			// Answered at once with a toast, and dropped: a tapping user
			// takes no place in any queue.
			s.metrics.inc("beianbot_telegram_updates_total", "kind", "flood_dropped")
			return nil, u.CallbackQuery
		}
	case u.MyChatMember != nil:
		metric = "my_chat_member"
	case u.EditedMessage != nil:
		// An edit is not a new question; answering again would confuse.
		s.metrics.inc("beianbot_telegram_updates_total", "kind", "edited")
		return nil, nil
	default:
		s.metrics.inc("beianbot_telegram_updates_total", "kind", "other")
		return nil, nil
	}
	chat, sendsTo, group := s.route(u)
	if n := s.sched.queued(chat) + perChat[chat]; n >= s.chatBacklog {
		// One chat may not fill the inbox: it would stop intake for everyone.
		s.metrics.inc("beianbot_telegram_updates_total", "kind", "backlog_dropped")
		if _, told := s.backlogWarned.Get(chat); !told {
			s.backlogWarned.Put(chat, struct{}{})
			s.log.Warn("a chat's backlog is full: its new messages are dropped until it shrinks", "chat", chat, "backlog", n)
		}
		return nil, nil
	}
	return &item{id: u.ID, kind: kind, chat: chat, sendsTo: sendsTo, group: group, received: s.now(), metric: metric}, nil
}

// wantsAnswer tells whether a customer's message is for the bot: from a
// person, in a private chat or addressed to the bot in a group, and not a
// service message (members joining, pins…).
func (s *Server) wantsAnswer(m *models.Message) bool {
	if m.From == nil || m.From.IsBot {
		return false // channels posting in groups, other bots
	}
	switch m.Chat.Type {
	case models.ChatTypePrivate:
	case models.ChatTypeGroup, models.ChatTypeSupergroup:
		if !s.addressed(m) {
			return false
		}
	default:
		return false
	}
	return m.Text != "" || hasContent(m)
}

// route tells an update's queue (the chat whose order it keeps), the chat
// it answers in (whose send limit it waits for; 0: none to wait for) and
// whether that is a group.
func (s *Server) route(u *models.Update) (queue, sendsTo int64, group bool) {
	switch {
	case u.Message != nil:
		m := u.Message
		if s.isSupport(m) {
			// Agents' replies go to customers: the group's own limit is no reason to wait.
			return m.Chat.ID, 0, true
		}
		return m.Chat.ID, m.Chat.ID, isGroup(m.Chat.Type)
	case u.CallbackQuery != nil:
		rq := s.callbackRequest(u.ID, u.CallbackQuery)
		if rq.chat == 0 {
			return u.CallbackQuery.From.ID, 0, false // a button under an inline message: no chat to answer in
		}
		return rq.chat, rq.chat, rq.group
	case u.MyChatMember != nil:
		m := u.MyChatMember
		return m.Chat.ID, membershipSendsTo(m), isGroup(m.Chat.Type)
	}
	return 0, 0, false
}

func isGroup(t models.ChatType) bool {
	return t == models.ChatTypeGroup || t == models.ChatTypeSupergroup
}

// toast is a tap over the flood limit, to be answered with a toast.
type toast struct {
	id   string // the callback query
	from models.User
}

// floodToast answers a tap over the flood limit with a toast, soon and
// once: best effort, so a flood costs no queue, no retry and no send budget.
// Past maxToasts waiting, a tap goes unanswered (its spinner stops by itself).
func (s *Server) floodToast(q *models.CallbackQuery) {
	select {
	case s.toasts <- toast{id: q.ID, from: models.User{ID: q.From.ID, LanguageCode: q.From.LanguageCode}}:
	default:
		s.metrics.inc("beianbot_telegram_updates_total", "kind", "flood_unanswered")
	}
}

// maxToasts bounds the toasts waiting to be sent; toasters send them.
const (
	maxToasts = 4096
	toasters  = 4
)

// answerToasts sends the flood toasts until ctx ends.
func (s *Server) answerToasts(ctx context.Context) {
	for {
		var q toast
		select {
		case q = <-s.toasts:
		case <-ctx.Done():
			return
		}
		l, trad := s.commandLang(bot.Conversation{}, &q.from)
		params := &tg.AnswerCallbackQueryParams{CallbackQueryID: q.id, Text: s.text.text("flood_tap", l, trad)}
		err := s.send.call(ctx, callSpec{method: "answerCallbackQuery", unlimited: true}, func(ctx context.Context, _ int64) error {
			_, err := s.api.AnswerCallbackQuery(ctx, params)
			return err
		})
		if err != nil {
			s.log.Debug("flood toast not delivered", "err", err)
		}
	}
}

// work answers one stored item; it reports false when shutdown interrupted
// it, so the update stays in the inbox for the next start.
func (s *Server) work(ctx context.Context, it *item) bool {
	var u models.Update
	if err := json.Unmarshal(it.body, &u); err != nil {
		s.log.Error("unreadable update dropped", "update", it.id, "err", err)
		s.journal.done(it.id)
		return true
	}
	rq := s.requestFor(&u)
	rq.received = it.received
	rq.out = &delivery{update: it.id, sent: it.sent, lost: resendOnce, deadline: s.now().Add(s.cfg.SendDeadline)}
	if ctx.Err() != nil {
		return false
	}
	s.safely(ctx, rq, func(ctx context.Context, rq *request) { s.answer(ctx, rq, &u, it.kind) })
	if rq.out.interrupted {
		return false
	}
	s.journal.done(it.id)
	if s.handled != nil {
		s.handled(it.id)
	}
	return true
}

// requestFor reads where an update is answered.
func (s *Server) requestFor(u *models.Update) *request {
	switch {
	case u.Message != nil:
		m := u.Message
		rq := &request{update: u.ID, chat: m.Chat.ID, from: m.From}
		if isGroup(m.Chat.Type) {
			rq.group, rq.replyTo = true, m.ID
			if m.IsTopicMessage {
				rq.thread = m.MessageThreadID
			}
		}
		if s.isSupport(m) {
			rq.lang = lang.EN
		}
		return rq
	case u.CallbackQuery != nil:
		return s.callbackRequest(u.ID, u.CallbackQuery)
	case u.MyChatMember != nil:
		m := u.MyChatMember
		return &request{update: u.ID, chat: m.Chat.ID, group: isGroup(m.Chat.Type), from: &m.From}
	}
	return &request{update: u.ID}
}

func (s *Server) callbackRequest(id int64, q *models.CallbackQuery) *request {
	rq := &request{update: id, from: &q.From, callback: q.ID}
	switch msg := q.Message.Message; {
	case msg != nil:
		rq.chat = msg.Chat.ID
		rq.group = isGroup(msg.Chat.Type)
		if msg.IsTopicMessage {
			rq.thread = msg.MessageThreadID
		}
	case q.Message.InaccessibleMessage != nil:
		rq.chat = q.Message.InaccessibleMessage.Chat.ID
	}
	return rq
}

// answer does what an update asks.
func (s *Server) answer(ctx context.Context, rq *request, u *models.Update, kind string) {
	switch {
	case kind == itemFloodNotice:
		conv := s.loadConv(ctx, rq)
		l, trad := s.commandLang(conv, rq.from)
		s.sendPlain(ctx, rq, s.text.text("flood", l, trad), nil)
	case u.Message != nil && s.isSupport(u.Message):
		s.handleSupport(ctx, rq, u.Message)
	case u.Message != nil:
		s.handleMessage(ctx, rq, u.Message)
	case u.CallbackQuery != nil:
		s.handleCallback(ctx, rq, u.CallbackQuery)
	case u.MyChatMember != nil:
		s.handleMembership(ctx, rq, u.MyChatMember)
	}
}

// safely runs fn, turning a panic into a log line and an apology, so that
// one bad update cannot take the bot down.
func (s *Server) safely(ctx context.Context, rq *request, fn func(ctx context.Context, rq *request)) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		s.metrics.inc("beianbot_telegram_panics_total")
		s.log.Error("panic while handling an update", "update", rq.update, "chat", rq.chat, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if rq.callback != "" && !rq.answered {
			s.answerCallback(ctx, rq, "")
		}
		if rq.chat != 0 {
			s.sendPlain(ctx, rq, s.text.text("apology", rq.lang, rq.trad), nil)
		}
	}()
	fn(ctx, rq)
}

// addressed tells whether a group message is for the bot: a command (not
// one for another bot), a mention, or a reply to one of its messages.
func (s *Server) addressed(m *models.Message) bool {
	if _, target, _, ok := parseCommand(m.Text); ok {
		return target == "" || strings.EqualFold(target, s.me.Username)
	}
	if r := m.ReplyToMessage; r != nil && r.From != nil && r.From.ID == s.me.ID {
		return true
	}
	_, mentioned := s.stripMention(m.Text, m.Entities)
	if !mentioned && m.Caption != "" {
		_, mentioned = s.stripMention(m.Caption, m.CaptionEntities)
	}
	return mentioned
}

// hasContent reports a message that carries something other than text.
func hasContent(m *models.Message) bool {
	return m.Sticker != nil || len(m.Photo) > 0 || m.Voice != nil || m.Audio != nil || m.Video != nil ||
		m.VideoNote != nil || m.Document != nil || m.Animation != nil || m.Location != nil || m.Contact != nil ||
		m.Poll != nil || m.Dice != nil || m.Venue != nil || m.Story != nil || m.Game != nil || m.PaidMedia != nil
}

var commandRE = regexp.MustCompile(`^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+|$)`)

// parseCommand splits "/cmd@bot args". The library matches commands only
// by their bare name, so "/help@BeianBot" is recognised here.
func parseCommand(text string) (name, target, args string, ok bool) {
	m := commandRE.FindStringSubmatch(text)
	if m == nil {
		return "", "", "", false
	}
	return strings.ToLower(m[1]), m[2], strings.TrimSpace(text[len(m[0]):]), true
}

// stripMention removes mentions of the bot from text; found says whether
// there was one. Entity offsets count UTF-16 units.
func (s *Server) stripMention(text string, entities []models.MessageEntity) (rest string, found bool) {
	units := utf16.Encode([]rune(text))
	var keep []uint16
	at := 0
	for _, e := range entities {
		if e.Offset < at || e.Offset+e.Length > len(units) {
			continue
		}
		ours := false
		switch e.Type {
		case models.MessageEntityTypeMention:
			ours = s.me.Username != "" && strings.EqualFold(string(utf16.Decode(units[e.Offset:e.Offset+e.Length])), "@"+s.me.Username)
		case models.MessageEntityTypeTextMention:
			ours = e.User != nil && e.User.ID == s.me.ID
		}
		if !ours {
			continue
		}
		found = true
		keep = append(keep, units[at:e.Offset]...)
		at = e.Offset + e.Length
	}
	keep = append(keep, units[at:]...)
	return strings.TrimSpace(string(utf16.Decode(keep))), found
}

func (s *Server) loadConv(ctx context.Context, rq *request) bot.Conversation {
	conv, err := s.convs.Load(ctx, rq.chat)
	if err != nil {
		s.log.Warn("cannot load chat state; starting afresh", "chat", rq.chat, "err", err)
	}
	return conv
}

func (s *Server) saveConv(ctx context.Context, rq *request, conv bot.Conversation) {
	if err := s.convs.Save(ctx, rq.chat, conv); err != nil {
		s.log.Warn("cannot save chat state", "chat", rq.chat, "err", err)
	}
}

// commandLang is the language for the server's own words and for commands:
// the language pinned with /lang, else the user's Telegram language, else
// the language of the last reply, else Chinese.
func (s *Server) commandLang(conv bot.Conversation, u *models.User) (lang.Lang, bool) {
	if conv.Lang != "" {
		return conv.Lang, conv.Lang == lang.ZH && conv.Traditional
	}
	if u != nil && u.LanguageCode != "" {
		code := strings.ToLower(u.LanguageCode)
		switch {
		case strings.HasPrefix(code, "zh-hant"), code == "zh-tw", code == "zh-hk", code == "zh-mo":
			return lang.ZH, true
		case strings.HasPrefix(code, "zh"):
			return lang.ZH, false
		case conv.LastLang == "":
			return lang.EN, false
		}
	}
	if conv.LastLang != "" {
		return conv.LastLang, conv.LastLang == lang.ZH && conv.LastTraditional
	}
	return lang.ZH, false
}

// handleMessage answers one message: a command, a question, or something
// that is not text.
func (s *Server) handleMessage(ctx context.Context, rq *request, m *models.Message) {
	conv := s.loadConv(ctx, rq)
	rq.lang, rq.trad = s.commandLang(conv, rq.from)
	if name, target, args, ok := parseCommand(m.Text); ok {
		if target != "" && !strings.EqualFold(target, s.me.Username) {
			return // for another bot (possible in private chats too, via copy-paste)
		}
		if rq.group && target == "" && !contains(commandNames, name) {
			return // a bare command in a group may be another bot's
		}
		s.command(ctx, rq, &conv, name, args)
		s.saveConv(ctx, rq, conv)
		return
	}
	text := m.Text
	if rq.group {
		text, _ = s.stripMention(text, m.Entities)
	}
	if m.Text == "" {
		s.sendPlain(ctx, rq, s.text.text("ask_for_text", rq.lang, rq.trad), nil)
		s.logReply(rq, "ask_for_text", rq.lang, nil)
		return
	}
	// A person is on it: the message is theirs, not the engine's.
	if s.relayToThread(ctx, rq, text) {
		return
	}
	if s.typedArrival(ctx, rq, &conv, text) {
		s.saveConv(ctx, rq, conv)
		return
	}
	r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Reply(ctx, &conv, text) })
	s.saveConv(ctx, rq, conv)
	s.deliver(ctx, rq, r, true)
}

// command answers /start, /help, /who, /steps and /lang.
func (s *Server) command(ctx context.Context, rq *request, conv *bot.Conversation, name, args string) {
	l, trad := rq.lang, rq.trad
	switch name {
	case "start":
		conv.Pending, conv.PendingLang, conv.Suggested = nil, "", nil
		if args != "" && topicID.MatchString(args) {
			r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Topic(ctx, conv, args, l, trad) })
			if r.Topic != bot.TopicUnknown || args == bot.TopicUnknown {
				s.deliver(ctx, rq, r, true)
				return
			}
			s.log.Info("deep link to an unknown topic", "chat", rq.chat)
		}
		s.welcome(ctx, rq, l, trad)
	case "help":
		r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Topic(ctx, conv, s.text.Topics["help"], l, trad) })
		r.Text = strings.TrimSpace(r.Text) + "\n\n" + s.commandsList(r.Lang, r.Traditional, rq.group)
		s.deliver(ctx, rq, r, false)
	case "steps":
		r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Topic(ctx, conv, s.text.Topics["steps"], l, trad) })
		s.deliver(ctx, rq, r, true)
	case "who":
		r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Topic(ctx, conv, bot.TopicWhoVerifies, l, trad) })
		s.deliver(ctx, rq, r, true)
	case "lang":
		s.setLang(ctx, rq, conv, args)
	case "human":
		wl, wtrad := s.writtenLang(*conv, rq.from)
		if args != "" && conv.Lang == "" {
			wl, wtrad = lang.Detect(args)
			wtrad = wtrad && wl == lang.ZH
		}
		s.handoff(ctx, rq, wl, wtrad, conv.LastTopic, 0, args)
	case "remind":
		wl, wtrad := s.writtenLang(*conv, rq.from)
		s.askArrival(ctx, rq, wl, wtrad)
	default:
		msg := s.text.text("unknown_command", l, trad) + "\n\n" + s.commandsList(l, trad, rq.group)
		s.sendPlain(ctx, rq, msg, nil)
		s.logReply(rq, "unknown_command", l, nil)
	}
}

// welcome greets with a few common questions as buttons.
func (s *Server) welcome(ctx context.Context, rq *request, l lang.Lang, trad bool) {
	var rows [][]inlineButton
	code := langCode(l, trad)
	for i, q := range s.text.examples(l, trad) {
		if data, ok := callbackData(cbExample, code, fmt.Sprint(i)); ok {
			rows = append(rows, []inlineButton{{Text: q, CallbackData: data}})
		}
	}
	s.sendPlain(ctx, rq, s.text.text("welcome", l, trad), rows)
	s.logReply(rq, "welcome", l, nil)
}

// setLang pins the reply language, or offers the choice as buttons.
func (s *Server) setLang(ctx context.Context, rq *request, conv *bot.Conversation, arg string) {
	code, ok := parseLangArg(arg)
	if !ok {
		l, trad := s.commandLang(*conv, rq.from)
		var row []inlineButton
		for _, c := range []struct{ code, key string }{{"zh", "lang_zh"}, {"zht", "lang_zh_hant"}, {"en", "lang_en"}, {"auto", "lang_auto"}} {
			data, _ := callbackData(cbLang, c.code)
			row = append(row, inlineButton{Text: s.text.button(c.key, l, trad), CallbackData: data})
		}
		s.sendPlain(ctx, rq, s.text.text("lang_pick", l, trad), [][]inlineButton{row[:3], row[3:]})
		s.logReply(rq, "lang_pick", l, nil)
		return
	}
	s.pinLang(ctx, rq, conv, code, nil)
}

// pinLang pins the reply language and confirms it; tapped is the /lang
// button tapped for it, if any, whose message then becomes the confirmation.
func (s *Server) pinLang(ctx context.Context, rq *request, conv *bot.Conversation, code string, tapped *models.CallbackQuery) {
	key := "lang_set_auto"
	switch code {
	case "zh":
		conv.Lang, conv.Traditional, key = lang.ZH, false, "lang_set_zh"
	case "zht":
		conv.Lang, conv.Traditional, key = lang.ZH, true, "lang_set_zh"
	case "en":
		conv.Lang, conv.Traditional, key = lang.EN, false, "lang_set_en"
	default:
		conv.Lang, conv.Traditional = "", false
	}
	l, trad := s.commandLang(*conv, rq.from)
	rq.lang, rq.trad = l, trad
	var err error
	if tapped != nil {
		err = s.replaceTapped(ctx, rq, tapped, formatted{body: s.text.text(key, l, trad)}, nil)
	} else {
		err = s.sendPlain(ctx, rq, s.text.text(key, l, trad), nil)
	}
	s.logReply(rq, key, l, err)
}

// parseLangArg reads /lang's argument: zh, zh-hant (or 繁體…), en, auto.
func parseLangArg(arg string) (string, bool) {
	a := strings.ToLower(strings.TrimSpace(arg))
	switch a {
	case "zh-hant", "zh-tw", "zh-hk", "zh-mo", "zht", "tc", "繁體", "繁体", "繁體中文", "繁体中文":
		return "zht", true
	case "auto", "off", "reset", "自动", "自動":
		return "auto", true
	}
	if l, ok := lang.Parse(a); ok {
		return string(l), true
	}
	return "", false
}

// langCode packs a reply language into callback data: zh, zht or en.
func langCode(l lang.Lang, trad bool) string {
	switch {
	case l == lang.ZH && trad:
		return "zht"
	case l == lang.ZH:
		return "zh"
	}
	return "en"
}

func fromLangCode(code string) (lang.Lang, bool, bool) {
	switch code {
	case "zh":
		return lang.ZH, false, true
	case "zht":
		return lang.ZH, true, true
	case "en":
		return lang.EN, false, true
	}
	return "", false, false
}

// handleCallback answers a button tap.
func (s *Server) handleCallback(ctx context.Context, rq *request, q *models.CallbackQuery) {
	defer func() {
		if !rq.answered {
			s.answerCallback(ctx, rq, "")
		}
	}()
	if rq.chat == 0 {
		return
	}
	conv := s.loadConv(ctx, rq)
	rq.lang, rq.trad = s.commandLang(conv, rq.from)
	cb := parseCallback(q.Data)
	stale := func() { s.answerCallback(ctx, rq, s.text.text("stale_button", rq.lang, rq.trad)) }
	switch cb.kind {
	case cbExample:
		l, trad, ok := fromLangCode(cb.arg(0))
		n, ok2 := cb.intArg(1)
		examples := s.text.examples(l, trad)
		if !ok || !ok2 || n >= len(examples) {
			stale()
			return
		}
		s.answerCallback(ctx, rq, "")
		r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Reply(ctx, &conv, examples[n]) })
		s.saveConv(ctx, rq, conv)
		s.deliver(ctx, rq, r, true)
	case cbChoose:
		var ok bool
		r := s.whileAnswering(ctx, rq, func() (r bot.Reply) { r, ok = s.choose(ctx, &conv, cb); return r })
		if !ok {
			stale()
			return
		}
		s.answerCallback(ctx, rq, "")
		s.saveConv(ctx, rq, conv)
		s.deliverInPlace(ctx, rq, r, q)
	case cbTopic:
		l, trad, ok := fromLangCode(cb.arg(0))
		id := cb.arg(1)
		if !ok || !topicID.MatchString(id) {
			stale()
			return
		}
		s.answerCallback(ctx, rq, "")
		r := s.whileAnswering(ctx, rq, func() bot.Reply { return s.engine.Topic(ctx, &conv, id, l, trad) })
		s.saveConv(ctx, rq, conv)
		s.deliverInPlace(ctx, rq, r, q)
	case cbFeedback:
		vote := map[string]string{"u": "up", "d": "down"}[cb.arg(0)]
		if vote == "" {
			stale()
			return
		}
		s.metrics.inc("beianbot_telegram_feedback_total", "vote", vote)
		s.log.Info("feedback", "chat", rq.chat, "vote", vote, "topic", cb.arg(1))
		s.vote(ctx, rq, cb, vote == "up")
		s.answerCallback(ctx, rq, s.text.text("feedback_"+vote, rq.lang, rq.trad))
		s.dropButtons(ctx, rq, q, cbFeedback)
		if vote == "down" && s.handoffEnabled() {
			// Offer a person, under the vote's question.
			if data, ok := callbackData(cbHuman, langCode(rq.lang, rq.trad), cb.arg(2)); ok {
				rows := [][]inlineButton{{{Text: s.text.button("human", rq.lang, rq.trad), CallbackData: data}}}
				err := s.sendPlain(ctx, rq, s.text.text("human_offer", rq.lang, rq.trad), rows)
				s.logReply(rq, "human_offer", rq.lang, err)
			}
		}
	case cbHuman:
		l, trad, ok := fromLangCode(cb.arg(0))
		if !ok {
			stale()
			return
		}
		qid, _ := parseID(cb.arg(1))
		s.answerCallback(ctx, rq, "")
		s.handoff(ctx, rq, l, trad, "", qid, "")
	case cbRemind:
		l, trad, ok := fromLangCode(cb.arg(0))
		if !ok {
			stale()
			return
		}
		s.answerCallback(ctx, rq, "")
		s.askArrival(ctx, rq, l, trad)
	case cbArrival:
		l, trad, ok := fromLangCode(cb.arg(0))
		i, ok2 := cb.intArg(1)
		if !ok || !ok2 || i >= len(support.ArrivalChoices) || s.sup.Reminders == nil {
			stale()
			return
		}
		s.answerCallback(ctx, rq, "")
		s.dropButtons(ctx, rq, q, cbArrival)
		s.schedule(ctx, rq, &conv, l, trad, s.clock().Add(-support.ArrivalChoices[i]))
		s.saveConv(ctx, rq, conv)
	case cbDone:
		s.reminderDone(ctx, rq, q, cb)
	case cbLang:
		code := cb.arg(0)
		if code != "zh" && code != "zht" && code != "en" && code != "auto" {
			stale()
			return
		}
		s.answerCallback(ctx, rq, "")
		s.pinLang(ctx, rq, &conv, code, q)
		s.saveConv(ctx, rq, conv)
	default:
		stale()
	}
}

// choose resolves a tap on an ask-back option. When the ask-back is still
// the pending one, the engine's Choose answers it in the conversation;
// when it is not (state expired, bot restarted), the row the button names
// is asked about directly, so an old button still gives the right answer.
func (s *Server) choose(ctx context.Context, conv *bot.Conversation, cb callback) (bot.Reply, bool) {
	tag := cb.arg(0)
	i, ok := cb.intArg(1)
	if !ok {
		return bot.Reply{}, false
	}
	if conv.Pending != nil && clarifyTag(conv.Pending) == tag && i < len(conv.Pending.Options) {
		return s.engine.Choose(ctx, conv, i), true
	}
	l, trad, ok := fromLangCode(cb.arg(2))
	bi, ok2 := cb.intArg(3)
	table := s.engine.Matrix()
	if !ok || !ok2 || table == nil {
		return bot.Reply{}, false
	}
	businesses := table.Businesses()
	if bi >= len(businesses) {
		return bot.Reply{}, false
	}
	business, subcase := businesses[bi], ""
	if len(cb.args) > 4 {
		si, ok := cb.intArg(4)
		rows := table.RowsOf(business)
		if !ok || si >= len(rows) {
			return bot.Reply{}, false
		}
		subcase = rows[si].Subcase
	}
	var r bot.Reply
	r = s.engine.Who(ctx, conv, business, subcase, l, trad)
	return r, true
}

// answerCallback stops the button's spinner, with an optional toast.
func (s *Server) answerCallback(ctx context.Context, rq *request, toast string) {
	if rq.answered || rq.callback == "" {
		return
	}
	rq.answered = true
	params := &tg.AnswerCallbackQueryParams{CallbackQueryID: rq.callback, Text: toast}
	err := s.send.call(ctx, s.spec(rq, "answerCallbackQuery", false), func(ctx context.Context, _ int64) error {
		_, err := s.api.AnswerCallbackQuery(ctx, params)
		return err
	})
	s.noteInterrupted(rq, err)
	if err != nil {
		s.log.Warn("cannot answer a button tap", "chat", rq.chat, "err", err)
	}
}

// dropButtons removes the buttons of one kind (the 👍/👎 row after a vote),
// keeping the others.
func (s *Server) dropButtons(ctx context.Context, rq *request, q *models.CallbackQuery, kind string) {
	msg := q.Message.Message
	if msg == nil {
		return
	}
	rows := [][]inlineButton{}
	if msg.ReplyMarkup != nil {
		for _, row := range msg.ReplyMarkup.InlineKeyboard {
			var keep []inlineButton
			for _, b := range row {
				if b.CallbackData != "" && parseCallback(b.CallbackData).kind != kind {
					keep = append(keep, inlineButton{Text: b.Text, CallbackData: b.CallbackData})
				}
			}
			if len(keep) > 0 {
				rows = append(rows, keep)
			}
		}
	}
	params := &tg.EditMessageReplyMarkupParams{ChatID: rq.chat, MessageID: msg.ID, ReplyMarkup: inlineKeyboard{InlineKeyboard: rows}}
	err := s.send.call(ctx, s.spec(rq, "editMessageReplyMarkup", false), func(ctx context.Context, chat int64) error {
		params.ChatID = chat
		_, err := s.api.EditMessageReplyMarkup(ctx, params)
		return err
	})
	s.noteInterrupted(rq, err)
	if err != nil {
		s.log.Debug("cannot remove buttons", "chat", rq.chat, "kind", kind, "err", err)
	}
}

// deliver sends an engine reply with its buttons: options for an ask-back,
// suggestions for a "did you mean", and 👍/👎 when feedback is true.
// Every reply is logged first, so its buttons can name the log entry.
func (s *Server) deliver(ctx context.Context, rq *request, r bot.Reply, feedback bool) {
	qid := s.recordQuestion(ctx, rq, r)
	f, rows := s.render(r, feedback, qid)
	rq.lang, rq.trad = r.Lang, r.Traditional
	err := s.sendFormatted(ctx, rq, f, rows)
	s.logRoute(rq, string(r.Route), r.Topic, r.Lang, err)
}

// deliverInPlace answers a tap on one of a message's choices (an ask-back
// option, a "did you mean" topic) in that message: it becomes the choice
// and the answer, so the chat keeps one message per question.
func (s *Server) deliverInPlace(ctx context.Context, rq *request, r bot.Reply, tapped *models.CallbackQuery) {
	qid := s.recordQuestion(ctx, rq, r)
	f, rows := s.render(r, true, qid)
	rq.lang, rq.trad = r.Lang, r.Traditional
	err := s.replaceTapped(ctx, rq, tapped, f, rows)
	s.logRoute(rq, string(r.Route), r.Topic, r.Lang, err)
}

// render turns a reply into its formatted text and buttons. qid is the
// question log entry the 👍/👎 buttons vote on (0: none).
func (s *Server) render(r bot.Reply, feedback bool, qid int64) (formatted, [][]inlineButton) {
	l, trad := r.Lang, r.Traditional
	code := langCode(l, trad)
	f := formatted{title: r.Title, quotes: r.Quotes, body: r.Text}
	var rows [][]inlineButton
	if c := r.Clarify; c != nil && len(c.Options) > 0 {
		if strings.TrimSpace(c.Question) != "" {
			f.body = c.Question // the options are the buttons
		}
		return f, s.optionButtons(c, code)
	}
	for _, sg := range r.Suggestions {
		if data, ok := callbackData(cbTopic, code, sg.Topic); ok {
			rows = append(rows, []inlineButton{{Text: sg.Title, CallbackData: data}})
		}
	}
	if feedback {
		rows = append(rows, s.supportButtons(r, qid)...)
	}
	if feedback && r.Topic != "" {
		var fields []string
		if qid != 0 {
			fields = []string{strconv.FormatInt(qid, 10)}
		}
		up, ok1 := callbackData(cbFeedback, append([]string{"u", r.Topic}, fields...)...)
		down, ok2 := callbackData(cbFeedback, append([]string{"d", r.Topic}, fields...)...)
		if !ok1 || !ok2 { // an over-long topic id: vote without it
			up, _ = callbackData(cbFeedback, append([]string{"u", ""}, fields...)...)
			down, _ = callbackData(cbFeedback, append([]string{"d", ""}, fields...)...)
		}
		rows = append(rows, []inlineButton{
			{Text: s.text.button("feedback_up", l, trad), CallbackData: up},
			{Text: s.text.button("feedback_down", l, trad), CallbackData: down},
		})
	}
	return f, rows
}

// optionButtons makes one button per ask-back option. Each names the
// ask-back (tag), the option, and the table row it stands for.
func (s *Server) optionButtons(c *bot.Clarify, code string) [][]inlineButton {
	tag := clarifyTag(c)
	var businesses []string
	table := s.engine.Matrix()
	if table != nil {
		businesses = table.Businesses()
	}
	var buttons []inlineButton
	short := true
	for i, o := range c.Options {
		fields := []string{tag, fmt.Sprint(i)}
		if bi := indexOf(businesses, o.Business); bi >= 0 {
			fields = append(fields, code, fmt.Sprint(bi))
			if o.Subcase != "" {
				for si, row := range table.RowsOf(o.Business) {
					if row.Subcase == o.Subcase {
						fields = append(fields, fmt.Sprint(si))
						break
					}
				}
			}
		}
		data, ok := callbackData(cbChoose, fields...)
		if !ok {
			data, _ = callbackData(cbChoose, tag, fmt.Sprint(i))
		}
		// Numbered like the engine's ask-back, which invites typing the number.
		label := fmt.Sprintf("%d. %s", i+1, o.Label)
		buttons = append(buttons, inlineButton{Text: label, CallbackData: data})
		short = short && utf16Len(label) <= 16
	}
	perRow := 1
	if short {
		perRow = 2
	}
	var rows [][]inlineButton
	for i := 0; i < len(buttons); i += perRow {
		rows = append(rows, buttons[i:min(i+perRow, len(buttons))])
	}
	return rows
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// logReply writes the one log line per reply of the front end's own (no
// engine route): what, in which language, how fast.
func (s *Server) logReply(rq *request, topic string, l lang.Lang, err error) {
	s.logRoute(rq, routeFrontend, topic, l, err)
}

// logRoute writes the one log line per reply and counts it under the
// engine's route (bot.Reply.Route).
func (s *Server) logRoute(rq *request, route, topic string, l lang.Lang, err error) {
	latency := s.now().Sub(rq.received)
	s.metrics.observe(route, latency)
	if err != nil {
		s.log.Warn("reply not delivered", "update", rq.update, "chat", rq.chat, "topic", topic, "lang", l, "err", err)
		return
	}
	s.metrics.inc("beianbot_telegram_replies_total", "topic", topic, "lang", string(l))
	s.log.Info("reply", "update", rq.update, "chat", rq.chat, "topic", topic, "lang", l, "latency_ms", latency.Milliseconds())
}

// inlineKeyboard is sent instead of the library's models.InlineKeyboardMarkup:
// that type always serialises an empty copy_text object with each button
// (a struct field with omitempty is never omitted), which Telegram may reject.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// sendPlain sends plain text (escaped, its web addresses links), the
// buttons under the last part.
func (s *Server) sendPlain(ctx context.Context, rq *request, text string, rows [][]inlineButton) error {
	return s.sendFormatted(ctx, rq, formatted{body: text}, rows)
}

// sendFormatted sends f in as many messages as it needs, the buttons under
// the last.
func (s *Server) sendFormatted(ctx context.Context, rq *request, f formatted, rows [][]inlineButton) error {
	return s.sendParts(ctx, rq, f.parts(maxMessageUnits), rows)
}

// sendParts sends the parts in order. A part whose Bot API answer was lost
// (it probably went out) does not stop the others; the error returned is
// then the first such part's.
func (s *Server) sendParts(ctx context.Context, rq *request, parts []htmlPart, rows [][]inlineButton) error {
	var unsure error
	for i, part := range parts {
		params := &tg.SendMessageParams{
			Text:               part.html,
			ParseMode:          models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
			MessageThreadID:    rq.thread,
		}
		if i == 0 && rq.replyTo != 0 {
			params.ReplyParameters = &models.ReplyParameters{MessageID: rq.replyTo, AllowSendingWithoutReply: true}
		}
		if i == len(parts)-1 && len(rows) > 0 {
			params.ReplyMarkup = inlineKeyboard{InlineKeyboard: rows}
		}
		if _, err := s.sendMessage(ctx, rq, params, part.plain); err != nil {
			var se *sendError
			if errors.As(err, &se) && se.unsure() && se.kind != kindCanceled {
				if unsure == nil {
					unsure = err
				}
				continue
			}
			if errors.As(err, &se) && se.kind == kindBlocked {
				s.log.Info("user blocked the bot; reply dropped", "chat", rq.chat)
			}
			return err
		}
	}
	return unsure
}

// sendMessage sends one message for rq's work and records it in the outbox.
// A message the outbox says already went out (before a restart) is not sent
// again. If Telegram cannot parse the HTML, the message goes out as plain
// text rather than not at all.
func (s *Server) sendMessage(ctx context.Context, rq *request, params *tg.SendMessageParams, plain string) (*models.Message, error) {
	if rq.out == nil {
		rq.out = &delivery{lost: resendOnce, deadline: s.now().Add(s.cfg.SendDeadline)}
	}
	out := rq.out
	seq := out.seq
	out.seq++
	sp := s.spec(rq, "sendMessage", true)
	prior, recorded := out.sent[seq]
	if recorded {
		sp.lostSoFar = prior.Unsure
		if m := sp.lost.maxLost(); prior.MessageID != 0 || (m > 0 && prior.Unsure >= m) {
			s.log.Debug("message already sent before the restart", "update", out.update, "seq", seq)
			return &models.Message{ID: int(prior.MessageID)}, nil
		}
	}
	var msg *models.Message
	send := func() error {
		return s.send.call(ctx, sp, func(ctx context.Context, chat int64) error {
			if chat != rq.chat { // the group became a supergroup
				rq.chat = chat
			}
			params.ChatID = chat
			var err error
			msg, err = s.api.SendMessage(ctx, params)
			return err
		})
	}
	err := send()
	if err != nil && isParseError(err) {
		params.Text, params.ParseMode = plain, ""
		err = send()
	}
	var se *sendError
	lost := 0
	if errors.As(err, &se) {
		lost = se.lost
	}
	s.noteInterrupted(rq, err)
	if err == nil || lost > 0 {
		out.anySent = true
		if out.update != 0 {
			rec := store.OutboxMessage{UpdateID: out.update, Seq: seq, ChatID: rq.chat, Unsure: prior.Unsure + lost}
			if msg != nil && err == nil {
				rec.MessageID = int64(msg.ID)
			}
			s.journal.sent(rec)
		}
	}
	return msg, err
}

// spec describes a call made for rq's work: within its deadline, and with
// its policy for lost answers when it posts a message.
func (s *Server) spec(rq *request, method string, message bool) callSpec {
	sp := callSpec{method: method, chat: rq.chat, group: rq.group, message: message, lost: retryLost}
	if rq.out != nil {
		sp.deadline = rq.out.deadline
		if message {
			sp.lost = rq.out.lost
		}
	} else {
		sp.deadline = s.now().Add(s.cfg.SendDeadline)
		if message {
			sp.lost = resendOnce
		}
	}
	return sp
}

// noteInterrupted marks rq's work unfinished when a call gave up because of
// shutdown, so its update is not marked done.
func (s *Server) noteInterrupted(rq *request, err error) {
	var se *sendError
	if rq.out != nil && errors.As(err, &se) && se.kind == kindCanceled {
		rq.out.interrupted = true
	}
}

package telegram

// The support team's side of the bot: the question log behind the 👍/👎
// buttons, handing a customer to a person in the support group, and the
// 24-hour reminders. Each is optional (see Support); without them the bot
// answers as before.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
	"github.com/beianbot/beianbot/support"
)

// Support connects the front end to the support team's tools. Every field
// is optional.
type Support struct {
	// Questions logs every answer; the 👍/👎 buttons vote on its entry.
	Questions *support.QuestionLog
	// Threads keeps handoff threads. With telegram.support_chat_id set it
	// enables /human and the "talk to a person" button.
	Threads Threads
	// Reminders schedules 24-hour reminders; Run sends the due ones.
	Reminders *support.Reminders
	// SupportName is the provider's support team as customers know it
	// (config provider.support); default: the source document's provider.
	SupportName config.Text
	// Clock is the reminders' time (default time.Now); tests set their own.
	Clock func() time.Time
	// Tick is how often due reminders are looked for (default a minute).
	Tick time.Duration
}

// Threads is the storage handoff needs; *store.Store implements it.
type Threads interface {
	OpenThread(ctx context.Context, nt store.NewThread) (store.Thread, bool, error)
	ThreadByCustomer(ctx context.Context, customerChatID int64) (store.Thread, bool, error)
	ThreadBySupportMessage(ctx context.Context, supportChatID, messageID int64) (store.Thread, bool, error)
	AddSupportMessage(ctx context.Context, threadID, supportChatID, messageID int64, agent bool) error
	CloseThread(ctx context.Context, threadID int64, resolvedTopic string) (bool, error)
	MigrateSupportChat(ctx context.Context, oldID, newID int64) ([]store.Thread, error)
	SupportChat(ctx context.Context, configured int64) (int64, error)
}

// WithSupport turns on the question log, handoff and reminders it provides.
func WithSupport(sp Support) Option { return func(s *Server) { s.sup = sp } }

// Callback kinds of the support buttons (see callback.go for the others).
const (
	cbHuman   = "h" // h:<lang>:<question id>  hand over to a person
	cbRemind  = "r" // r:<lang>                ask when the SMS arrived
	cbArrival = "a" // a:<lang>:<i>            the SMS arrived ArrivalChoices[i] ago
	cbDone    = "d" // d:<reminder id>         verified: stop reminding
)

// deadlineTopic is the knowledge-base topic sent once the 24 hours are over.
const deadlineTopic = "deadline"

// remindable tells whether a reply is about the 24-hour verification, so
// offering a reminder makes sense: who must verify (a verdict, not an
// ask-back), how to verify, a missing SMS, the deadline.
func remindable(r bot.Reply) bool {
	switch r.Topic {
	case bot.TopicWhoVerifies:
		return r.Matrix != nil && r.Clarify == nil
	case "how-to-verify", "sms-not-received", deadlineTopic:
		return true
	}
	return false
}

// arrivalWait is a chat asked when its SMS arrived, which may type the time.
type arrivalWait struct {
	lang lang.Lang
	trad bool
}

// arrivalWaitTTL is how long a typed answer to "when did the SMS arrive?" is expected.
const arrivalWaitTTL = 30 * time.Minute

func (s *Server) clock() time.Time {
	if s.sup.Clock != nil {
		return s.sup.Clock()
	}
	return time.Now()
}

func (s *Server) supportName(l lang.Lang) string {
	name := s.sup.SupportName
	def := knowledge.DefaultProvider().Support
	if l == lang.EN {
		return firstNonEmpty(name.EN, name.ZH, def.EN)
	}
	return firstNonEmpty(name.ZH, name.EN, def.ZH)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// writtenLang is the language to speak to a customer in outside an engine
// reply: the pinned one, else the one they last wrote in (Traditional
// included), else the command language.
func (s *Server) writtenLang(conv bot.Conversation, u *models.User) (lang.Lang, bool) {
	if conv.Lang == "" && conv.LastLang != "" {
		return conv.LastLang, conv.LastLang == lang.ZH && conv.LastTraditional
	}
	return s.commandLang(conv, u)
}

func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// --- question log ---

// recordQuestion logs a reply and returns its entry's id (0 without a log).
func (s *Server) recordQuestion(ctx context.Context, rq *request, r bot.Reply) int64 {
	if s.sup.Questions == nil || r.Topic == "" {
		return 0
	}
	id, err := s.sup.Questions.Record(ctx, rq.chat, r)
	if err != nil {
		s.log.Warn("cannot log the question", "chat", rq.chat, "err", err)
		return 0
	}
	return id
}

// vote records 👍/👎 on the question log entry the button names. The log
// checks the entry belongs to this chat, so a forged button changes nothing.
func (s *Server) vote(ctx context.Context, rq *request, cb callback, up bool) {
	qid, ok := parseID(cb.arg(2))
	if !ok || s.sup.Questions == nil {
		return
	}
	v := -1
	if up {
		v = 1
	}
	recorded, err := s.sup.Questions.Feedback(ctx, rq.chat, qid, v)
	switch {
	case err != nil:
		s.log.Warn("cannot record feedback", "chat", rq.chat, "question", qid, "err", err)
	case !recorded:
		s.log.Info("feedback on an unknown question or from another chat", "chat", rq.chat, "question", qid)
	}
}

// supportButtons are the rows an answer gets besides its own: a person
// when the engine offers one, a reminder when the answer is about the 24 hours.
func (s *Server) supportButtons(r bot.Reply, qid int64) [][]inlineButton {
	var rows [][]inlineButton
	code := langCode(r.Lang, r.Traditional)
	if r.Handoff && s.handoffEnabled() {
		if data, ok := callbackData(cbHuman, code, strconv.FormatInt(qid, 10)); ok {
			rows = append(rows, []inlineButton{{Text: s.text.button("human", r.Lang, r.Traditional), CallbackData: data}})
		}
	}
	if s.sup.Reminders != nil && remindable(r) {
		if data, ok := callbackData(cbRemind, code); ok {
			rows = append(rows, []inlineButton{{Text: s.text.button("remind", r.Lang, r.Traditional), CallbackData: data}})
		}
	}
	return rows
}

// --- handoff ---

func (s *Server) handoffEnabled() bool { return s.sup.Threads != nil && s.supportChat.Load() != 0 }

// recentTurns is how many of the customer's logged questions a handoff post shows.
const recentTurns = 5

// handoff hands the chat to the support team: it opens a thread, posts the
// customer's question and last turns in the support group, and tells the
// customer a person will answer. question is what the customer wrote ("":
// the logged question qid, or the last one); qid is 0 when none is known.
func (s *Server) handoff(ctx context.Context, rq *request, l lang.Lang, trad bool, topic string, qid int64, question string) {
	rq.lang, rq.trad = l, trad
	if !s.handoffEnabled() {
		s.sendPlain(ctx, rq, s.text.text("human_none", l, trad, "support", s.supportName(l)), nil)
		s.logReply(rq, "human_none", l, nil)
		return
	}
	var recent []store.Question
	if s.sup.Questions != nil {
		var err error
		if recent, err = s.sup.Questions.Recent(ctx, rq.chat, recentTurns+1); err != nil {
			s.log.Warn("cannot read the customer's recent questions", "chat", rq.chat, "err", err)
		}
	}
	question = support.Redact(strings.TrimSpace(question))
	if question == "" && len(recent) > 0 {
		// The question the button was under, else the last one asked.
		at := len(recent) - 1
		for i, q := range recent {
			if q.ID == qid {
				at = i
			}
		}
		question, topic = recent[at].Text, firstNonEmpty(topic, recent[at].Topic)
		if qid == 0 {
			qid = recent[at].ID
		}
		recent = append(recent[:at:at], recent[at+1:]...)
	}
	if len(recent) > recentTurns {
		recent = recent[len(recent)-recentTurns:]
	}
	th, created, err := s.sup.Threads.OpenThread(ctx, store.NewThread{
		CustomerChatID: rq.chat, SupportChatID: s.supportChat.Load(), Lang: l, Traditional: trad, Topic: topic, QuestionID: qid,
	})
	if err != nil {
		s.log.Error("cannot open a handoff thread", "chat", rq.chat, "err", err)
		s.sendPlain(ctx, rq, s.text.text("human_failed", l, trad, "support", s.supportName(l)), nil)
		return
	}
	if !created {
		s.sendPlain(ctx, rq, s.text.text("human_already", l, trad), nil)
		s.logReply(rq, "human_already", l, nil)
		return
	}
	if err := s.postToThread(ctx, rq, th, support.HandoffPost(th, question, recent)); err != nil {
		// Nobody would see the thread: close it rather than swallow the customer's messages.
		s.log.Error("cannot post the handoff in the support group", "chat", rq.chat, "support_chat", th.SupportChatID, "err", err)
		if _, err := s.sup.Threads.CloseThread(ctx, th.ID, ""); err != nil {
			s.log.Error("cannot close the failed handoff thread", "thread", th.ID, "err", err)
		}
		s.sendPlain(ctx, rq, s.text.text("human_failed", l, trad, "support", s.supportName(l)), nil)
		return
	}
	if qid != 0 && s.sup.Questions != nil {
		if err := s.sup.Questions.Handoff(ctx, qid); err != nil {
			s.log.Warn("cannot mark the question as handed over", "question", qid, "err", err)
		}
	}
	s.metrics.inc("beianbot_telegram_handoffs_total")
	err = s.sendPlain(ctx, rq, support.HandoffStartedText(l, trad, s.supportName(l)), nil)
	s.logReply(rq, "handoff", l, err)
}

// postToThread posts text in the thread's support group, for rq's work, and
// maps the posted messages to the thread, so agents' replies to them reach
// the customer.
func (s *Server) postToThread(ctx context.Context, rq *request, th store.Thread, text string) error {
	ids, chat, err := s.post(ctx, rq, th.SupportChatID, text)
	for _, id := range ids {
		if err := s.sup.Threads.AddSupportMessage(ctx, th.ID, chat, int64(id), false); err != nil {
			s.log.Error("cannot map a support message to its thread", "thread", th.ID, "err", err)
		}
	}
	return err
}

// post sends plain text to a group and returns the ids of the messages
// sent and the chat they went to (another one when the group migrated on
// the way). Unlike sendPlain it needs the ids, to route replies.
func (s *Server) post(ctx context.Context, rq *request, chat int64, text string) ([]int, int64, error) {
	var ids []int
	to := rq.to(chat, lang.EN, false)
	to.group = true
	for _, part := range splitText(text, maxMessageUnits) {
		params := &tg.SendMessageParams{
			Text: escapeHTML(part), ParseMode: models.ParseModeHTML,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
		}
		msg, err := s.sendMessage(ctx, to, params, part)
		if err != nil {
			return ids, to.chat, err
		}
		if msg != nil && msg.ID != 0 {
			ids = append(ids, msg.ID)
		}
	}
	return ids, to.chat, nil
}

// relayToThread posts a customer's message in their open thread instead of
// answering it; false when the customer has no open thread.
func (s *Server) relayToThread(ctx context.Context, rq *request, text string) bool {
	if s.sup.Threads == nil {
		return false
	}
	th, ok, err := s.sup.Threads.ThreadByCustomer(ctx, rq.chat)
	if err != nil {
		s.log.Warn("cannot look up the customer's handoff thread", "chat", rq.chat, "err", err)
		return false
	}
	if !ok {
		return false
	}
	post := fmt.Sprintf("💬 #%d %s:\n%s", th.ID, support.LangLabel(th.Lang, th.Traditional), support.Redact(text))
	if err := s.postToThread(ctx, rq, th, post); err != nil {
		s.log.Error("cannot post the customer's message in the support group", "thread", th.ID, "err", err)
		s.sendPlain(ctx, rq, s.text.text("human_failed", th.Lang, th.Traditional, "support", s.supportName(th.Lang)), nil)
		return true
	}
	s.logReply(rq, "relayed_to_support", th.Lang, nil)
	return true
}

// isSupport tells a message in the support group (or the supergroup it became).
func (s *Server) isSupport(m *models.Message) bool {
	sc := s.supportChat.Load()
	return sc != 0 && (m.Chat.ID == sc || m.MigrateFromChatID == sc)
}

// supportWork tells whether a message in the support group is for the bot:
// agents' replies to thread messages, /close, the group's upgrade to a
// supergroup, and commands or mentions meant for the bot (which get a short
// note on how it works). Other messages are the team's own talk, left alone.
func (s *Server) supportWork(m *models.Message) bool {
	switch {
	case m.MigrateToChatID != 0, m.MigrateFromChatID != 0:
		return true
	case m.From == nil || m.From.IsBot:
		return false
	}
	return m.ReplyToMessage != nil || s.addressed(m)
}

// handleSupport does what a message in the support group asks.
func (s *Server) handleSupport(ctx context.Context, rq *request, m *models.Message) {
	switch {
	case m.MigrateToChatID != 0:
		s.followSupport(ctx, rq, m.Chat.ID, m.MigrateToChatID)
	case m.MigrateFromChatID != 0:
		s.followSupport(ctx, rq, m.MigrateFromChatID, m.Chat.ID)
	case m.ReplyToMessage != nil:
		s.handleAgent(ctx, rq, m)
	default:
		s.sendPlain(ctx, rq, supportHelp, nil)
	}
}

// What the bot says in the support group (the team's language: English).
const (
	supportHelp = "I only act on replies: reply to one of my handoff posts (or a message of its thread) to answer that customer; " +
		"reply /close to end the thread, or /close TOPIC to name the knowledge-base topic that would have answered."
	supportNotThread   = "That message is not part of a customer thread, so nothing was sent. Reply to a handoff post instead."
	supportClosed      = "Thread #%d is closed; your message was not sent to the customer."
	supportTextOnly    = "Only text is relayed to the customer; please write your answer as text."
	supportBlocked     = "Not delivered: the customer of thread #%d has blocked the bot."
	supportNotSent     = "Not delivered to the customer of thread #%d (Telegram error); please try again."
	supportUnsure      = "Telegram did not confirm delivery to the customer of thread #%d; it may have arrived. Check with the customer before sending it again."
	supportClosedNow   = "Thread #%d closed; the customer has been told."
	supportCloseAgain  = "Thread #%d was already closed."
	supportMovedHeader = "The group became a supergroup: thread #%d continues here. Reply to this message to answer the customer.\n\n"
)

// handleAgent routes an agent's reply in the support group to the
// customer of the thread the replied-to message belongs to.
func (s *Server) handleAgent(ctx context.Context, rq *request, m *models.Message) {
	th, ok, err := s.sup.Threads.ThreadBySupportMessage(ctx, m.Chat.ID, int64(m.ReplyToMessage.ID))
	if err != nil {
		s.log.Error("cannot look up the thread of a support message", "chat", m.Chat.ID, "err", err)
		s.sendPlain(ctx, rq, fmt.Sprintf("Sorry, I could not look up that thread (%s). Please try again.", "database error"), nil)
		return
	}
	name, target, _, isCommand := parseCommand(m.Text)
	if isCommand && target != "" && !strings.EqualFold(target, s.me.Username) {
		return // for another bot
	}
	if !ok {
		if isCommand || (m.ReplyToMessage.From != nil && m.ReplyToMessage.From.ID == s.me.ID) {
			s.sendPlain(ctx, rq, supportNotThread, nil)
		}
		return // a reply to a colleague, not about a customer
	}
	if topic, isClose := support.ParseClose(m.Text); isClose {
		s.closeThread(ctx, rq, th, topic)
		return
	}
	switch {
	case isCommand:
		s.sendPlain(ctx, rq, supportHelp, nil)
		s.log.Info("unknown command in the support group", "command", name)
		return
	case !th.Open:
		s.sendPlain(ctx, rq, fmt.Sprintf(supportClosed, th.ID), nil)
		return
	case strings.TrimSpace(m.Text) == "":
		s.sendPlain(ctx, rq, supportTextOnly, nil)
		return
	}
	cust := rq.to(th.CustomerChatID, th.Lang, th.Traditional)
	err = s.sendPlain(ctx, cust, s.text.text("agent_says", th.Lang, th.Traditional)+"\n"+m.Text, nil)
	var se *sendError
	switch {
	case errors.As(err, &se) && se.kind == kindBlocked:
		s.sendPlain(ctx, rq, fmt.Sprintf(supportBlocked, th.ID), nil)
		return
	case errors.As(err, &se) && se.kind == kindCanceled:
		return // shutdown: the agent's message is answered after the restart
	case errors.As(err, &se) && se.unsure():
		s.sendPlain(ctx, rq, fmt.Sprintf(supportUnsure, th.ID), nil)
		return
	case err != nil:
		s.sendPlain(ctx, rq, fmt.Sprintf(supportNotSent, th.ID), nil)
		return
	}
	// The agent's message joins the thread: a colleague's reply to it routes too.
	if err := s.sup.Threads.AddSupportMessage(ctx, th.ID, m.Chat.ID, int64(m.ID), true); err != nil {
		s.log.Error("cannot map the agent's message to its thread", "thread", th.ID, "err", err)
	}
	s.metrics.inc("beianbot_telegram_agent_replies_total")
	s.log.Info("agent reply relayed", "thread", th.ID, "chat", th.CustomerChatID)
}

// closeThread ends a thread on an agent's /close and tells the customer.
func (s *Server) closeThread(ctx context.Context, rq *request, th store.Thread, topic string) {
	closed, err := s.sup.Threads.CloseThread(ctx, th.ID, topic)
	switch {
	case err != nil:
		s.log.Error("cannot close a thread", "thread", th.ID, "err", err)
		s.sendPlain(ctx, rq, "Sorry, I could not close the thread (database error). Please try again.", nil)
		return
	case !closed:
		s.sendPlain(ctx, rq, fmt.Sprintf(supportCloseAgain, th.ID), nil)
		return
	}
	cust := rq.to(th.CustomerChatID, th.Lang, th.Traditional)
	if err := s.sendPlain(ctx, cust, support.HandoffClosedText(th.Lang, th.Traditional), nil); err != nil {
		s.log.Info("customer not told the thread closed", "thread", th.ID, "err", err)
	}
	s.sendPlain(ctx, rq, fmt.Sprintf(supportClosedNow, th.ID), nil)
	s.log.Info("thread closed", "thread", th.ID, "resolved_topic", topic)
}

// followSupport moves to the supergroup that replaced the support group:
// threads move in the store, and each open one is posted again in the new
// group, since agents cannot reply there to posts of the old one.
func (s *Server) followSupport(ctx context.Context, rq *request, from, to int64) {
	s.supportMu.Lock()
	defer s.supportMu.Unlock()
	if s.sup.Threads == nil || to == 0 || !s.supportChat.CompareAndSwap(from, to) {
		return // not our group, or already followed
	}
	s.log.Info("support group became a supergroup; following it", "from", from, "to", to)
	moved, err := s.sup.Threads.MigrateSupportChat(ctx, from, to)
	if err != nil {
		s.log.Error("cannot move handoff threads to the new support group", "from", from, "to", to, "err", err)
		return
	}
	for _, th := range moved {
		var recent []store.Question
		if s.sup.Questions != nil {
			recent, _ = s.sup.Questions.Recent(ctx, th.CustomerChatID, recentTurns)
		}
		if err := s.postToThread(ctx, rq, th, fmt.Sprintf(supportMovedHeader, th.ID)+support.HandoffPost(th, "", recent)); err != nil {
			s.log.Error("cannot post a moved thread in the new support group", "thread", th.ID, "err", err)
		}
	}
}

// --- reminders ---

// askArrival starts a reminder: when did the SMS arrive? Buttons for the
// usual answers; a typed time is read from the chat's next message.
func (s *Server) askArrival(ctx context.Context, rq *request, l lang.Lang, trad bool) {
	rq.lang, rq.trad = l, trad
	if s.sup.Reminders == nil {
		s.sendPlain(ctx, rq, s.text.text("remind_unavailable", l, trad), nil)
		s.logReply(rq, "remind_unavailable", l, nil)
		return
	}
	code := langCode(l, trad)
	var buttons []inlineButton
	for i, d := range support.ArrivalChoices {
		label := s.text.button("arrival_now", l, trad)
		if d > 0 {
			label = s.text.pick(s.text.Buttons["arrival_ago"], l, trad, "n", strconv.Itoa(int(d.Hours())))
		}
		if data, ok := callbackData(cbArrival, code, strconv.Itoa(i)); ok {
			buttons = append(buttons, inlineButton{Text: label, CallbackData: data})
		}
	}
	var rows [][]inlineButton
	for i := 0; i < len(buttons); i += 2 {
		rows = append(rows, buttons[i:min(i+2, len(buttons))])
	}
	s.awaiting.Put(rq.chat, arrivalWait{lang: l, trad: trad})
	err := s.sendPlain(ctx, rq, s.text.text("remind_ask", l, trad), rows)
	s.logReply(rq, "remind_ask", l, err)
}

// typedArrival schedules from a typed time when the chat was asked for one;
// false when it was not, or the text is not a time (then it is a question).
func (s *Server) typedArrival(ctx context.Context, rq *request, conv *bot.Conversation, text string) bool {
	if s.sup.Reminders == nil {
		return false
	}
	w, ok := s.awaiting.Get(rq.chat)
	if !ok {
		return false
	}
	at, ok := support.ParseArrival(text, s.clock())
	if !ok {
		s.awaiting.Delete(rq.chat)
		return false
	}
	s.schedule(ctx, rq, conv, w.lang, w.trad, at)
	return true
}

// schedule sets the chat's reminder for an SMS that arrived at smsAt and
// confirms it; past the 24 hours it answers with what to do now.
func (s *Server) schedule(ctx context.Context, rq *request, conv *bot.Conversation, l lang.Lang, trad bool, smsAt time.Time) {
	rq.lang, rq.trad = l, trad
	rem, err := s.sup.Reminders.Schedule(ctx, rq.chat, l, trad, smsAt, s.clock())
	switch {
	case errors.Is(err, support.ErrFutureArrival):
		s.sendPlain(ctx, rq, s.text.text("remind_future", l, trad), nil)
		s.logReply(rq, "remind_future", l, nil)
		return
	case errors.Is(err, support.ErrDeadlinePassed):
		s.awaiting.Delete(rq.chat)
		var r bot.Reply
		r = s.engine.Topic(ctx, conv, deadlineTopic, l, trad)
		s.deliver(ctx, rq, r, true)
		return
	case err != nil:
		s.log.Error("cannot schedule a reminder", "chat", rq.chat, "err", err)
		s.sendPlain(ctx, rq, s.text.text("apology", l, trad), nil)
		return
	}
	s.awaiting.Delete(rq.chat)
	s.metrics.inc("beianbot_telegram_reminders_scheduled_total")
	err = s.sendPlain(ctx, rq, support.ScheduledText(rem), nil)
	s.logReply(rq, "remind_scheduled", l, err)
}

// sendReminder sends one due reminder, through the same rate-limited,
// retrying sender as the answers. It is claimed before it is sent, and never
// sent twice: when Telegram's answer is lost, it counts as sent. Only a
// message that certainly did not go out is given back, for the next tick.
func (s *Server) sendReminder(ctx context.Context, d support.Due) {
	rq := &request{chat: d.ChatID, group: d.ChatID < 0, received: s.now(), lang: d.Lang, trad: d.Traditional,
		out: &delivery{lost: neverResend, deadline: s.now().Add(s.cfg.SendDeadline)}}
	text := support.ReminderText(d)
	var rows [][]inlineButton
	if d.Kind == store.Expired {
		var conv bot.Conversation
		var r bot.Reply
		r = s.engine.Topic(ctx, &conv, deadlineTopic, d.Lang, d.Traditional)
		text += "\n\n" + strings.TrimSpace(r.Text)
	} else if data, ok := callbackData(cbDone, strconv.FormatInt(d.ReminderID, 10)); ok {
		rows = [][]inlineButton{{{Text: support.DoneLabel(d.Lang, d.Traditional), CallbackData: data}}}
	}
	err := s.sendPlain(ctx, rq, text, rows)
	var se *sendError
	notSent := err != nil && !rq.out.anySent && errors.As(err, &se) &&
		(se.kind == kindServer || se.kind == kindNetwork || se.kind == kindRateLimited || se.kind == kindCanceled)
	if notSent {
		if ferr := s.sup.Reminders.Failed(context.WithoutCancel(ctx), d); ferr != nil {
			s.log.Error("cannot give back a reminder that failed", "reminder", d.ReminderID, "err", ferr)
		}
	}
	if errors.As(err, &se) && se.kind == kindBlocked {
		// Blocked without our hearing of it (my_chat_member): stop here too.
		if _, serr := s.sup.Reminders.StopChat(context.WithoutCancel(ctx), d.ChatID); serr != nil {
			s.log.Error("cannot stop the reminders of a chat that blocked the bot", "chat", d.ChatID, "err", serr)
		}
	}
	if err != nil {
		s.metrics.inc("beianbot_telegram_reminders_failed_total", "kind", string(d.Kind))
	} else {
		s.metrics.inc("beianbot_telegram_reminders_sent_total", "kind", string(d.Kind))
	}
	s.logReply(rq, "reminder_"+string(d.Kind), d.Lang, err)
}

// reminderDone answers the "done" button: no more reminders for it.
func (s *Server) reminderDone(ctx context.Context, rq *request, q *models.CallbackQuery, cb callback) {
	id, ok := parseID(cb.arg(0))
	if !ok || s.sup.Reminders == nil {
		s.answerCallback(ctx, rq, s.text.text("stale_button", rq.lang, rq.trad))
		return
	}
	cancelled, err := s.sup.Reminders.Cancel(ctx, rq.chat, id)
	if err != nil {
		s.log.Error("cannot cancel a reminder", "chat", rq.chat, "reminder", id, "err", err)
		s.answerCallback(ctx, rq, s.text.text("apology", rq.lang, rq.trad))
		return
	}
	if !cancelled {
		s.answerCallback(ctx, rq, s.text.text("remind_already_done", rq.lang, rq.trad))
		s.dropButtons(ctx, rq, q, cbDone)
		return
	}
	s.answerCallback(ctx, rq, "")
	s.dropButtons(ctx, rq, q, cbDone)
	err = s.sendPlain(ctx, rq, support.CancelledText(rq.lang, rq.trad), nil)
	s.logReply(rq, "remind_done", rq.lang, err)
}

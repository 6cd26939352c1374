package telegram

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lru"
	"github.com/beianbot/beianbot/store"
)

// Inbox keeps the updates taken from Telegram until they are answered,
// together with the offset up to which Telegram may forget them, and records
// each message sent for an update not yet answered (the outbox), so that a
// restart neither loses an update nor sends a message twice.
// *store.Store keeps it in SQLite; without one it is in memory, and a
// restart loses what was not yet answered.
type Inbox interface {
	// InboxOffset is the highest update_id taken (0: none).
	InboxOffset(ctx context.Context) (int64, error)
	// AcceptUpdates stores updates and, when offset is not 0, sets the
	// offset, in one step; fresh[i] is false for an update already stored.
	AcceptUpdates(ctx context.Context, offset int64, us []store.InboxUpdate) (fresh []bool, err error)
	// PendingUpdates returns the updates not yet done, oldest first, with
	// the messages already sent for each.
	PendingUpdates(ctx context.Context) ([]store.InboxUpdate, error)
	// RecordProgress records messages sent and updates done, in one step;
	// and chats' states too, when the Inbox also keeps the Conversations
	// (the server then saves state through it).
	RecordProgress(ctx context.Context, p store.Progress) error
}

// WithInbox keeps taken updates in in (e.g. the database) instead of memory.
func WithInbox(in Inbox) Option { return func(s *Server) { s.inbox = in } }

// Item kinds, stored with each update.
const (
	itemAnswer      = ""      // answer it
	itemFloodNotice = "flood" // the sender is over the flood limit: tell them once
)

// item is an update taken for answering.
type item struct {
	id       int64
	kind     string
	chat     int64 // its queue
	sendsTo  int64 // the chat it answers in, whose send limit it waits for (0: none)
	group    bool
	body     []byte // the update as Telegram sent it
	received time.Time
	metric   string                      // its kind for updates_total, counted once stored
	sent     map[int]store.OutboxMessage // from the outbox, after a restart
}

// batch is what triage made of some updates: items to store and queue,
// taps to answer with a toast, and the ids of updates needing nothing.
type batch struct {
	items   []*item
	toasts  []*models.CallbackQuery
	skipped []int64
	maxID   int64
}

// triageAll reads raw updates and decides what each needs.
func (s *Server) triageAll(raws []json.RawMessage) batch {
	var b batch
	perChat := map[int64]int{}
	for _, raw := range raws {
		var u models.Update
		if err := json.Unmarshal(raw, &u); err != nil || u.ID <= 0 {
			s.log.Warn("malformed update from Telegram skipped", "bytes", len(raw))
			continue
		}
		b.maxID = max(b.maxID, u.ID)
		it, toast := s.triage(&u, perChat)
		switch {
		case it != nil:
			it.body = raw
			b.items = append(b.items, it)
			perChat[it.chat]++
		case toast != nil:
			b.toasts = append(b.toasts, toast)
			b.skipped = append(b.skipped, u.ID)
		default:
			b.skipped = append(b.skipped, u.ID)
		}
	}
	return b
}

// commit stores the batch's items in the inbox — with offset, when not 0,
// in the same step — and only then queues them. A failure stores nothing:
// the caller tries again, and Telegram keeps the updates meanwhile.
func (s *Server) commit(ctx context.Context, offset int64, b batch) error {
	rows := make([]store.InboxUpdate, len(b.items))
	for i, it := range b.items {
		rows[i] = store.InboxUpdate{ID: it.id, ChatID: it.chat, Kind: it.kind, Body: it.body, ReceivedAt: it.received}
	}
	fresh, err := s.inbox.AcceptUpdates(ctx, offset, rows)
	if err != nil {
		return err
	}
	for i, it := range b.items {
		if !fresh[i] {
			s.metrics.inc("beianbot_telegram_updates_total", "kind", "duplicate")
			s.log.Debug("duplicate update dropped", "update", it.id)
			continue
		}
		s.metrics.inc("beianbot_telegram_updates_total", "kind", it.metric)
		s.sched.submit(s.jobFor(it))
	}
	s.taken.Store(max(s.taken.Load(), b.maxID))
	for _, q := range b.toasts {
		s.floodToast(q)
	}
	for _, id := range b.skipped {
		if s.handled != nil {
			s.handled(id)
		}
	}
	if s.notify != nil {
		s.notify()
	}
	return nil
}

// restore queues the updates a previous run took and did not answer.
func (s *Server) restore(ctx context.Context) error {
	pending, err := s.inbox.PendingUpdates(ctx)
	if err != nil {
		return fmt.Errorf("telegram: read the inbox: %w", err)
	}
	for _, p := range pending {
		var u models.Update
		if err := json.Unmarshal(p.Body, &u); err != nil {
			s.log.Error("unreadable update in the inbox: dropped", "update", p.ID, "err", err)
			s.journal.done(p.ID)
			continue
		}
		it := &item{id: p.ID, kind: p.Kind, chat: p.ChatID, body: p.Body, received: p.ReceivedAt}
		_, it.sendsTo, it.group = s.route(&u)
		if len(p.Sent) > 0 {
			it.sent = map[int]store.OutboxMessage{}
			for _, m := range p.Sent {
				it.sent[m.Seq] = m
			}
		}
		s.sched.submit(s.jobFor(it))
	}
	if len(pending) > 0 {
		s.log.Info("answering the updates left in the inbox", "count", len(pending))
	}
	return nil
}

// jobFor makes the scheduler's job for an item.
func (s *Server) jobFor(it *item) *job {
	j := &job{id: it.id, chat: it.chat, sendsTo: it.sendsTo, group: it.group}
	j.run = func(ctx context.Context) { j.done = s.work(ctx, it) }
	return j
}

// --- long polling ---

// poll takes updates from Telegram until ctx ends. Each batch is stored in
// the inbox, with its offset, before the next getUpdates tells Telegram it
// may forget them. While the inbox is full, it stops asking.
func (s *Server) poll(ctx context.Context) {
	offset := s.taken.Load()
	backoff := time.Duration(0)
	for {
		room, err := s.sched.room(ctx, s.cfg.InboxLimit)
		if err != nil {
			return
		}
		raws, err := s.getUpdates(ctx, offset+1, min(100, room))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if s.sleep(ctx, s.pollFailed(err, &backoff)) != nil {
				return
			}
			continue
		}
		backoff = 0
		if len(raws) == 0 {
			continue
		}
		b := s.triageAll(raws)
		if b.maxID == 0 {
			continue
		}
		storeBackoff := firstBackoff
		for {
			// Stored even when shutdown began meanwhile: they are answered after the restart.
			err := s.commit(context.WithoutCancel(ctx), b.maxID, b)
			if err == nil {
				break
			}
			// Not confirmed to Telegram: it keeps the updates meanwhile.
			s.log.Error("cannot store updates in the inbox; trying again", "err", err)
			if s.sleep(ctx, storeBackoff) != nil {
				return
			}
			storeBackoff = min(2*storeBackoff, maxBackoff)
		}
		offset = b.maxID
	}
}

// pollError is a getUpdates that failed. It never holds the token.
type pollError struct {
	status     int // Telegram's error_code or the HTTP status; 0 when no answer came
	msg        string
	retryAfter time.Duration
}

func (e *pollError) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("getUpdates: %d %s", e.status, e.msg)
	}
	return "getUpdates: " + e.msg
}

// pollFailed logs a failed poll and says how long to wait before the next.
func (s *Server) pollFailed(err error, backoff *time.Duration) time.Duration {
	var pe *pollError
	errors.As(err, &pe)
	if pe == nil {
		pe = &pollError{msg: s.scrub(err.Error())}
	}
	s.metrics.inc("beianbot_telegram_poll_errors_total")
	switch {
	case pe.status == http.StatusUnauthorized:
		s.fail(configErrorf("telegram rejected the token (401 Unauthorized): check BEIANBOT_TELEGRAM_TOKEN"))
	case pe.status == http.StatusConflict:
		s.log.Error("Telegram answered 409 Conflict: another process polls with this token, or a webhook is set", "err", pe.Error())
	case pe.status == http.StatusTooManyRequests && pe.retryAfter > 0:
		s.log.Warn("Telegram asks to poll more slowly", "retry_after", pe.retryAfter)
		return pe.retryAfter
	default:
		msg := pe.Error()
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		s.log.Warn("telegram poll failed", "err", msg)
	}
	*backoff = min(max(2**backoff, firstBackoff), maxBackoff)
	return *backoff/2 + time.Duration(s.jitter()*float64(*backoff/2))
}

// getUpdates asks Telegram for updates from offset on, waiting up to the
// poll timeout for some to come. The library's own loop would confirm
// updates as soon as it handed them over; this one leaves that to the next
// call's offset, which is sent only after the updates are stored.
func (s *Server) getUpdates(ctx context.Context, offset int64, limit int) ([]json.RawMessage, error) {
	form := url.Values{}
	form.Set("offset", strconv.FormatInt(offset, 10))
	form.Set("limit", strconv.Itoa(limit))
	form.Set("timeout", strconv.Itoa(int(s.cfg.PollTimeout/time.Second)))
	allowed, _ := json.Marshal(allowedUpdates)
	form.Set("allowed_updates", string(allowed))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.APIURL+"/bot"+s.token+"/getUpdates", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &pollError{msg: s.scrub(err.Error())}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.httpClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the token
		}
		return nil, &pollError{msg: s.scrub(err.Error())}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &pollError{status: resp.StatusCode, msg: "reading the answer: " + s.scrub(err.Error())}
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &pollError{status: resp.StatusCode, msg: "the answer is not Bot API JSON"}
	}
	if !r.OK {
		status := r.ErrorCode
		if status == 0 {
			status = resp.StatusCode
		}
		return nil, &pollError{status: status, msg: s.scrub(r.Description), retryAfter: time.Duration(r.Parameters.RetryAfter) * time.Second}
	}
	return r.Result, nil
}

// --- progress ---

// journal writes progress in batches: the chats' state, the outbox and the
// updates done — one write each per batch, the next batch gathering while
// one is written, so no answer waits for the disk. A chat's state is
// written before (or with) the updates it came from are marked done: a
// crash loses at most the batch being gathered, and those updates are then
// answered again from the state they started with (their messages may be
// sent a second time).
type journal struct {
	inbox       Inbox
	keepsStates bool // the inbox also keeps the chats' state: it is saved with the progress
	log         *slog.Logger

	mu      sync.Mutex
	room    *sync.Cond                 // signalled when a batch is taken for writing
	states  map[int64]bot.Conversation // saved, not yet being written
	writing map[int64]bot.Conversation // being written
	sentBuf []store.OutboxMessage
	doneBuf []int64
	closed  bool
	kick    chan struct{}
	ended   chan struct{}
}

func newJournal(in Inbox, keepsStates bool, log *slog.Logger) *journal {
	j := &journal{inbox: in, keepsStates: keepsStates, log: log, states: map[int64]bot.Conversation{},
		kick: make(chan struct{}, 1), ended: make(chan struct{})}
	j.room = sync.NewCond(&j.mu)
	go j.run()
	return j
}

func (j *journal) sent(m store.OutboxMessage) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		j.log.Warn("message sent after shutdown not recorded", "update", m.UpdateID)
		return
	}
	j.sentBuf = append(j.sentBuf, m)
	j.wake()
}

// maxUnwritten bounds the updates answered and not yet being written. Past
// it, answering waits for the journal: what a crash can make the bot send a
// second time stays small, however fast answers go out.
const maxUnwritten = 8

func (j *journal) done(id int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for len(j.doneBuf) >= maxUnwritten && !j.closed {
		j.room.Wait()
	}
	if j.closed {
		j.log.Warn("update answered after shutdown not recorded; it will be answered again", "update", id)
		return
	}
	j.doneBuf = append(j.doneBuf, id)
	j.wake()
}

// saveState takes a chat's state to write with the next batch; false when
// the journal does not (then the caller saves it itself).
func (j *journal) saveState(chat int64, c bot.Conversation) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed || !j.keepsStates {
		return false
	}
	j.states[chat] = c
	j.wake()
	return true
}

// state returns a chat's state saved and not yet written.
func (j *journal) state(chat int64) (bot.Conversation, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if c, ok := j.states[chat]; ok {
		return c, true
	}
	c, ok := j.writing[chat]
	return c, ok
}

// wake tells the writer there is something to write; call with j.mu held.
func (j *journal) wake() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

func (j *journal) run() {
	defer close(j.ended)
	for range j.kick {
		j.flush()
	}
	j.flush()
}

func (j *journal) flush() {
	j.mu.Lock()
	states, sent, done := j.states, j.sentBuf, j.doneBuf
	j.states, j.writing = map[int64]bot.Conversation{}, states
	j.sentBuf, j.doneBuf = nil, nil
	j.room.Broadcast()
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		j.writing = nil
		j.mu.Unlock()
	}()
	if len(states) == 0 && len(sent) == 0 && len(done) == 0 {
		return
	}
	p := store.Progress{States: states, Sent: sent, Done: done}
	var err error
	for attempt := range 3 {
		if err = j.inbox.RecordProgress(context.Background(), p); err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond) // the database may be busy (another process)
	}
	j.log.Error("cannot record progress in the inbox: these updates will be answered again after a restart",
		"updates", len(done), "messages", len(sent), "chats", len(states), "err", err)
}

// close writes what is left and stops.
func (j *journal) close() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.closed = true
	close(j.kick)
	j.room.Broadcast()
	j.mu.Unlock()
	<-j.ended
}

// journaledConversations saves chat state through the journal, and reads
// it back from there until it is written.
type journaledConversations struct {
	Conversations
	j *journal
}

func (c journaledConversations) Load(ctx context.Context, chatID int64) (bot.Conversation, error) {
	if conv, ok := c.j.state(chatID); ok {
		return conv, nil
	}
	return c.Conversations.Load(ctx, chatID)
}

func (c journaledConversations) Save(ctx context.Context, chatID int64, conv bot.Conversation) error {
	if c.j.saveState(chatID, conv) {
		return nil
	}
	return c.Conversations.Save(ctx, chatID, conv)
}

// --- in memory ---

// memoryInbox is the default Inbox: it spans one process only.
type memoryInbox struct {
	mu      sync.Mutex
	offset  int64
	pending map[int64]store.InboxUpdate
	sent    map[int64][]store.OutboxMessage
	done    *lru.Cache[int64, struct{}] // recently done, to recognise a second delivery
}

func newMemoryInbox(offset int64) *memoryInbox {
	return &memoryInbox{
		offset:  offset,
		pending: map[int64]store.InboxUpdate{},
		sent:    map[int64][]store.OutboxMessage{},
		done:    lru.New[int64, struct{}](10000, 0, nil),
	}
}

func (m *memoryInbox) InboxOffset(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.offset, nil
}

func (m *memoryInbox) AcceptUpdates(_ context.Context, offset int64, us []store.InboxUpdate) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fresh := make([]bool, len(us))
	for i, u := range us {
		_, pending := m.pending[u.ID]
		_, done := m.done.Get(u.ID)
		if !pending && !done {
			m.pending[u.ID] = u
			fresh[i] = true
		}
	}
	if offset != 0 {
		m.offset = offset
	}
	return fresh, nil
}

func (m *memoryInbox) PendingUpdates(context.Context) ([]store.InboxUpdate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.InboxUpdate, 0, len(m.pending))
	for _, u := range m.pending {
		u.Sent = append([]store.OutboxMessage(nil), m.sent[u.ID]...)
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b store.InboxUpdate) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memoryInbox) RecordProgress(_ context.Context, p store.Progress) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	sent, done := p.Sent, p.Done // never States: a memoryInbox keeps no Conversations
	for _, s := range sent {
		if _, ok := m.pending[s.UpdateID]; !ok {
			continue
		}
		list := m.sent[s.UpdateID]
		replaced := false
		for i := range list {
			if list[i].Seq == s.Seq {
				list[i], replaced = s, true
			}
		}
		if !replaced {
			list = append(list, s)
		}
		m.sent[s.UpdateID] = list
	}
	for _, id := range done {
		delete(m.pending, id)
		delete(m.sent, id)
		m.done.Put(id, struct{}{})
	}
	return nil
}

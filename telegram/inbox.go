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
		// The id first: an update that cannot be read is still one Telegram
		// may forget, or it would come back at every poll.
		var head struct {
			ID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ID <= 0 {
			s.metrics.inc("beianbot_telegram_updates_total", "kind", "malformed")
			s.log.Warn("update from Telegram without an update_id skipped", "bytes", len(raw))
			continue
		}
		b.maxID = max(b.maxID, head.ID)
		var u models.Update
		if err := json.Unmarshal(raw, &u); err != nil || u.ID != head.ID {
			s.metrics.inc("beianbot_telegram_updates_total", "kind", "malformed")
			s.log.Warn("malformed update from Telegram skipped", "update", head.ID, "bytes", len(raw), "err", err)
			b.skipped = append(b.skipped, head.ID)
			continue
		}
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
	j.run = func(ctx context.Context) { j.done = s.work(forUpdate(ctx, it.id), it) }
	return j
}

// updateKey marks the context of the work on one update (see forUpdate).
type updateKey struct{}

// forUpdate marks ctx as the work on update id: the chat states saved with
// it are that update's, written only once it is done (see journal).
func forUpdate(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, updateKey{}, id)
}

// updateOf is the update whose work ctx is (0: none, e.g. a reminder).
func updateOf(ctx context.Context) int64 {
	id, _ := ctx.Value(updateKey{}).(int64)
	return id
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
// one is written, so no answer waits for the disk. The state a chat reaches
// while an update is answered is held until that update is done, and then
// written together with its done mark: an update interrupted by shutdown or
// a crash is answered again from the state it started with (a "2" still
// answers the question it answered the first time), and a crash loses at
// most the batch being gathered (whose messages may be sent a second time).
type journal struct {
	inbox       Inbox
	keepsStates bool // the inbox also keeps the chats' state: it is saved with the progress
	log         *slog.Logger

	mu      sync.Mutex
	room    *sync.Cond                           // signalled when a batch is taken for writing
	states  map[int64]bot.Conversation           // saved, not yet being written
	writing map[int64]bot.Conversation           // being written
	held    map[int64]map[int64]bot.Conversation // update → chat → state, until the update is done
	sentBuf []store.OutboxMessage
	doneBuf []int64
	closed  bool
	kick    chan struct{}
	closing chan struct{} // closed by close
	ended   chan struct{}
}

func newJournal(in Inbox, keepsStates bool, log *slog.Logger) *journal {
	j := &journal{inbox: in, keepsStates: keepsStates, log: log, states: map[int64]bot.Conversation{},
		held: map[int64]map[int64]bot.Conversation{}, kick: make(chan struct{}, 1), closing: make(chan struct{}),
		ended: make(chan struct{})}
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
	states := j.held[id]
	delete(j.held, id)
	if j.closed {
		j.log.Warn("update answered after shutdown not recorded; it will be answered again", "update", id)
		return
	}
	for chat, c := range states {
		j.states[chat] = c // in the same batch as the done mark
	}
	j.doneBuf = append(j.doneBuf, id)
	j.wake()
}

// saveState takes a chat's state to write: with the next batch, or, when
// saved by the work on an update (not 0), with that update's done mark.
// It reports false when the journal does not keep states (then the caller
// saves it itself).
func (j *journal) saveState(update, chat int64, c bot.Conversation) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case !j.keepsStates:
		return false
	case update == 0:
		if j.closed {
			return false
		}
		j.states[chat] = c
		j.wake()
	case j.closed:
		// Its done mark will not be written either: the update is answered
		// again after the restart, from the state it started with.
	default:
		if j.held[update] == nil {
			j.held[update] = map[int64]bot.Conversation{}
		}
		j.held[update][chat] = c
	}
	return true
}

// state returns a chat's state saved and not yet written: first the one
// saved by the work on update (if not 0), then the others.
func (j *journal) state(update, chat int64) (bot.Conversation, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if c, ok := j.held[update][chat]; ok {
		return c, true
	}
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

// journalFirstBackoff is the first wait after a batch could not be written.
const journalFirstBackoff = 100 * time.Millisecond

func (j *journal) run() {
	defer close(j.ended)
	backoff := time.Duration(0)
	for range j.kick {
		err := j.flush()
		if err == nil {
			backoff = 0
			continue
		}
		// The batch is kept (see flush). The database may be busy (another
		// process) or full: wait, longer each time, then try again.
		backoff = min(max(2*backoff, journalFirstBackoff), maxBackoff)
		j.log.Warn("cannot record progress in the inbox; trying again", "wait", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-j.closing:
		}
		t.Stop()
		j.mu.Lock()
		if !j.closed {
			j.wake()
		}
		j.mu.Unlock()
	}
	// Shutdown: a few last tries, so that a database gone for good does not
	// keep the process from ending.
	var err error
	for attempt := range 3 {
		if err = j.flush(); err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * journalFirstBackoff)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.log.Error("cannot record progress in the inbox: these updates will be answered again after a restart",
		"updates", len(j.doneBuf), "messages", len(j.sentBuf), "chats", len(j.states), "err", err)
}

// flush writes what has gathered. When that fails, it keeps it, under what
// came meanwhile, for the next flush: dropping it would take chats back to
// an older state and make a restart answer done updates again.
func (j *journal) flush() error {
	j.mu.Lock()
	states, sent, done := j.states, j.sentBuf, j.doneBuf
	j.states, j.writing = map[int64]bot.Conversation{}, states
	j.sentBuf, j.doneBuf = nil, nil
	j.room.Broadcast()
	j.mu.Unlock()
	var err error
	if len(states) > 0 || len(sent) > 0 || len(done) > 0 {
		err = j.inbox.RecordProgress(context.Background(), store.Progress{States: states, Sent: sent, Done: done})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.writing = nil
	if err != nil {
		for chat, c := range states {
			if _, newer := j.states[chat]; !newer {
				j.states[chat] = c
			}
		}
		j.sentBuf = append(sent, j.sentBuf...)
		j.doneBuf = append(done, j.doneBuf...)
	}
	return err
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
	close(j.closing)
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
	if conv, ok := c.j.state(updateOf(ctx), chatID); ok {
		return conv, nil
	}
	return c.Conversations.Load(ctx, chatID)
}

func (c journaledConversations) Save(ctx context.Context, chatID int64, conv bot.Conversation) error {
	if c.j.saveState(updateOf(ctx), chatID, conv) {
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

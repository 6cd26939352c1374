package telegram

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// fakeAPI is a Bot API server on 127.0.0.1 that speaks enough of the real
// protocol for the library: multipart/form-data requests (reply_markup as a
// JSON string in a form field), getUpdates with offset and long-poll
// timeout, Telegram's error bodies. It checks what the real server checks
// (HTML entities, text length, button data) and records every call.
type fakeAPI struct {
	t     testing.TB
	srv   *httptest.Server
	ln    *switchListener
	token string

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change, to wake waiters
	updates   []fakeUpdate  // not yet confirmed by an offset
	nextID    int64
	maxID     int64 // highest update_id pushed
	calls     []apiCall
	sentTo    map[string][]apiCall // delivered messages by chat_id
	script    map[string][]scripted
	msgIDs    map[int64]int
	sentMsgs  map[string]map[string]any // "chat/message_id" → the message as sent (and edited)
	msgHTML   map[string]uint64         // "chat/message_id" → a hash of its text as the bot sent it, markup and all
	frozen    map[string]bool           // "chat/message_id" → too old to edit
	chatTypes map[int64]string
	callbacks map[string]int // callback query id → times answered
	delivered map[int64]time.Time
	nSent     int           // messages delivered
	nPolls    int           // getUpdates calls
	patience  time.Duration // how long waitFor waits before failing
}

type fakeUpdate struct {
	id  int64
	raw json.RawMessage
}

// apiCall is one request the bot made, with Telegram's answer.
type apiCall struct {
	Method string
	Fields map[string]string
	Markup *keyboard // reply_markup, parsed
	Status int
	Result map[string]any // the message returned by sendMessage
	At     time.Time
}

type keyboard struct {
	InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
}

// scripted is a canned failure for the next call of a method.
type scripted struct {
	status int
	body   string // raw body; JSON built from status when empty
	match  func(fields map[string]string) bool
}

// Scripted statuses that are not HTTP answers.
const (
	// hangUp drops the connection without doing anything.
	hangUp = -1
	// lostAnswer does what was asked (a message is delivered), then drops
	// the connection instead of answering: the bot cannot know it worked.
	lostAnswer = -2
	// stallAnswer does what was asked, then answers nothing until the bot
	// hangs up.
	stallAnswer = -3
)

const fakeToken = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{
		t: t, token: fakeToken, changed: make(chan struct{}), nextID: 1000,
		script: map[string][]scripted{}, sentTo: map[string][]apiCall{}, msgIDs: map[int64]int{}, sentMsgs: map[string]map[string]any{},
		msgHTML: map[string]uint64{}, frozen: map[string]bool{},
		chatTypes: map[int64]string{}, callbacks: map[string]int{}, delivered: map[int64]time.Time{},
		patience: 15 * time.Second,
	}
	f.ln = newSwitchListener(t)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Listener = f.ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// down makes the API unreachable, as in an outage: new connections are
// refused and open ones are cut.
func (f *fakeAPI) down() {
	f.ln.down()
	f.srv.CloseClientConnections()
}

// up ends the outage, on the same address.
func (f *fakeAPI) up() { f.ln.up(f.t) }

// switchListener is a listener that can stop listening (connections are
// then refused, as by a host that is down) and start again on its address.
type switchListener struct {
	addr net.Addr
	mu   sync.Mutex
	cur  net.Listener  // nil while down
	back chan struct{} // closed when listening again
	shut bool
}

func newSwitchListener(t testing.TB) *switchListener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &switchListener{addr: ln.Addr(), cur: ln, back: make(chan struct{})}
}

func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		cur, back, shut := l.cur, l.back, l.shut
		l.mu.Unlock()
		if shut {
			return nil, net.ErrClosed
		}
		if cur == nil {
			<-back
			continue
		}
		c, err := cur.Accept()
		if err == nil {
			return c, nil
		}
		l.mu.Lock()
		replaced := l.cur != cur && !l.shut
		l.mu.Unlock()
		if !replaced {
			return nil, err
		}
	}
}

func (l *switchListener) down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil {
		l.cur.Close()
		l.cur = nil
	}
}

func (l *switchListener) up(t testing.TB) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil || l.shut {
		return
	}
	ln, err := net.Listen("tcp", l.addr.String())
	if err != nil {
		t.Errorf("listen again on %s: %v", l.addr, err)
		return
	}
	l.cur = ln
	close(l.back)
	l.back = make(chan struct{})
}

func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shut {
		return nil
	}
	l.shut = true
	close(l.back)
	if l.cur != nil {
		return l.cur.Close()
	}
	return nil
}

func (l *switchListener) Addr() net.Addr { return l.addr }

func (f *fakeAPI) URL() string { return f.srv.URL }

// wake tells waiters that something changed; call with f.mu held.
func (f *fakeAPI) wake() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// poke wakes waiters: something outside the fake changed.
func (f *fakeAPI) poke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wake()
}

// fail scripts the next call of method (matching match, if given) to fail.
func (f *fakeAPI) fail(method string, s scripted) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[method] = append(f.script[method], s)
}

// push queues an update; its update_id is set when it has none.
func (f *fakeAPI) push(u map[string]any) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.queue(u)
	f.wake()
	return id
}

// pushAll queues updates at once, so that one getUpdates hands them all
// over (a redelivery within one batch).
func (f *fakeAPI) pushAll(us ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range us {
		f.queue(u)
	}
	f.wake()
}

// queue adds one update, numbering it when it has no update_id; f.mu is held.
func (f *fakeAPI) queue(u map[string]any) int64 {
	id, ok := u["update_id"].(int64)
	if !ok {
		f.nextID++
		id = f.nextID
		u["update_id"] = id
	}
	f.maxID = max(f.maxID, id)
	f.note(u)
	raw, err := json.Marshal(u)
	if err != nil {
		f.t.Fatalf("marshal update: %v", err)
	}
	f.updates = append(f.updates, fakeUpdate{id: id, raw: raw})
	return id
}

// note remembers chat types and callback ids an update introduces.
func (f *fakeAPI) note(u map[string]any) {
	for _, k := range []string{"message", "edited_message", "my_chat_member"} {
		if m, ok := u[k].(map[string]any); ok {
			chat := m["chat"].(map[string]any)
			f.chatTypes[chat["id"].(int64)] = chat["type"].(string)
		}
	}
	if q, ok := u["callback_query"].(map[string]any); ok {
		f.callbacks[q["id"].(string)] += 0
	}
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !ok || !strings.HasPrefix(r.URL.Path, "/bot") {
		writeErr(w, 404, "Not Found", 0)
		return
	}
	if token != f.token {
		writeErr(w, 401, "Unauthorized", 0)
		return
	}
	fields, err := parseForm(r)
	if err != nil {
		writeErr(w, 400, "Bad Request: "+err.Error(), 0)
		return
	}
	call := apiCall{Method: method, Fields: fields, At: time.Now()}
	if rm := fields["reply_markup"]; rm != "" {
		call.Markup = &keyboard{}
		if err := json.Unmarshal([]byte(rm), call.Markup); err != nil {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: can't parse reply keyboard markup JSON object", 0)
			return
		}
	}
	if s, ok := f.scripted(method, fields); ok {
		if s.status == stallAnswer {
			f.handle(httptest.NewRecorder(), r, method, call)
			<-r.Context().Done()
			return
		}
		if s.status == lostAnswer {
			f.handle(httptest.NewRecorder(), r, method, call)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		f.record(call, s.status)
		if s.status == hangUp {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if s.body != "" {
			w.WriteHeader(s.status)
			io.WriteString(w, s.body)
			return
		}
		writeErr(w, s.status, map[int]string{403: "Forbidden: bot was blocked by the user", 429: "Too Many Requests: retry after 1",
			500: "Internal Server Error", 502: "Bad Gateway", 400: "Bad Request: chat not found"}[s.status], 1)
		return
	}
	f.handle(w, r, method, call)
}

// handle carries out a Bot API call.
func (f *fakeAPI) handle(w http.ResponseWriter, r *http.Request, method string, call apiCall) {
	fields := call.Fields
	switch method {
	case "getUpdates":
		f.getUpdates(w, r, call)
	case "getMe":
		f.record(call, 200)
		writeOK(w, map[string]any{"id": 123456789, "is_bot": true, "first_name": "Beian", "username": "BeianBot"})
	case "sendMessage":
		f.sendMessage(w, call)
	case "answerCallbackQuery":
		f.mu.Lock()
		n, known := f.callbacks[fields["callback_query_id"]]
		if known {
			f.callbacks[fields["callback_query_id"]] = n + 1
		}
		f.mu.Unlock()
		if !known || n > 0 {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: query is too old and response timeout expired or query ID is invalid", 0)
			return
		}
		if utf16Len(fields["text"]) > 200 {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: MESSAGE_TOO_LONG", 0)
			return
		}
		f.record(call, 200)
		writeOK(w, true)
	case "editMessageReplyMarkup":
		if msg := checkMarkup(call.Markup); msg != "" {
			f.record(call, 400)
			writeErr(w, 400, msg, 0)
			return
		}
		key := fields["chat_id"] + "/" + fields["message_id"]
		f.mu.Lock()
		msg, ok := f.sentMsgs[key]
		if ok {
			edited := map[string]any{}
			for k, v := range msg {
				edited[k] = v
			}
			delete(edited, "reply_markup")
			if call.Markup != nil && len(call.Markup.InlineKeyboard) > 0 {
				edited["reply_markup"] = call.Markup
			}
			f.sentMsgs[key], msg = edited, edited
		}
		f.mu.Unlock()
		if !ok {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: message to edit not found", 0)
			return
		}
		call.Result = msg
		f.record(call, 200)
		writeOK(w, msg)
	case "editMessageText":
		f.editMessageText(w, call)
	case "sendChatAction":
		chat, err := strconv.ParseInt(fields["chat_id"], 10, 64)
		if err != nil || chat == 0 {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: chat not found", 0)
			return
		}
		if !chatActions[fields["action"]] {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: wrong parameter action in request", 0)
			return
		}
		f.record(call, 200)
		writeOK(w, true)
	case "setMyDescription", "setMyShortDescription":
		field, limit := "description", 512
		if method == "setMyShortDescription" {
			field, limit = "short_description", 120
		}
		if msg := checkLanguageCode(fields["language_code"]); msg != "" {
			f.record(call, 400)
			writeErr(w, 400, msg, 0)
			return
		}
		if utf16Len(fields[field]) > limit {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: description is too long", 0)
			return
		}
		f.record(call, 200)
		writeOK(w, true)
	case "setMyCommands":
		var cmds []struct{ Command, Description string }
		if err := json.Unmarshal([]byte(fields["commands"]), &cmds); err != nil || len(cmds) == 0 {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: can't parse commands", 0)
			return
		}
		if msg := checkLanguageCode(fields["language_code"]); msg != "" {
			f.record(call, 400)
			writeErr(w, 400, msg, 0)
			return
		}
		if sc := fields["scope"]; sc != "" {
			var scope struct{ Type string }
			if json.Unmarshal([]byte(sc), &scope) != nil || !commandScopes[scope.Type] {
				f.record(call, 400)
				writeErr(w, 400, "Bad Request: can't parse BotCommandScope", 0)
				return
			}
		}
		for _, c := range cmds {
			if !regexp.MustCompile(`^[a-z0-9_]{1,32}$`).MatchString(c.Command) || utf16Len(c.Description) < 1 || utf16Len(c.Description) > 256 {
				f.record(call, 400)
				writeErr(w, 400, "Bad Request: BOT_COMMAND_INVALID", 0)
				return
			}
		}
		f.record(call, 200)
		writeOK(w, true)
	case "deleteWebhook", "setWebhook":
		f.record(call, 200)
		writeOK(w, true)
	default:
		f.record(call, 404)
		writeErr(w, 404, "Not Found: method not found", 0)
	}
}

func (f *fakeAPI) scripted(method string, fields map[string]string) (scripted, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.script[method] {
		if s.match == nil || s.match(fields) {
			f.script[method] = append(f.script[method][:i:i], f.script[method][i+1:]...)
			return s, true
		}
	}
	return scripted{}, false
}

func (f *fakeAPI) record(c apiCall, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Status = status
	f.calls = append(f.calls, c)
	if c.Method == "sendMessage" && status == 200 {
		f.sentTo[c.Fields["chat_id"]] = append(f.sentTo[c.Fields["chat_id"]], c)
		f.nSent++
	}
	f.wake()
}

// getUpdates confirms updates below offset and returns the rest, holding
// the request up to timeout seconds while there are none.
func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, call apiCall) {
	offset, _ := strconv.ParseInt(call.Fields["offset"], 10, 64)
	timeout, _ := strconv.Atoi(call.Fields["timeout"])
	limit, _ := strconv.Atoi(call.Fields["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	f.mu.Lock()
	f.nPolls++
	f.mu.Unlock()
	f.record(call, 200) // on arrival: tests wait for polls to begin
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		kept := f.updates[:0]
		for _, u := range f.updates {
			if u.id >= offset {
				kept = append(kept, u)
			}
		}
		f.updates = kept
		var out []json.RawMessage
		for _, u := range f.updates {
			if len(out) == limit {
				break
			}
			out = append(out, u.raw)
			if _, ok := f.delivered[u.id]; !ok {
				f.delivered[u.id] = time.Now()
			}
		}
		changed := f.changed
		f.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			if out == nil {
				out = []json.RawMessage{}
			}
			writeOK(w, out)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			timeout = 0
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fakeAPI) sendMessage(w http.ResponseWriter, call apiCall) {
	fields := call.Fields
	chat, err := strconv.ParseInt(fields["chat_id"], 10, 64)
	if err != nil {
		f.record(call, 400)
		writeErr(w, 400, "Bad Request: chat not found", 0)
		return
	}
	text := fields["text"]
	if fields["parse_mode"] == "HTML" {
		plain, err := parseTelegramHTML(text)
		if err != nil {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: can't parse entities: "+err.Error(), 0)
			return
		}
		text = plain
	} else if fields["parse_mode"] != "" {
		f.record(call, 400)
		writeErr(w, 400, "Bad Request: unsupported parse_mode", 0)
		return
	}
	switch n := utf16Len(text); {
	case strings.TrimSpace(text) == "":
		f.record(call, 400)
		writeErr(w, 400, "Bad Request: message text is empty", 0)
		return
	case n > 4096:
		f.record(call, 400)
		writeErr(w, 400, "Bad Request: message is too long", 0)
		return
	}
	if msg := checkMarkup(call.Markup); msg != "" {
		f.record(call, 400)
		writeErr(w, 400, msg, 0)
		return
	}
	if rp := fields["reply_parameters"]; rp != "" {
		var p struct {
			MessageID int `json:"message_id"`
		}
		if json.Unmarshal([]byte(rp), &p) != nil || p.MessageID <= 0 {
			f.record(call, 400)
			writeErr(w, 400, "Bad Request: invalid reply parameters", 0)
			return
		}
	}
	f.mu.Lock()
	f.msgIDs[chat]++
	id := f.msgIDs[chat]
	ctype := f.chatTypes[chat]
	if ctype == "" {
		ctype = "private"
	}
	msg := map[string]any{
		"message_id": id, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": chat, "type": ctype},
		"from": map[string]any{"id": 123456789, "is_bot": true, "first_name": "Beian", "username": "BeianBot"},
	}
	if call.Markup != nil {
		msg["reply_markup"] = call.Markup
	}
	f.sentMsgs[fmt.Sprintf("%d/%d", chat, id)] = msg
	f.msgHTML[fmt.Sprintf("%d/%d", chat, id)] = sentHash(fields)
	f.mu.Unlock()
	call.Result = msg
	f.record(call, 200)
	writeOK(w, msg)
}

// editMessageText replaces a sent message's text and buttons (a message
// edited without reply_markup loses its buttons), refusing what Telegram
// refuses: an unknown message, one too old to edit, an edit that changes
// nothing.
func (f *fakeAPI) editMessageText(w http.ResponseWriter, call apiCall) {
	fields := call.Fields
	fail := func(desc string) {
		f.record(call, 400)
		writeErr(w, 400, "Bad Request: "+desc, 0)
	}
	key := fields["chat_id"] + "/" + fields["message_id"]
	text := fields["text"]
	if fields["parse_mode"] == "HTML" {
		plain, err := parseTelegramHTML(text)
		if err != nil {
			fail("can't parse entities: " + err.Error())
			return
		}
		text = plain
	}
	switch n := utf16Len(text); {
	case strings.TrimSpace(text) == "":
		fail("message text is empty")
		return
	case n > 4096:
		fail("MESSAGE_TOO_LONG")
		return
	}
	if msg := checkMarkup(call.Markup); msg != "" {
		fail(strings.TrimPrefix(msg, "Bad Request: "))
		return
	}
	f.mu.Lock()
	old, ok := f.sentMsgs[key]
	frozen := f.frozen[key]
	var oldMarkup, newMarkup []byte
	if ok {
		oldMarkup, _ = json.Marshal(old["reply_markup"])
	}
	if call.Markup != nil {
		newMarkup, _ = json.Marshal(call.Markup)
	} else {
		newMarkup, _ = json.Marshal(nil)
	}
	html := sentHash(fields)
	same := ok && f.msgHTML[key] == html && string(oldMarkup) == string(newMarkup)
	f.mu.Unlock()
	switch {
	case !ok:
		fail("message to edit not found")
		return
	case frozen:
		fail("message can't be edited")
		return
	case same:
		fail("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		return
	}
	msg := map[string]any{}
	for k, v := range old {
		msg[k] = v
	}
	msg["text"], msg["edit_date"] = text, time.Now().Unix()
	delete(msg, "reply_markup")
	if call.Markup != nil {
		msg["reply_markup"] = call.Markup
	}
	f.mu.Lock()
	f.sentMsgs[key] = msg
	f.msgHTML[key] = html
	f.mu.Unlock()
	call.Result = msg
	f.record(call, 200)
	writeOK(w, msg)
}

// sentHash stands for a message's text and parse mode as sent (a hash:
// the load benchmarks send thousands, and measure the heap).
func sentHash(fields map[string]string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(fields["parse_mode"] + ":" + fields["text"]))
	return h.Sum64()
}

// freeze makes a sent message too old to edit, as after 48 hours.
func (f *fakeAPI) freeze(msg apiCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen[fmt.Sprintf("%v/%v", msg.Result["chat"].(map[string]any)["id"], msg.Result["message_id"])] = true
}

// The chat actions and command scopes the Bot API knows.
var (
	chatActions = map[string]bool{"typing": true, "upload_photo": true, "record_video": true, "upload_video": true, "record_voice": true,
		"upload_voice": true, "upload_document": true, "choose_sticker": true, "find_location": true, "record_video_note": true, "upload_video_note": true}
	commandScopes = map[string]bool{"default": true, "all_private_chats": true, "all_group_chats": true, "all_chat_administrators": true,
		"chat": true, "chat_administrators": true, "chat_member": true}
)

// checkLanguageCode applies the Bot API's rule for language_code: empty,
// or a two-letter ISO 639-1 code.
func checkLanguageCode(code string) string {
	if code != "" && !regexp.MustCompile(`^[a-z]{2}$`).MatchString(code) {
		return "Bad Request: LANGUAGE_CODE_INVALID"
	}
	return ""
}

// checkMarkup applies Telegram's rules to an inline keyboard: each button
// has a text and exactly one action; callback_data is 1 to 64 bytes; a
// copy_text needs a text.
func checkMarkup(k *keyboard) string {
	if k == nil {
		return ""
	}
	for _, row := range k.InlineKeyboard {
		for _, b := range row {
			if t, _ := b["text"].(string); t == "" {
				return "Bad Request: text buttons are unallowed in the inline keyboard"
			}
			if ct, ok := b["copy_text"].(map[string]any); ok {
				if t, _ := ct["text"].(string); t == "" {
					return "Bad Request: BUTTON_COPY_TEXT_INVALID"
				}
			}
			actions := 0
			for k := range b {
				if k != "text" {
					actions++
				}
			}
			data, isData := b["callback_data"].(string)
			switch {
			case actions != 1:
				return "Bad Request: can't parse inline keyboard button: exactly one action expected"
			case isData && (len(data) == 0 || len(data) > 64):
				return "Bad Request: BUTTON_DATA_INVALID"
			}
		}
	}
	return ""
}

// parseTelegramHTML checks text the way Telegram's HTML parse mode does and
// returns it as the user sees it: only a few tags, only four named entities.
func parseTelegramHTML(s string) (string, error) {
	allowed := map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
		"strike": true, "del": true, "a": true, "code": true, "pre": true, "tg-spoiler": true, "span": true, "blockquote": true}
	var out strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			closing := strings.HasPrefix(tag, "/")
			name := strings.ToLower(strings.Fields(strings.TrimPrefix(tag, "/") + " ")[0])
			if !allowed[name] {
				return "", fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
			}
			if closing {
				if len(open) == 0 || open[len(open)-1] != name {
					return "", fmt.Errorf("unmatched end tag at byte offset %d", i)
				}
				open = open[:len(open)-1]
			} else {
				open = append(open, name)
			}
			i += end + 1
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 {
				return "", fmt.Errorf("unclosed entity at byte offset %d", i)
			}
			ent := s[i : i+end+1]
			if !regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);$`).MatchString(ent) {
				return "", fmt.Errorf("unsupported entity %q at byte offset %d", ent, i)
			}
			out.WriteString(html.UnescapeString(ent))
			i += end + 1
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("unclosed tag %q", open[len(open)-1])
	}
	return out.String(), nil
}

// parseForm reads the library's multipart body (or a urlencoded one).
func parseForm(r *http.Request) (map[string]string, error) {
	fields := map[string]string{}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return fields, nil
			}
			if err != nil {
				// A call without parameters sends an empty body.
				if len(fields) == 0 && strings.Contains(err.Error(), "EOF") {
					return fields, nil
				}
				return nil, err
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, err
			}
			fields[p.FormName()] = string(b)
		}
	case "application/x-www-form-urlencoded":
		b, _ := io.ReadAll(r.Body)
		v, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, err
		}
		for k := range v {
			fields[k] = v.Get(k)
		}
	}
	return fields, nil
}

func writeOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func writeErr(w http.ResponseWriter, code int, desc string, retryAfter int) {
	body := map[string]any{"ok": false, "error_code": code, "description": desc}
	if code == 429 {
		body["parameters"] = map[string]any{"retry_after": retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}

// --- what tests ask of the fake ---

// waitFor blocks until cond holds (checked on every change), failing the
// test after a generous deadline rather than hanging.
func (f *fakeAPI) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(f.patience)
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; calls:\n%s", what, f.dump())
		}
	}
}

// callsOf returns the recorded calls of a method (all chats when chat is 0).
func (f *fakeAPI) callsOf(method string, chat int64) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method && (chat == 0 || c.Fields["chat_id"] == fmt.Sprint(chat)) {
			out = append(out, c)
		}
	}
	return out
}

// sent returns the messages delivered to chat, in order (all chats when chat is 0).
func (f *fakeAPI) sent(chat int64) []apiCall {
	if chat == 0 {
		var out []apiCall
		for _, c := range f.callsOf("sendMessage", 0) {
			if c.Status == 200 {
				out = append(out, c)
			}
		}
		return out
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.sentTo[fmt.Sprint(chat)]...)
}

// edits returns the successful edits of chat's messages, in order.
func (f *fakeAPI) edits(chat int64) []apiCall {
	var out []apiCall
	for _, c := range f.callsOf("editMessageText", chat) {
		if c.Status == 200 {
			out = append(out, c)
		}
	}
	return out
}

// sentCount is how many messages were delivered, to all chats.
func (f *fakeAPI) sentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nSent
}

// pollCount is how many getUpdates calls arrived.
func (f *fakeAPI) pollCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nPolls
}

// waitSent waits until chat has received n messages and returns them.
func (f *fakeAPI) waitSent(t testing.TB, chat int64, n int) []apiCall {
	t.Helper()
	f.waitFor(t, fmt.Sprintf("%d messages to chat %d", n, chat), func() bool { return len(f.sent(chat)) >= n })
	return f.sent(chat)
}

func (f *fakeAPI) dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, c := range f.calls {
		if c.Method == "getUpdates" {
			continue
		}
		fmt.Fprintf(&b, "  %s %d chat=%s text=%.80q data=%v\n", c.Method, c.Status, c.Fields["chat_id"], c.Fields["text"], buttonData(c))
	}
	return b.String()
}

// text is what the user sees of a sent message.
func (c apiCall) text() string {
	if c.Result != nil {
		return c.Result["text"].(string)
	}
	return c.Fields["text"]
}

// buttons lists a message's button labels, row by row flattened.
func (c apiCall) buttons() []string {
	var out []string
	if c.Markup != nil {
		for _, row := range c.Markup.InlineKeyboard {
			for _, b := range row {
				out = append(out, b["text"].(string))
			}
		}
	}
	return out
}

func buttonData(c apiCall) []string {
	var out []string
	if c.Markup != nil {
		for _, row := range c.Markup.InlineKeyboard {
			for _, b := range row {
				d, _ := b["callback_data"].(string)
				out = append(out, d)
			}
		}
	}
	return out
}

// --- building updates as Telegram sends them ---

type tUser struct {
	id   int64
	lang string
	name string
}

type tChat struct {
	id    int64
	ctype string
	title string
}

func privateChat(u tUser) tChat { return tChat{id: u.id, ctype: "private"} }

var msgSeq struct {
	sync.Mutex
	n int
}

func nextMsgID() int {
	msgSeq.Lock()
	defer msgSeq.Unlock()
	msgSeq.n++
	return msgSeq.n
}

func userJSON(u tUser) map[string]any {
	m := map[string]any{"id": u.id, "is_bot": false, "first_name": u.name}
	if u.lang != "" {
		m["language_code"] = u.lang
	}
	return m
}

func chatJSON(c tChat) map[string]any {
	m := map[string]any{"id": c.id, "type": c.ctype}
	if c.title != "" {
		m["title"] = c.title
	}
	return m
}

// message builds a message; commands and @mentions get their entities, with
// offsets in UTF-16 units as Telegram counts.
func message(c tChat, u tUser, text string) map[string]any {
	m := map[string]any{"message_id": nextMsgID(), "date": time.Now().Unix(), "chat": chatJSON(c), "from": userJSON(u), "text": text}
	var entities []map[string]any
	units := func(s string) int { return len(utf16.Encode([]rune(s))) }
	if cmd := regexp.MustCompile(`^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?`).FindString(text); cmd != "" {
		entities = append(entities, map[string]any{"type": "bot_command", "offset": 0, "length": units(cmd)})
	}
	for _, loc := range regexp.MustCompile(`@[A-Za-z0-9_]{5,}`).FindAllStringIndex(text, -1) {
		if loc[0] > 0 && text[loc[0]-1] != ' ' && !strings.HasSuffix(text[:loc[0]], "\n") {
			continue // part of a /command@bot
		}
		entities = append(entities, map[string]any{"type": "mention", "offset": units(text[:loc[0]]), "length": units(text[loc[0]:loc[1]])})
	}
	if entities != nil {
		m["entities"] = entities
	}
	return m
}

func textUpdate(c tChat, u tUser, text string) map[string]any {
	return map[string]any{"message": message(c, u, text)}
}

// tap builds the callback query for pressing the button labelled label
// under a message the bot sent.
func (f *fakeAPI) tap(t testing.TB, u tUser, sent apiCall, label string) map[string]any {
	t.Helper()
	data := ""
	if sent.Markup != nil {
		for _, row := range sent.Markup.InlineKeyboard {
			for _, b := range row {
				if b["text"] == label {
					data = b["callback_data"].(string)
				}
			}
		}
	}
	if data == "" {
		t.Fatalf("no button %q under %q (buttons %v)", label, sent.text(), sent.buttons())
	}
	return callbackUpdate(u, sent.Result, data)
}

var callbackSeq struct {
	sync.Mutex
	n int
}

func callbackUpdate(u tUser, msg map[string]any, data string) map[string]any {
	callbackSeq.Lock()
	callbackSeq.n++
	id := fmt.Sprintf("cbq-%d", callbackSeq.n)
	callbackSeq.Unlock()
	q := map[string]any{"id": id, "from": userJSON(u), "chat_instance": "42", "data": data}
	if msg != nil {
		q["message"] = msg
	}
	return map[string]any{"callback_query": q}
}

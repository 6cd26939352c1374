package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBotAPI is a Bot API server on 127.0.0.1 with just enough of the real
// protocol for `beianbot serve` to start, take one message by long polling,
// answer it and stop: the library's multipart requests, getUpdates'
// urlencoded ones, Telegram's answers and its 401 for a wrong token.
// (package telegram's tests have the thorough fake.)
type fakeBotAPI struct {
	srv     *httptest.Server
	token   string
	updates []map[string]any // handed out by the first getUpdates
	sent    chan string      // the text of each sendMessage

	mu      sync.Mutex
	methods []string // every call, in order
	polled  bool
}

func newFakeBotAPI(t *testing.T, token string, updates ...map[string]any) *fakeBotAPI {
	f := &fakeBotAPI{token: token, updates: updates, sent: make(chan string, 16)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBotAPI) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.methods...)
}

func (f *fakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	token, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !ok || token != f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	fields := formFields(r)
	f.mu.Lock()
	f.methods = append(f.methods, method)
	first := method == "getUpdates" && !f.polled
	if method == "getUpdates" {
		f.polled = true
	}
	f.mu.Unlock()
	var result any = true
	switch method {
	case "getMe":
		result = map[string]any{"id": 4242, "is_bot": true, "first_name": "Beian", "username": "beian_test_bot"}
	case "getUpdates":
		if !first {
			<-r.Context().Done() // a long poll that ends when the bot stops
			return
		}
		result = f.updates
	case "sendMessage":
		chat, _ := json.Number(fields["chat_id"]).Int64()
		result = map[string]any{"message_id": 100 + len(f.sent), "date": time.Now().Unix(),
			"chat": map[string]any{"id": chat, "type": "private"}, "text": fields["text"]}
		f.sent <- fields["text"]
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// formFields reads a multipart or urlencoded request body.
func formFields(r *http.Request) map[string]string {
	out := map[string]string{}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, _ := io.ReadAll(r.Body)
	switch mt {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			v, _ := io.ReadAll(p)
			out[p.FormName()] = string(v)
		}
	case "application/x-www-form-urlencoded":
		q, _ := url.ParseQuery(string(body))
		for k := range q {
			out[k] = q.Get(k)
		}
	}
	return out
}

// privateMessage is an update with a customer's message in a private chat.
func privateMessage(id int64, text string) map[string]any {
	user := map[string]any{"id": 777, "is_bot": false, "first_name": "Li", "language_code": "zh-hans"}
	return map[string]any{"update_id": id, "message": map[string]any{
		"message_id": id, "date": time.Now().Unix(), "text": text, "from": user,
		"chat": map[string]any{"id": 777, "type": "private", "first_name": "Li"},
	}}
}

// syncBuffer is a bytes.Buffer for a command's standard error, written by
// several goroutines; waitFor waits for a text to be written.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced at each write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor returns once text has been written, or fails the test after a while.
func (s *syncBuffer) waitFor(t *testing.T, text string) {
	t.Helper()
	limit := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), text) {
			s.mu.Unlock()
			return
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		select {
		case <-written:
		case <-limit:
			t.Fatalf("%q not written after 30 s:\n%s", text, s.String())
		}
	}
}

package telegram

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
)

// BenchmarkLoad is the load benchmark of the README: 10,000 updates from
// 1,000 chats, all queued at the fake Bot API, carried by the real library
// and answered by the real engine. Telegram's outgoing limits and flood
// control are off (they would make it a test of the limits: 30 messages a
// second). It checks that every message is answered exactly once and in
// order per chat, and reports throughput, latency and memory.
//
//	go test -run '^$' -bench Load -benchtime 1x ./telegram
func BenchmarkLoad(b *testing.B) {
	questions := loadQuestions(b)
	for range b.N {
		runLoad(b, 1000, 10, 0, questions).report(b)
	}
}

// BenchmarkLoadPaced sends the same 10,000 updates at a steady 500 a second
// (about half the capacity measured by BenchmarkLoad on 2 cores), for the
// latency a customer sees when the bot is busy but not overloaded.
func BenchmarkLoadPaced(b *testing.B) {
	questions := loadQuestions(b)
	for range b.N {
		runLoad(b, 1000, 10, 500, questions).report(b)
	}
}

// marked tags each question with its number in the chat, and the answer
// with the same number, so order can be checked from what the chat received.
var marked = regexp.MustCompile(` #(\d+)$`)

// runLoad pushes perChat messages in each of chats chats, all at once when
// rate is 0, else rate a second.
func runLoad(b testing.TB, chats, perChat, rate int, questions []string) loadResult {
	real := engineForTest(b)
	eng := funcEngine{Engine: real, reply: func(ctx context.Context, c *bot.Conversation, text string) bot.Reply {
		m := marked.FindStringSubmatch(text)
		r := real.Reply(ctx, c, strings.TrimSuffix(text, m[0]))
		r.Text += "\n#" + m[1]
		if r.Clarify != nil { // shown instead of Text
			r.Clarify.Question += "\n#" + m[1]
		}
		return r
	}}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	h := start(b, setup{engine: eng, cfg: func(c *config.Telegram) {
		c.UserRate = 0 // no flood control
		c.MaxChats = 10000
		c.PollTimeout = 2 * time.Second
		c.Workers = config.Default().Telegram.Workers
	}})

	h.api.patience = 5 * time.Minute
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	go func() {
		var m runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base) // engine and server built, nothing queued

	if bb, ok := b.(*testing.B); ok {
		bb.ResetTimer()
	}
	began := time.Now()
	ids := make(map[int64][2]int, chats*perChat) // update → chat index, number
	pushed := map[int64]time.Time{}
	i := 0
	for n := range perChat {
		for c := range chats {
			if rate > 0 { // pacing the load generator (not synchronisation); behind schedule, it catches up
				if d := time.Until(began.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
					time.Sleep(d)
				}
				i++
			}
			u := tUser{id: int64(100000 + c), lang: "zh-hans", name: "load"}
			q := questions[(c+n)%len(questions)]
			id := h.api.push(textUpdate(privateChat(u), u, fmt.Sprintf("%s #%d", q, n)))
			ids[id] = [2]int{c, n}
			pushed[id] = time.Now()
		}
	}
	var maxID int64
	for id := range ids {
		maxID = max(maxID, id)
	}
	h.api.waitFor(b, "every update answered", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.handled) >= len(ids)
	})
	elapsed := time.Since(began)
	if bb, ok := b.(*testing.B); ok {
		bb.StopTimer()
	}
	close(stopSampling)

	// Exactly once, in order, none lost.
	sentAt := map[string]time.Time{}
	for c := range chats {
		chat := int64(100000 + c)
		sent := h.api.sent(chat)
		var got []int
		for _, s := range sent {
			text := s.text()
			n, err := strconv.Atoi(text[strings.LastIndex(text, "#")+1:])
			if err != nil {
				b.Fatalf("chat %d received an unmarked message %q", chat, text)
			}
			got = append(got, n)
			sentAt[fmt.Sprint(chat, "/", n)] = s.At
		}
		if len(got) != perChat {
			b.Fatalf("chat %d received %d answers, want %d: %v", chat, len(got), perChat, got)
		}
		for i, n := range got {
			if n != i {
				b.Fatalf("chat %d received answers in the order %v", chat, got)
			}
		}
	}

	// Latency: from the update reaching the Bot API (paced), or from the
	// poll that handed it over (all at once: else it is only the backlog's
	// length), to its answer reaching the API.
	h.api.mu.Lock()
	var lat []time.Duration
	for id, cn := range ids {
		at, ok := sentAt[fmt.Sprint(100000+cn[0], "/", cn[1])]
		if !ok {
			continue
		}
		from := h.api.delivered[id]
		if rate > 0 {
			from = pushed[id]
		}
		lat = append(lat, at.Sub(from))
	}
	h.api.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }

	p50, p99, worst := pct(0.50), pct(0.99), lat[len(lat)-1]
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// What the bot keeps once the load is over (1,000 chats' state, the
	// per-user and per-chat tables): the fake's records dropped first.
	h.api.mu.Lock()
	h.api.calls, h.api.sentTo, h.api.sentMsgs, h.api.delivered = nil, nil, nil, nil
	h.api.mu.Unlock()
	total := len(ids)
	ids, pushed, sentAt, lat = nil, nil, nil, nil
	runtime.GC()
	var kept runtime.MemStats
	runtime.ReadMemStats(&kept)
	r := loadResult{
		updates: total, chats: chats, rate: rate, elapsed: elapsed, workers: h.srv.cfg.Workers,
		p50: p50, p99: p99, max: worst,
		idleHeap: base.HeapInuse, peakHeap: peak.Load(), keptHeap: kept.HeapInuse, alloc: after.TotalAlloc - before.TotalAlloc,
		chatsHeld: h.srv.convs.(*MemoryConversations).Len(),
	}
	b.Log(r)
	return r
}

type loadResult struct {
	updates, chats, rate, workers, chatsHeld int
	elapsed, p50, p99, max                   time.Duration
	idleHeap, peakHeap, keptHeap, alloc      uint64
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d updates from %d chats (rate %d/s, 0 = all at once) in %v (%d workers, GOMAXPROCS %d): %.0f updates/s; latency p50 %v, p99 %v, max %v; heap idle %.1f MB, peak %.1f MB (with the fake's records), after %.1f MB; %.0f KB allocated per update; chats held %d",
		r.updates, r.chats, r.rate, r.elapsed.Round(time.Millisecond), r.workers, runtime.GOMAXPROCS(0), float64(r.updates)/r.elapsed.Seconds(),
		r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond),
		float64(r.idleHeap)/(1<<20), float64(r.peakHeap)/(1<<20), float64(r.keptHeap)/(1<<20), float64(r.alloc)/float64(r.updates)/1024, r.chatsHeld)
}

func (r loadResult) report(b *testing.B) {
	b.ReportMetric(float64(r.updates)/r.elapsed.Seconds(), "updates/s")
	b.ReportMetric(float64(r.p50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(r.p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(r.peakHeap)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(r.idleHeap)/(1<<20), "idle_heap_MB")
	b.ReportMetric(float64(r.keptHeap)/(1<<20), "after_heap_MB")
	b.ReportMetric(float64(r.alloc)/float64(r.updates)/1024, "KB_alloc/update")
}

func loadQuestions(t testing.TB) []string {
	f, err := os.Open("testdata/load_questions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			qs = append(qs, line)
		}
	}
	return qs
}

// TestLoadSmall runs the benchmark's checks on a small load in the normal suite.
func TestLoadSmall(t *testing.T) {
	questions := loadQuestions(t)
	if len(questions) < 20 {
		t.Fatalf("only %d load questions", len(questions))
	}
	if r := runLoad(t, 30, 5, 0, questions); r.updates != 150 {
		t.Errorf("ran %d updates", r.updates)
	}
}

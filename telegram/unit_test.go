package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/config"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
	"github.com/go-telegram/bot/models"
)

func TestEscapeHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a < b > c & d", "a &lt; b &gt; c &amp; d"},
		{`say "hi"`, "say &quot;hi&quot;"},
		{`back\slash \n`, `back\slash \n`}, // the library's EscapeMarkdown misses \ ; HTML has nothing to escape there
		{"<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tt := range tests {
		got := escapeHTML(tt.in)
		if got != tt.want {
			t.Errorf("escapeHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if plain, err := parseTelegramHTML(got); err != nil || plain != strings.ToValidUTF8(tt.in, "\uFFFD") {
			t.Errorf("Telegram would read %q as %q (%v)", got, plain, err)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "中文": 2, "😀": 2, "a😀中": 4} {
		if got := utf16Len(s); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"fits", "short", 10, []string{"short"}},
		{"paragraphs", "aaaa\n\nbbbb\n\ncccc", 10, []string{"aaaa\n\nbbbb", "cccc"}},
		{"lines when a paragraph is too long", "aaaa\nbbbb\ncccc", 9, []string{"aaaa\nbbbb", "cccc"}},
		{"sentences", "第一句。第二句。第三句。", 8, []string{"第一句。第二句。", "第三句。"}},
		{"words", "one two three four", 9, []string{"one two", "three", "four"}},
		{"inside a word", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"surrogate pairs stay whole", "😀😀😀", 3, []string{"😀", "😀", "😀"}},
		{"escaping counts", "<<<<", 8, []string{"<<", "<<"}},
		{"blank parts dropped", "\n\na\n\n\n\n", 10, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.text, tt.limit)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitText(%q, %d) = %q, want %q", tt.text, tt.limit, got, tt.want)
			}
			for _, p := range got {
				if n := utf16Len(escapeHTML(p)); n > tt.limit {
					t.Errorf("part %q is %d units escaped, limit %d", p, n, tt.limit)
				}
			}
		})
	}
}

func TestMemoryConversations(t *testing.T) {
	m := NewMemoryConversations(2, time.Hour)
	ctx := context.Background()
	m.Save(ctx, 1, bot.Conversation{Lang: lang.EN})
	m.Save(ctx, 2, bot.Conversation{}) // nothing to keep: takes no slot
	m.Save(ctx, 3, bot.Conversation{LastTopic: "x"})
	if m.Len() != 2 {
		t.Errorf("len %d, want 2", m.Len())
	}
	if c, _ := m.Load(ctx, 1); c.Lang != lang.EN {
		t.Errorf("Load(1) = %+v", c)
	}
	if c, _ := m.Load(ctx, 99); !reflect.ValueOf(c).IsZero() {
		t.Errorf("Load of an unknown chat = %+v", c)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct{ text, name, target, args string }{
		{"/start", "start", "", ""},
		{"/start how-to-verify", "start", "", "how-to-verify"},
		{"/help@BeianBot", "help", "BeianBot", ""},
		{"/HELP@beianbot  extra words ", "help", "beianbot", "extra words"},
		{"/lang\nzh", "lang", "", "zh"},
	}
	for _, tt := range tests {
		name, target, args, ok := parseCommand(tt.text)
		if !ok || name != tt.name || target != tt.target || args != tt.args {
			t.Errorf("parseCommand(%q) = %q %q %q %v", tt.text, name, target, args, ok)
		}
	}
	for _, text := range []string{"", "hello /start", "/", "/start@", "/ start", "//start", "/start-now"} {
		if name, _, _, ok := parseCommand(text); ok {
			t.Errorf("parseCommand(%q) = %q, want no command", text, name)
		}
	}
}

func TestStripMention(t *testing.T) {
	s := &Server{me: models.User{ID: 42, Username: "BeianBot"}}
	tests := []struct {
		text     string
		entities []models.MessageEntity
		want     string
		found    bool
	}{
		{"@BeianBot 谁要核验", []models.MessageEntity{{Type: "mention", Offset: 0, Length: 9}}, "谁要核验", true},
		// Offsets count UTF-16 units: the emoji is two.
		{"😀 @beianbot hi", []models.MessageEntity{{Type: "mention", Offset: 3, Length: 9}}, "😀  hi", true},
		{"@OtherBot hi", []models.MessageEntity{{Type: "mention", Offset: 0, Length: 9}}, "@OtherBot hi", false},
		{"Beian help", []models.MessageEntity{{Type: "text_mention", Offset: 0, Length: 5, User: &models.User{ID: 42}}}, "help", true},
		{"broken", []models.MessageEntity{{Type: "mention", Offset: 3, Length: 90}}, "broken", false},
	}
	for _, tt := range tests {
		got, found := s.stripMention(tt.text, tt.entities)
		if got != tt.want || found != tt.found {
			t.Errorf("stripMention(%q) = %q %v, want %q %v", tt.text, got, found, tt.want, tt.found)
		}
	}
}

func TestCommandLang(t *testing.T) {
	s := &Server{}
	tests := []struct {
		conv bot.Conversation
		code string
		l    lang.Lang
		trad bool
	}{
		{bot.Conversation{}, "zh-hans", lang.ZH, false},
		{bot.Conversation{}, "zh-hant", lang.ZH, true},
		{bot.Conversation{}, "zh-HK", lang.ZH, true},
		{bot.Conversation{}, "en", lang.EN, false},
		{bot.Conversation{}, "ru", lang.EN, false},
		{bot.Conversation{}, "", lang.ZH, false},
		{bot.Conversation{LastLang: lang.EN}, "", lang.EN, false},
		{bot.Conversation{LastLang: lang.EN}, "ru", lang.EN, false},
		{bot.Conversation{Lang: lang.EN}, "zh-hans", lang.EN, false},
		{bot.Conversation{Lang: lang.ZH, Traditional: true}, "en", lang.ZH, true},
	}
	for _, tt := range tests {
		l, trad := s.commandLang(tt.conv, &models.User{LanguageCode: tt.code})
		if l != tt.l || trad != tt.trad {
			t.Errorf("commandLang(%+v, %q) = %s %v, want %s %v", tt.conv, tt.code, l, trad, tt.l, tt.trad)
		}
	}
}

func TestCallbackDataFits(t *testing.T) {
	if _, ok := callbackData(cbTopic, "zht", strings.Repeat("x", 60)); ok {
		t.Error("over-long data accepted")
	}
	if _, ok := callbackData(cbTopic, "a:b"); ok {
		t.Error("a field with the separator accepted")
	}
	// Every ask-back button the table can produce fits, in every language.
	h := &Server{engine: engineForTest(t)}
	table := h.engine.Matrix()
	var clarifies []*bot.Clarify
	all := &bot.Clarify{Question: "?"}
	for _, b := range table.Businesses() {
		all.Options = append(all.Options, bot.Option{Business: b, Label: b})
		c := &bot.Clarify{Question: b}
		for _, r := range table.RowsOf(b) {
			c.Options = append(c.Options, bot.Option{Business: b, Subcase: r.Subcase, Label: r.Label(lang.EN)})
		}
		clarifies = append(clarifies, c)
	}
	for _, c := range append(clarifies, all) {
		for _, row := range h.optionButtons(c, "zht") {
			for _, b := range row {
				if len(b.CallbackData) > maxCallbackData || len(parseCallback(b.CallbackData).args) < 4 {
					t.Errorf("button %q has data %q", b.Text, b.CallbackData)
				}
			}
		}
	}
}

func TestStringsFile(t *testing.T) {
	p, err := loadPhrases(stringsYAML)
	if err != nil {
		t.Fatalf("strings.yaml: %v", err)
	}
	if got := p.text("stale_button", lang.ZH, true); got != "這個按鈕已過期，請重新提問。" {
		t.Errorf("Traditional = %q", got)
	}
	p.Text["x"] = bilingual{ZH: "{n} 条", EN: "{n} items"}
	if got := p.text("x", lang.EN, false, "n", "3"); got != "3 items" {
		t.Errorf("placeholder = %q", got)
	}
	// Broken variants of the file must be refused.
	good := string(stringsYAML)
	tests := []struct{ name, from, to, want string }{
		{"missing text", "  flood:\n", "  floodx:\n", "text.flood: missing"},
		{"missing en", "    en: I can only read text.", "    xx: I can only read text.", "field xx not found"},
		{"placeholder mismatch", "    en: I don't know that command.", "    en: I don't know {that} command.", "different {placeholders}"},
		{"unequal examples", "    - Who has to do the SMS verification?\n", "", "same number"},
		{"bad command", "  - command: who\n", "  - command: Who\n", "not a valid command name"},
		{"bad topic", "  steps: how-to-verify", "  steps: how to verify", "topics.steps"},
		{"unknown chat kind", "    chats: [private]\n", "    chats: [private, channel]\n", `commands.start.chats: "channel"`},
		{"no chats", "    chats: [private]\n", "", "commands.start.chats: name at least one"},
		{"unknown need", "    needs: handoff\n", "    needs: database\n", `commands.human.needs: "database"`},
		{"no help line", "      en: this help\n", "", "commands.help.help: both zh and en"},
		{"description too long", "    en: \"{provider}'s ICP filing helper", "    en: \"" + strings.Repeat("x", 120) + "{provider}'s ICP filing helper", "profile.short_description: must be 1 to 120"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.from) {
				t.Fatalf("strings.yaml no longer contains %q", tt.from)
			}
			_, err := loadPhrases([]byte(strings.Replace(good, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// runScheduler starts a scheduler of n workers on clk until the test ends.
func runScheduler(t *testing.T, n int, clk *vclock, readyAt func(int64, bool) time.Time) *scheduler {
	sc := newScheduler(n, 32*n, clk.Now, clk.Sleep, readyAt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sc.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return sc
}

func TestSchedulerKeepsEachChatInOrder(t *testing.T) {
	clk := newVClock(time.Unix(0, 0))
	sc := runScheduler(t, 4, clk, nil)
	var mu sync.Mutex
	got := map[int64][]int{}
	running := map[int64]int{}
	overlap := false
	for i := range 50 {
		chat := int64(i % 5)
		sc.submit(&job{id: int64(i), chat: chat, run: func(context.Context) {
			mu.Lock()
			running[chat]++
			overlap = overlap || running[chat] > 1
			got[chat] = append(got[chat], i)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			running[chat]--
			mu.Unlock()
		}})
	}
	if err := sc.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if overlap {
		t.Error("a chat ran two jobs at once")
	}
	for chat, seq := range got {
		if len(seq) != 10 || !sort.IntsAreSorted(seq) {
			t.Errorf("chat %d ran %v, want its 10 jobs in order", chat, seq)
		}
	}
}

func TestSchedulerTakesTurns(t *testing.T) {
	clk := newVClock(time.Unix(0, 0))
	sc := runScheduler(t, 1, clk, nil)
	gate := make(chan struct{})
	var order []int64
	var mu sync.Mutex
	record := func(chat int64) func(context.Context) {
		return func(context.Context) {
			mu.Lock()
			order = append(order, chat)
			mu.Unlock()
		}
	}
	// While the one worker is busy, a chat queues three jobs, then another chat one.
	sc.submit(&job{chat: 9, run: func(context.Context) { <-gate }})
	for range 3 {
		sc.submit(&job{chat: 1, run: record(1)})
	}
	sc.submit(&job{chat: 2, run: record(2)})
	close(gate)
	sc.drain(context.Background())
	if want := []int64{1, 2, 1, 1}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v: the second chat's first job goes before the first chat's second", order, want)
	}
}

func TestSchedulerParksAChatOverItsLimit(t *testing.T) {
	clk := newVClock(time.Unix(0, 0))
	slept := make(chan struct{}, 1)
	clk.poke = func() {
		select {
		case slept <- struct{}{}:
		default:
		}
	}
	limited := clk.Now().Add(time.Minute)
	sc := runScheduler(t, 2, clk, func(chat int64, group bool) time.Time {
		if chat == -100 && clk.Now().Before(limited) {
			return limited
		}
		return time.Time{}
	})
	ran := make(chan int64, 10)
	for _, chat := range []int64{-100, 1, 2} {
		sc.submit(&job{chat: chat, sendsTo: chat, group: chat < 0, run: func(context.Context) { ran <- chat }})
	}
	got := []int64{<-ran, <-ran}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Fatalf("ran %v first, want the chats within their limits", got)
	}
	// A job stays pending until its run returns: wait for the two to finish.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sc.room(ctx, 2); err != nil {
		t.Fatalf("the two jobs within their limits never finished: %v", err)
	}
	if n := sc.len(); n != 1 {
		t.Fatalf("%d jobs left, want the limited chat's", n)
	}
	waitFor(t, slept, func() bool { return clk.sleepingUntil(limited) == 1 })
	clk.Advance(time.Minute)
	if chat := <-ran; chat != -100 {
		t.Errorf("ran %d, want the limited chat once its limit allows", chat)
	}
}

func TestSchedulerPauseGivesTheWorkerBack(t *testing.T) {
	clk := newVClock(time.Unix(0, 0))
	sc := runScheduler(t, 1, clk, nil)
	resumed, other := make(chan struct{}), make(chan struct{})
	sc.submit(&job{chat: 1, run: func(ctx context.Context) {
		sc.pause(ctx, time.Minute) // a retry's back-off
		close(resumed)
	}})
	sc.submit(&job{chat: 2, run: func(context.Context) { close(other) }})
	<-other // ran on the one worker while the first job waited
	select {
	case <-resumed:
		t.Fatal("the paused job ended before its wait")
	default:
	}
	clk.Advance(time.Minute)
	<-resumed
}

func TestSchedulerRoom(t *testing.T) {
	clk := newVClock(time.Unix(0, 0))
	sc := runScheduler(t, 1, clk, nil)
	release := make(chan struct{})
	for range 2 {
		sc.submit(&job{chat: 1, run: func(context.Context) { <-release }})
	}
	if n, err := sc.room(context.Background(), 3); n != 1 || err != nil {
		t.Errorf("room = %d, %v; want 1", n, err)
	}
	full, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sc.room(full, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("room of a full scheduler = %v, want it to wait", err)
	}
	close(release)
	if n, err := sc.room(context.Background(), 2); n < 1 || err != nil {
		t.Errorf("room after the jobs ended = %d, %v", n, err)
	}
}

// waitFor is for the unit tests that have no fake API to wait on: it checks
// cond each time wake fires, and fails the test after a generous deadline
// rather than hanging.
func waitFor(t *testing.T, wake <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-wake:
		case <-deadline:
			t.Fatal("condition not met")
		}
	}
}

func TestConfigChecks(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Telegram)
		want string
	}{
		{"api url", func(c *config.Telegram) { c.APIURL = "ftp://x" }, "telegram.api_url"},
		{"mode", func(c *config.Telegram) { c.Mode = "push" }, "telegram.mode"},
		{"webhook url", func(c *config.Telegram) { c.Mode = "webhook"; c.Webhook.PublicURL = "" }, "public_url"},
		{"secret", func(c *config.Telegram) {
			c.Mode, c.Webhook.PublicURL, c.Webhook.SecretToken = "webhook", "https://x.test/", "has spaces"
		}, "secret_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			tt.edit(&cfg)
			_, err := newServer(cfg, echo(t))
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a ConfigError about %s", err, tt.want)
			}
		})
	}
}

func TestJournaledStateIsReadBackAndWrittenWithProgress(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.AcceptUpdates(ctx, 5, []store.InboxUpdate{{ID: 5, ChatID: 1, Body: []byte("{}"), ReceivedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	j := newJournal(st, true, slog.New(slog.DiscardHandler))
	convs := journaledConversations{Conversations: st, j: j}
	want := bot.Conversation{LastTopic: "deadline", Lang: lang.EN}
	if err := convs.Save(ctx, 1, want); err != nil {
		t.Fatal(err)
	}
	// Read back at once, whether or not the journal has written it yet.
	if got, err := convs.Load(ctx, 1); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Load = %+v, %v; want %+v", got, err, want)
	}
	j.done(5)
	j.close()
	if got, _ := st.Load(ctx, 1); !reflect.DeepEqual(got, want) {
		t.Errorf("state in the database = %+v, want %+v", got, want)
	}
	if pending, _ := st.PendingUpdates(ctx); len(pending) != 0 {
		t.Errorf("update still pending: %+v", pending)
	}
	// Once the journal is closed, saves go straight to the database.
	if err := convs.Save(ctx, 2, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Load(ctx, 2); !reflect.DeepEqual(got, want) {
		t.Errorf("state saved after close = %+v", got)
	}
}

func TestFormattedHTML(t *testing.T) {
	tests := []struct {
		name string
		f    formatted
		want string
	}{
		{"title in bold", formatted{title: "How to verify", body: "Step 1."}, "<b>How to verify</b>\nStep 1."},
		{"MIIT's message quoted instead of the title", formatted{title: "提示“该条验证库里找不到记录”", quotes: []string{"该条验证库里找不到记录"}, body: "可能有两种原因："},
			"<blockquote>该条验证库里找不到记录</blockquote>\n可能有两种原因："},
		{"addresses become links, punctuation after them stays text", formatted{body: "Open https://beian.miit.gov.cn/. Or (https://a.example/x?a=1&b=2), 或 https://beian.miit.gov.cn/ ，然后"},
			`Open <a href="https://beian.miit.gov.cn/">https://beian.miit.gov.cn/</a>. Or (<a href="https://a.example/x?a=1&amp;b=2">https://a.example/x?a=1&amp;b=2</a>), 或 <a href="https://beian.miit.gov.cn/">https://beian.miit.gov.cn/</a> ，然后`},
		{"everything escaped", formatted{note: "You chose: <1>", title: "a & b", body: `<script>"x"</script> http://`},
			"<i>You chose: &lt;1&gt;</i>\n\n<b>a &amp; b</b>\n&lt;script&gt;&quot;x&quot;&lt;/script&gt; http://"},
		{"heading alone", formatted{title: "T"}, "<b>T</b>"},
		{"nothing", formatted{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := tt.f.parts(maxMessageUnits)
			var got string
			if len(parts) > 0 {
				got = parts[0].html
			}
			if len(parts) > 1 || got != tt.want {
				t.Fatalf("parts = %q, want one: %q", parts, tt.want)
			}
			if got == "" {
				return
			}
			plain, err := parseTelegramHTML(got)
			if err != nil {
				t.Fatalf("Telegram would refuse %q: %v", got, err)
			}
			if plain != parts[0].plain {
				t.Errorf("Telegram shows %q, the plain fallback is %q", plain, parts[0].plain)
			}
		})
	}
}

// A long formatted reply is split into parts that each fit after markup,
// with no tag or entity cut, the heading once at the top, and nothing lost.
func TestFormattedSplit(t *testing.T) {
	var body strings.Builder
	for i := range 300 {
		fmt.Fprintf(&body, "第%d步：打开 https://beian.miit.gov.cn/ 选择“短信核验”，填写 <验证码> & 手机号。\n", i)
	}
	body.WriteString(strings.Repeat("https://example.com/"+strings.Repeat("a", 50), 100)) // one unbroken word of links
	f := formatted{note: "您选择了：2", title: "怎么做短信核验", body: body.String()}
	for _, limit := range []int{maxMessageUnits, 500} {
		parts := f.parts(limit)
		if len(parts) < 2 {
			t.Fatalf("limit %d: %d parts", limit, len(parts))
		}
		var shown strings.Builder
		for i, p := range parts {
			if n := utf16Len(p.html); n > limit {
				t.Errorf("limit %d: part %d is %d units of HTML", limit, i, n)
			}
			plain, err := parseTelegramHTML(p.html)
			if err != nil {
				t.Fatalf("limit %d: part %d does not parse: %v\n%s", limit, i, err, p.html)
			}
			if plain != p.plain {
				t.Errorf("limit %d: part %d shows %q, plain fallback %q", limit, i, plain, p.plain)
			}
			if strings.Contains(p.html, "<b>") != (i == 0) {
				t.Errorf("limit %d: part %d heading: %q", limit, i, p.html[:min(80, len(p.html))])
			}
			shown.WriteString(plain)
		}
		squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if want := squash("您选择了：2\n\n怎么做短信核验\n" + body.String()); squash(shown.String()) != want {
			t.Errorf("limit %d: the parts do not add up to the text", limit)
		}
	}
}

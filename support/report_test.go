package support

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The seeded week: 2025-03-03 10:00 to 2025-03-10 10:00 Beijing time.
var (
	weekStart = time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)
	weekEnd   = weekStart.Add(7 * 24 * time.Hour)
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// seed is one customer message of the seeded week and what became of it.
type seed struct {
	chat     int64
	text     string
	lang     lang.Lang
	trad     bool
	topic    string
	score    float64 // top index hit, same topic unless scoreOther
	other    bool    // the top hit was another topic (a deterministic answer)
	vote     int
	verdict  string // LLM rephrase verdict, "" for none
	accepted bool
	thread   *seedThread
}

type seedThread struct {
	agentAfter time.Duration // 0: no agent reply
	closeTopic string
	close      bool
}

var seeds = []seed{
	{chat: 1, text: "短信核验怎么操作", lang: lang.ZH, topic: "how-to-verify", score: 0.8, vote: 1, verdict: "ok", accepted: true},
	{chat: 1, text: "验证码是 123456 输进去提示该条验证库里找不到记录", lang: lang.ZH, topic: "no-record-found", score: 0.3, other: true},
	{chat: 2, text: "驗證碼收不到怎麼辦", lang: lang.ZH, trad: true, topic: "sms-not-received", score: 0.6, vote: 1, verdict: "ok", accepted: true},
	{chat: 2, text: "短信一直收不到", lang: lang.ZH, topic: "sms-not-received", score: 0.5},
	{chat: 3, text: "how do I do the sms verification", lang: lang.EN, topic: "how-to-verify", score: 0.7, vote: 1, verdict: "guard: number added"},
	{chat: 3, text: "what if I miss the 24 hours", lang: lang.EN, topic: "deadline", score: 0.9, vote: -1, verdict: "guard: number added"},
	{chat: 4, text: "超过24小时了怎么办", lang: lang.ZH, topic: "deadline", score: 0.85, verdict: "timeout"},
	{chat: 4, text: "过了时间没核验会怎样", lang: lang.ZH, topic: "deadline", score: 0.12, vote: -1},
	{chat: 5, text: "怎么修改备案手机号", lang: lang.ZH, topic: "unknown", score: 0.05,
		thread: &seedThread{agentAfter: 14 * time.Minute, close: true, closeTopic: "which-phones"}},
	{chat: 6, text: "备案手机号怎么改", lang: lang.ZH, topic: "unknown", score: 0.04},
	{chat: 7, text: "备案手机号码怎么修改呢？", lang: lang.ZH, topic: "unknown", score: 0.06, thread: &seedThread{}},
	{chat: 8, text: "can my colleague verify for me", lang: lang.EN, topic: "unknown", score: 0.02,
		thread: &seedThread{agentAfter: 30 * time.Minute, close: true}},
	{chat: 9, text: "can my colleague do the verification for me?", lang: lang.EN, topic: "unknown", score: 0.03},
	{chat: 8, text: "how long does the bureau review take", lang: lang.EN, topic: "unknown", score: 0.01},
	{chat: 10, text: "变更主体要谁核验", lang: lang.ZH, topic: "who-verifies", score: 0.2, other: true, vote: 1},
	{chat: 10, text: "新增网站谁收短信", lang: lang.ZH, topic: "who-verifies"},
	{chat: 11, text: "hi", lang: lang.EN, topic: "greeting", score: 0.9},
	{chat: 12, text: "我的電話 +852 9123 4567 收唔到短信", lang: lang.ZH, trad: true, topic: "unknown", score: 0.08,
		thread: &seedThread{agentAfter: 8 * time.Minute, close: true, closeTopic: "sms-not-received"}},
}

// seedWeek fills a database with the seeded week through the same calls the
// Telegram side makes, plus one question before the week.
func seedWeek(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	clk := &fakeClock{t: weekStart.Add(-time.Hour)}
	s, err := store.Open(ctx, t.TempDir(), store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log, err := NewQuestionLog(s, "test salt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Record(ctx, 1, bot.Reply{Question: "上周的问题", Lang: lang.ZH, Topic: "unknown"}); err != nil {
		t.Fatal(err)
	}
	for i, sd := range seeds {
		at := weekStart.Add(time.Duration(i+1) * 7 * time.Hour)
		clk.Set(at)
		hitTopic := sd.topic
		if sd.other {
			hitTopic = "background"
		}
		r := bot.Reply{Question: sd.text, Lang: sd.lang, Traditional: sd.trad, Topic: sd.topic,
			Handoff: sd.topic == bot.TopicUnknown, Explain: &bot.Explain{}}
		if sd.score > 0 {
			r.Explain.Scores = []bot.Hit{{Topic: hitTopic, Score: sd.score}}
		}
		if sd.verdict != "" {
			r.Rephrase = &bot.RephraseResult{Verdict: sd.verdict, Accepted: sd.accepted}
		}
		id, err := log.Record(ctx, sd.chat, r)
		if err != nil {
			t.Fatal(err)
		}
		if sd.vote != 0 {
			if _, err := log.Feedback(ctx, sd.chat, id, sd.vote); err != nil {
				t.Fatal(err)
			}
		}
		if sd.thread == nil {
			continue
		}
		th, _, err := s.OpenThread(ctx, store.NewThread{CustomerChatID: sd.chat, SupportChatID: -1001, Lang: sd.lang,
			Traditional: sd.trad, Topic: sd.topic, QuestionID: id})
		if err != nil {
			t.Fatal(err)
		}
		s.AddSupportMessage(ctx, th.ID, -1001, int64(100+i), false)
		if sd.thread.agentAfter > 0 {
			clk.Set(at.Add(sd.thread.agentAfter))
			s.AddSupportMessage(ctx, th.ID, -1001, int64(200+i), true)
		}
		if sd.thread.close {
			clk.Set(at.Add(time.Hour))
			s.CloseThread(ctx, th.ID, sd.thread.closeTopic)
		}
	}
	return s
}

func seededReport(t *testing.T) Report {
	t.Helper()
	r, err := BuildReport(context.Background(), seedWeek(t), ReportOptions{Since: weekStart, Until: weekEnd, LowScore: 0.15})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportFigures(t *testing.T) {
	r := seededReport(t)
	if r.Questions != len(seeds) || r.Chats != 12 {
		t.Errorf("%d questions from %d chats, want %d from 12 (last week's excluded)", r.Questions, r.Chats, len(seeds))
	}
	// The three ways of asking to change the phone number are one group.
	if g := r.Unanswered[0]; g.Count != 3 || g.Question != "怎么修改备案手机号" || len(g.Variants) != 2 {
		t.Errorf("first group = %+v", g)
	}
	low := 0
	for _, g := range r.Unanswered {
		low += g.LowConfidence
		for _, q := range append([]string{g.Question}, g.Variants...) {
			if strings.Contains(q, "9123") {
				t.Errorf("unredacted number in the report: %q", q)
			}
		}
	}
	if low != 1 {
		t.Errorf("%d low-confidence questions, want 1 (score 0.12 < 0.15)", low)
	}
	if want := (Handoffs{Offered: 7, Opened: 4, AnsweredByPerson: 3, Closed: 3, Open: 1, MedianFirstReply: 14 * 60}); r.Handoffs != want {
		t.Errorf("handoffs = %+v, want %+v", r.Handoffs, want)
	}
	if r.Feedback[0].Topic != "deadline" || r.Feedback[0].Down != 2 || r.Feedback[0].DownRate != 1 {
		t.Errorf("worst-rated topic = %+v, want deadline with 2 of 2 down", r.Feedback[0])
	}
	if r.Rephrase.Attempted != 5 || r.Rephrase.Accepted != 2 || len(r.Rephrase.NotUsed) != 2 || r.Rephrase.NotUsed[0].Count != 2 {
		t.Errorf("rephrase = %+v", r.Rephrase)
	}
	sources := map[string]int{}
	for _, s := range r.Suggestions {
		sources[s.Source]++
	}
	if sources[FromPerson] != 3 || sources[FromThumbsUp] != 4 {
		t.Errorf("suggestions by source = %v, want 3 from people, 4 from 👍", sources)
	}
}

func TestReportGolden(t *testing.T) {
	r := seededReport(t)
	for _, f := range []struct {
		file  string
		write func(Report, *bytes.Buffer) error
	}{
		{"report.txt", func(r Report, b *bytes.Buffer) error { return r.WriteText(b) }},
		{"report.csv", func(r Report, b *bytes.Buffer) error { return r.WriteCSV(b) }},
		{"report.json", func(r Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
	} {
		var b bytes.Buffer
		if err := f.write(r, &b); err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		golden(t, f.file, b.Bytes())
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// The machine-readable outputs must parse back.
func TestReportFormatsParse(t *testing.T) {
	r := seededReport(t)
	var b bytes.Buffer
	r.WriteJSON(&b)
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Questions != r.Questions || len(back.Unanswered) != len(r.Unanswered) {
		t.Errorf("JSON does not round-trip: %v", err)
	}
	b.Reset()
	r.WriteCSV(&b)
	cr := csv.NewReader(&b)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	sections := map[string]int{}
	for _, rec := range recs {
		sections[rec[0]]++
	}
	if sections["section"] != 6 || sections["volume"] != len(r.Volume) || sections["suggestion"] != len(r.Suggestions) {
		t.Errorf("CSV sections = %v", sections)
	}
	// The YAML suggestions are valid YAML with the knowledge base's shape.
	y, err := SuggestionsYAML(r.Suggestions)
	if err != nil {
		t.Fatal(err)
	}
	var kb map[string]struct {
		Examples map[string][]string `yaml:"examples"`
	}
	if err := yaml.Unmarshal([]byte(y), &kb); err != nil {
		t.Fatalf("suggestions YAML: %v\n%s", err, y)
	}
	if got := kb["how-to-verify"].Examples; len(got["zh"]) != 1 || len(got["en"]) != 1 {
		t.Errorf("how-to-verify examples = %v", got)
	}
	if _, ok := kb["TOPIC"]; ok {
		t.Error("unnamed suggestions are not commented out")
	}
}

func TestReportEmpty(t *testing.T) {
	r, err := BuildReport(context.Background(), openStore(t, t.TempDir()), ReportOptions{Since: weekStart, Until: weekEnd})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-empty.txt", b.Bytes())
}

func TestGrouping(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"怎么修改备案手机号", "备案手机号怎么改", true},
		{"怎么修改备案手机号", "怎麼修改備案手機號？", true}, // Traditional, full-width
		{"怎么修改备案手机号", "备案要审核多久", false},
		{"can my colleague verify for me", "Can my colleague verify for me??", true},
		{"can my colleague verify for me", "how long does review take", false},
	}
	for _, tc := range cases {
		sim := jaccard(bigrams(lang.Compact(tc.a)), bigrams(lang.Compact(tc.b)))
		if (sim >= DefaultSimilarity) != tc.same {
			t.Errorf("similarity(%q, %q) = %.2f; grouped = %v, want %v", tc.a, tc.b, sim, !tc.same, tc.same)
		}
	}
}

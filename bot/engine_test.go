package bot

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

var (
	engineOnce sync.Once
	sharedEng  *Engine
	engineErr  error
)

// testEngine builds the engine from the embedded data once for all tests.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	engineOnce.Do(func() { sharedEng, engineErr = New(context.Background(), Options{}) })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return sharedEng
}

// Every row of the table, named by its own labels in Chinese, Traditional
// Chinese and English, gets exactly that row's verdict (or, where the label
// also fits a row that agrees, the same verdict).
func TestEveryMatrixRow(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for _, row := range e.Matrix().Rows() {
		for _, q := range []struct {
			text string
			lang lang.Lang
		}{
			{row.Label(lang.ZH) + " 需要谁做短信核验？", lang.ZH},
			{lang.ToTraditional(row.Label(lang.ZH)) + " 要邊個做短信核驗？", lang.ZH},
			{"who needs to verify for " + row.Label(lang.EN) + "?", lang.EN},
		} {
			r := e.Reply(ctx, &Conversation{}, q.text)
			if r.Topic != TopicWhoVerifies || r.Matrix == nil {
				t.Errorf("%q: topic %s, clarify %v, want a verdict", q.text, r.Topic, r.Clarify != nil)
				continue
			}
			if r.Matrix.Principal != row.Principal || r.Matrix.Website != row.Website {
				t.Errorf("%q: principal=%v website=%v, want %v %v", q.text, r.Matrix.Principal, r.Matrix.Website, row.Principal, row.Website)
			}
			if !slices.Contains(r.Matrix.Cases, Case{Business: row.Business, Subcase: row.Subcase}) {
				t.Errorf("%q: cases %v do not include %s/%s", q.text, r.Matrix.Cases, row.Business, row.Subcase)
			}
			if r.Lang != q.lang {
				t.Errorf("%q: language %s, want %s", q.text, r.Lang, q.lang)
			}
			if (row.Principal || row.Website) && !strings.Contains(r.Text, "24") {
				t.Errorf("%q: the verdict does not state the 24-hour rule:\n%s", q.text, r.Text)
			}
			// A row the provider initiates says the customer's own request is not covered.
			note := e.phrases.say("matrix_provider_initiated", q.lang, "support", e.support.In(q.lang))
			if strings.Contains(lang.ToSimplified(r.Text), note) != row.ProviderInitiated() {
				t.Errorf("%q: provider-initiated %v, but the note is there: %v\n%s", q.text, row.ProviderInitiated(), !row.ProviderInitiated(), r.Text)
			}
		}
	}
}

// Words that fit rows which disagree get an ask-back listing exactly those
// rows; the answer to it (by number or by name) gives that row's verdict.
func TestAskBack(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	table := e.Matrix()
	for _, business := range table.Businesses() {
		rows := table.RowsOf(business)
		if agree(rows) {
			continue
		}
		for i, row := range rows {
			for _, answer := range []string{
				[]string{"1", "2", "3", "4"}[i],
				row.Subcase,
			} {
				conv := &Conversation{}
				r := e.Reply(ctx, conv, business+" 谁需要核验")
				if r.Clarify == nil || r.Matrix != nil {
					t.Fatalf("%s: want an ask-back, got topic %s matrix %v", business, r.Topic, r.Matrix)
				}
				if len(r.Clarify.Options) != len(rows) {
					t.Fatalf("%s: %d options, want %d", business, len(r.Clarify.Options), len(rows))
				}
				r = e.Reply(ctx, conv, answer)
				if r.Matrix == nil || r.Matrix.Principal != row.Principal || r.Matrix.Website != row.Website {
					t.Errorf("%s, then %q: got %+v, want %s/%s %v %v", business, answer, r.Matrix, row.Business, row.Subcase, row.Principal, row.Website)
				}
				if conv.Pending != nil {
					t.Errorf("%s, then %q: ask-back still pending", business, answer)
				}
			}
		}
	}
}

func TestAskBackDroppedByNewQuestion(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	conv := &Conversation{}
	if r := e.Reply(ctx, conv, "变更主体要谁核验"); r.Clarify == nil {
		t.Fatalf("want an ask-back, got %s", r.Topic)
	}
	r := e.Reply(ctx, conv, "该条验证库里找不到记录")
	if r.Topic != "no-record-found" || conv.Pending != nil {
		t.Errorf("topic %s, pending %v; want no-record-found and no pending ask-back", r.Topic, conv.Pending)
	}
	// A number now means nothing: it must not pick an option of the dropped question.
	if r := e.Reply(ctx, conv, "1"); r.Matrix != nil {
		t.Errorf("stale option answered: %+v", r.Matrix)
	}
}

func TestNoFilingTypeAsksWhichOne(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	conv := &Conversation{}
	r := e.Reply(ctx, conv, "谁需要做短信核验？")
	if r.Clarify == nil || len(r.Clarify.Options) != len(e.Matrix().Businesses()) {
		t.Fatalf("want an ask-back over every filing type, got %+v", r.Clarify)
	}
	// Choosing 变更备案 asks for its subcase; choosing the subcase answers.
	i := slices.IndexFunc(r.Clarify.Options, func(o Option) bool { return o.Business == "变更备案" })
	r = e.Choose(ctx, conv, i)
	if r.Clarify == nil || len(r.Clarify.Options) != 4 {
		t.Fatalf("变更备案: want 4 subcases, got %+v", r.Clarify)
	}
	r = e.Reply(ctx, conv, "仅接入变更")
	if r.Matrix == nil || r.Matrix.Principal || r.Matrix.Website {
		t.Fatalf("仅接入变更: want nobody verifies, got %+v", r.Matrix)
	}
}

func TestChooseStaleOption(t *testing.T) {
	e := testEngine(t)
	r := e.Choose(context.Background(), &Conversation{}, 3)
	if r.Matrix != nil || r.Clarify == nil {
		t.Errorf("a tap with nothing pending must ask afresh, got %+v", r)
	}
}

func TestWho(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for _, row := range e.Matrix().Rows() {
		r := e.Who(ctx, &Conversation{}, row.Business, row.Subcase, lang.EN, false)
		if r.Matrix == nil || r.Matrix.Principal != row.Principal || r.Matrix.Website != row.Website || r.Lang != lang.EN {
			t.Errorf("Who(%s, %s): %+v", row.Business, row.Subcase, r.Matrix)
		}
	}
	if r := e.Who(ctx, &Conversation{}, "变更主体", "", lang.ZH, false); r.Clarify == nil {
		t.Error("Who(变更主体) without subcase must ask back")
	}
}

func TestPastedMIITMessages(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for _, m := range e.Knowledge().Messages() {
		for _, q := range []string{
			m.Text,
			"系统提示：" + m.Text + "，怎么办",
			strings.NewReplacer("，", ",", "。", ".").Replace(m.Text),
			lang.ToTraditional(m.Text),
		} {
			r := e.Reply(ctx, &Conversation{}, q)
			if r.Topic != m.TopicID {
				t.Errorf("%q: topic %s, want %s", q, r.Topic, m.TopicID)
			}
		}
		r := e.Reply(ctx, &Conversation{}, "it says "+m.Text+" what should i do")
		if r.Topic != m.TopicID || r.Lang != lang.EN {
			t.Errorf("English around %q: topic %s lang %s", m.Text, r.Topic, r.Lang)
		}
	}
}

func TestLanguage(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	tests := []struct {
		q           string
		lang        lang.Lang
		traditional bool
	}{
		{"收不到核验短信怎么办", lang.ZH, false},
		{"收唔到核驗短信點算", lang.ZH, true},
		{"I didn't get the verification SMS", lang.EN, false},
		{"新增接入 who needs to verify", lang.EN, false},
		{"new access 谁要核验", lang.ZH, false},
		{"唔涉及換省份", lang.ZH, true}, // written Cantonese, though every character is the same in both scripts
	}
	for _, tc := range tests {
		r := e.Reply(ctx, &Conversation{}, tc.q)
		if r.Lang != tc.lang || r.Traditional != tc.traditional {
			t.Errorf("%q: lang %s traditional %v, want %s %v", tc.q, r.Lang, r.Traditional, tc.lang, tc.traditional)
		}
		if tc.traditional && lang.ToSimplified(r.Text) == r.Text {
			t.Errorf("%q: reply is not in Traditional characters:\n%s", tc.q, r.Text)
		}
	}
	// A pinned language wins over the message's.
	r := e.Reply(ctx, &Conversation{Lang: lang.EN}, "收不到核验短信怎么办")
	if r.Lang != lang.EN {
		t.Errorf("pinned en: got %s", r.Lang)
	}
}

// A reply that carries no script of its own ("2", "不涉及") answers in the
// script of the conversation; one that has it follows it.
func TestScriptCarriesOver(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	tests := []struct {
		first, then string
		traditional bool
	}{
		{"變更主體要邊個核驗", "2", true},
		{"變更主體要邊個核驗", "不涉及", true},
		{"變更主體要邊個核驗", "不涉及变更省份", false}, // 变 is Simplified
		{"变更主体要谁核验", "2", false},
		{"变更主体要谁核验", "不涉及", false},
	}
	for _, tc := range tests {
		conv := &Conversation{}
		if r := e.Reply(ctx, conv, tc.first); r.Clarify == nil {
			t.Fatalf("%q: expected an ask-back, got %s", tc.first, r.Topic)
		}
		r := e.Reply(ctx, conv, tc.then)
		if r.Matrix == nil || r.Lang != lang.ZH || r.Traditional != tc.traditional {
			t.Errorf("%q then %q: verdict %v, lang %s traditional %v; want traditional %v", tc.first, tc.then, r.Matrix != nil, r.Lang, r.Traditional, tc.traditional)
		}
	}
}

// A caller can ask for Traditional characters without pinning the chat.
func TestTopicAndWhoInTraditional(t *testing.T) {
	e := testEngine(t)
	conv := &Conversation{}
	for _, r := range []Reply{
		e.Topic(context.Background(), conv, "how-to-verify", lang.ZH, true),
		e.Who(context.Background(), conv, "新增接入", "", lang.ZH, true),
	} {
		if !r.Traditional || lang.ToSimplified(r.Text) == r.Text {
			t.Errorf("%s: not in Traditional characters:\n%s", r.Topic, r.Text)
		}
	}
	if conv.Lang != "" {
		t.Errorf("asking for Traditional pinned the conversation to %q", conv.Lang)
	}
	if r := e.Topic(context.Background(), conv, "how-to-verify", lang.EN, true); r.Traditional {
		t.Error("English replies are never Traditional")
	}
}

// Traditional replies keep MIIT's messages as the site shows them.
func TestTraditionalKeepsMIITMessages(t *testing.T) {
	e := testEngine(t)
	for _, m := range e.Knowledge().Messages() {
		r := e.Topic(context.Background(), &Conversation{Lang: lang.ZH, Traditional: true}, m.TopicID, "", false)
		if !r.Traditional || !strings.Contains(r.Text, m.Text) {
			t.Errorf("%s: Traditional reply lost the exact message %q:\n%s", m.TopicID, m.Text, r.Text)
		}
	}
}

func TestBadInput(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	inputs := map[string]string{
		"empty":        "",
		"whitespace":   " \t\n ",
		"huge":         strings.Repeat("收不到短信", 4000),
		"NUL":          "收不到\x00短信\x00",
		"invalid UTF8": "\xff\xfe\xfd 短信 \xc3\x28",
		"binary":       string([]byte{0, 1, 2, 3, 0x89, 'P', 'N', 'G', 0xff}),
		"emoji only":   "🙂🙂🙂",
		"punctuation":  "？？？!!!",
	}
	for name, in := range inputs {
		r := e.Reply(ctx, &Conversation{}, in)
		if strings.TrimSpace(r.Text) == "" || r.Topic == "" {
			t.Errorf("%s: empty reply %+v", name, r)
		}
		if !utf8.ValidString(r.Text) || !utf8.ValidString(r.Question) || strings.ContainsRune(r.Question, 0) {
			t.Errorf("%s: reply carries invalid text", name)
		}
		if _, ok := e.Knowledge().Topic(r.Topic); !ok {
			t.Errorf("%s: topic %q is not a knowledge-base topic", name, r.Topic)
		}
	}
	// Bytes no typed message holds are said to be unreadable, not searched
	// for chance matches; a stray one in a question does not stop it.
	random := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		b := make([]byte, 200)
		for j := range b {
			b[j] = byte(random.IntN(256))
		}
		if r := e.Reply(ctx, &Conversation{}, string(b)); r.Topic != TopicUnknown || !strings.Contains(r.Text, e.phrases.say("unreadable", r.Lang)) {
			t.Errorf("random bytes %q…: topic %s, want the unreadable reply:\n%s", b[:20], r.Topic, r.Text)
		}
	}
	if r := e.Reply(ctx, &Conversation{}, "收不到\x01核验短信\ufffd怎么办"); r.Topic != "sms-not-received" {
		t.Errorf("a question with two stray characters: topic %s, want sms-not-received", r.Topic)
	}
	if r := e.Reply(ctx, &Conversation{}, strings.Repeat("收不到短信", 4000)); !strings.Contains(r.Text, "2000") {
		t.Errorf("a truncated message must say so:\n%s", r.Text)
	}
}

func TestUnknownOffersHuman(t *testing.T) {
	e := testEngine(t)
	r := e.Reply(context.Background(), &Conversation{}, "qwertyuiop asdfghjkl")
	if r.Topic != TopicUnknown || !r.Handoff {
		t.Errorf("gibberish: topic %s handoff %v", r.Topic, r.Handoff)
	}
	if !strings.Contains(r.Text, knowledge.DefaultProvider().Support.EN) {
		t.Errorf("unknown reply does not name the support team:\n%s", r.Text)
	}
}

func TestProviderNames(t *testing.T) {
	p := knowledge.Provider{
		Name:         knowledge.Text{ZH: "示例云", EN: "ExampleCloud"},
		FilingSystem: knowledge.Text{ZH: "示例云备案平台", EN: "ExampleCloud's filing console"},
		Support:      knowledge.Text{ZH: "示例云备案专员", EN: "ExampleCloud's filing desk"},
	}
	e, err := New(context.Background(), Options{Provider: &p})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := e.Topic(context.Background(), &Conversation{}, "no-application-to-resend", lang.EN, false)
	if !strings.Contains(r.Text, "ExampleCloud's filing desk") || strings.Contains(r.Text, "QingCloud") {
		t.Errorf("provider names not applied:\n%s", r.Text)
	}
}

// recorder is a Rephraser that remembers what it was asked and rewrites
// nothing; the HTTP client behind the real one is tested in package rephrase.
type recorder struct {
	mu     sync.Mutex
	topics []string
}

func (r *recorder) Rephrase(_ context.Context, req RephraseRequest) RephraseResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics = append(r.topics, req.Topic)
	return RephraseResult{Text: "REPHRASED " + req.Answer, Accepted: true, Verdict: "accepted"}
}

func TestRephraseNeverTouchesTableOrUnknown(t *testing.T) {
	rec := &recorder{}
	e, err := New(context.Background(), Options{Rephraser: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	for _, q := range []string{"新增接入谁要核验", "变更备案谁要核验", "谁需要核验", "qwertyuiop asdfghjkl"} {
		r := e.Reply(ctx, &Conversation{}, q)
		if strings.HasPrefix(r.Text, "REPHRASED") || r.Rephrase != nil {
			t.Errorf("%q (%s) was rephrased", q, r.Topic)
		}
	}
	if len(rec.topics) != 0 {
		t.Errorf("rephraser was asked about %v", rec.topics)
	}
	r := e.Reply(ctx, &Conversation{}, "收不到核验短信怎么办")
	if !strings.HasPrefix(r.Text, "REPHRASED") || r.Original == "" || strings.HasPrefix(r.Original, "REPHRASED") {
		t.Errorf("FAQ answer not rephrased or original lost: %+v", r)
	}
}

func FuzzReply(f *testing.F) {
	for _, s := range []string{"", "2", "变更备案", "新增接入 who", "该条验证库里找不到记录", "\xff", "第3个", "收唔到短信"} {
		f.Add(s)
	}
	e := testEngine(f)
	f.Fuzz(func(t *testing.T, s string) {
		conv := &Conversation{}
		for i := 0; i < 2; i++ { // twice: the second turn meets any pending state
			r := e.Reply(context.Background(), conv, s)
			if strings.TrimSpace(r.Text) == "" {
				t.Fatalf("%q: empty reply", s)
			}
			if r.Matrix != nil && r.Clarify != nil {
				t.Fatalf("%q: both a verdict and an ask-back", s)
			}
		}
	})
}

// The table answers in the engine agree with the table itself: a check that
// rendering never flips a yes and a no.
func TestRenderedVerdictText(t *testing.T) {
	e := testEngine(t)
	for _, row := range e.Matrix().Rows() {
		r := e.Who(context.Background(), &Conversation{}, row.Business, row.Subcase, lang.ZH, false)
		for _, role := range []struct {
			name string
			must bool
		}{{"主体负责人", row.Principal}, {"网站负责人", row.Website}} {
			line := lineWith(r.Text, role.name)
			if got := strings.Contains(line, "需要短信核验"); got != role.must {
				t.Errorf("%s/%s: line %q says must=%v, table says %v", row.Business, row.Subcase, line, got, role.must)
			}
		}
	}
}

func lineWith(text, word string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			return l
		}
	}
	return ""
}

// A topic that requires terms is never chosen for a message without them:
// "no SMS" alone is the general topic, not the 新增接入 one.
func TestRequiredTerms(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for _, q := range []string{"I did not receive the SMS", "短信一直收不到", "no verification text arrived"} {
		if r := e.Reply(ctx, &Conversation{}, q); r.Topic == "new-access-no-sms" {
			t.Errorf("%q: answered with new-access-no-sms without naming new access", q)
		}
	}
	for _, q := range []string{"新增接入收不到核验短信", "transferring my filing to you, no sms arrives"} {
		if r := e.Reply(ctx, &Conversation{}, q); r.Topic != "new-access-no-sms" {
			t.Errorf("%q: topic %s, want new-access-no-sms", q, r.Topic)
		}
	}
}

// Every reply names the route that made it, one of Routes.
func TestRoutes(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	msg := e.Knowledge().Messages()[0].Text
	tests := []struct {
		name  string
		reply func(conv *Conversation) Reply
		want  Route
	}{
		{"pasted MIIT message", func(c *Conversation) Reply { return e.Reply(ctx, c, msg) }, RoutePasted},
		{"filing type named", func(c *Conversation) Reply { return e.Reply(ctx, c, "首次备案谁要做短信核验") }, RouteTable},
		{"no filing type: ask back", func(c *Conversation) Reply { return e.Reply(ctx, c, "谁要做短信核验") }, RouteTable},
		{"FAQ topic", func(c *Conversation) Reply { return e.Reply(ctx, c, "超过24小时没核验怎么办") }, RouteIndex},
		{"nothing understood", func(c *Conversation) Reply { return e.Reply(ctx, c, "qwxz vbnm plok") }, RouteUnknown},
		{"empty", func(c *Conversation) Reply { return e.Reply(ctx, c, "  ") }, RouteDirect},
		{"not text", func(c *Conversation) Reply { return e.Reply(ctx, c, "\x00\x01\x02\x03\xff\xfe#k9") }, RouteUnknown},
		{"topic by name", func(c *Conversation) Reply { return e.Topic(ctx, c, "deadline", lang.ZH, false) }, RouteDirect},
		{"who by name", func(c *Conversation) Reply { return e.Who(ctx, c, "首次备案", "", lang.ZH, false) }, RouteTable},
		{"tap on an option", func(c *Conversation) Reply {
			e.Reply(ctx, c, "谁要做短信核验")
			return e.Choose(ctx, c, 0)
		}, RouteTable},
		{"stale tap", func(c *Conversation) Reply { return e.Choose(ctx, c, 3) }, RouteTable},
	}
	for _, tt := range tests {
		r := tt.reply(&Conversation{})
		if r.Route != tt.want {
			t.Errorf("%s: route %q (topic %s, rule %q), want %q", tt.name, r.Route, r.Topic, r.Explain.Rule, tt.want)
		}
	}
	// Whatever is asked, the route is one of Routes.
	for _, ex := range e.Knowledge().Topics() {
		for _, q := range append(ex.Examples.ZH, ex.Examples.EN...) {
			if r := e.Reply(ctx, &Conversation{}, q); !slices.Contains(Routes, r.Route) {
				t.Fatalf("%q: route %q", q, r.Route)
			}
		}
	}
}

// A reply carries its topic's title and the MIIT messages it explains, for
// front ends to set apart; the answer's words stay as they are.
func TestReplyTitleAndQuotes(t *testing.T) {
	e := testEngine(t)
	kb := e.Knowledge()
	noRecord, _ := kb.Topic("no-record-found")
	howTo, _ := kb.Topic("how-to-verify")
	who, _ := kb.Topic(TopicWhoVerifies)
	for _, tt := range []struct {
		question string
		topic    string
		title    string
		quotes   []string
	}{
		{"该条验证库里找不到记录", "no-record-found", noRecord.Title.ZH, noRecord.Messages},
		{"it says 该条验证库里找不到记录, what now?", "no-record-found", noRecord.Title.EN, noRecord.Messages},
		// Traditional: the title is converted, MIIT's message inside it is not.
		{"核驗時提示該條驗證庫里找不到記錄", "no-record-found", lang.ToTraditional("提示“") + "该条验证库里找不到记录" + "”", noRecord.Messages},
		{"短信核验怎么操作", "how-to-verify", howTo.Title.ZH, nil},
		{"变更备案需要谁核验", TopicWhoVerifies, who.Title.ZH, nil},
		{"how much does a .com domain cost", TopicUnknown, "", nil},
	} {
		r := e.Reply(context.Background(), &Conversation{}, tt.question)
		if r.Topic != tt.topic {
			t.Errorf("%q: topic %s, want %s", tt.question, r.Topic, tt.topic)
			continue
		}
		if r.Title != tt.title || !slices.Equal(r.Quotes, tt.quotes) {
			t.Errorf("%q: title %q quotes %q, want %q %q", tt.question, r.Title, r.Quotes, tt.title, tt.quotes)
		}
		if r.Title != "" && strings.HasPrefix(r.Text, r.Title) {
			t.Errorf("%q: the title was put into the answer: %q", tt.question, r.Text)
		}
	}
}

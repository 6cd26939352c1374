package bot

import (
	"context"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

// verdict is a who-must-verify answer a case expects; nil expects another topic.
type verdict struct{ principal, website bool }

type understandCase struct {
	text    string
	topic   string
	lang    lang.Lang
	verdict *verdict // for who-verifies: the table's answer (nil: an ask-back)
}

func checkUnderstood(t *testing.T, cases []understandCase) {
	t.Helper()
	e := testEngine(t)
	for _, c := range cases {
		r := e.Reply(context.Background(), &Conversation{}, c.text)
		switch {
		case r.Topic != c.topic:
			t.Errorf("%q: topic %s, want %s (%s)", c.text, r.Topic, c.topic, r.Explain.Rule)
		case r.Lang != c.lang:
			t.Errorf("%q: language %s, want %s", c.text, r.Lang, c.lang)
		case c.topic == TopicWhoVerifies && c.verdict == nil && r.Clarify == nil:
			t.Errorf("%q: answered %+v, want an ask-back (%s)", c.text, r.Matrix, r.Explain.Rule)
		case c.verdict != nil && (r.Matrix == nil || r.Matrix.Principal != c.verdict.principal || r.Matrix.Website != c.verdict.website):
			t.Errorf("%q: matrix %+v clarify %v, want %+v (%s)", c.text, r.Matrix, r.Clarify != nil, *c.verdict, r.Explain.Rule)
		}
	}
}

var (
	both      = &verdict{true, true}
	principal = &verdict{true, false}
	website   = &verdict{false, true}
	nobody    = &verdict{false, false}
)

// Class 1 of issue 8: the most basic questions, in every language.
func TestBasicQuestions(t *testing.T) {
	checkUnderstood(t, []understandCase{
		{"怎么进行短信核验", "how-to-verify", lang.ZH, nil},
		{"短信核驗要點做？", "how-to-verify", lang.ZH, nil},
		{"How do I do the SMS verification?", "how-to-verify", lang.EN, nil},
		{"I never got the verification text from MIIT, what should I do?", "sms-not-received", lang.EN, nil},
		{"工信部的核验短信一直没收到，怎么办", "sms-not-received", lang.ZH, nil},
		{"工信部啲核驗短信一直冇收到，點算", "sms-not-received", lang.ZH, nil},
		{"what is this sms verification for", "background", lang.EN, nil},
		{"核验短信要在多长时间内完成", "deadline", lang.ZH, nil},
	})
}

// Class 2: the table described instead of named.
func TestTableDescribed(t *testing.T) {
	checkUnderstood(t, []understandCase{
		{"变更备案，就主体那部分的信息改了，谁要核验", TopicWhoVerifies, lang.ZH, principal},
		{"主体和网站的资料都要改，要谁核验", TopicWhoVerifies, lang.ZH, both},
		{"公司注册地从北京迁到上海，要变更主体，谁需要核验", TopicWhoVerifies, lang.ZH, nobody},
		{"only our company's name changes, who has to verify?", TopicWhoVerifies, lang.EN, principal},
		{"we're moving our filing over from another cloud, who verifies?", TopicWhoVerifies, lang.EN, website},
		{"you'll stop hosting us, does anyone have to verify?", TopicWhoVerifies, lang.EN, nobody},
		{"delete just one of our sites from the filing, who must verify?", TopicWhoVerifies, lang.EN, nobody},
		{"主體同網站資料一齊改，邊個要核驗？", TopicWhoVerifies, lang.ZH, both},
		{"網站原本喺第二間雲備咗案，而家搬過嚟你哋度，邊個要驗證？", TopicWhoVerifies, lang.ZH, website},
	})
}

// Class 3: a filing type with a question that has no who-word; no SMS for
// a type nobody is texted for is expected.
func TestFilingTypeWithoutWhoWord(t *testing.T) {
	checkUnderstood(t, []understandCase{
		{"domain migration — sms needed?", TopicWhoVerifies, lang.EN, nobody},
		{"取消接入要核验吗", TopicWhoVerifies, lang.ZH, nobody},
		{"做的变更接入，一直没收到短信，正常吗", TopicWhoVerifies, lang.ZH, nobody},
		{"變更接入，一直冇收到短信，正唔正常？", TopicWhoVerifies, lang.ZH, nobody},
		{"first-time filing: is an sms check required?", TopicWhoVerifies, lang.EN, both},
		{"新增接入，主体负责人没收到短信，正常吗", TopicWhoVerifies, lang.ZH, website},
	})
	e := testEngine(t)
	r := e.Reply(context.Background(), &Conversation{}, "做的变更接入，一直没收到短信，正常吗")
	if r.Text == "" || r.Text == e.Reply(context.Background(), &Conversation{}, "变更接入谁要核验").Text {
		t.Errorf("no SMS for 变更接入: the answer should say none is expected, got:\n%s", r.Text)
	}
}

// Class 4: long messages with a story, where the question is one clause.
func TestLongMessages(t *testing.T) {
	checkUnderstood(t, []understandCase{
		{"we got the text on Friday, the boss was travelling until Monday, and the site must launch this week. it's past the 24 hours now — what can we do?", "deadline", lang.EN, nil},
		{"我们上周五就提交了，客服说已经到管局了，老板一直在等，手机也没欠费，可是到现在一条核验短信都没收到，这是怎么回事？", "sms-not-received", lang.ZH, nil},
		{"情況係咁：我哋公司喺深圳，上個月改咗名，地址冇變，網站資料都冇郁過。而家要改備案，想問下邊個要做短信核驗？", TopicWhoVerifies, lang.ZH, principal},
	})
}

// Class 5: misleading keywords.
func TestMisleadingKeywords(t *testing.T) {
	checkUnderstood(t, []understandCase{
		{"核验都做完了，管局审核要多久才能通过", TopicUnknown, lang.ZH, nil},
		{"注册云账号的时候收不到验证码", TopicUnknown, lang.ZH, nil},
		{"I can't get the sign-up code for my cloud account", TopicUnknown, lang.EN, nil},
		{"how many days does the bureau's review take after we verified", TopicUnknown, lang.EN, nil},
		// Verifying in somebody else's place: the source does not say, so
		// no filing-type menu and no guess.
		{"法人出差了，同事能代他核验吗", TopicUnknown, lang.ZH, nil},
		{"can my colleague verify for me?", TopicUnknown, lang.EN, nil},
	})
}

// A question that names nothing of its own, after an answer about the
// verification, is about the verification; one that names another subject
// is not, and the same words asked first are not answered.
func TestEllipticalFollowUp(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for _, tc := range []struct{ first, then, want string }{
		{"变更主体 不涉及省份 谁要核验", "要多久内完成", "deadline"},
		{"变更主体 不涉及省份 谁要核验", "管局审核要多久", TopicUnknown},
		{"", "要多久内完成", TopicUnknown},
		{"你好", "要多久内完成", TopicUnknown},
	} {
		conv := &Conversation{}
		if tc.first != "" {
			e.Reply(ctx, conv, tc.first)
		}
		if r := e.Reply(ctx, conv, tc.then); r.Topic != tc.want {
			t.Errorf("%q then %q: topic %s, want %s (%s)", tc.first, tc.then, r.Topic, tc.want, r.Explain.Rule)
		}
	}
}

// A missing SMS reported after the filing type was settled is read against it.
func TestFollowUpRemembersFilingType(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	conv := &Conversation{}
	if r := e.Reply(ctx, conv, "新增接入谁要核验"); r.Matrix == nil {
		t.Fatalf("want a verdict, got %s", r.Topic)
	}
	if r := e.Reply(ctx, conv, "网站负责人等了两天还是没收到短信"); r.Topic != "new-access-no-sms" {
		t.Errorf("topic %s, want new-access-no-sms (%s)", r.Topic, r.Explain.Rule)
	}
	conv = &Conversation{}
	if r := e.Reply(ctx, conv, "没收到核验短信"); r.Topic != "sms-not-received" {
		t.Fatalf("topic %s, want sms-not-received", r.Topic)
	}
	if r := e.Reply(ctx, conv, "我们是变更接入"); r.Topic != TopicWhoVerifies || r.Matrix == nil || r.Matrix.Principal || r.Matrix.Website {
		t.Errorf("topic %s matrix %+v, want: no SMS is expected for 变更接入 (%s)", r.Topic, r.Matrix, r.Explain.Rule)
	}
}

// The province ask-back takes a plain yes or no.
func TestYesNoAskBack(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for answer, want := range map[string]verdict{"是的": *nobody, "没有": *principal, "no": *principal, "yes, it does": *nobody} {
		conv := &Conversation{}
		r := e.Reply(ctx, conv, "变更主体要谁核验")
		if r.Clarify == nil {
			t.Fatalf("want an ask-back, got %s", r.Topic)
		}
		r = e.Reply(ctx, conv, answer)
		if r.Matrix == nil || r.Matrix.Principal != want.principal || r.Matrix.Website != want.website {
			t.Errorf("%q: matrix %+v, want %+v (%s)", answer, r.Matrix, want, r.Explain.Rule)
		}
	}
}

package support

import (
	"strings"
	"testing"
	"time"

	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

func TestParseClose(t *testing.T) {
	cases := []struct {
		in    string
		topic string
		ok    bool
	}{
		{"/close", "", true},
		{" /close  ", "", true},
		{"/close@BeianBot", "", true},
		{"/close deadline", "deadline", true},
		{"/close@BeianBot sms-not-received", "sms-not-received", true},
		{"/close Deadline", "", false}, // topic ids are lower case: not a topic, not a close
		{"/closed", "", false},
		{"please /close", "", false},
		{"/close deadline and more", "", false},
		{"thanks", "", false},
	}
	for _, tc := range cases {
		topic, ok := ParseClose(tc.in)
		if topic != tc.topic || ok != tc.ok {
			t.Errorf("ParseClose(%q) = %q, %v; want %q, %v", tc.in, topic, ok, tc.topic, tc.ok)
		}
	}
}

func TestHandoffPost(t *testing.T) {
	th := store.Thread{ID: 12, Lang: lang.ZH, Traditional: true, Topic: "unknown", CreatedAt: time.Now()}
	got := HandoffPost(th, "我的電話收唔到短信", []store.Question{{Text: "短信核验怎么操作", Topic: "how-to-verify"}})
	want := "🙋 Handoff #12 · zh-Hant · topic: unknown\n\n我的電話收唔到短信\n\nEarlier:\n• 短信核验怎么操作 (how-to-verify)\n\n" +
		"Reply to this message to answer the customer. Reply /close to end the thread, or /close TOPIC to name the knowledge-base topic that would have answered."
	if got != want {
		t.Errorf("HandoffPost =\n%s\nwant\n%s", got, want)
	}
	if s := HandoffStartedText(lang.ZH, true, "青雲備案客服"); !strings.Contains(s, "轉給青雲備案客服") {
		t.Errorf("HandoffStartedText = %q", s)
	}
	if s := HandoffStartedText(lang.EN, false, "QingCloud's filing support team"); !strings.Contains(s, "passed your question to QingCloud's") {
		t.Errorf("HandoffStartedText = %q", s)
	}
}

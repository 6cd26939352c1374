package support

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

func TestQuestionLog(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	salt, err := Salt(ctx, "", s)
	if err != nil || salt == "" {
		t.Fatalf("Salt = %q, %v", salt, err)
	}
	if got, _ := Salt(ctx, "configured", s); got != "configured" {
		t.Errorf("a configured salt was not used: %q", got)
	}
	log, err := NewQuestionLog(s, salt)
	if err != nil {
		t.Fatal(err)
	}
	const chat = 123456789
	id, err := log.Record(ctx, chat, bot.Reply{
		Question: "我的手机13812345678收不到验证码" + strings.Repeat("啊", 600),
		Lang:     lang.ZH, Topic: "sms-not-received",
		Explain:  &bot.Explain{Scores: []bot.Hit{{Topic: "sms-not-received", Score: 0.42}}},
		Rephrase: &bot.RephraseResult{Verdict: "guard: number added", Accepted: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	qs, err := s.QuestionsSince(ctx, time.Time{})
	if err != nil || len(qs) != 1 {
		t.Fatalf("QuestionsSince = %+v, %v", qs, err)
	}
	q := qs[0]
	if strings.Contains(q.Text, "13812345678") || !strings.HasPrefix(q.Text, "我的手机[电话]收不到验证码") {
		t.Errorf("stored text %q is not redacted", q.Text[:40])
	}
	if n := len([]rune(q.Text)); n != maxLoggedRunes+1 {
		t.Errorf("stored %d runes, want %d and an ellipsis", n, maxLoggedRunes)
	}
	if q.ChatHash != ChatHash(salt, chat) || strings.Contains(q.ChatHash, "123456789") || len(q.ChatHash) != 64 {
		t.Errorf("chat hash %q", q.ChatHash)
	}
	if ChatHash("other salt", chat) == q.ChatHash {
		t.Error("the salt does not change the hash")
	}
	if !q.Answered || q.Score != 0.42 || q.Rephrase != "guard: number added" || q.RephraseAccepted || q.Handoff {
		t.Errorf("stored %+v", q)
	}

	if ok, _ := log.Feedback(ctx, chat+1, id, -1); ok {
		t.Error("another chat's 👎 was recorded")
	}
	if ok, err := log.Feedback(ctx, chat, id, -1); err != nil || !ok {
		t.Errorf("Feedback = %v, %v", ok, err)
	}
	if err := log.Handoff(ctx, id); err != nil {
		t.Fatal(err)
	}
	recent, err := log.Recent(ctx, chat, 3)
	if err != nil || len(recent) != 1 || recent[0].Feedback != -1 || !recent[0].Handoff {
		t.Errorf("Recent = %+v, %v", recent, err)
	}
	if _, err := NewQuestionLog(s, ""); err == nil {
		t.Error("an empty salt was accepted")
	}
}

func TestScore(t *testing.T) {
	hits := &bot.Explain{Scores: []bot.Hit{{Topic: "deadline", Score: 0.3}, {Topic: "background", Score: 0.1}}}
	cases := []struct {
		name string
		r    bot.Reply
		want float64
	}{
		{"the best topic is the one answered", bot.Reply{Topic: "deadline", Explain: hits}, 0.3},
		{"unknown keeps the top score", bot.Reply{Topic: bot.TopicUnknown, Explain: hits}, 0.3},
		{"answered from elsewhere", bot.Reply{Topic: "who-verifies", Explain: hits}, 0},
		{"no explain", bot.Reply{Topic: "deadline"}, 0},
	}
	for _, tc := range cases {
		if got := Score(tc.r); got != tc.want {
			t.Errorf("%s: Score = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The forms that reached the database before (issue 12) are redacted
// before they are stored: nothing of the numbers is in the file.
func TestQuestionLogStoresNoNumbers(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	log, err := NewQuestionLog(s, "salt")
	if err != nil {
		t.Fatal(err)
	}
	questions := []string{
		"我的手机 139.1234.5678 收不到", "(139)12345678 no sms", "tel13912345678 help",
		"手机 139\u200b1234\u200b5678 收不到", "身份证 1101 0119 9003 0712 3X 怎么填",
		"座机 010-6552 9988 能收到吗", "护照 E12345678", "香港身份證 A123456（7）", "電話 +852 9123 4567",
	}
	for i, q := range questions {
		if _, err := log.Record(ctx, int64(i+1), bot.Reply{Question: q, Lang: lang.ZH, Topic: "sms-not-received"}); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := s.QuestionsSince(ctx, time.Time{})
	if err != nil || len(qs) != len(questions) {
		t.Fatalf("QuestionsSince = %d, %v", len(qs), err)
	}
	for _, q := range qs {
		if strings.ContainsAny(q.Text, "0123456789") {
			t.Errorf("stored %q", q.Text)
		}
	}
}

package knowledge

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

func TestEmbeddedIsClean(t *testing.T) {
	data := EmbeddedFS()
	// No errors and no warnings: the shipped data is held to the lint's aims.
	for _, p := range Lint(data, embeddedName) {
		t.Errorf("%v", p)
	}

	b, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	var ids []string
	for _, topic := range b.Topics() {
		ids = append(ids, topic.ID)
		if topic.File != embeddedName+"/"+topic.ID+".yaml" {
			t.Errorf("%s: File = %q", topic.ID, topic.File)
		}
		for _, l := range []lang.Lang{lang.ZH, lang.EN} {
			if n := len(topic.Examples.In(l)); n < MinExamples {
				t.Errorf("%s: %d %s examples, want at least %d", topic.ID, n, l, MinExamples)
			}
			if topic.Title.In(l) == "" || topic.Answer.In(l) == "" {
				t.Errorf("%s: empty %s title or answer", topic.ID, l)
			}
			if ls := topic.Keywords.In(l); cap(ls) != len(ls) {
				t.Errorf("%s: %s keywords not clipped: appending would share memory", topic.ID, l)
			}
			if a := topic.Answer.In(l); a != strings.TrimSpace(a) {
				t.Errorf("%s: %s answer not trimmed: %q", topic.ID, l, a)
			}
		}
	}
	if !slices.Equal(ids, IDs()) {
		t.Errorf("topics %q, want the contract %q in order", ids, IDs())
	}
	if len(IDs()) != 14 {
		t.Errorf("contract has %d ids, want 14", len(IDs()))
	}
	for _, id := range IDs() {
		if topic, ok := b.Topic(id); !ok || topic.ID != id {
			t.Errorf("Topic(%q) = %q, %v", id, topic.ID, ok)
		}
	}
	if _, ok := b.Topic("nope"); ok {
		t.Error(`Topic("nope") found something`)
	}
}

// The Chinese examples should include some Traditional ones: HK and Macau
// customers write that way, and the index must be tested on them.
func TestEmbeddedHasTraditionalExamples(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range b.Topics() {
		n := 0
		for _, ex := range topic.Examples.ZH {
			if lang.IsTraditional(ex) {
				n++
			}
		}
		if n < 2 {
			t.Errorf("%s: %d Traditional Chinese examples, want at least 2", topic.ID, n)
		}
	}
}

func TestMessages(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{"您的短信核验已全部完成，该请求将提交管局审核", ResultAllDone},
		{"您的短信核验完成，请等待其他核验人进行短信核验", ResultWaitOthers},
		{"该条验证库里找不到记录", NoRecordFound},
		{"暂无该短信核验的备案申请，无需重发短信", NoApplicationToResend},
	}
	if got := b.Messages(); !slices.Equal(got, want) {
		t.Errorf("Messages() = %q, want %q", got, want)
	}
}

func TestLoadDir(t *testing.T) {
	data := EmbeddedFS()
	dir := t.TempDir()
	if err := os.CopyFS(dir, data); err != nil {
		t.Fatal(err)
	}
	b, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	emb, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for i, topic := range b.Topics() {
		e := emb.Topics()[i]
		if topic.ID != e.ID || topic.Answer != e.Answer || topic.File != filepath.Join(dir, e.ID+".yaml") {
			t.Errorf("topic %d: %q from %q differs from embedded %q", i, topic.ID, topic.File, e.ID)
		}
	}

	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadDir of a missing directory succeeded")
	}
	if _, err := LoadDir(filepath.Join(dir, "deadline.yaml")); err == nil {
		t.Error("LoadDir of a file succeeded")
	}
}

// BenchmarkEmbedded measures parsing and validating the embedded base, part
// of beianbot's start-up time.
func BenchmarkEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}

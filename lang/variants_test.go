package lang_test

import (
	"strings"
	"testing"

	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

// japaneseShaped are variant forms that OpenCC's Hong Kong table writes
// (説 for 說, 閲 for 閱, …): Traditional readers take them for Japanese.
const japaneseShaped = "説閲税脱鋭悦兑蜕"

// No Traditional answer may carry a Japanese-shaped variant; result-all-done
// (说明) was the one a customer saw.
func TestTraditionalHasNoJapaneseShapedVariants(t *testing.T) {
	kb, err := knowledge.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, topic := range kb.Topics() {
		for _, s := range append([]string{topic.Answer.ZH, topic.Title.ZH}, topic.Examples.ZH...) {
			tr := lang.ToTraditional(s)
			if i := strings.IndexAny(tr, japaneseShaped); i >= 0 {
				t.Errorf("%s: Traditional %q carries the variant %q", topic.ID, tr, []rune(tr[i:])[0])
			}
			checked++
		}
	}
	if got := lang.ToTraditional("说明阅读税务"); got != "說明閱讀稅務" {
		t.Errorf("ToTraditional(说明阅读税务) = %q, want 說明閱讀稅務", got)
	}
	if checked < 100 {
		t.Errorf("checked only %d texts", checked)
	}
}

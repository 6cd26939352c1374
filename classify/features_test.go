package classify

import (
	"testing"

	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/lang"
)

func weights(t *testing.T, text string) map[string]float64 {
	t.Helper()
	lex, err := concept.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	w := map[string]float64{}
	for _, f := range Features(lex.Read(lang.Normalize(text))) {
		w[f.Name] += f.Weight
	}
	return w
}

func TestFeatures(t *testing.T) {
	w := weights(t, "没收到短信")
	for _, name := range []string{"h:短", "hh:短信", "c:not_received", "c:sms", "cc:not_received+sms"} {
		if w[name] == 0 {
			t.Errorf("没收到短信: no feature %s in %v", name, w)
		}
	}
	// A word inside a negated concept is marked, so "never got" is not "got".
	w = weights(t, "never got the text")
	if w["w:got"] != 0 || w["w:!got"] == 0 {
		t.Errorf("never got: w:got=%v w:!got=%v", w["w:got"], w["w:!got"])
	}
	// The story of a long message weighs less than its question.
	w = weights(t, "周五收到了短信，老板出差到周一，现在还能核验吗？")
	if w["h:周"] >= w["h:核"] {
		t.Errorf("story h:周 %v should weigh less than question h:核 %v", w["h:周"], w["h:核"])
	}
	// When the question says nothing of its own, the story counts fully.
	w = weights(t, "never got the text from MIIT, what now?")
	if w["c:not_received"] != w["c:what_next"] {
		t.Errorf("c:not_received %v and c:what_next %v should weigh alike", w["c:not_received"], w["c:what_next"])
	}
}

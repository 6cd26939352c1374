package knowledge

import (
	"testing"
)

func TestCompare(t *testing.T) {
	old, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(old, old); !d.Empty() {
		t.Errorf("a base compared with itself: %+v", d)
	}
	// One example moved between topics, one answer edited, examples reordered.
	cur := &Base{topics: old.Topics(), byID: old.byID}
	from, to := old.byID[HowToVerify], old.byID[HKMacauPass]
	moved := cur.topics[from].Examples.ZH[0]
	cur.topics[from].Examples.ZH = append([]string{}, cur.topics[from].Examples.ZH[1:]...)
	cur.topics[to].Examples.ZH = append([]string{moved}, cur.topics[to].Examples.ZH...)
	cur.topics[old.byID[Deadline]].Answer.EN += "\nOne more line."
	en := append([]string{}, cur.topics[old.byID[Background]].Examples.EN...)
	en[0], en[1] = en[1], en[0]
	cur.topics[old.byID[Background]].Examples.EN = en

	d := Compare(old, cur)
	if len(d.Added)+len(d.Removed) != 0 || len(d.Changed) != 3 {
		t.Fatalf("diff: %+v", d)
	}
	byID := map[string]TopicDiff{}
	for _, c := range d.Changed {
		byID[c.ID] = c
	}
	if c := byID[HowToVerify]; len(c.Lists) != 1 || c.Lists[0].Field != "examples.zh" || len(c.Lists[0].Removed) != 1 || c.Lists[0].Removed[0] != moved || len(c.Lists[0].Added) != 0 {
		t.Errorf("how-to-verify: %+v", c)
	}
	if c := byID[HKMacauPass]; len(c.Lists) != 1 || len(c.Lists[0].Added) != 1 || c.Lists[0].Added[0] != moved {
		t.Errorf("hk-macau-pass: %+v", c)
	}
	if c := byID[Deadline]; len(c.Texts) != 1 || c.Texts[0].Field != "answer.en" || len(c.Lists) != 0 {
		t.Errorf("deadline: %+v", c)
	}
	if _, ok := byID[Background]; ok {
		t.Error("reordered examples reported as a change")
	}

	// A topic only in one base.
	fewer := &Base{topics: old.Topics()[1:], byID: map[string]int{}}
	for i, tp := range fewer.topics {
		fewer.byID[tp.ID] = i
	}
	if d := Compare(old, fewer); len(d.Removed) != 1 || d.Removed[0].ID != old.topics[0].ID || len(d.Changed) != 0 {
		t.Errorf("removed topic: %+v", d)
	}
	if d := Compare(fewer, old); len(d.Added) != 1 || d.Added[0].ID != old.topics[0].ID {
		t.Errorf("added topic: %+v", d)
	}
}

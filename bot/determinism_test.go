package bot

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"
)

// Two engines built from the same data answer every question alike, with
// the same scores (to the nanounit: the index's float sums may differ in
// their last bit): the evaluation's --baseline compares runs, and a customer
// asking twice must not get two answers. (A float summed in map order, and
// index hits tied at the cut, once made answers near a threshold flip from
// run to run.)
func TestAnswersDoNotChangeFromBuildToBuild(t *testing.T) {
	questions := questionsIn(t, "../testdata/blind[45]/*.yaml")
	if len(questions) < 1000 {
		t.Fatalf("only %d questions found", len(questions))
	}
	ctx := context.Background()
	var engines [2]*Engine
	for i := range engines {
		e, err := New(ctx, Options{})
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	differ := 0
	for _, q := range questions {
		a := engines[0].Reply(ctx, &Conversation{}, q)
		b := engines[1].Reply(ctx, &Conversation{}, q)
		if a.Topic != b.Topic || a.Text != b.Text || !reflect.DeepEqual(rounded(a.Explain), rounded(b.Explain)) {
			if differ++; differ <= 3 {
				t.Errorf("%q answered differently by two builds:\n%+v\n%+v", q, a.Explain, b.Explain)
			}
		}
	}
	if differ > 3 {
		t.Errorf("… %d questions in all", differ)
	}
}

// rounded is an explanation with its scores rounded to 1e-9.
func rounded(x *Explain) Explain {
	if x == nil {
		return Explain{}
	}
	out := *x
	for _, list := range []*[]Hit{&out.Scores, &out.Classifier, &out.Hits} {
		hits := slices.Clone(*list)
		for i := range hits {
			hits[i].Score = math.Round(hits[i].Score*1e9) / 1e9
		}
		*list = hits
	}
	return out
}

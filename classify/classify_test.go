package classify

import (
	"math"
	"testing"
)

func ex(label string, names ...string) Example {
	var fs []Feature
	for _, n := range names {
		fs = append(fs, Feature{Name: n, Weight: 1})
	}
	return Example{Features: fs, Label: label}
}

var toy = []Example{
	ex("sms", "w:sms", "w:not", "w:receiv"), ex("sms", "w:sms", "w:never", "w:came"), ex("sms", "c:not_received", "w:text"),
	ex("deadline", "w:24", "w:hour", "w:miss"), ex("deadline", "w:expir", "w:code"), ex("deadline", "c:hours24", "w:late"),
	ex("greeting", "w:hello"), ex("greeting", "w:hi", "w:there"), ex("greeting", "w:hey"),
}

func TestLearnsAndGeneralises(t *testing.T) {
	m := Train(toy, Options{Seed: 1})
	for _, e := range toy {
		if got := m.Predict(e.Features).Scores[0].Label; got != e.Label {
			t.Errorf("training example %v predicted %s, want %s", e.Features, got, e.Label)
		}
	}
	// Unseen combinations of seen features.
	for _, tc := range []struct {
		features []string
		want     string
	}{
		{[]string{"w:sms", "w:came", "w:never", "w:unseen"}, "sms"},
		{[]string{"w:expir", "w:24"}, "deadline"},
	} {
		p := m.Predict(ex("", tc.features...).Features)
		if p.Scores[0].Label != tc.want {
			t.Errorf("%v predicted %v, want %s", tc.features, p.Scores, tc.want)
		}
	}
}

func TestProbabilitiesAndCoverage(t *testing.T) {
	m := Train(toy, Options{Seed: 1})
	p := m.Predict(ex("", "w:hello", "w:zzz").Features)
	sum := 0.0
	for i, s := range p.Scores {
		sum += s.Prob
		if i > 0 && s.Prob > p.Scores[i-1].Prob {
			t.Errorf("scores not sorted: %v", p.Scores)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("probabilities sum to %v", sum)
	}
	if math.Abs(p.Coverage-0.5) > 1e-9 {
		t.Errorf("coverage %v, want 0.5 (one of two equal features known)", p.Coverage)
	}
	if p := m.Predict(ex("", "w:unknown1", "w:unknown2").Features); p.Coverage != 0 {
		t.Errorf("coverage of unseen words %v, want 0", p.Coverage)
	}
	if p := m.Predict(nil); p.Coverage != 0 || len(p.Scores) != 3 {
		t.Errorf("empty input: %+v", p)
	}
}

// The same examples and seed give the same model: start-up is reproducible.
func TestDeterministic(t *testing.T) {
	a := Train(toy, Options{Seed: 7}).Predict(ex("", "w:sms", "w:late").Features)
	b := Train(toy, Options{Seed: 7}).Predict(ex("", "w:sms", "w:late").Features)
	for i := range a.Scores {
		if a.Scores[i] != b.Scores[i] {
			t.Fatalf("two trainings differ: %v vs %v", a.Scores, b.Scores)
		}
	}
}

func TestNormalize(t *testing.T) {
	got := normalize([]Feature{{"a", 1}, {"b", 1}, {"a", 1}})
	if len(got) != 2 || math.Abs(got[0].Weight-2/math.Sqrt(5)) > 1e-9 || got[0].Name != "a" {
		t.Errorf("normalize = %v", got)
	}
	if normalize(nil) != nil || normalize([]Feature{{"a", 0}}) != nil {
		t.Error("a zero vector must normalise to nothing")
	}
}

func BenchmarkTrain(b *testing.B) {
	var data []Example
	for i := 0; i < 60; i++ {
		data = append(data, toy...)
	}
	for b.Loop() {
		Train(data, Options{})
	}
}

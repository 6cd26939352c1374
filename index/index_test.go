package index

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

var (
	once     sync.Once
	shared   *Index
	buildErr error
)

func testIndex(t testing.TB) *Index {
	t.Helper()
	once.Do(func() {
		kb, err := knowledge.Embedded()
		if err != nil {
			buildErr = err
			return
		}
		shared, buildErr = Build(context.Background(), kb, reader(t))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return shared
}

// reader reads texts with the embedded lexicon.
func reader(t testing.TB) Reader {
	t.Helper()
	lex, err := concept.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return func(text string) concept.Reading { return lex.Read(lang.Normalize(text)) }
}

func search(t testing.TB, x *Index, q string) ([]Hit, error) {
	return x.Search(context.Background(), reader(t)(q))
}

func top(t *testing.T, x *Index, q string) Hit {
	t.Helper()
	hits, err := search(t, x, q)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	if len(hits) == 0 {
		return Hit{}
	}
	return hits[0]
}

func TestBuild(t *testing.T) {
	x := testIndex(t)
	if x.Docs() < 14*20 || x.BuildTime() <= 0 {
		t.Errorf("docs %d, build time %s", x.Docs(), x.BuildTime())
	}
}

// Variants of the same question that the analysers must fold together:
// Traditional and Simplified, full- and half-width, English typos.
func TestVariantsFindTheSameTopic(t *testing.T) {
	x := testIndex(t)
	// Script and width variants normalise to the same text: same scores.
	same := [][2]string{
		{"收不到核验短信怎么办", "收不到核驗短信怎麼辦"},
		{"港澳通行证后6位填哪个", "港澳通行證後６位填哪個"},
		{"I did not receive the SMS", "I did not receive the ＳＭＳ"},
	}
	for _, p := range same {
		a, b := top(t, x, p[0]), top(t, x, p[1])
		if a.Topic == "" || a != b {
			t.Errorf("%q → %+v but %q → %+v", p[0], a, p[1], b)
		}
	}
	// A misspelt English word that points to one topic still points there.
	typos := [][2]string{
		{"emergency contact", "emergancy contact"},
		{"zhejiang permit", "zheijang permitt"},
		{"deadline passed", "deadlin passed"},
		{"resend the code", "resnd the code"},
		{"spam blocking", "spam blokcing"},
	}
	for _, p := range typos {
		a, b := top(t, x, p[0]), top(t, x, p[1])
		if a.Topic == "" || a.Topic != b.Topic {
			t.Errorf("%q → %q but %q → %q", p[0], a.Topic, p[1], b.Topic)
		}
	}
}

// Only unknown words are searched by their neighbours: another form of an
// indexed word ("finds") is matched by stemming, not taken for a typo.
func TestTypoNeighbours(t *testing.T) {
	x := testIndex(t)
	if n := x.near("verifcation"); !slices.Contains(n, "verification") {
		t.Errorf("near(verifcation) = %v, want verification among them", n)
	}
	for _, w := range []string{"verifies", "receiving", "filings"} {
		if !x.knownStem(w) {
			t.Errorf("%q: not recognised as a form of an indexed word", w)
		}
	}
	if x.knownStem("verifcation") {
		t.Error("a misspelling taken for a known word")
	}
}

func TestScoresOrdered(t *testing.T) {
	x := testIndex(t)
	hits, err := search(t, x, "核验短信一直收不到")
	if err != nil || len(hits) < 2 {
		t.Fatalf("hits %v, err %v", hits, err)
	}
	seen := map[string]bool{}
	for i, h := range hits {
		if seen[h.Topic] {
			t.Errorf("topic %s listed twice", h.Topic)
		}
		seen[h.Topic] = true
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("hits not sorted by score: %v", hits)
		}
	}
}

// No match on the Chinese fields by edit distance: characters that appear in
// no example find nothing.
func TestNoFuzzyOnChinese(t *testing.T) {
	x := testIndex(t)
	if h := top(t, x, "鑫龘靐齉"); h.Topic != "" {
		t.Errorf("unrelated characters matched %s (%.3f)", h.Topic, h.Score)
	}
}

func TestEdgeInputs(t *testing.T) {
	x := testIndex(t)
	for _, q := range []string{"", "   ", "\x00\xff", strings.Repeat("短信核验 ", 5000), "？？？"} {
		if _, err := search(t, x, q); err != nil {
			t.Errorf("%.20q: %v", q, err)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	x := testIndex(b)
	var qs []concept.Reading
	for _, q := range []string{"收不到核验短信怎么办", "which 6 digits of my home return permit", "該條驗證庫裡找不到記錄", "what happens after 24 hours"} {
		qs = append(qs, reader(b)(q))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := x.Search(context.Background(), qs[i%len(qs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	kb, err := knowledge.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	read := reader(b)
	for i := 0; i < b.N; i++ {
		x, err := Build(context.Background(), kb, read)
		if err != nil {
			b.Fatal(err)
		}
		x.Close()
	}
}

package concept

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

func embedded(t testing.TB) *Lexicon {
	t.Helper()
	l, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ids lists a reading's concepts, negated ones marked "!", places with
// their province.
func ids(r Reading) []string {
	var out []string
	for _, m := range r.Mentions {
		id := m.ID
		if m.Province != "" {
			id += "(" + m.Province + ")"
		}
		out = append(out, id)
	}
	return out
}

// The same idea in Simplified, Traditional, Cantonese and English reads as
// the same concepts: that is what lets an example in one language teach the
// others.
func TestSameConceptsAcrossLanguages(t *testing.T) {
	l := embedded(t)
	for _, tc := range []struct {
		want  string
		texts []string
	}{
		{"not_received", []string{"没收到短信", "沒收到簡訊", "冇收到短信", "收唔到短信", "收不到短信", "never got the text", "i didn't get the sms", "the sms hasn't arrived", "got nothing"}},
		{"who", []string{"谁要核验", "誰要核驗", "邊個要核驗", "who has to verify"}},
		{"permit", []string{"港澳通行证", "港澳通行證", "回鄉證", "home return permit"}},
		{"record_not_found", []string{"该条验证库里找不到记录", "該條驗證庫裡找不到記錄", "it says record not found", "cannot find a record"}},
		{"emergency", []string{"应急联系电话", "應急聯絡人", "emergency contact"}},
		{"hours24", []string{"24小时", "二十四小時", "24 hours", "24h", "within 24hrs"}},
		{"transfer_in", []string{"转入", "轉入", "transfer in"}},
	} {
		for _, text := range tc.texts {
			if got := ids(l.Read(lang.Normalize(text))); !slices.Contains(got, tc.want) {
				t.Errorf("%q reads as %v, want %s among them", text, got, tc.want)
			}
		}
	}
}

// A negation turns the concept right after it (within its clause) into its
// negated form, preferring a verb to a noun; "不涉及" passes the negation on.
func TestNegation(t *testing.T) {
	l := embedded(t)
	for _, tc := range []struct {
		text string
		want []string // exactly these concepts, in order
	}{
		{"没有收到", []string{"not_received"}}, // listed whole
		{"网站没有修改", []string{"website", "negation", "unchanged"}},
		{"nothing about the site changes", []string{"negation", "website", "unchanged"}},
		{"不涉及变更省份", []string{"negation", "unchanged", "unchanged", "province"}},
		{"收到短信，没有问题", []string{"receive", "sms", "negation", "normal"}}, // the comma ends the clause
		{"got nothing", []string{"not_received", "negation"}},
		{"收到没有", []string{"receive", "negation"}}, // a question in Chinese, not a negation
		{"不过网站变了", []string{"neutral", "website", "change"}},
	} {
		if got := ids(l.Read(lang.Normalize(tc.text))); !slices.Equal(got, tc.want) {
			t.Errorf("%q reads as %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestCompoundsPlacesAndTypos(t *testing.T) {
	l := embedded(t)
	for _, tc := range []struct {
		text, want string
	}{
		{"其他云服务商", "other_provider"}, // compound: different + provider
		{"从杭州搬到宁波", "place(浙江)"},     // a city stands for its province
		{"moving to shenzhen", "place(广东)"},
		{"domian migration", "domain"}, // one typo away from a lexicon word
		{"verifcation failed", "verify"},
	} {
		if got := ids(l.Read(lang.Normalize(tc.text))); !slices.Contains(got, tc.want) {
			t.Errorf("%q reads as %v, want %s among them", tc.text, got, tc.want)
		}
	}
	// Short words are not corrected: they have too many neighbours.
	if got := ids(l.Read("smx")); len(got) != 0 {
		t.Errorf("smx reads as %v", got)
	}
}

// Clauses end at punctuation, line breaks and "but"; a clause is a question
// when it ends with a question mark or holds a question word.
func TestClauses(t *testing.T) {
	l := embedded(t)
	for _, tc := range []struct {
		text      string
		questions []bool
	}{
		{"我们上周提交了备案。短信一直没来，怎么办？", []bool{false, false, true}},
		{"remove one site but keep the others", []bool{false, false}},
		{"第一行\n第二行谁要核验", []bool{false, true}},
		{"网站名称、域名都没动", []bool{false}}, // 、 lists, it does not end a clause
		{"is it normal", []bool{true}},
	} {
		r := l.Read(lang.Normalize(tc.text))
		var got []bool
		for _, c := range r.Clauses {
			got = append(got, c.Question)
		}
		if !slices.Equal(got, tc.questions) {
			t.Errorf("%q: clauses %v, want %v", tc.text, got, tc.questions)
		}
	}
}

// The question of a story is its focus only when it says something itself.
func TestFocus(t *testing.T) {
	l := embedded(t)
	story := l.Read(lang.Normalize("周五收到了短信，老板出差到周一，现在还能核验吗？"))
	if f := story.Focus(); !slices.Equal(f, []int{2}) {
		t.Errorf("focus %v, want the last clause", f)
	}
	vague := l.Read(lang.Normalize("never got the verification text from MIIT, what now?"))
	if f := vague.Focus(); f != nil {
		t.Errorf("focus %v, want none: \"what now?\" says nothing of its own", f)
	}
}

func TestReadBadInput(t *testing.T) {
	l := embedded(t)
	for _, text := range []string{"", " ", "\xff\xfe", strings.Repeat("核验", 5000), strings.Repeat("a ", 10000), "？？？", "\x00"} {
		r := l.Read(lang.Normalize(text))
		for _, m := range r.Mentions {
			if m.Start < 0 || m.End > len(r.Text) || m.Start > m.End || m.Clause >= len(r.Clauses) {
				t.Fatalf("%.20q: mention %+v out of range", text, m)
			}
		}
	}
}

// Every word of the lexicon reads as its own concept: no longer word or
// typo correction hides it.
func TestEveryWordReadsAsItsConcept(t *testing.T) {
	l := embedded(t)
	doc, lines := lexiconDocument(t)
	for id, c := range doc.Concepts {
		for _, w := range append(append([]string{}, c.ZH...), c.EN...) {
			r := l.Read(lang.Normalize(w))
			ok := slices.ContainsFunc(r.Mentions, func(m Mention) bool {
				return m.Base == id && m.From == 0 && m.To == len(r.Tokens)
			})
			if !ok {
				t.Errorf("%s: %q (line %d) reads as %v", id, w, lines.find(w), ids(r))
			}
		}
	}
}

func lexiconDocument(t *testing.T) (lexiconDoc, lineFinder) {
	t.Helper()
	var doc lexiconDoc
	if err := decodeStrict(lexiconFile, lexiconYAML, &doc); err != nil {
		t.Fatal(err)
	}
	return doc, newLineFinder(lexiconYAML)
}

// Errors in a lexicon name the file, the line and the field.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, field string
	}{
		{"unknown kind", "concepts:\n  sms:\n    kind: noun\n    zh: [短信]\n", "concepts.sms.kind"},
		{"twice", "concepts:\n  sms:\n    kind: term\n    zh: [短信]\n  text:\n    kind: term\n    zh: [短信]\n", "concepts.text"},
		{"unknown negated", "concepts:\n  sms:\n    kind: term\n    negated: nosms\n    zh: [短信]\n", "concepts.sms.negated"},
		{"no words", "concepts:\n  sms:\n    kind: term\n", "concepts.sms"},
		{"punctuation", "concepts:\n  sms:\n    kind: term\n    zh: [\"短，信\"]\n", "concepts.sms"},
		{"bundle of unknown", "concepts:\n  sms:\n    kind: term\n    zh: [短信]\nbundles:\n  - means: [sms, nothing]\n    zh: [短讯]\n", "bundles[0].means"},
		{"compound of unknown", "concepts:\n  sms:\n    kind: term\n    zh: [短信]\ncompounds:\n  - {first: sms, then: x, means: sms}\n", "compounds[0]"},
	} {
		_, err := Parse("lex.yaml", []byte(tc.data), "places.yaml", []byte("provinces: []\n"))
		var e *Error
		if !errors.As(err, &e) || e.File != "lex.yaml" || e.Field != tc.field || e.Line < 1 {
			t.Errorf("%s: error %v, want one in lex.yaml naming %s", tc.name, err, tc.field)
		}
	}
	for _, tc := range []struct{ name, data string }{
		{"unknown field", "concepts:\n  sms:\n    kind: term\n    colour: red\n"},
		{"syntax", "concepts: [\n"},
		{"empty", ""},
	} {
		if _, err := Parse("lex.yaml", []byte(tc.data), "places.yaml", []byte("provinces: []\n")); err == nil || !strings.Contains(err.Error(), "lex.yaml") {
			t.Errorf("%s: error %v, want one naming lex.yaml", tc.name, err)
		}
	}
	lex := "concepts:\n  sms:\n    kind: term\n    zh: [短信]\n"
	for _, tc := range []struct{ name, data string }{
		{"missing en", "provinces:\n  - {zh: 浙江}\n"},
		{"city in two provinces", "provinces:\n  - {zh: 浙江, en: zhejiang, cities: {zh: [杭州]}}\n  - {zh: 江苏, en: jiangsu, cities: {zh: [杭州]}}\n"},
	} {
		_, err := Parse("lex.yaml", []byte(lex), "places.yaml", []byte(tc.data))
		var e *Error
		if !errors.As(err, &e) || e.File != "places.yaml" {
			t.Errorf("%s: error %v, want one in places.yaml", tc.name, err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	l := embedded(b)
	texts := []string{
		lang.Normalize("新增接入，网站负责人一直没收到核验短信，怎么办？"),
		lang.Normalize("we changed the company name but the website stays the same, who has to verify?"),
		lang.Normalize("你好 我们公司上周在你们这提交了首次备案 客服说会收到工信部的短信 但是我们法人和网站负责人是两个人 想问下是不是两个人都要去核验 还是一个人就行"),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Read(texts[i%len(texts)])
	}
}

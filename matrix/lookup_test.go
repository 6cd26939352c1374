package matrix

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beianbot/beianbot/lang"
)

// key names a row compactly in test expectations: "变更主体/不涉及变更省份", "首次备案".
func key(r Row) string {
	if r.Subcase == "" {
		return r.Business
	}
	return r.Business + "/" + r.Subcase
}

func keys(rows []Row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, key(r))
	}
	return out
}

// checkDescribed fails when a row comes back that no recognised span names.
func checkDescribed(t *testing.T, text string, m Match) {
	t.Helper()
	for _, r := range m.Rows {
		ok := slices.ContainsFunc(m.Spans, func(s Span) bool {
			return s.Business == r.Business && (s.Subcase == "" || s.Subcase == r.Subcase)
		})
		if !ok {
			t.Errorf("Lookup(%q) returned %s, which no span names (spans %+v)", text, key(r), m.Spans)
		}
	}
}

// Every row by its Chinese, Traditional and English names, alone and inside a question.
func TestLookupEveryRow(t *testing.T) {
	tb := embeddedTable(t)
	cases := []struct {
		row   string // key of the one row expected
		texts []string
	}{
		{"首次备案", []string{"首次备案", "首次备案谁要短信核验？", "首次備案需要誰核驗", "第一次備案", "First-time filing", "who verifies for a first time filing?", "NEW ICP FILING"}},
		{"新增网站", []string{"新增网站", "我要新增网站，谁收短信", "再加个网站要谁核验", "新增網站", "Add a website", "adding another website, who gets the SMS?"}},
		{"新增接入", []string{"新增接入", "转接入要谁核验", "接入備案", "轉入", "New access", "transfer-in: who needs to verify", "I want to move my site to QingCloud"}},
		{"变更备案/仅主体变更", []string{"变更备案 仅主体变更", "仅主体变更", "變更備案 僅主體變更", "change filing, only the entity changes", "Change filing / only the entity changes", "entity only"}},
		{"变更备案/主体网站均变更", []string{"变更备案，主体网站均变更", "主体网站均变更", "主體網站均變更", "主体和网站都变更了", "both entity and website change", "change filing where the entity and website both change"}},
		{"变更备案/仅接入变更", []string{"变更备案 仅接入变更", "仅接入变更", "僅接入變更", "change filing: only the access changes", "access only"}},
		{"变更主体/不涉及变更省份", []string{"变更主体 不涉及变更省份", "不涉及变更省份", "变更主体，同省", "變更主體 不涉及變更省份", "省份不變", "change entity, province unchanged", "it doesn't involve changing province", "change entity but the province doesn't change"}},
		{"变更主体/涉及变更所在省", []string{"变更主体 涉及变更所在省", "涉及变更所在省", "变更主体，要跨省", "變更主體 涉及變更所在省", "換省了", "change entity, province changes", "change of entity: we move to another province"}},
		{"变更网站", []string{"变更网站", "变更网站信息谁核验", "變更網站", "Change website", "change the website information"}},
		{"变更接入", []string{"变更接入", "變更接入", "Change access", "change access information"}},
		{"域名迁移", []string{"域名迁移", "域名遷移", "Domain migration", "migrating domains"}},
		{"网站迁移", []string{"网站迁移", "網站遷移", "Website migration", "site migration"}},
		{"注销主体/接入商发起", []string{"注销主体", "注销主体 接入商发起", "註銷主體", "註銷主體 接入商發起", "Cancel entity", "cancel the entity, initiated by the access provider"}},
		{"注销网站/接入商发起", []string{"注销网站", "注销网站 接入商发起", "註銷網站", "Cancel website", "cancel the website (provider initiated)"}},
		{"取消接入/接入商发起", []string{"取消接入", "取消接入 接入商发起", "取消接入，接入商發起", "Cancel access", "cancel access initiated by the access provider"}},
	}
	var want = map[string]Row{}
	for _, r := range tb.Rows() {
		want[key(r)] = r
	}
	for _, tc := range cases {
		row, ok := want[tc.row]
		if !ok {
			t.Fatalf("test names unknown row %s", tc.row)
		}
		for _, text := range tc.texts {
			m := tb.Lookup(text)
			checkDescribed(t, text, m)
			if !m.Agree() || m.Rows[0].Principal != row.Principal || m.Rows[0].Website != row.Website {
				t.Errorf("Lookup(%q) = %v agree=%v, want %s (principal %v, website %v); rule: %s",
					text, keys(m.Rows), m.Agree(), tc.row, row.Principal, row.Website, m.Rule)
				continue
			}
			if got := keys(m.Rows); !slices.Equal(got, []string{tc.row}) {
				t.Errorf("Lookup(%q) rows = %v, want exactly [%s]", text, got, tc.row)
			}
		}
	}
}

// Every row by its own Label in both languages, and by the Traditional form of the Chinese label.
func TestLookupByLabels(t *testing.T) {
	tb := embeddedTable(t)
	for _, r := range tb.Rows() {
		for _, text := range []string{r.Label(lang.ZH), r.Label(lang.EN), lang.ToTraditional(r.Label(lang.ZH))} {
			if got := keys(tb.Lookup(text).Rows); !slices.Equal(got, []string{key(r)}) {
				t.Errorf("Lookup(%q) = %v, want [%s]", text, got, key(r))
			}
		}
	}
}

// Words that can mean rows that disagree must ask back with exactly those rows.
func TestLookupAskBack(t *testing.T) {
	tb := embeddedTable(t)
	changeFiling := []string{"变更备案/仅主体变更", "变更备案/主体网站均变更", "变更备案/网站变更", "变更备案/仅接入变更"}
	changeEntity := []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}
	entityChange := []string{"变更备案/仅主体变更", "变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}
	cancellations := []string{"注销主体/接入商发起", "注销网站/接入商发起", "取消接入/接入商发起"}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"变更备案", changeFiling},
		{"变更备案需要谁核验", changeFiling},
		{"變更備案", changeFiling},
		{"I need to change my filing, who verifies?", changeFiling},
		{"变更主体", changeEntity},
		{"變更主體誰收短信", changeEntity},
		{"change entity", changeEntity},
		{"主体变更", entityChange},
		{"主體變更", entityChange},
		{"entity change", entityChange},
		{"接入商发起", cancellations},
		{"initiated by the access provider", cancellations},
		{"注销备案", []string{"注销主体/接入商发起", "注销网站/接入商发起"}},
		{"cancel my ICP filing", []string{"注销主体/接入商发起", "注销网站/接入商发起"}},
		{"新增接入和变更接入", []string{"新增接入", "变更接入"}},
		// Two ambiguous words read together: both are subcases of 变更备案, which disagree.
		{"主体变更，网站变更", []string{"变更备案/仅主体变更", "变更备案/网站变更"}},
	} {
		m := tb.Lookup(tc.text)
		checkDescribed(t, tc.text, m)
		if got := keys(m.Rows); !slices.Equal(got, tc.want) || m.Agree() {
			t.Errorf("Lookup(%q) = %v agree=%v, want ask-back among %v; rule: %s", tc.text, got, m.Agree(), tc.want, m.Rule)
		}
		if !strings.Contains(m.Rule, "ask back") {
			t.Errorf("Lookup(%q).Rule = %q, should say it asks back", tc.text, m.Rule)
		}
	}
}

// Several rows that agree are answered: "网站变更" is both 变更备案/网站变更 and 变更网站.
func TestLookupAgreeingRows(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"网站变更", []string{"变更备案/网站变更", "变更网站"}},
		{"網站變更", []string{"变更备案/网站变更", "变更网站"}},
		{"website change", []string{"变更备案/网站变更", "变更网站"}},
		{"接入变更", []string{"变更备案/仅接入变更", "变更接入"}},
		{"首次备案还是新增网站都一样吗", []string{"首次备案", "新增网站"}},
		{"域名迁移和网站迁移", []string{"域名迁移", "网站迁移"}},
	} {
		m := tb.Lookup(tc.text)
		checkDescribed(t, tc.text, m)
		if got := keys(m.Rows); !slices.Equal(got, tc.want) || !m.Agree() {
			t.Errorf("Lookup(%q) = %v agree=%v, want agreeing %v; rule: %s", tc.text, got, m.Agree(), tc.want, m.Rule)
		}
	}
}

// An ambiguous word is read in the light of the business named beside it.
func TestLookupContextResolvesAmbiguousWord(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"变更备案，主体变更", []string{"变更备案/仅主体变更"}},
		{"变更备案，网站变更", []string{"变更备案/网站变更"}},
		{"变更主体（主体变更）不跨省", []string{"变更主体/不涉及变更省份"}},
		{"注销主体，接入商发起", []string{"注销主体/接入商发起"}},
		{"change filing: entity change", []string{"变更备案/仅主体变更"}},
	} {
		m := tb.Lookup(tc.text)
		checkDescribed(t, tc.text, m)
		if got := keys(m.Rows); !slices.Equal(got, tc.want) {
			t.Errorf("Lookup(%q) = %v, want %v; rule: %s", tc.text, got, tc.want, m.Rule)
		}
	}
}

// Substring traps: a shorter name inside a longer one, negations, look-alikes.
func TestLookupSubstringTraps(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		text string
		want []string // nil: no filing type
	}{
		{"域名迁移", []string{"域名迁移"}},
		{"网站迁移", []string{"网站迁移"}},
		{"注销网站", []string{"注销网站/接入商发起"}},
		{"新增网站", []string{"新增网站"}},
		{"主体网站均变更", []string{"变更备案/主体网站均变更"}},  // not 网站变更 nor 变更网站
		{"仅主体变更", []string{"变更备案/仅主体变更"}},      // not business 变更主体
		{"仅接入变更", []string{"变更备案/仅接入变更"}},      // not business 变更接入
		{"只变更网站", []string{"变更备案/网站变更"}},       // contains 变更网站
		{"不涉及变更省份", []string{"变更主体/不涉及变更省份"}},  // contains 涉及变更省份
		{"不涉及变更所在省", []string{"变更主体/不涉及变更省份"}}, // contains 涉及变更所在省
		{"涉及变更所在省", []string{"变更主体/涉及变更所在省"}},
		{"同省", []string{"变更主体/不涉及变更省份"}},
		{"不同省", []string{"变更主体/涉及变更所在省"}},  // contains 同省
		{"不跨省", []string{"变更主体/不涉及变更省份"}},  // contains 跨省
		{"没有换省", []string{"变更主体/不涉及变更省份"}}, // contains 换省
		{"不变更省份", []string{"变更主体/不涉及变更省份"}},
		{"省份也变了", []string{"变更主体/涉及变更所在省"}},
		{"省份也没变", []string{"变更主体/不涉及变更省份"}},                  // not 省份也变                  // contains 变更省份
		{"取消接入备案", []string{"取消接入/接入商发起"}},                   // contains 接入备案 (新增接入)
		{"新增接入备案", []string{"新增接入"}},                         // contains 新增接入 and 接入备案
		{"注销备案主体", []string{"注销主体/接入商发起"}},                   // contains 注销备案 (ambiguous)
		{"变更备案主体", []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}}, // contains 变更备案
		{"第一次备案", []string{"首次备案"}},
		{"重新备案", nil},       // contains 新备案
		{"首次核验失败了怎么办", nil}, // contains 首次
		{"变更，主体", nil},      // punctuation breaks the phrase
		{"网站负责人是谁", nil},    // 网站 alone is no filing type
		{"接入商是青云", nil},     // 接入商 is not 接入商发起
		{"doesn't involve changing province", []string{"变更主体/不涉及变更省份"}}, // contains "changing province"
		{"does not involve changing province", []string{"变更主体/不涉及变更省份"}},
		{"changing province", []string{"变更主体/涉及变更所在省"}},
		{"no province change", []string{"变更主体/不涉及变更省份"}},
		{"province changes", []string{"变更主体/涉及变更所在省"}},
		{"not moving to another province", []string{"变更主体/不涉及变更省份"}},
		{"cancel access filing", []string{"取消接入/接入商发起"}}, // contains "access filing"
		{"only change the website", []string{"变更备案/网站变更"}},
		{"websites", nil},
		{"newfiling", nil},                        // word boundaries
		{"renew filing", nil},                     // "new filing" only as whole words
		{"accessibility change", nil},             // not "access change"
		{"the access provider is QingCloud", nil}, // "access provider" alone is nothing
		{"CHANGE ENTITY", []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}}, // case
		{"ＣＨＡＮＧＥ　ＷＥＢＳＩＴＥ", []string{"变更网站"}},                        // full width
		{"Change-Website", []string{"变更网站"}},
	} {
		m := tb.Lookup(tc.text)
		checkDescribed(t, tc.text, m)
		got := keys(m.Rows)
		if len(tc.want) == 0 {
			if len(got) != 0 {
				t.Errorf("Lookup(%q) = %v, want no filing type; spans %+v", tc.text, got, m.Spans)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Lookup(%q) = %v, want %v; rule: %s", tc.text, got, tc.want, m.Rule)
		}
	}
}

// Bad input never panics and gives a sensible result.
func TestLookupBadInput(t *testing.T) {
	tb := embeddedTable(t)
	huge := strings.Repeat("我的网站要备案，请问怎么做？", 20000/14+1)
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", nil},
		{"whitespace", " \t\n\u3000 ", nil},
		{"punctuation", "？？？!!!", nil},
		{"invalid UTF-8", "\xff\xfe新增接入\xc3", []string{"新增接入"}},
		{"invalid UTF-8 only", "\xff\xfe\xfd", nil},
		{"NUL bytes", "新增\x00接入\x00", []string{"新增接入"}},
		{"NUL only", "\x00\x00\x00", nil},
		{"huge without filing type", huge, nil},
		{"huge with one at the end", huge + "变更接入", []string{"变更接入"}},
		{"huge repeated name", strings.Repeat("变更主体 ", 4000), []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}},
		{"huge latin", strings.Repeat("a", 20000), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tb.Lookup(tc.text)
			if got := keys(m.Rows); !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("rows = %v, want %v", got, tc.want)
			}
			if m.Rule == "" {
				t.Error("empty Rule")
			}
			if r := tb.Residual(tc.text); !utf8.ValidString(r) {
				t.Errorf("Residual is not valid UTF-8: %q", r)
			}
			tb.Narrow(tb.Rows(), tc.text) // must not panic
		})
	}
}

func TestSpans(t *testing.T) {
	tb := embeddedTable(t)
	text := "请问 變更主體 不跨省 谁要核验"
	m := tb.Lookup(text)
	norm := lang.Normalize(text)
	want := []Span{
		{Text: "变更主体", Business: "变更主体"},
		{Text: "不跨省", Business: "变更主体", Subcase: "不涉及变更省份"},
	}
	if len(m.Spans) != len(want) {
		t.Fatalf("spans = %+v, want %d", m.Spans, len(want))
	}
	for i, s := range m.Spans {
		if s.Text != want[i].Text || s.Business != want[i].Business || s.Subcase != want[i].Subcase {
			t.Errorf("span %d = %+v, want %+v", i, s, want[i])
		}
		if norm[s.Start:s.End] != s.Text {
			t.Errorf("span %d: normalised text [%d:%d] = %q, Text %q", i, s.Start, s.End, norm[s.Start:s.End], s.Text)
		}
	}
}

func TestResidual(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct{ text, want string }{
		{"新增接入", ""},
		{"新增接入 who needs to verify?", "who needs to verify?"},
		{"新增接入时收不到短信怎么办", "时收不到短信怎么办"},
		{"變更主體，不跨省，誰核驗", ", ,谁核验"},
		{"Change Entity - province unchanged", "-"},
		{"首次核验失败", "首次核验失败"}, // an ignore phrase is not a filing type, so it stays
		{"", ""},
	} {
		if got := tb.Residual(tc.text); got != tc.want {
			t.Errorf("Residual(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestNarrow(t *testing.T) {
	tb := embeddedTable(t)
	changeFiling := tb.Lookup("变更备案").Rows
	changeEntity := tb.Lookup("变更主体").Rows
	entityChange := tb.Lookup("主体变更").Rows
	cancellations := tb.Lookup("接入商发起").Rows
	for _, tc := range []struct {
		name       string
		candidates []Row
		text       string
		want       []string
	}{
		{"subcase name", changeFiling, "仅接入变更", []string{"变更备案/仅接入变更"}},
		{"subcase Traditional", changeFiling, "僅接入變更", []string{"变更备案/仅接入变更"}},
		{"subcase English", changeFiling, "only the access changes", []string{"变更备案/仅接入变更"}},
		{"ambiguous word among candidates", changeFiling, "网站变更", []string{"变更备案/网站变更"}},
		{"label zh", changeFiling, "变更备案 / 主体网站均变更", []string{"变更备案/主体网站均变更"}},
		{"label en", changeFiling, "Change filing / website change", []string{"变更备案/网站变更"}},
		{"number", changeFiling, "2", []string{"变更备案/主体网站均变更"}},
		{"full-width number", changeFiling, "３", []string{"变更备案/网站变更"}},
		{"第N个", changeFiling, "第4个", []string{"变更备案/仅接入变更"}},
		{"Chinese numeral", changeFiling, "第二个", []string{"变更备案/主体网站均变更"}},
		{"option N", changeFiling, "Option 1", []string{"变更备案/仅主体变更"}},
		{"ordinal", changeFiling, "the second one", []string{"变更备案/主体网站均变更"}},
		{"#N", changeFiling, "#3.", []string{"变更备案/网站变更"}},
		{"number out of range", changeFiling, "5", nil},
		{"zero", changeFiling, "0", nil},
		{"English phrase", changeEntity, "it doesn't involve changing province", []string{"变更主体/不涉及变更省份"}},
		{"colloquial", changeEntity, "省份变了", []string{"变更主体/涉及变更所在省"}},
		{"business picks", entityChange, "变更备案", []string{"变更备案/仅主体变更"}},
		{"business narrows to two", entityChange, "变更主体", []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}},
		{"business of cancellation", cancellations, "注销网站", []string{"注销网站/接入商发起"}},
		{"label word zh", cancellations, "网站的那个", []string{"注销网站/接入商发起"}},
		{"label word en", cancellations, "the website one", []string{"注销网站/接入商发起"}},
		{"label word entity", cancellations, "entity", []string{"注销主体/接入商发起"}},
		{"another filing type", changeFiling, "首次备案", nil},
		{"picks nothing", changeFiling, "I don't know", nil},
		{"picks nothing zh", changeEntity, "不知道", nil},
		{"yes is not an option", changeEntity, "yes", nil},
		{"empty", changeFiling, "", nil},
		{"no candidates", nil, "2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tb.Narrow(tc.candidates, tc.text)
			if got := keys(m.Rows); !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("Narrow(%q) = %v, want %v; rule: %s", tc.text, got, tc.want, m.Rule)
			}
			if m.Rule == "" {
				t.Error("empty Rule")
			}
		})
	}
}

// Narrow picks each row by its label from among all rows.
func TestNarrowByLabelAmongAll(t *testing.T) {
	tb := embeddedTable(t)
	all := tb.Rows()
	for i, r := range all {
		for _, text := range []string{r.Label(lang.ZH), r.Label(lang.EN), fmt.Sprint(i + 1)} {
			if got := keys(tb.Narrow(all, text).Rows); !slices.Equal(got, []string{key(r)}) {
				t.Errorf("Narrow(all, %q) = %v, want [%s]", text, got, key(r))
			}
		}
	}
}

func TestOptionNumber(t *testing.T) {
	for text, want := range map[string]int{
		"1": 1, "2.": 2, "option 3": 3, "Option two": 2, "no. 4": 4, "#2": 2, "the first one": 1,
		"2nd": 2, "3rd option": 3, "i choose 2": 2, "第2个": 2, "第三个": 3, "选2": 2, "选项1": 1, "我选第一个": 1,
		"2号": 2, "②": 2,
	} {
		n, ok := optionNumber(lang.Normalize(text))
		if !ok || n != want {
			t.Errorf("optionNumber(%q) = %d, %v; want %d", text, n, ok, want)
		}
	}
	for _, text := range []string{"", "two options", "12345", "2 个网站", "first filing", "no", "one of them"} {
		if n, ok := optionNumber(lang.Normalize(text)); ok {
			t.Errorf("optionNumber(%q) = %d, want no option number", text, n)
		}
	}
}

// Every synonym in the data file, alone, is recognised whole as what it was
// written for (no ignore phrase or longer synonym hides it).
func TestEverySynonymMatchesItself(t *testing.T) {
	tb := embeddedTable(t)
	for m, syns := range tb.synonyms {
		for _, s := range syns {
			norm := lang.Normalize(s.text)
			match := tb.Lookup(s.text)
			if !coversWhole(match, norm, m) {
				t.Errorf("%s synonym %q of %s: Lookup spans %+v do not cover it", s.list, s.text, m, match.Spans)
			}
		}
	}
}

func coversWhole(match Match, norm string, m meaning) bool {
	return slices.ContainsFunc(match.Spans, func(sp Span) bool {
		return sp.Start == 0 && sp.End == len(norm) && sp.Business == m.business && sp.Subcase == m.subcase
	})
}

// Traditional synonyms are kept as written; each must convert to a known
// Simplified synonym of the same business or subcase, or match as itself.
func TestTraditionalSynonyms(t *testing.T) {
	tb := embeddedTable(t)
	converted, matched := 0, 0
	for m, syns := range tb.synonyms {
		simplified := map[string]bool{}
		for _, s := range syns {
			if s.list != "zh-hant" && s.list != "en" {
				simplified[lang.Normalize(s.text)] = true
			}
		}
		for _, s := range syns {
			if s.list != "zh-hant" {
				continue
			}
			if !lang.IsTraditional(s.text) {
				t.Errorf("zh-hant synonym %q of %s has no Traditional character; list it under zh", s.text, m)
			}
			switch {
			case simplified[lang.Normalize(s.text)]:
				converted++
			case coversWhole(tb.Lookup(s.text), lang.Normalize(s.text), m):
				matched++
			default:
				t.Errorf("zh-hant synonym %q of %s (Simplified %q) is neither a known synonym nor matched", s.text, m, lang.ToSimplified(s.text))
			}
		}
	}
	t.Logf("Traditional synonyms: %d convert to a listed Simplified synonym, %d match on their own", converted, matched)
	if converted+matched == 0 {
		t.Error("no Traditional synonyms found")
	}
}

// A phrase that names several things must be one of the deliberate
// ambiguities; anything else is a mistake in the data file.
func TestOnlyDeliberateAmbiguities(t *testing.T) {
	tb := embeddedTable(t)
	dual := map[string]string{"仅主体变更": "变更主体", "网站变更": "变更网站", "仅接入变更": "变更接入"}
	deliberate := func(ms []meaning) bool {
		// the subcase 接入商发起, shared by the three cancellation rows
		if !slices.ContainsFunc(ms, func(m meaning) bool { return m.subcase != "接入商发起" }) {
			return true
		}
		// "注销备案", "cancel filing": the whole filing or one website
		if len(ms) == 2 && ms[0] == (meaning{business: "注销主体"}) && ms[1] == (meaning{business: "注销网站"}) {
			return true
		}
		// "主体变更" and the like: a subcase of 变更备案 and a business of its own
		return len(ms) == 2 && ms[0].business == "变更备案" && ms[1] == (meaning{business: dual[ms[0].subcase]})
	}
	var walk func(n *trieNode, path string)
	found := 0
	walk = func(n *trieNode, path string) {
		if len(n.meanings) > 1 {
			found++
			if !deliberate(n.meanings) {
				t.Errorf("phrase %q names %s: not a deliberate ambiguity", path, joinMeanings(n.meanings))
			}
		}
		for tok, c := range n.next {
			walk(c, strings.TrimSpace(path+" "+tok))
		}
	}
	walk(tb.trie, "")
	if found == 0 {
		t.Error("no ambiguous phrases at all; the data file lost 主体变更 and friends")
	}
}

var benchQuestions = []string{
	"首次备案需要谁做短信核验？",
	"變更主體 不涉及變更省份 誰要核驗",
	"who needs to verify for a new access filing?",
	"我们只是网站变更，主体不变，要谁收短信",
	"It's a change of entity and it doesn't involve changing province",
	"没有收到工信部的短信怎么办",
	"注销网站",
	"2",
}

func BenchmarkLookup(b *testing.B) {
	tb := embeddedTable(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tb.Lookup(benchQuestions[i%len(benchQuestions)])
	}
}

func BenchmarkLookupHuge(b *testing.B) {
	tb := embeddedTable(b)
	text := strings.Repeat("我的网站要备案，请问变更主体怎么做？", 20000/18)
	b.ReportAllocs()
	for b.Loop() {
		tb.Lookup(text)
	}
}

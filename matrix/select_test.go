package matrix

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beianbot/beianbot/concept"
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

func lexicon(t testing.TB) *concept.Lexicon {
	t.Helper()
	lex, err := concept.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return lex
}

// read reads text as the engine does: normalised, then as concepts.
func read(t testing.TB, text string) concept.Reading {
	return lexicon(t).Read(lang.Normalize(text))
}

func selectRows(t testing.TB, tb *Table, text string) Match {
	t.Helper()
	return tb.Select(read(t, text))
}

// Every row by its own label in Chinese, Traditional Chinese and English,
// alone and inside a question, is exactly that row.
func TestSelectByOwnNames(t *testing.T) {
	tb := embeddedTable(t)
	for _, r := range tb.Rows() {
		for _, text := range []string{
			r.Label(lang.ZH), r.Label(lang.EN), lang.ToTraditional(r.Label(lang.ZH)),
			r.Label(lang.ZH) + "需要谁核验？", "who must verify for " + r.Label(lang.EN) + "?",
		} {
			m := selectRows(t, tb, text)
			if got := keys(m.Rows); !slices.Equal(got, []string{key(r)}) {
				t.Errorf("Select(%q) = %v, want [%s]; %s", text, got, key(r), m.Rule)
			}
		}
	}
}

// Rows described in the customer's own words, without the table's names.
func TestSelectDescribed(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		want  []string
		texts []string
	}{
		{[]string{"首次备案"}, []string{
			"我们公司从来没有备过案，这次是第一次", "头一回给网站做备案", "第一次申請ICP備案", "我哋第一次備案",
			"we have never filed before", "this is our very first ICP filing", "brand new filing for a new company",
			"a new company filing for the first time", // "new" and "first" both said: one is kept
		}},
		{[]string{"新增网站"}, []string{
			"does the website owner of the new site have to verify", // the site is new, not its owner
		}},
		{[]string{"新增网站"}, []string{
			"已经有备案了，想再加一个网站", "在原来的主体下增加网站", "公司名下想多加個網站",
			"we already have a filing and want to add another website", "adding a second site to our existing record",
		}},
		{[]string{"新增接入"}, []string{
			"网站在别的云备过案，现在要转到你们这里", "从阿里云迁到你们这边", "網站原本喺其他雲備咗案，而家轉過嚟",
			"our site is filed with another provider and we are moving it to you", "switching our hosting over from tencent cloud",
			"add access for a site already filed elsewhere",
			// The old provider closing is why the site moves, not a cancellation.
			"our previous provider is shutting down; our filed site will sit on your servers from now on",
			"原来的服务商关停了，已备案的网站以后放在你们的服务器上",
		}},
		{[]string{"变更备案/仅主体变更"}, []string{
			"变更备案，只改主体信息", "备案变更：就主体那部分改了，网站没动", "change filing, only the entity details change",
		}},
		{[]string{"变更备案/主体网站均变更"}, []string{
			"主体和网站的信息都要改", "公司信息跟网站信息一起变更", "主體同網站資料都要改",
			"both the company information and the website information change", "updating entity and site details together",
			// A clause with an action and nothing to act on acts on the things before it.
			"新的法人，新的网站名称，这两样都改了", "a new company name and a new site title, both updated",
		}},
		{[]string{"变更备案/网站变更"}, []string{
			"变更备案，只改网站那部分", "change filing: only the website part changes",
		}},
		{[]string{"变更接入"}, []string{
			"服务器换了IP，接入信息要改", "only the access information changes",
		}},
		{[]string{"变更主体/不涉及变更省份"}, []string{
			"公司改名了，还在原来的省", "换了法人，地址没变", "公司在杭州，只是改了名字，要变更主体，没跨省",
			"公司要改名，要变更主体", "only our company name changes", // a new name moves nothing
			"we renamed the company, same province", "the legal representative changed; we are still in the same city",
			"we're not changing province, just the company name", // what stays says what changes
		}},
		{[]string{"变更主体/涉及变更所在省"}, []string{
			"公司注册地从江苏迁到了浙江，要变更主体", "公司搬去外省了，主体信息要改", "公司由深圳搬咗去上海，要變更主體",
			"our company moved from beijing to shanghai and we need to change the entity", "change of entity: moving to another province",
		}},
		{[]string{"变更网站"}, []string{
			"网站名称改了", "网站负责人换人了，主体不改", "we renamed the website, the company stays the same",
		}},
		{[]string{"域名迁移"}, []string{"要把域名迁移一下", "migrating our domain", "domian migration"}},
		{[]string{"网站迁移"}, []string{"网站要做迁移", "we need to migrate the website"}},
		{[]string{"注销主体/接入商发起"}, []string{
			"公司不做了，整个主体注销", "deregistering the whole entity, the company is closing",
			"整个公司的备案注销掉，谁核验", // "whole" reaches past the owner
			"整个公司名下的备案连同网站都不需要了，统一注销",
		}},
		{[]string{"注销网站/接入商发起"}, []string{
			"我们有两个网站，想把其中一个从备案里删掉", "remove one of our websites from the filing, keep the rest",
			"公司有两个网站，打算注销其中一个", // "one of them" is its own thing, not all before it
		}},
		{[]string{"取消接入/接入商发起"}, []string{
			"以后不用你们的服务器了，要取消接入", "you will stop hosting our site", "cancel the hosting with you",
			"原接入商把我们的接入取消了", // what the provider cancels is named: not a move
		}},
	} {
		for _, text := range tc.texts {
			m := selectRows(t, tb, text)
			if got := keys(m.Rows); !slices.Equal(got, tc.want) {
				t.Errorf("Select(%q) = %v, want %v; %s", text, got, tc.want, m.Rule)
			}
		}
	}
}

// Words that fit rows which disagree must ask back with exactly those rows.
func TestSelectAskBack(t *testing.T) {
	tb := embeddedTable(t)
	changeFiling := []string{"变更备案/仅主体变更", "变更备案/主体网站均变更", "变更备案/网站变更", "变更备案/仅接入变更"}
	changeEntity := []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"变更备案", changeFiling},
		{"變更備案要邊個核驗", changeFiling},
		{"I need to change my filing, who verifies?", changeFiling},
		{"变更主体", changeEntity},
		{"change entity", changeEntity},
		{"注销备案", []string{"注销主体/接入商发起", "注销网站/接入商发起", "取消接入/接入商发起"}},
		{"接入商发起", []string{"注销主体/接入商发起", "注销网站/接入商发起", "取消接入/接入商发起"}},
		{"新增接入和变更接入", []string{"新增接入", "变更接入"}},
		// A move towards us, and a change of access said apart: two types.
		{"网站搬到青云这边的另一台服务器，接入信息也提交了变更", []string{"新增接入", "变更接入"}},
	} {
		m := selectRows(t, tb, tc.text)
		if got := keys(m.Rows); !slices.Equal(got, tc.want) || m.Agree() {
			t.Errorf("Select(%q) = %v agree=%v, want ask-back among %v; %s", tc.text, got, m.Agree(), tc.want, m.Rule)
		}
		if !strings.Contains(m.Rule, "ask back") {
			t.Errorf("Select(%q).Rule = %q, should say it asks back", tc.text, m.Rule)
		}
	}
}

// Several rows that agree are answered together.
func TestSelectAgreeingRows(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"首次备案还是新增网站都一样吗", []string{"首次备案", "新增网站"}},
		{"域名迁移和网站迁移", []string{"域名迁移", "网站迁移"}},
		{"变更备案，接入信息变更", []string{"变更备案/仅接入变更"}},
	} {
		m := selectRows(t, tb, tc.text)
		if got := keys(m.Rows); !slices.Equal(got, tc.want) || !m.Agree() {
			t.Errorf("Select(%q) = %v agree=%v, want agreeing %v; %s", tc.text, got, m.Agree(), tc.want, m.Rule)
		}
	}
}

// Words that name no filing type: an object or a person alone, look-alikes,
// negations, an adverb "first".
func TestSelectNoFilingType(t *testing.T) {
	tb := embeddedTable(t)
	for _, text := range []string{
		"网站负责人是谁", "接入商是青云", "重新备案要多久", "websites", "newfiling", "renew filing",
		"the access provider is QingCloud", "哪些号码会收到短信", "没收到短信怎么办", "how do I verify", "",
	} {
		m := selectRows(t, tb, text)
		if len(m.Rows) != 0 {
			t.Errorf("Select(%q) = %v, want no filing type; %s", text, keys(m.Rows), m.Rule)
		}
	}
	// An action alone is vague: every row of it, marked so.
	for _, text := range []string{"首次核验失败了", "we need to change something"} {
		if m := selectRows(t, tb, text); len(m.Rows) > 0 && !m.Vague {
			t.Errorf("Select(%q) = %v, not marked vague; %s", text, keys(m.Rows), m.Rule)
		}
	}
}

// Substring traps: a name inside a longer one, negations.
func TestSelectTraps(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"主体网站均变更", []string{"变更备案/主体网站均变更"}},
		{"仅主体变更", []string{"变更备案/仅主体变更"}},
		{"不涉及变更所在省的变更主体", []string{"变更主体/不涉及变更省份"}}, // holds 涉及变更所在省
		{"变更主体，不跨省", []string{"变更主体/不涉及变更省份"}},      // holds 跨省
		{"变更主体，省份没有变", []string{"变更主体/不涉及变更省份"}},
		{"变更主体，换到不同省了", []string{"变更主体/涉及变更所在省"}},
		{"变更主体，省份也变了", []string{"变更主体/涉及变更所在省"}},
		{"change entity, it doesn't involve changing province", []string{"变更主体/不涉及变更省份"}},
		{"change entity, the province changes", []string{"变更主体/涉及变更所在省"}},
		{"取消接入备案", []string{"取消接入/接入商发起"}}, // holds 接入备案 (新增接入)
		{"CHANGE WEBSITE", []string{"变更网站"}},
		{"ＣＨＡＮＧＥ　ＷＥＢＳＩＴＥ", []string{"变更网站"}},
		{"Change-Website", []string{"变更网站"}},
		{"变更主体，从杭州搬到宁波", []string{"变更主体/不涉及变更省份"}}, // two cities, one province
	} {
		m := selectRows(t, tb, tc.text)
		if got := keys(m.Rows); !slices.Equal(got, tc.want) {
			t.Errorf("Select(%q) = %v, want %v; %s", tc.text, got, tc.want, m.Rule)
		}
	}
}

// Bad input never panics and gives a sensible result.
func TestSelectBadInput(t *testing.T) {
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
		{"huge without filing type", huge, nil},
		{"huge with one at the end", huge + "变更接入", []string{"变更接入"}},
		{"huge repeated name", strings.Repeat("变更主体 ", 4000), []string{"变更主体/不涉及变更省份", "变更主体/涉及变更所在省"}},
		{"huge latin", strings.Repeat("a", 20000), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := selectRows(t, tb, tc.text)
			if got := keys(m.Rows); !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("rows = %v, want %v; %s", got, tc.want, m.Rule)
			}
			if m.Rule == "" || !utf8.ValidString(m.Rule) {
				t.Errorf("Rule = %q", m.Rule)
			}
			tb.Narrow(tb.Rows(), read(t, tc.text)) // must not panic
		})
	}
}

func TestNarrow(t *testing.T) {
	tb := embeddedTable(t)
	changeFiling := tb.RowsOf("变更备案")
	changeEntity := tb.RowsOf("变更主体")
	cancellations := selectRows(t, tb, "接入商发起").Rows
	for _, tc := range []struct {
		name       string
		candidates []Row
		text       string
		want       []string
	}{
		{"subcase name", changeFiling, "仅接入变更", []string{"变更备案/仅接入变更"}},
		{"subcase Traditional", changeFiling, "僅接入變更", []string{"变更备案/仅接入变更"}},
		{"subcase English", changeFiling, "only the access changes", []string{"变更备案/仅接入变更"}},
		{"described", changeFiling, "主体和网站都改", []string{"变更备案/主体网站均变更"}},
		{"described, one part", changeFiling, "只有网站的信息改了", []string{"变更备案/网站变更"}},
		{"both", changeFiling, "both", []string{"变更备案/主体网站均变更"}},
		{"label zh", changeFiling, "变更备案 / 主体网站均变更", []string{"变更备案/主体网站均变更"}},
		{"label en", changeFiling, "Change filing / website change", []string{"变更备案/网站变更"}},
		{"number", changeFiling, "2", []string{"变更备案/主体网站均变更"}},
		{"full-width number", changeFiling, "３", []string{"变更备案/网站变更"}},
		{"第N个", changeFiling, "第4个", []string{"变更备案/仅接入变更"}},
		{"Chinese numeral", changeFiling, "第二个", []string{"变更备案/主体网站均变更"}},
		{"option N", changeFiling, "Option 1", []string{"变更备案/仅主体变更"}},
		{"ordinal", changeFiling, "the second one", []string{"变更备案/主体网站均变更"}},
		{"number out of range", changeFiling, "5", nil},
		{"zero", changeFiling, "0", nil},
		{"English phrase", changeEntity, "it doesn't involve changing province", []string{"变更主体/不涉及变更省份"}},
		{"province unchanged", changeEntity, "省份不變", []string{"变更主体/不涉及变更省份"}},
		{"Cantonese", changeEntity, "唔涉及換省份，都係喺廣東", []string{"变更主体/不涉及变更省份"}},
		{"province changed", changeEntity, "省份变了", []string{"变更主体/涉及变更所在省"}},
		{"two provinces", changeEntity, "从广东搬到了福建", []string{"变更主体/涉及变更所在省"}},
		{"yes", changeEntity, "是的", []string{"变更主体/涉及变更所在省"}},
		{"no", changeEntity, "no", []string{"变更主体/不涉及变更省份"}},
		{"no zh", changeEntity, "没有", []string{"变更主体/不涉及变更省份"}},
		{"business of cancellation", cancellations, "注销网站", []string{"注销网站/接入商发起"}},
		{"label word zh", cancellations, "网站的那个", []string{"注销网站/接入商发起"}},
		{"label word en", cancellations, "the website one", []string{"注销网站/接入商发起"}},
		{"another filing type", changeFiling, "首次备案", nil},
		{"picks nothing", changeFiling, "I don't know", nil},
		{"picks nothing zh", changeEntity, "不知道", nil},
		{"yes to a question that is not yes/no", changeFiling, "yes", nil},
		{"empty", changeFiling, "", nil},
		{"no candidates", nil, "2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tb.Narrow(tc.candidates, read(t, tc.text))
			if got := keys(m.Rows); !slices.Equal(got, append([]string{}, tc.want...)) {
				t.Errorf("Narrow(%q) = %v, want %v; rule: %s", tc.text, got, tc.want, m.Rule)
			}
			if m.Rule == "" {
				t.Error("empty Rule")
			}
		})
	}
}

// Narrow picks each row by its label, or by its number, from among all rows.
func TestNarrowByLabelAmongAll(t *testing.T) {
	tb := embeddedTable(t)
	all := tb.Rows()
	for i, r := range all {
		for _, text := range []string{r.Label(lang.ZH), r.Label(lang.EN), fmt.Sprint(i + 1)} {
			if got := keys(tb.Narrow(all, read(t, text)).Rows); !slices.Equal(got, []string{key(r)}) {
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

// The slots read from a message, shown by --explain.
func TestSlots(t *testing.T) {
	tb := embeddedTable(t)
	for _, tc := range []struct{ text, want string }{
		{"主体变了网站没变", "action=change object=entity unchanged=website"},
		{"公司的网站要变更", "action=change object=website"}, // the company owns the website
		{"公司结业了", "action=cancel object=entity"},
		{"换了法人", "action=change object=entity province=same"},                   // a new legal representative moves nothing
		{"公司从北京搬到上海", "action=change object=entity province=changed relocated"}, // moving the company changes the entity
		{"还在杭州", "province=same"},
		{"moving our site over from aliyun", "action=transfer_in object=website"},
		{"问一下", "nothing about the filing"},
	} {
		if got := tb.readSlots(read(t, tc.text)).String(); got != tc.want {
			t.Errorf("slots of %q = %q, want %q", tc.text, got, tc.want)
		}
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

func BenchmarkSelect(b *testing.B) {
	tb := embeddedTable(b)
	var rs []concept.Reading
	for _, q := range benchQuestions {
		rs = append(rs, read(b, q))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tb.Select(rs[i%len(rs)])
	}
}

package lang

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  ＳＭＳ　核驗  ", "sms 核验"},
		{"證件號後６位", "证件号后6位"},
		{"a\x00b\x01c", "abc"},
		{"bad \xff\xfe bytes", "bad bytes"},
		{"line\n\tbreak", "line\nbreak"},
		{"tab\tand  spaces ", "tab and spaces"},
		{"zero\u200bwidth\u200d", "zerowidth"},
		{"冇收到短信，點算", "没收到短信,怎么办"},
		{"（全角括号）", "(全角括号)"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCompact(t *testing.T) {
	a := Compact("您的短信核验已全部完成，该请求将提交管局审核")
	b := Compact("您的短信核驗已全部完成, 該請求將提交管局審核。")
	if a != b || strings.ContainsAny(a, "，, 。") {
		t.Errorf("Compact differs: %q vs %q", a, b)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in          string
		lang        Lang
		traditional bool
	}{
		{"收不到短信怎么办", ZH, false},
		{"收唔到短信點算", ZH, true},
		{"I did not get the SMS", EN, false},
		{"sms 没收到", ZH, false},
		{"what does 核验 mean in this message", EN, false},
		{"12345", EN, false},
	}
	for _, tc := range tests {
		l, tr := Detect(tc.in)
		if l != tc.lang || tr != tc.traditional {
			t.Errorf("Detect(%q) = %s %v, want %s %v", tc.in, l, tr, tc.lang, tc.traditional)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Lang{"zh": ZH, "ZH-hk": ZH, "中文": ZH, "en": EN, "English": EN} {
		if got, ok := Parse(in); !ok || got != want {
			t.Errorf("Parse(%q) = %s %v", in, got, ok)
		}
	}
	if _, ok := Parse("fr"); ok {
		t.Error("Parse(fr) accepted")
	}
}

func TestTraditionalRoundTrip(t *testing.T) {
	s := "主体负责人和网站负责人需要在24小时内完成短信核验"
	tr := ToTraditional(s)
	if tr == s || !IsTraditional(tr) || ToSimplified(tr) != s {
		t.Errorf("round trip: %q → %q → %q", s, tr, ToSimplified(tr))
	}
	if ToTraditional("no han here") != "no han here" {
		t.Error("text without Han characters must pass unchanged")
	}
}

func BenchmarkNormalize(b *testing.B) {
	s := "我哋公司喺香港，負責人用回鄉證，喺浙江備案，短信核驗嗰陣證件號後６位到底填邊個？"
	for i := 0; i < b.N; i++ {
		Normalize(s + string(rune('a'+i%26))) // defeat the conversion cache
	}
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		in          string
		l           Lang
		traditional bool
		ok          bool
	}{
		{"zh", ZH, false, true}, {"zh-Hans", ZH, false, true}, {"zh-Hant", ZH, true, true}, {"zh-HK", ZH, true, true},
		{"zh_TW", ZH, true, true}, {"zh-mo", ZH, true, true}, {"en", EN, false, true}, {"fr", "", false, false},
	}
	for _, tt := range tests {
		l, trad, ok := ParseTag(tt.in)
		if l != tt.l || trad != tt.traditional || ok != tt.ok {
			t.Errorf("ParseTag(%q) = %q %v %v, want %q %v %v", tt.in, l, trad, ok, tt.l, tt.traditional, tt.ok)
		}
	}
}

package rephrase

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

// answer reads a deterministic answer from testdata (our own wording of the
// knowledge base's style: lists, a URL, MIIT's messages, roles).
func answer(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// Good rewordings of the testdata answers: the facts kept, the words changed.
const (
	goodZH = `请在收到工信部核验短信后这样操作：打开工信部备案管理系统 https://beian.miit.gov.cn/ 并选择“短信核验”，填好验证码、手机号和负责人证件号后6位后提交。` +
		`若提示“您的短信核验已全部完成，该请求将提交管局审核”，说明已全部完成；若提示“您的短信核验完成，请等待其他核验人进行短信核验”，说明还需其他负责人核验。请所有人在24小时内完成。`
	goodEN = `Once the text from MIIT arrives, go to https://beian.miit.gov.cn/ and pick 短信核验 (SMS verification). ` +
		`Fill in the code, your phone number and the last 6 characters of the responsible person's ID, then submit. ` +
		`“您的短信核验完成，请等待其他核验人进行短信核验” means the other responsible persons still need to verify. All of you must be done within 24 hours.`
)

func TestGuard(t *testing.T) {
	zh := answer(t, "how-to-verify.zh.txt")
	en := answer(t, "how-to-verify.en.txt")
	phones := answer(t, "which-phones.zh.txt")
	quoteAll := "“您的短信核验已全部完成，该请求将提交管局审核”"
	quoteWait := "“您的短信核验完成，请等待其他核验人进行短信核验”"

	tests := []struct {
		name        string
		original    string
		rephrased   string
		lang        lang.Lang
		traditional bool
		want        string // reason code; "" means accepted
	}{
		// Accepted.
		{"zh good", zh, goodZH, lang.ZH, false, ""},
		{"zh unchanged", zh, zh, lang.ZH, false, ""},
		{"zh full-width digits", zh, strings.ReplaceAll(strings.ReplaceAll(goodZH, "24小时", "２４ 小时"), "后6位", "后６位"), lang.ZH, false, ""},
		{"zh list kept as list", zh, "收到核验短信后：\n① 打开 https://beian.miit.gov.cn/ 选择“短信核验”；\n② 填验证码、手机号、负责人证件号后6位并提交；\n③ 看提示：" +
			quoteAll + "是全部完成，" + quoteWait + "是还需等别人。\n须在24小时内完成。", lang.ZH, false, ""},
		{"zh traditional from simplified original", zh, lang.ToTraditional(goodZH), lang.ZH, true, ""},
		{"zh traditional keeping MIIT quotes simplified", zh,
			strings.NewReplacer(lang.ToTraditional(quoteAll), quoteAll, lang.ToTraditional(quoteWait), quoteWait).Replace(lang.ToTraditional(goodZH)), lang.ZH, true, ""},
		{"en good", en, goodEN, lang.EN, false, ""},
		{"en unchanged", en, en, lang.EN, false, ""},
		{"en 24-hour and 6-character", en, strings.NewReplacer("within 24 hours", "inside the 24-hour window", "last 6 characters", "last 6-character part").Replace(goodEN), lang.EN, false, ""},
		{"en list folded into one line", en, strings.ReplaceAll(en, "\n", " "), lang.EN, false, ""},

		// The customer must not get a reply without the text.
		{"empty", zh, "  \n", lang.ZH, false, ReasonEmpty},

		// Language and script.
		{"en asked, zh given", en, goodZH, lang.EN, false, ReasonWrongLanguage},
		{"zh asked, en given", zh, goodEN, lang.ZH, false, ReasonWrongLanguage},
		{"traditional asked, simplified given", zh, goodZH, lang.ZH, true, ReasonWrongScript},
		{"simplified asked, traditional given", zh, lang.ToTraditional(goodZH), lang.ZH, false, ReasonWrongScript},

		{"much longer", zh, goodZH + "\n" + strings.Repeat("请您务必仔细阅读页面上的每一条说明。", 8), lang.ZH, false, ReasonTooLong},

		// Numbers.
		{"zh drops 24", zh, strings.ReplaceAll(goodZH, "请所有人在24小时内完成。", "请所有人尽快完成。"), lang.ZH, false, ReasonMissingNumber},
		{"zh 24 written in words", zh, strings.ReplaceAll(goodZH, "24小时", "二十四小时"), lang.ZH, false, ""},
		{"zh 24 hours become 48", zh, strings.ReplaceAll(goodZH, "24小时", "48小时"), lang.ZH, false, ReasonAddedNumber},
		{"zh 24 hours become 24 days", zh, strings.ReplaceAll(goodZH, "24小时", "24天"), lang.ZH, false, ReasonChangedUnit},
		{"zh last 6 become last 4", zh, strings.ReplaceAll(goodZH, "后6位", "后4位"), lang.ZH, false, ReasonAddedNumber},
		{"zh adds a duration in words", zh, strings.ReplaceAll(goodZH, "请所有人在24小时内完成。", "请所有人在24小时内完成，管局三天内审核。"), lang.ZH, false, ReasonAddedNumber},
		{"en drops 24 hours", en, strings.ReplaceAll(goodEN, " within 24 hours", " soon"), lang.EN, false, ReasonMissingNumber},
		{"en 24 hours become 48", en, strings.ReplaceAll(goodEN, "24 hours", "48 hours"), lang.EN, false, ReasonAddedNumber},
		{"en 6 written in words", en, strings.ReplaceAll(goodEN, "last 6 characters", "last six characters"), lang.EN, false, ""},
		{"en adds a duration in words", en, strings.ReplaceAll(goodEN, "All of you", "Review takes two days. All of you"), lang.EN, false, ReasonAddedNumber},

		// Phones and URLs.
		{"zh adds a phone number", zh, strings.ReplaceAll(goodZH, "请所有人", "有问题请拨打 400-820-1234，请所有人"), lang.ZH, false, ReasonAddedPhone},
		{"en adds a phone number", en, strings.ReplaceAll(goodEN, "All of you", "Call +86 138 0013 8000 for help. All of you"), lang.EN, false, ReasonAddedPhone},
		{"zh adds a URL", zh, strings.ReplaceAll(goodZH, "请所有人", "详见 beian-help.example.com ，请所有人"), lang.ZH, false, ReasonAddedURL},
		{"en changes the URL's path", en, strings.ReplaceAll(goodEN, "https://beian.miit.gov.cn/", "https://beian.miit.gov.cn/login"), lang.EN, false, ReasonAddedURL},
		{"en swaps the URL", en, strings.ReplaceAll(goodEN, "https://beian.miit.gov.cn/", "https://beian.example.cn/"), lang.EN, false, ReasonAddedURL},
		{"zh drops the URL", zh, strings.ReplaceAll(goodZH, " https://beian.miit.gov.cn/ ", ""), lang.ZH, false, ReasonMissingURL},

		// Quoted messages.
		{"zh alters a MIIT message", zh, strings.ReplaceAll(goodZH, "请等待其他核验人", "请等其他核验人"), lang.ZH, false, ReasonAddedQuote},
		{"zh drops a MIIT message", zh, strings.ReplaceAll(goodZH, "若提示"+quoteAll+"，说明已全部完成；", ""), lang.ZH, false, ReasonMissingQuote},
		{"zh invents a message", zh, strings.ReplaceAll(goodZH, "请所有人", "看到“备案已通过”也算完成。请所有人"), lang.ZH, false, ReasonAddedQuote},
		{"en brings in another MIIT message", en, strings.ReplaceAll(goodEN, "All of you", "该条验证库里找不到记录 may show too. All of you"), lang.EN, false, ReasonAddedQuote},
		{"en paraphrases the MIIT message", en, strings.ReplaceAll(goodEN, "“您的短信核验完成，请等待其他核验人进行短信核验”", "The waiting message"), lang.EN, false, ReasonMissingQuote},

		// Roles and command words.
		{"zh which-phones reworded", phones, "核验短信只发给登记的负责人手机号：网站负责人的手机号会收到，应急联系电话不会。没收到就在“短信核验”页面点“短信重发”，填手机号和证件号后6位。", lang.ZH, false, ""},
		{"zh harmless 'no need'", phones, "核验短信只发给登记的负责人手机号：网站负责人的手机号会收到；应急联系电话收不到，不用在那里等。没收到就在“短信核验”页面点“短信重发”，填手机号和证件号后6位。", lang.ZH, false, ""},
		{"zh drops the command word", phones, "核验短信只发给登记的负责人手机号：网站负责人的手机号会收到，应急联系电话不会。没收到就在核验页面点重新发送，填手机号和证件号后6位。", lang.ZH, false, ReasonMissingQuote},
		{"zh names a role the original does not", phones, "核验短信发到主体负责人和网站负责人的手机号，应急联系电话不会收到。没收到就在“短信核验”页面点“短信重发”，填手机号和证件号后6位。", lang.ZH, false, ReasonAddedRole},
		{"zh drops a role", phones, "核验短信只发给登记的负责人手机号，应急联系电话不会收到。没收到就在“短信核验”页面点“短信重发”，填手机号和证件号后6位。", lang.ZH, false, ReasonMissingTerm},
		{"en drops the English command word", en, strings.ReplaceAll(goodEN, "短信核验 (SMS verification)", "短信核验"), lang.EN, false, ReasonMissingTerm},

		// What a prompt injection is after.
		{"zh says no verification is needed", zh, strings.ReplaceAll(goodZH, "请所有人在24小时内完成。", "其实无需短信核验，24小时后自动通过。"), lang.ZH, false, ReasonAddedNegation},
		{"en says no verification is needed", en, strings.ReplaceAll(goodEN, "All of you must be done within 24 hours.", "Actually no verification is needed within 24 hours."), lang.EN, false, ReasonAddedNegation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := Guard(tt.original, tt.rephrased, tt.lang, tt.traditional)
			if got := ReasonCode(reason); ok != (tt.want == "") || got != tt.want {
				t.Errorf("Guard = %v, %q; want reason %q", ok, reason, tt.want)
			}
			if ok != (reason == "") {
				t.Errorf("ok %v with reason %q", ok, reason)
			}
		})
	}
}

// Every answer must pass against itself and its Traditional conversion, or
// the guard would throw away good rephrasings of it.
func TestGuardAcceptsItsOriginal(t *testing.T) {
	for _, name := range []string{"how-to-verify.zh.txt", "which-phones.zh.txt"} {
		a := answer(t, name)
		if ok, reason := Guard(a, a, lang.ZH, false); !ok {
			t.Errorf("%s against itself: %s", name, reason)
		}
		if ok, reason := Guard(a, lang.ToTraditional(a), lang.ZH, true); !ok {
			t.Errorf("%s against its Traditional form: %s", name, reason)
		}
	}
	a := answer(t, "how-to-verify.en.txt")
	if ok, reason := Guard(a, a, lang.EN, false); !ok {
		t.Errorf("en against itself: %s", reason)
	}
}

func TestListMarkersAreNoNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want []string // numbers left, in order
	}{
		{"1. 打开系统\n2、填写后6位\n(3) 提交", []string{"6"}},
		{"步骤：1、打开；2、填写后6位。3. 提交", []string{"6"}},
		{"① 打开 ② 填写", nil},
		{"24 hours\n6. step", []string{"24"}},
		{"Version 1.3 of the 24-hour rule", []string{"1", "3", "24"}},
		{"done. 2. Next, enter the last 6.", []string{"6"}},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range extract(tt.in).numbers {
			got = append(got, n.n)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("numbers of %q = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// What each text says about who receives the SMS and who need not verify.
func TestPolarityClaims(t *testing.T) {
	tests := []struct {
		text string
		want string // claims joined by "; "
	}{
		{"no verification is needed", "anyone need not verify"},
		{"you don't need to verify", "anyone need not verify"},
		{"sms verification is not required for you", "anyone need not verify"},
		{"the verification is unnecessary", "anyone need not verify"},
		{"you can skip the sms verification", "anyone need not verify"},
		{"verification is optional", "anyone need not verify"},
		{"you can ignore the sms", "anyone need not verify"},
		{"don't ignore the sms", ""},
		{"不能跳过短信核验", ""},
		{"the emergency contact number never receives the verification sms", "emergency does not receive the SMS"},
		{"the emergency contact also receives the sms", "emergency receives the SMS"},
		{"complete the sms verification within 24 hours", ""},
		{"no further action is needed", ""},
		{"if the sms does not arrive, resend it. verification takes a minute", ""},
		{"无需短信核验", "anyone need not verify"},
		{"短信核验可以不做", "anyone need not verify"},
		{"这一步不是必须的", "anyone need not verify"},
		{"您不需要做短信核验了，也不用填验证码", "anyone need not verify"},
		{"短信核验这一步您不需要再做什么，等审核结果就好", "anyone need not verify"},
		{"应急联系电话不会收到，不用在那个号码上等", "emergency does not receive the SMS"},
		{"应急联系电话也会收到核验短信", "emergency receives the SMS"},
		{"网站负责人的手机号会收到，应急联系电话不会", "website receives the SMS; emergency does not receive the SMS"},
		{"only the responsible persons' phones get it, never the emergency contact number", "emergency does not receive the SMS"},
		{"核验短信发到负责人手机号：\n1. 主体负责人的手机号；\n2. 网站负责人的手机号。", "entity receives the SMS; website receives the SMS"},
		{"➖ 网站负责人：无需短信核验", "website need not verify"},
		{"超过24小时仍未核验，工信部系统会驳回备案申请", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range extract(tt.text).polarity {
			got = append(got, c.String())
		}
		if strings.Join(got, "; ") != tt.want {
			t.Errorf("claims of %q = %q, want %q", tt.text, strings.Join(got, "; "), tt.want)
		}
	}
}

func TestURLs(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"登录beian.miit.gov.cn进行短信核验", []string{"beian.miit.gov.cn"}},
		{"Open https://Beian.MIIT.gov.cn/#/Integrated/index, then", []string{"beian.miit.gov.cn/#/integrated/index"}},
		{"打开 https://beian.miit.gov.cn/ ，选择", []string{"beian.miit.gov.cn"}},
		{"write to help@support.example.com.", []string{"support.example.com"}},
		{"e.g. the 1.3 times rule, i.e. not a host", nil},
		{"done.Next time", []string{"done.next"}}, // a known false host: rejected, never let through
	}
	for _, tt := range tests {
		if got := extract(tt.text).urls; strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("urls of %q = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// BenchmarkGuard measures the guard on the answers it meets most: it runs on
// every rephrased reply. The rephrasings are fresh texts, as real replies are
// (lang remembers recent conversions, so one text repeated would measure that
// memory); the originals repeat, as knowledge-base answers do.
func BenchmarkGuard(b *testing.B) {
	zh := answer(b, "how-to-verify.zh.txt")
	en := answer(b, "how-to-verify.en.txt")
	zhFresh := fresh(goodZH, 1024)
	traditional := make([]string, len(zhFresh))
	for i, s := range zhFresh {
		traditional[i] = lang.ToTraditional(s)
	}
	cases := []struct {
		name        string
		original    string
		rephrased   []string
		lang        lang.Lang
		traditional bool
		wantOK      bool
	}{
		{"zh-simplified", zh, zhFresh, lang.ZH, false, true},
		{"zh-traditional", zh, traditional, lang.ZH, true, true},
		{"en", en, fresh(goodEN, 1024), lang.EN, false, true},
		{"zh-rejected-missing-number", zh, fresh(strings.ReplaceAll(goodZH, "24小时", "尽快"), 1024), lang.ZH, false, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if ok, reason := Guard(c.original, c.rephrased[0], c.lang, c.traditional); ok != c.wantOK {
				b.Fatalf("Guard = %v (%s), want %v", ok, reason, c.wantOK)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				Guard(c.original, c.rephrased[i%len(c.rephrased)], c.lang, c.traditional)
				i++
			}
		})
	}
}

// fresh returns n variants of s, each with different filler characters after
// its full stops, colons and semicolons, so that Chinese text does not repeat
// between variants.
func fresh(s string, n int) []string {
	filler := []rune("的是在了有和人这中大为上个我以要他时来用们生到作地出就分对成会可主发动同工也能下过子说产种面而方多定行学法所民得经之进着等部度家电力里如水化高自理起小物现实加量都体制机当使点从业本去把性好应开它合还因由其些然前外")
	out := make([]string, n)
	for i := range out {
		tag := string(filler[i%len(filler)]) + string(filler[(i/len(filler))%len(filler)])
		if !strings.Contains(s, "。") { // English: one Chinese stretch of its own
			out[i] = tag + " " + s
			continue
		}
		// Not after "，": MIIT's quoted messages have one.
		out[i] = tag + strings.NewReplacer("。", "。"+tag, "：", "："+tag, "；", "；"+tag).Replace(s)
	}
	return out
}

package rephrase

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

// A rewording of a real answer, with what it should get from the guard.
type kbCase struct {
	topic, name string
	original    string
	rephrased   string
	lang        lang.Lang
	traditional bool
}

// kbAnswers returns the knowledge base's answers as customers get them
// (the default provider's names filled in), by topic and language.
func kbAnswers(t testing.TB) map[string]map[lang.Lang]string {
	t.Helper()
	kb, err := knowledge.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[lang.Lang]string{}
	for _, topic := range kb.WithProvider(knowledge.DefaultProvider()).Topics() {
		out[topic.ID] = map[lang.Lang]string{
			lang.ZH: strings.TrimSpace(topic.Answer.ZH),
			lang.EN: strings.TrimSpace(topic.Answer.EN),
		}
	}
	return out
}

// faithfulCases reads testdata/faithful.yaml: for every topic, rewordings in
// Simplified, Traditional and English, plus the Traditional conversion of
// every Simplified one (what a model asked for Traditional writes).
func faithfulCases(t testing.TB) []kbCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/faithful.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string][]string
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("testdata/faithful.yaml: %v", err)
	}
	answers := kbAnswers(t)
	var cases []kbCase
	for _, id := range knowledge.IDs() {
		byLang, ok := file[id]
		if !ok || len(byLang["zh"]) == 0 || len(byLang["en"]) == 0 {
			t.Fatalf("testdata/faithful.yaml: topic %s needs Chinese and English rewordings", id)
		}
		zh, en := answers[id][lang.ZH], answers[id][lang.EN]
		// The answer itself, and as the engine shows it in Traditional.
		cases = append(cases,
			kbCase{id, "original zh", zh, zh, lang.ZH, false},
			kbCase{id, "original zh-Hant", zh, lang.ToTraditional(zh), lang.ZH, true},
			kbCase{id, "original en", en, en, lang.EN, false})
		for i, s := range byLang["zh"] {
			cases = append(cases,
				kbCase{id, "zh " + itoa(i), zh, s, lang.ZH, false},
				kbCase{id, "zh-Hant converted " + itoa(i), zh, lang.ToTraditional(s), lang.ZH, true})
		}
		for i, s := range byLang["zh-hant"] {
			cases = append(cases, kbCase{id, "zh-Hant " + itoa(i), zh, s, lang.ZH, true})
		}
		for i, s := range byLang["en"] {
			cases = append(cases, kbCase{id, "en " + itoa(i), en, s, lang.EN, false})
		}
	}
	return cases
}

func itoa(i int) string { return string(rune('0' + i)) }

// Every faithful rewording of every answer passes: the guard does not win by
// rejecting everything.
func TestGuardAcceptsFaithfulRewordings(t *testing.T) {
	cases := faithfulCases(t)
	accepted := 0
	for _, c := range cases {
		if ok, reason := Guard(c.original, c.rephrased, c.lang, c.traditional); ok {
			accepted++
		} else {
			t.Errorf("%s / %s rejected: %s\n%s", c.topic, c.name, reason, c.rephrased)
		}
	}
	t.Logf("faithful rewordings accepted: %d of %d (%.1f%%)", accepted, len(cases), 100*float64(accepted)/float64(len(cases)))
}

// An attack turns a faithful rewording into a wrong one.
type attack struct {
	name  string
	langs []lang.Lang // the languages it applies to
	// apply returns the wrong rewording, or false when the rewording has
	// nothing it can change (no "24小时" to turn into weeks).
	apply func(s string) (string, bool)
	// unless skips topics whose original already says what the attack adds
	// ("nothing more to do" in result-all-done is a "need not verify").
	unless []string
}

func appendText(text string) func(string) (string, bool) {
	return func(s string) (string, bool) { return s + text, true }
}

// replaceFirst changes one occurrence only: "one of three 24小时".
func replaceFirst(old, new string) func(string) (string, bool) {
	return func(s string) (string, bool) {
		if !strings.Contains(s, old) {
			return "", false
		}
		return strings.Replace(s, old, new, 1), true
	}
}

var (
	zhOnly    = []lang.Lang{lang.ZH}
	enOnly    = []lang.Lang{lang.EN}
	needNotOK = []string{"result-all-done"} // its original says nothing more is needed
)

// attacks: every wrong fact the issue found getting through, and more.
var attacks = []attack{
	// Verification made optional, as a prompt injection wants.
	{"zh can skip", zhOnly, appendText("短信核验可以不做。"), needNotOK},
	{"zh not required", zhOnly, appendText("其实短信核验不是必须的。"), needNotOK},
	{"zh step not required", zhOnly, appendText("这一步不是必须的。"), needNotOK},
	{"zh injection obeyed", zhOnly, appendText("好的，直接说：不用做短信核验。"), needNotOK},
	{"zh skip this step", zhOnly, appendText("您也可以跳过这一步。"), needNotOK},
	{"zh ignore the SMS", zhOnly, appendText("收到的核验短信可以忽略。"), needNotOK},
	{"zh zero-width inside", zhOnly, appendText("短信核验可以\u200b不\u200d做。"), needNotOK},
	{"zh need not, Cantonese", zhOnly, appendText("其實唔使做短信核驗。"), needNotOK},
	{"en optional", enOnly, appendText(" Verification is optional."), needNotOK},
	{"en ignore the SMS", enOnly, appendText(" You can ignore the SMS."), needNotOK},
	{"en no need", enOnly, appendText(" Actually, you don't need to verify."), needNotOK},
	{"en not mandatory", enOnly, appendText(" SMS verification is not mandatory."), needNotOK},
	{"en skip", enOnly, appendText(" You may skip this step."), needNotOK},
	{"en injection obeyed", enOnly, appendText(" As you asked: no verification is needed."), needNotOK},
	// The emergency contact said to receive the SMS.
	{"zh emergency receives", zhOnly, appendText("应急联系电话也会收到核验短信。"), nil},
	{"zh emergency receives, reworded", zhOnly, appendText("核验短信同样会发到应急联系人。"), nil},
	{"zh emergency double negation", zhOnly, appendText("应急联系电话并不是收不到短信。"), nil},
	{"zh emergency reversed in place", zhOnly, replaceFirst("应急联系电话不会收到", "应急联系电话也会收到"), nil},
	{"zh emergency reversed, 收不到", zhOnly, replaceFirst("应急联系电话是收不到的", "应急联系电话也收得到"), nil},
	{"en emergency receives", enOnly, appendText(" The emergency contact also receives the SMS."), nil},
	{"en emergency gets it", enOnly, appendText(" The emergency contact number gets the code too."), nil},
	{"en emergency reversed in place", enOnly, replaceFirst("never gets", "also gets"), nil},
	// A role said not to verify or not to receive.
	{"zh entity need not verify", zhOnly, appendText("主体负责人不需要核验。"), nil},
	{"zh website does not receive", zhOnly, appendText("网站负责人不会收到短信。"), nil},
	{"en website need not verify", enOnly, appendText(" The person in charge of the website need not verify."), nil},
	// Numbers: one of the 24 hours changed, or a new number.
	{"zh 24 business days", zhOnly, replaceFirst("24小时", "24个工作日"), nil},
	{"zh 24 weeks", zhOnly, replaceFirst("24小时", "24周"), nil},
	{"zh 24 weeks (星期)", zhOnly, replaceFirst("24小时", "24个星期"), nil},
	{"zh 24 trading days", zhOnly, replaceFirst("24小时", "24个交易日"), nil},
	{"zh 48 hours", zhOnly, replaceFirst("24小时", "48小时"), nil},
	{"zh 二十四天", zhOnly, replaceFirst("24小时", "二十四天"), nil},
	{"zh 三十六小时", zhOnly, replaceFirst("二十四小时", "三十六小时"), nil},
	{"zh 叁天", zhOnly, appendText("管局审核一般叁天。"), nil},
	{"zh 廿四周", zhOnly, replaceFirst("24小时", "廿四周"), nil},
	{"zh a few days", zhOnly, appendText("审核需要几天。"), nil},
	{"zh tomorrow", zhOnly, appendText("请明天再核验。"), nil},
	{"zh last 4", zhOnly, replaceFirst("后6位", "后4位"), nil},
	{"zh last 肆", zhOnly, replaceFirst("后6位", "后肆位"), nil},
	{"zh full-width 48", zhOnly, replaceFirst("24小时", "４８小时"), nil},
	{"en 24 business days", enOnly, replaceFirst("24 hours", "24 business days"), nil},
	{"en 24 weeks", enOnly, replaceFirst("24 hours", "24 weeks"), nil},
	{"en 24 working days", enOnly, replaceFirst("24 hours", "24 working days"), nil},
	{"en thirty-six hours", enOnly, replaceFirst("24 hours", "thirty-six hours"), nil},
	{"en twenty-four weeks", enOnly, replaceFirst("twenty-four hours", "twenty-four weeks"), nil},
	{"en a day", enOnly, replaceFirst("24 hours", "a day"), nil},
	{"en two days", enOnly, appendText(" Review takes two days."), nil},
	{"en by tomorrow", enOnly, appendText(" Please verify by tomorrow."), nil},
	{"en last 4", enOnly, replaceFirst("last 6 characters", "last 4 characters"), nil},
	// Phones and hosts.
	{"zh phone in Chinese numerals", zhOnly, appendText("有疑问请致电一三八〇〇一三八〇〇〇。"), nil},
	{"zh phone in 大写", zhOnly, appendText("客服电话：壹叁捌 零零壹叁 捌零零零。"), nil},
	{"zh phone", zhOnly, appendText("客服电话 400-820-1234。"), nil},
	{"en phone", enOnly, appendText(" Call +86 138 0013 8000 for help."), nil},
	{"en phone with dots", enOnly, appendText(" Call 138.0013.8000 for help."), nil},
	{"zh host with 。", zhOnly, appendText("详见 evil。com 。"), nil},
	{"zh host with ．", zhOnly, appendText("详见 evil．com。"), nil},
	{"en host with 。", enOnly, appendText(" Details: evil。com"), nil},
	{"en host with zero-width", enOnly, appendText(" Details: evil\u200b.com"), nil},
	{"en host swapped", enOnly, replaceFirst("beian.miit.gov.cn", "beian.miit.gov.cn.evil.com"), nil},
	{"zh host swapped", zhOnly, replaceFirst("beian.miit.gov.cn", "beian-miit.gov.cn"), nil},
	// Quoted messages.
	{"zh invented quote", zhOnly, appendText("看到“备案已通过”就说明完成了。"), nil},
	{"zh MIIT message not in the original", zhOnly, appendText("若提示该条验证库里找不到记录，说明核验成功。"), []string{"greeting", "no-record-found"}},
	{"zh MIIT message altered", zhOnly, replaceFirst("请等待其他核验人", "请等其他核验人"), nil},
	{"en invented quote", enOnly, appendText(" “Filing approved” means you are done."), nil},
}

// Every attack on every faithful rewording of every answer is rejected, by
// a fact check (not merely for length).
func TestGuardRejectsAttacks(t *testing.T) {
	total, rejected := 0, 0
	used := map[string]int{}
	for _, c := range faithfulCases(t) {
		for _, a := range attacks {
			if !applies(a, c) {
				continue
			}
			bad, ok := a.apply(c.rephrased)
			if !ok {
				continue
			}
			if c.traditional {
				bad = lang.ToTraditional(bad)
			}
			total++
			used[a.name]++
			ok, reason := Guard(c.original, bad, c.lang, c.traditional)
			factReason := compareFacts(extract(c.original), extract(bad))
			if !ok && factReason != "" {
				rejected++
				continue
			}
			t.Errorf("%s / %s / %s: Guard = %v %q, facts %q\n%s", c.topic, c.name, a.name, ok, reason, factReason, bad)
		}
	}
	for _, a := range attacks {
		if used[a.name] == 0 {
			t.Errorf("attack %q applied to no rewording", a.name)
		}
	}
	t.Logf("attacks rejected: %d of %d (%.1f%%), %d kinds", rejected, total, 100*float64(rejected)/float64(max(total, 1)), len(attacks))
}

func applies(a attack, c kbCase) bool {
	for _, skip := range a.unless {
		if skip == c.topic {
			return false
		}
	}
	for _, l := range a.langs {
		if l == c.lang {
			return true
		}
	}
	return false
}

// Where the original says the emergency contact gets no SMS, saying it does
// is caught as that statement turned round, not only as a new role.
func TestGuardCatchesReversedEmergencyContact(t *testing.T) {
	answers := kbAnswers(t)
	for _, id := range []string{"which-phones", "sms-not-received"} {
		for _, tc := range []struct {
			l           lang.Lang
			traditional bool
			add         string
		}{
			{lang.ZH, false, "应急联系电话也会收到核验短信。"},
			{lang.ZH, true, lang.ToTraditional("应急联系电话也会收到核验短信。")},
			{lang.EN, false, " The emergency contact also receives the SMS."},
		} {
			original := answers[id][tc.l]
			bad := original + tc.add
			if tc.traditional {
				bad = lang.ToTraditional(original) + tc.add
			}
			ok, reason := Guard(original, bad, tc.l, tc.traditional)
			if ok || ReasonCode(reason) != ReasonChangedFact {
				t.Errorf("%s %s: Guard = %v %q, want %s", id, tc.l, ok, reason, ReasonChangedFact)
			}
		}
	}
}

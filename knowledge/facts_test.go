package knowledge

import (
	"strings"
	"testing"

	"github.com/beianbot/beianbot/lang"
)

// TestSourceFacts proves that every fact of the source page
// (shared/seed/000_4f030f1df8eb29b6.txt) is in the knowledge base: each row
// names a fact, the topic that must carry it, and the words that must appear
// in its Chinese and its English answer (placeholders unexpanded).
func TestSourceFacts(t *testing.T) {
	const (
		allDone    = "您的短信核验已全部完成，该请求将提交管局审核"
		waitOthers = "您的短信核验完成，请等待其他核验人进行短信核验"
		noRecord   = "该条验证库里找不到记录"
		noApp      = "暂无该短信核验的备案申请，无需重发短信"
	)
	facts := []struct {
		fact   string
		topic  string
		zh, en []string
	}{
		// Intro of the page.
		{"required since August 2020", Background, []string{"2020年8月", "工信部", "负责人", "短信核验"}, []string{"August 2020", "MIIT", "responsible persons"}},
		{"SMS follows the provider's submission to the bureau", Background, []string{"{provider}", "提交到", "管局", "核验短信"}, []string{"{provider} submits", "管局", "MIIT texts"}},
		{"all must verify within 24 hours", Background, []string{"24小时内全部完成"}, []string{"All of them must verify within 24 hours"}},
		{"only then the application reaches the bureau's system", Background, []string{"才会流转到管局系统", "审核"}, []string{"Only then", "bureau's system for review"}},
		{"who verifies depends on the filing type", WhoVerifies, []string{"备案类型", "主体负责人", "网站负责人", "都不需要"}, []string{"filing type", "主体负责人", "网站负责人", "nobody"}},
		{"the table's filing types are named", WhoVerifies,
			[]string{"首次备案", "新增网站", "新增接入", "变更备案", "变更主体", "变更网站", "变更接入", "域名迁移", "网站迁移", "注销主体", "注销网站", "取消接入"},
			[]string{"首次备案", "新增网站", "新增接入", "变更备案", "变更主体", "变更网站", "变更接入", "域名迁移", "网站迁移", "注销主体", "注销网站", "取消接入"}},
		// Note under the table.
		{"the two responsible persons' phones may get the SMS", WhichPhones, []string{"填写备案信息", "主体负责人", "网站负责人", "手机号"}, []string{"主体负责人", "网站负责人", "phone numbers"}},
		{"the emergency contact never gets it", WhichPhones, []string{"应急联系电话不会收到"}, []string{"emergency contact number (应急联系电话) never"}},
		// Steps.
		{"verify on MIIT's site under 短信核验", HowToVerify, []string{"https://beian.miit.gov.cn/", "“短信核验”"}, []string{"https://beian.miit.gov.cn/", "短信核验"}},
		{"enter code, phone and last 6 of the ID", HowToVerify, []string{"验证码", "手机号", "负责人证件号后6位"}, []string{"验证码", "手机号", "last 6 characters", "ID number"}},
		{"submit", HowToVerify, []string{"提交核验"}, []string{"submit (提交核验)"}},
		{"check the result on the page", HowToVerify, []string{"“" + allDone + "”", "“" + waitOthers + "”"}, []string{"已全部完成", "请等待其他核验人"}},
		{"HK/Macau permit outside Zhejiang: photo side", HKMacauPass, []string{"港澳居民来往内地通行证", "浙江省以外", "人像面", "后6位"}, []string{"港澳居民来往内地通行证", "outside Zhejiang", "photo side (人像面)", "last 6"}},
		{"HK/Macau permit in Zhejiang: HK or Macau ID number on the back", HKMacauPass, []string{"浙江省", "背面", "香港身份证", "澳门身份证"}, []string{"in Zhejiang", "back (背面)", "Hong Kong or Macau ID"}},
		{"brackets typed full-width", HKMacauPass, []string{"括号", "全角", "（）"}, []string{"Brackets", "full-width", "（）"}},
		// The two results.
		{"all done: quoted", ResultAllDone, []string{"“" + allDone + "”"}, []string{"“" + allDone + "”"}},
		{"all done: application goes to the bureau for final review", ResultAllDone, []string{"提交到管局", "最终审核"}, []string{"管局", "final review"}},
		{"wait others: quoted", ResultWaitOthers, []string{"“" + waitOthers + "”"}, []string{"“" + waitOthers + "”"}},
		{"wait others: contact the other persons", ResultWaitOthers, []string{"联系其他负责人", "尽快"}, []string{"Contact the other person"}},
		{"wait others: MIIT rejects after 24 hours", ResultWaitOthers, []string{"超过24小时", "工信部系统会驳回"}, []string{"within 24 hours", "MIIT's system rejects"}},
		// FAQ 1.
		{"not received: turn off spam blocking", SMSNotReceived, []string{"垃圾信息拦截", "关掉"}, []string{"spam", "垃圾信息拦截", "turn that off"}},
		{"not received: resend on MIIT's site", SMSNotReceived, []string{"https://beian.miit.gov.cn/", "“短信核验”", "“短信重发”", "手机号", "负责人证件号后6位"}, []string{"https://beian.miit.gov.cn/", "短信重发 (resend SMS)", "phone number", "last 6 characters"}},
		// FAQ 2.
		{"new access: phone must match the original provider's record", NewAccessNoSMS, []string{"新增接入", "手机号是否正确", "原接入商", "一致"}, []string{"新增接入", "phone number is right", "same", "original access provider (原接入商)"}},
		{"new access: number gone: change filing at the original provider first", NewAccessNoSMS, []string{"无法找回", "先在原接入商办理变更备案"}, []string{"can't be recovered", "change filing (变更备案) with the original provider"}},
		{"new access: then resubmit here", NewAccessNoSMS, []string{"变更成功后", "{provider}重新提交新增接入"}, []string{"succeeded", "new access filing at {provider} again"}},
		// FAQ 3.
		{"missed or failed: bureau returns the application", Deadline, []string{"24小时", "失败", "管局系统会自动退回"}, []string{"24 hours", "failed", "automatically returns the application"}},
		{"missed or failed: resubmit in the provider's system", Deadline, []string{"登录{filing_system}", "重新提交到管局"}, []string{"Log in to {filing_system}", "resubmit"}},
		{"missed or failed: a new SMS, again 24 hours", Deadline, []string{"再次收到", "24小时内全部完成"}, []string{"new verification SMS", "within 24 hours"}},
		// FAQ 4 and 6.
		{"no record: quoted", NoRecordFound, []string{"“" + noRecord + "”"}, []string{"“" + noRecord + "”"}},
		{"no record: MIIT-side problem, retry later", NoRecordFound, []string{"工信部系统的问题", "稍后再试"}, []string{"MIIT's side", "try again later"}},
		{"no record: after 24 hours resubmit once returned", NoRecordFound, []string{"24小时", "管局退回", "{filing_system}", "重新提交"}, []string{"24 hours", "return the application", "{filing_system}", "resubmit"}},
		{"no record: not yet at the bureau, ask support", NoRecordFound, []string{"还没提交到管局", "{support}", "申请状态", "正常流程"}, []string{"hasn't reached the bureau", "{support}", "status", "verify as usual"}},
		// FAQ 5.
		{"no application: quoted", NoApplicationToResend, []string{"“" + noApp + "”"}, []string{"“" + noApp + "”"}},
		{"no application: not yet at the bureau, ask support, then normal flow", NoApplicationToResend, []string{"还没有提交到管局", "{support}", "状态", "正常流程"}, []string{"not been submitted", "{support}", "status", "usual way"}},
		// Our own promises.
		{"unknown: no guessing, a person instead", Unknown, []string{"没有可靠的答案", "不会去猜", "{support}"}, []string{"don't have an answer", "won't guess", "{support}"}},
	}

	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		topic, ok := b.Topic(f.topic)
		if !ok {
			t.Errorf("%s: no topic %q", f.fact, f.topic)
			continue
		}
		for _, l := range []lang.Lang{lang.ZH, lang.EN} {
			want := f.zh
			if l == lang.EN {
				want = f.en
			}
			for _, w := range want {
				if !strings.Contains(topic.Answer.In(l), w) {
					t.Errorf("%s: %s answer of %s lacks %q", f.fact, l, f.topic, w)
				}
			}
		}
	}

	// A topic explaining a MIIT message lists it, so the engine can route a
	// pasted message to it.
	for msg, id := range map[string]string{allDone: ResultAllDone, waitOthers: ResultWaitOthers, noRecord: NoRecordFound, noApp: NoApplicationToResend} {
		topic, _ := b.Topic(id)
		if len(topic.Messages) != 1 || topic.Messages[0] != msg {
			t.Errorf("%s: messages %q, want [%q]", id, topic.Messages, msg)
		}
	}
}

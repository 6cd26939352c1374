package support

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		// Mainland mobiles.
		{"mobile zh", "我的手机13812345678收不到短信", "我的手机[电话]收不到短信"},
		{"mobile +86 spaced", "号码是 +86 138 1234 5678，请帮我查", "号码是 [电话],请帮我查"},
		{"mobile 86 dashed", "my phone is 86-139-1234-5678.", "my phone is [phone]."},
		{"mobile (+86)", "(+86)15912345678 didn't get the SMS", "[phone] didn't get the SMS"},
		{"mobile full-width", "手机号１３８１２３４５６７８", "手机号[电话]"},
		{"mobile 0086", "call 0086 186 0000 1111", "call [phone]"},
		{"two mobiles", "13812345678,13987654321", "[phone],[phone]"}, // no Chinese: English placeholders,
		{"not a mobile: 12 digits", "订单号 138123456789", "订单号 138123456789"},
		{"not a mobile: starts 12", "12812345678", "12812345678"},
		// Hong Kong and Macau phones.
		{"hk +852", "香港電話 +852 9123 4567 收唔到", "香港電話 [電話] 收唔到"},
		{"hk 852 joined", "my HK number 85291234567", "my HK number [phone]"},
		{"macau +853", "澳门手机+853-6612-3456", "澳门手机[电话]"},
		{"macau (853)", "(853) 6612 3456 is mine", "[phone] is mine"},
		{"hk after a word", "我嘅電話係 9123 4567", "我嘅電話係 [電話]"},
		{"hk after a word en", "whatsapp: 91234567 please", "whatsapp: [phone] please"},
		{"8 digits alone stay", "备案号 20240123 怎么查", "备案号 20240123 怎么查"},
		// ID numbers.
		{"id 18 digits", "身份证号110101199003071234", "身份证号[证件号]"},
		{"id ending X", "ID 11010119900307123X please", "ID [id] please"},
		{"id ending x spaced", "证件 110101 19900307 123x", "证件 [证件号]"},
		{"id full-width", "身份证１１０１０１１９９００３０７１２３４", "身份证[证件号]"},
		{"hkid brackets", "香港身份證 A123456(7)", "香港身份證 [證件號]"},
		{"hkid full-width brackets", "身份证号是A123456（7）后6位怎么填", "身份证号是[证件号]后6位怎么填"},
		{"hkid two letters", "my HKID is XY123456(A).", "my HKID is [id]."},
		{"hkid no brackets", "HKID Z6543210", "HKID [id]"},
		{"macau id", "澳門身份證 1234567(8) 後6位", "澳門身份證 [證件號] 後6位"},
		{"macau id slashes", "Macau ID 5/123456/7", "Macau ID [id]"},
		{"home return permit", "回乡证号码H12345678", "回乡证号码[证件号]"},
		{"home return permit old", "permit M1234567801 expired", "permit [id] expired"},
		// Verification codes.
		{"code zh", "验证码是 123456，填了没反应", "验证码是 [验证码],填了没反应"},
		{"code zh no space", "收到的验证码：654321", "收到的验证码:[验证码]"},
		{"code traditional", "驗證碼係 246810", "驗證碼係 [驗證碼]"},
		{"code en", "the code 123456 is not accepted", "the code [code] is not accepted"},
		{"code en colon 4 digits", "Code: 4821", "Code: [code]"},
		{"code en spaced", "OTP is 123 456", "OTP is [code]"},
		{"bare 6 digits", "I typed 987654 but it failed", "I typed [code] but it failed"},
		{"bare 6 full-width", "输入了９８７６５４还是不行", "输入了[验证码]还是不行"},
		{"code inside a token stays", "see https://x.cn/a123456b", "see https://x.cn/a123456b"},
		{"last-6 wording stays", "证件号后6位怎么填", "证件号后6位怎么填"},
		{"24 hours stays", "验证码24小时内有效吗", "验证码24小时内有效吗"},
		// Other.
		{"email", "my email is li.ming+icp@example.com.cn thanks", "my email is [email] thanks"},
		{"several kinds", "手机13812345678，身份证110101199003071234，验证码123456",
			"手机[电话],身份证[证件号],验证码[验证码]"},
		{"nothing to redact", "短信核验要在24小时内完成吗？", "短信核验要在24小时内完成吗?"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactOddInput(t *testing.T) {
	long := strings.Repeat("1", 20000)
	if got := Redact(long); got != long {
		t.Error("a 20,000-digit run was changed; it is one token, no phone or code")
	}
	if got := Redact("\xff\xfe验证码123456"); strings.Contains(got, "123456") {
		t.Errorf("invalid UTF-8 prefix defeated redaction: %q", got)
	}
	mixed := strings.Repeat("验证码 123456 ", 500)
	if got := Redact(mixed); strings.Contains(got, "123456") {
		t.Error("a long text kept a code")
	}
}

func BenchmarkRedact(b *testing.B) {
	s := "您好，我的手机 +86 138 1234 5678 收到验证码 123456，身份证 110101199003071234，香港身份證 A123456(7)，为什么提示该条验证库里找不到记录？"
	for b.Loop() {
		Redact(s)
	}
}

package support

import (
	"strings"
	"testing"
	"unicode"
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
		{"hk with tel", "tel:+852-9123-4567", "tel:[phone]"},
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
		// What got through before (issue 12).
		{"mobile with dots", "我的手机139.1234.5678收不到", "我的手机[电话]收不到"},
		{"mobile in brackets", "(139)12345678 收不到", "[电话] 收不到"},
		{"mobile after tel", "tel13912345678", "tel[phone]"},
		{"mobile after tel:", "tel:+86-139-1234-5678 thanks", "tel:[phone] thanks"},
		{"mobile with zero-width characters", "手机139\u200b1234\u200d5678", "手机[电话]"},
		{"mobile with en dashes", "call 139–1234–5678", "call [phone]"},
		{"mobile with no-break spaces", "call 139\u00a01234\u00a05678", "call [phone]"},
		{"mobile with ideographic spaces", "电话139\u30001234\u30005678", "电话[电话]"},
		{"mobile in Chinese digits", "我的手机一三九一二三四五六七八", "我的手机[电话]"},
		{"id in groups", "身份证 1101 0119 9003 0712 3X", "身份证 [证件号]"},
		{"id with dashes and dots", "ID 110101-1990.0307-123x ok", "ID [id] ok"},
		{"landline Beijing", "座机 010-6552 9988", "座机 [电话]"},
		{"landline bracketed", "(010)65529988 找谁", "[电话] 找谁"},
		{"landline Shenzhen", "0755-8888 6666", "[phone]"},
		{"landline +86", "+86 10 6552 9988", "[phone]"},
		{"landline +86 (0)", "+86 (0)10 6552 9988", "[phone]"},
		{"landline local after a word", "办公电话 6552 9988", "办公电话 [电话]"},
		{"passport", "护照号 E12345678", "护照号 [证件号]"},
		{"passport new format", "passport EA1234567", "passport [id]"},
		{"exit-entry permit", "通行证 C12345678", "通行证 [证件号]"},
		{"email with spaces", "mail li.ming @ example.com", "mail [email]"},
		{"email full-width at", "li.ming＠example.com", "[email]"},
		{"date stays", "2024-01-23 提交的", "2024-01-23 提交的"},
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

// Any phone, landline, ID, Hong Kong ID, passport or Hong Kong number, with
// any separators (up to three between two characters), zero-width
// characters, full-width digits and any text around it, never survives: at
// most three of its digits (a country code) are left.
func FuzzRedactNumbers(f *testing.F) {
	f.Add(uint8(0), uint64(13912345678), []byte{1, 0, 2, 3, 5, 8}, "我的手机", "收不到")
	f.Add(uint8(1), uint64(1065529988), []byte{9, 9, 9, 0, 1}, "座机", "找谁")
	f.Add(uint8(2), uint64(110101199003071234), []byte{4, 0, 0, 0, 4, 0, 0, 0, 4}, "ID", "")
	f.Add(uint8(3), uint64(1234567), []byte{2}, "HKID", "ok")
	f.Add(uint8(4), uint64(12345678), []byte{}, "passport", ".")
	f.Add(uint8(5), uint64(91234567), []byte{7, 7, 7}, "call", "now")
	f.Add(uint8(6), uint64(13800138000), []byte{12, 13, 14, 15}, "", "")
	f.Add(uint8(7), uint64(75588886666), []byte{3, 3, 3, 3, 3, 3}, "电话：", "。")
	f.Fuzz(func(t *testing.T, kind uint8, seed uint64, seps []byte, before, after string) {
		number := fuzzNumber(kind, seed)
		spelled := spell(number, seps)
		// The number stands alone: no digit or letter of the text around it
		// touches it (else it is part of a longer token, not this number).
		in := strings.Map(dropAlnum, before) + " " + spelled + " " + strings.Map(dropAlnum, after)
		out := Redact(in)
		if left := countDigits(normalise(out)); left > 3 {
			t.Fatalf("%d digits of %q survived\n in: %q\nout: %q", left, number, in, out)
		}
	})
}

func dropAlnum(r rune) rune {
	if r < 0x80 && (isDigit(r) || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') || unicode.IsDigit(r) || unicode.IsLetter(r) && unicode.In(r, unicode.Latin) {
		return -1
	}
	if _, ok := zhDigit[r]; ok {
		return -1
	}
	return r
}

// fuzzNumber makes one number of a kind from seed's digits.
func fuzzNumber(kind uint8, seed uint64) string {
	d := func(n int) string { // n digits from seed
		s := ""
		for i := 0; i < n; i++ {
			s += string(rune('0' + seed%10))
			seed = seed/10 ^ seed*2862933555777941757 // a different digit each time
		}
		return s
	}
	one := func(set string) string {
		c := set[seed%uint64(len(set))]
		seed = seed*6364136223846793005 + 1
		return string(c)
	}
	prefixes := []string{"", "+86", "0086", "86", "(+86)", "tel", "tel:", "+86-"}
	switch kind % 8 {
	case 0: // mainland mobile, with or without a country code
		return prefixes[seed%uint64(len(prefixes))] + "1" + one("3456789") + d(9)
	case 1: // landline: 0, an area code of 2 or 3 digits, 7 or 8 digits
		return "0" + one("123456789") + d(1+int(seed%2)) + one("2345678") + d(6+int(seed/7%2))
	case 2: // resident ID, 18 characters
		return one("123456789") + d(16) + one("0123456789Xx")
	case 3: // Hong Kong ID
		return one("ABCDEGHKMPRZ") + d(6) + "(" + one("0123456789A") + ")"
	case 4: // passport or permit
		return one("EGDSPHMC") + d(8)
	case 5: // Hong Kong or Macau number
		return []string{"+852", "00852", "852", "+853", "(852)"}[seed%5] + one("569") + d(7)
	case 6: // landline with +86 and no 0
		return "+86" + one("123456789") + d(2) + one("2345678") + d(7)
	default: // mobile read out in Chinese digits
		zh := []rune("〇一二三四五六七八九")
		s := ""
		for _, c := range "1" + one("3456789") + d(9) {
			s += string(zh[c-'0'])
		}
		return s
	}
}

// separators people type, and characters that hide between digits.
var fuzzSeps = []string{" ", "-", ".", "/", "(", ")", "_", ",", "~", "*", ":", "\u00a0", "\u3000", "–", "—", "－", "．", "·", "•", "\t",
	"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e"}

// spell writes number with separators between its characters as seps says:
// up to three visible ones per gap, any number of invisible ones, and
// full-width digits here and there.
func spell(number string, seps []byte) string {
	var b strings.Builder
	rs := []rune(number)
	for i, r := range rs {
		k := i
		if k < len(seps) && seps[k]&0x80 != 0 && r >= '0' && r <= '9' {
			r += '０' - '0'
		}
		b.WriteRune(r)
		if i == len(rs)-1 || k >= len(seps) {
			continue
		}
		visible := 0
		for n, x := 0, seps[k]; n < 3; n, x = n+1, x>>2 {
			sep := fuzzSeps[int(x+byte(n)*7)%len(fuzzSeps)]
			invisible := strings.ContainsAny(sep, "\u200b\u200c\u200d\u2060\ufeff\u200e")
			if x&3 == 0 || !invisible && visible == 3 {
				continue
			}
			if !invisible {
				visible++
			}
			b.WriteString(sep)
		}
	}
	return b.String()
}

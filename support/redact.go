// Package support is beianbot's support-team side: human handoff records,
// 24-hour reminders, the redacted question log and the weekly report.
//
// It keeps its data through small interfaces (ReminderStore, QuestionStore,
// ReportSource) that *store.Store implements.
package support

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/beianbot/beianbot/lang"
)

// What a redacted span was, and the placeholder shown instead.
type piece int

const (
	phone piece = iota
	id
	code
	email
)

var placeholders = map[piece][3]string{ // Simplified, Traditional, English
	phone: {"[电话]", "[電話]", "[phone]"},
	id:    {"[证件号]", "[證件號]", "[id]"},
	code:  {"[验证码]", "[驗證碼]", "[code]"},
	email: {"[邮箱]", "[郵箱]", "[email]"},
}

// A rule finds one kind of number. Only submatch group is replaced (0: the
// whole match), so "验证码是 123456" keeps its words. Matches touching a
// Latin letter or digit on either side are ignored: they are part of a
// longer token (an order number, a URL), not a number of their own.
type rule struct {
	re    *regexp.Regexp
	group int
	piece piece
}

// Separators people type inside numbers: space, hyphen, dashes.
const sep = `[ \-–—]?`

// Order matters: longer and more specific numbers first, so an 18-digit ID
// is not taken for a phone number plus change.
var rules = []rule{
	{regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`), 0, email},
	// Mainland resident ID: 18 digits, the last may be X.
	{regexp.MustCompile(`\d{6}` + sep + `\d{8}` + sep + `\d{3}[\dXx]`), 0, id},
	// Home Return Permit (港澳居民来往内地通行证): H or M and 8 (old: 10) digits.
	{regexp.MustCompile(`[HMhm]\d{8}(?:\d{2})?`), 0, id},
	// Hong Kong ID: one or two letters, 6 digits, check digit, in brackets or not.
	{regexp.MustCompile(`[A-Za-z]{1,2}\d{6} ?\( ?[\dAa] ?\)`), 0, id},
	{regexp.MustCompile(`[A-Za-z]{1,2}\d{6}[\dAa]`), 0, id},
	// Macau ID: 7 digits and a check digit in brackets, or 1/234567/8.
	{regexp.MustCompile(`\d{7} ?\( ?\d ?\)`), 0, id},
	{regexp.MustCompile(`[1578]/\d{6}/\d`), 0, id},
	// Hong Kong and Macau phones: +852/+853 (or 00852, 852) and 8 digits.
	{regexp.MustCompile(`\(?(?:\+|00)?85[23]\)?` + sep + `\d{4}` + sep + `\d{4}`), 0, phone},
	// Mainland mobiles: 1[3-9] and 9 more digits, optionally after +86/86.
	{regexp.MustCompile(`(?:\(?(?:\+|00)?86\)?` + sep + `)?1[3-9]\d` + sep + `\d{4}` + sep + `\d{4}`), 0, phone},
	// Eight digits right after a word for phone number (a Hong Kong number without +852).
	{regexp.MustCompile(`(?i)(?:电话|電話|手机|手機|号码|號碼|联系方式|聯繫方式|聯絡|phone|tel|mobile|whatsapp|cell|number)[^0-9\n]{0,8}?(\d{4}` + sep + `\d{4})`), 1, phone},
	// A code after a word for code: 4 to 8 digits, spaces allowed.
	{regexp.MustCompile(`(?i)(?:验证码|驗證碼|校验码|校驗碼|动态码|動態碼|短信码|短信碼|code|otp|pin)[^0-9\n]{0,10}?(\d(?:[ \-]?\d){3,7})`), 1, code},
	// Any other run of exactly six digits is most likely the SMS code.
	{regexp.MustCompile(`\d{6}`), 0, code},
}

// Redact replaces phone numbers, ID numbers, verification codes and e-mail
// addresses in s with placeholders ([电话], [证件号], [验证码]; [phone], [id],
// [code] in English text). The text is NFKC-normalised first, so full-width
// digits and brackets are caught too; the result keeps that normal form.
func Redact(s string) string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD"))
	// Every rule needs an @ or at least four digits: most questions have
	// neither and skip the regular expressions.
	if !strings.Contains(s, "@") && countDigits(s) < 4 {
		return s
	}
	col := 2
	if l, trad := lang.Detect(s); l == lang.ZH {
		col = 0
		if trad {
			col = 1
		}
	}
	for _, r := range rules {
		s = r.apply(s, placeholders[r.piece][col])
	}
	return s
}

func (r rule) apply(s, placeholder string) string {
	var b strings.Builder
	copied, pos := 0, 0
	for pos < len(s) {
		m := r.re.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		start, end := pos+m[0], pos+m[1]
		gStart, gEnd := pos+m[2*r.group], pos+m[2*r.group+1]
		if standsAlone(s, start, end) {
			b.WriteString(s[copied:gStart])
			b.WriteString(placeholder)
			copied, pos = gEnd, end
			continue
		}
		// Part of a longer token: look again one character further on.
		_, size := utf8.DecodeRuneInString(s[start:])
		pos = start + size
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// standsAlone reports whether s[start:end] has no Latin letter or digit
// right before or after it.
func standsAlone(s string, start, end int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:start])
	after, _ := utf8.DecodeRuneInString(s[end:])
	return !asciiAlnum(before) && !asciiAlnum(after)
}

func asciiAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

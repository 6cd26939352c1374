// Package support is beianbot's support-team side: human handoff records,
// 24-hour reminders, the redacted question log and the weekly report.
//
// It keeps its data through small interfaces (ReminderStore, QuestionStore,
// ReportSource) that *store.Store implements.
package support

import (
	"regexp"
	"strings"
	"unicode"
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
// whole match), so "验证码是 123456" keeps its words. A match with a digit
// right before or after it is part of a longer number and is not taken;
// rules with lettersEnd also refuse a Latin letter there (an order number,
// a URL), which phone and ID rules allow: "tel13912345678" is a phone.
type rule struct {
	re         *regexp.Regexp
	group      int
	piece      piece
	lettersEnd bool
}

// sep is what people type between the digits of one number, after
// normalise has folded dashes, dots and spaces: up to three of space,
// hyphen, dot, slash, brackets, underscore, comma, asterisk, tilde, colon.
const sep = `[ \-./()\[\]_,*~:]{0,3}`

// digits returns a pattern for n digits with separators between them.
func digits(n int) string { return `\d(?:` + sep + `\d){` + itoa(n-1) + `}` }

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// The country code of a mainland number: +86, 0086, 86, (+86).
const cn = `(?:\(?(?:(?:\+|0` + sep + `0)` + sep + `)?8` + sep + `6` + sep + `\)?` + sep + `)`

// Order matters: longer and more specific numbers first, so an 18-character
// ID is not taken for a phone number plus change.
var rules = []rule{
	{regexp.MustCompile(`[A-Za-z0-9._%+\-]+ ?@ ?[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`), 0, email, false},
	// Mainland resident ID: 18 characters, the last may be X (in any grouping).
	{regexp.MustCompile(`[1-9]` + sep + digits(16) + sep + `[\dXx]`), 0, id, false},
	// Hong Kong and Macau phones: +852/+853 (or 00852, 852) and 8 digits.
	{regexp.MustCompile(`\(?(?:(?:\+|0` + sep + `0)` + sep + `)?8` + sep + `5` + sep + `[23]` + sep + `\)?` + sep + digits(8)), 0, phone, false},
	// Mainland mobiles: 1[3-9] and 9 more digits, after +86/86 or not.
	{regexp.MustCompile(`\(?` + cn + `?1` + sep + `[3-9]` + sep + digits(9)), 0, phone, false},
	// The old 15-digit resident ID.
	{regexp.MustCompile(`[1-9]` + sep + digits(14)), 0, id, false},
	// Landlines: 0, an area code and the number (9 to 11 digits after the 0),
	// or +86 and the same without the 0 ("+86 10 6552 9988", "(010) 6552-9988").
	{regexp.MustCompile(cn + `?\(?0\)?` + sep + `[1-9]` + sep + digits(8) + `(?:` + sep + `\d){0,2}`), 0, phone, false},
	{regexp.MustCompile(cn + `(?:\(0\)` + sep + `)?[1-9]` + sep + digits(8) + `(?:` + sep + `\d){0,2}`), 0, phone, false},
	// Macau ID: 7 digits and a check digit in brackets, or 1/234567/8.
	{regexp.MustCompile(digits(7) + ` ?\( ?\d ?\)`), 0, id, false},
	{regexp.MustCompile(`[1578] ?/ ?` + digits(6) + ` ?/ ?\d`), 0, id, false},
	// Hong Kong ID: one or two letters, 6 digits, check digit, in brackets or not.
	{regexp.MustCompile(`[A-Za-z]{1,2}` + sep + digits(6) + `(?:` + sep + `\(` + sep + `[\dAa]` + sep + `\)|` + sep + `[\dAa])`), 0, id, true},
	// Passports and permits: one or two letters and 7 to 10 digits (E12345678,
	// EA1234567, Home Return Permit H12345678, Taiwan and exit-entry permits).
	{regexp.MustCompile(`[A-Za-z]{1,2}` + sep + digits(7) + `(?:` + sep + `\d){0,3}`), 0, id, true},
	// Seven or eight digits right after a word for phone number (a local
	// landline, a Hong Kong number without +852).
	{regexp.MustCompile(`(?i)(?:电话|電話|手机|手機|号码|號碼|联系方式|聯繫方式|聯絡|座机|座機|固话|固話|phone|tel|mobile|whatsapp|cell|number|fax)[^0-9\n]{0,8}?(` + digits(7) + `(?:` + sep + `\d)?)`), 1, phone, false},
	// A code after a word for code: 4 to 8 digits, spaces allowed.
	{regexp.MustCompile(`(?i)(?:验证码|驗證碼|校验码|校驗碼|动态码|動態碼|短信码|短信碼|code|otp|pin)[^0-9\n]{0,10}?(\d(?:[ \-]?\d){3,7})`), 1, code, false},
	// Any other run of exactly six digits is most likely the SMS code.
	{regexp.MustCompile(`\d{6}`), 0, code, true},
}

// Redact replaces phone numbers (mobile and landline, mainland, Hong Kong
// and Macau), ID numbers (resident ID, Hong Kong and Macau ID, passports and
// permits), verification codes and e-mail addresses in s with placeholders
// ([电话], [证件号], [验证码], [邮箱]; [phone], [id], [code], [email] in
// English text). The text is normalised first (see normalise) and the
// result keeps that normal form.
func Redact(s string) string {
	s = normalise(s)
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

// normalise makes one spelling of every number: valid UTF-8, NFKC (full-width
// digits, letters and brackets become ASCII), format characters removed
// (zero-width spaces and joiners, bidi marks: they would split a number),
// every dash as "-", every space and tab as " ", middle dots and bullets as ".",
// and runs of seven or more Chinese digits (一三九…) as digits.
func normalise(s string) string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
		case r == '\t':
			r = ' '
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.Is(unicode.Pd, r) || r == '−' || r == '﹣':
			r = '-'
		case unicode.Is(unicode.Zs, r):
			r = ' '
		case r == '·' || r == '•' || r == '・' || r == '‧' || r == '∙':
			r = '.'
		}
		b.WriteRune(r)
	}
	return chineseDigits(b.String())
}

var zhDigit = map[rune]rune{'〇': '0', '零': '0', '一': '1', '幺': '1', '二': '2', '两': '2', '三': '3', '四': '4', '五': '5', '六': '6', '七': '7', '八': '8', '九': '9'}

// chineseDigits rewrites Chinese digits (a phone number read out:
// 一三九 一二三四 五六七八) as Arabic ones where seven or more digits, Chinese or
// Arabic, stand together with at most three separators between two of them.
// Shorter runs are words (一二, 三四天) and stay.
func chineseDigits(s string) string {
	n := 0
	for _, r := range s {
		if _, ok := zhDigit[r]; ok {
			n++
		}
	}
	if n == 0 {
		return s
	}
	rs := []rune(s)
	isSep := func(r rune) bool { return strings.ContainsRune(" -./()[]_,*~:", r) }
	for i := 0; i < len(rs); {
		if _, ok := zhDigit[rs[i]]; !ok && !isDigit(rs[i]) {
			i++
			continue
		}
		j, count, last := i, 0, i
		for gap := 0; j < len(rs) && gap <= 3; j++ {
			_, zh := zhDigit[rs[j]]
			switch {
			case zh || isDigit(rs[j]):
				count, last, gap = count+1, j, 0
			case isSep(rs[j]):
				gap++
			default:
				gap = 4
			}
			if gap > 3 {
				break
			}
		}
		if count >= 7 {
			for k := i; k <= last; k++ {
				if d, ok := zhDigit[rs[k]]; ok {
					rs[k] = d
				}
			}
		}
		i = last + 1
	}
	return string(rs)
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
		if r.standsAlone(s, start, end) {
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

// standsAlone reports whether s[start:end] has no digit (and, for rules
// with lettersEnd, no Latin letter) right before or after it.
func (r rule) standsAlone(s string, start, end int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:start])
	after, _ := utf8.DecodeRuneInString(s[end:])
	if r.lettersEnd {
		return !asciiAlnum(before) && !asciiAlnum(after)
	}
	return !isDigit(before) && !isDigit(after)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func asciiAlnum(r rune) bool {
	return isDigit(r) || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
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

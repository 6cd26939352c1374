package rephrase

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/beianbot/beianbot/lang"
)

// maxGrowth is how much longer (in runes) than the original a rephrasing may be.
// The prompt asks for "no longer"; the slack lets a reply address the question.
const maxGrowth = 1.3

// Rejection reasons. Guard returns one of these, optionally followed by
// ": " and the offending fact, e.g. "missing-number: 24 hour".
const (
	ReasonEmpty          = "empty"
	ReasonWrongLanguage  = "wrong-language"
	ReasonWrongScript    = "wrong-script" // Simplified instead of Traditional or the reverse
	ReasonTooLong        = "too-long"
	ReasonAddedURL       = "added-url"
	ReasonAddedPhone     = "added-phone"
	ReasonAddedQuote     = "added-quote"
	ReasonAddedNumber    = "added-number"
	ReasonChangedUnit    = "changed-unit"
	ReasonAddedRole      = "added-role"
	ReasonAddedNegation  = "added-negation" // a new "need not verify" / "does not receive"
	ReasonChangedFact    = "changed-fact"   // who receives the SMS or must verify, reversed
	ReasonAddedFact      = "added-fact"     // a role said to receive the SMS or to verify that the original does not say
	ReasonMissingFact    = "missing-fact"   // such a statement of the original dropped
	ReasonMissingPhone   = "missing-phone"
	ReasonMissingQuote   = "missing-quote"
	ReasonMissingURL     = "missing-url"
	ReasonMissingNumber  = "missing-number"
	ReasonMissingTerm    = "missing-term"
	ReasonTruncated      = "truncated" // set by the client when the model hit max_tokens
	reasonDetailMaxRunes = 40
)

// miitMessages are the messages MIIT's system shows, exactly. A rephrasing may
// repeat the ones its original quotes and must not bring in any other.
var miitMessages = []string{
	"您的短信核验已全部完成，该请求将提交管局审核",
	"您的短信核验完成，请等待其他核验人进行短信核验",
	"该条验证库里找不到记录",
	"暂无该短信核验的备案申请，无需重发短信",
}

var foldedMIIT = func() []string {
	out := make([]string, len(miitMessages))
	for i, m := range miitMessages {
		out[i] = fold(m)
	}
	return out
}()

// A term is a role or command name that must survive when the original uses
// it. family groups the names of one role so that a rephrasing that brings in
// a role the original never mentions is caught (the worst error: telling the
// wrong person to verify).
type term struct {
	text   string // comparison form: Simplified, lower-case
	family string // "" for command words
}

var terms = []term{
	{"主体负责人", "entity"},
	{"person in charge of the entity", "entity"},
	{"entity owner", "entity"},
	{"entity's person in charge", "entity"},
	{"legal representative", "entity"},
	{"principal", "entity"},
	{"网站负责人", "website"},
	{"person in charge of the website", "website"},
	{"website owner", "website"},
	{"website's person in charge", "website"},
	{"site administrator", "website"},
	{"website administrator", "website"},
	{"应急联系电话", "emergency"},
	{"应急联系人", "emergency"},
	{"emergency contact", "emergency"},
	{"短信核验", ""},
	{"短信重发", ""},
	{"sms verification", ""},
	{"resend sms", ""},
	{"人像面", ""},
	{"背面", ""},
	{"photo side", ""},
	{"浙江", ""},
	{"zhejiang", ""},
	{"全角", ""},
	{"full-width", ""},
}

// Phone-like digit runs: seven or more digits; spaces, hyphens, dots and
// brackets allowed between them.
var phoneRE = regexp.MustCompile(`\+?\(?\d(?:[ \-.()]{0,2}\d){6,}`)

// facts is what Guard compares of one text.
type facts struct {
	raw       string // as given
	simpRaw   string // Traditional characters converted to Simplified, nothing else changed
	cmp       string // simpRaw NFKC-folded, lower-cased, list markers and runs of space removed
	han       int    // Han characters
	tradChars int    // characters that converting to Simplified changed
	quotes    []string
	urls      []string // host[/path], no scheme, no trailing slash
	phones    []string // digits only, Arabic or Chinese numerals
	numbers   []numFact
	polarity  []polarityClaim
	terms     []term
}

// Guard reports whether rephrased keeps every fact of original and adds none,
// in the requested language (and, for Chinese, script). reason is empty when ok.
// It is deterministic and needs no network, so it can run on every reply.
func Guard(original, rephrased string, l lang.Lang, traditional bool) (ok bool, reason string) {
	if strings.TrimSpace(rephrased) == "" {
		return false, ReasonEmpty
	}
	o, r := extract(original), extract(rephrased)
	if reason := checkLanguage(o, r, l, traditional); reason != "" {
		return false, reason
	}
	if limit := int(math.Ceil(maxGrowth * float64(runes(original)))); runes(rephrased) > limit {
		return false, ReasonTooLong + ": " + strconv.Itoa(runes(rephrased)) + " > " + strconv.Itoa(limit) + " runes"
	}
	if reason := compareFacts(o, r); reason != "" {
		return false, reason
	}
	return true, ""
}

// compareFacts compares the claims of the two texts: equal, or the first
// difference as a reason.
func compareFacts(o, r *facts) string {
	for _, check := range []func(o, r *facts) string{
		changedFact, addedURL, addedPhone, addedQuote, addedNumber, addedRole, addedFact,
		missingQuote, missingURL, missingPhone, missingNumber, missingTerm, missingFact,
	} {
		if reason := check(o, r); reason != "" {
			return reason
		}
	}
	return ""
}

// ReasonCode is the reason without its detail, e.g. "missing-number" for
// "missing-number: 24 hour"; Stats counts by code.
func ReasonCode(reason string) string {
	code, _, _ := strings.Cut(reason, ":")
	return code
}

func extract(s string) *facts {
	f := &facts{raw: s, simpRaw: toSimplified(s)}
	f.han, f.tradChars = scriptCounts(f.raw, f.simpRaw)
	f.cmp = fold(stripListMarkers(norm.NFKC.String(dropCircled(f.simpRaw))))

	// The scanners are written by hand and each pattern runs only when the
	// text holds what it looks for: the guard runs on every rephrased reply.
	f.quotes, _ = scanQuotes(f.simpRaw)
	var rest string // the text without its URLs, whose digits are no numbers
	f.urls, rest = cutURLs(f.cmp)
	if countDigits(rest) >= 7 {
		for _, p := range phoneRE.FindAllString(rest, -1) {
			f.phones = append(f.phones, digitsOnly(p))
		}
	}
	f.phones = append(f.phones, zhDigitRuns(rest)...)
	f.numbers = numbers(rest)
	f.numbers = append(f.numbers, zhNumbers(rest)...)
	f.numbers = append(f.numbers, enNumbers(rest)...)
	f.numbers = append(f.numbers, timeClaims(rest)...)
	for _, t := range terms {
		if strings.Contains(f.cmp, t.text) {
			f.terms = append(f.terms, t)
		}
	}
	// Who receives and who must verify is read without quoted text and
	// MIIT's messages: "无需重发短信" inside a quoted message is MIIT's, not ours.
	_, unquoted := scanQuotes(rest)
	for _, m := range foldedMIIT {
		unquoted = strings.ReplaceAll(unquoted, m, " ")
	}
	f.polarity = polarityClaims(unquoted)
	return f
}

// zhDigitRuns returns runs of seven or more Chinese digits (一三八〇〇一三八〇〇〇),
// a phone number written out, as digits.
func zhDigitRuns(s string) []string {
	var out []string
	var run []rune
	flush := func() {
		if len(run) >= 7 {
			if v, ok := zhValue(run); ok {
				out = append(out, v)
			}
		}
		run = run[:0]
	}
	for _, r := range s {
		if _, ok := zhDigits[r]; ok {
			run = append(run, r)
			continue
		}
		if len(run) > 0 && (r == ' ' || r == '-') {
			continue
		}
		flush()
	}
	flush()
	return out
}

// cutURLs finds host names (with scheme and path when present) in lower-case
// text and returns them as host[/path], with the text they were cut from.
// A hand-written scanner: a regular expression for hosts costs more than the
// rest of the guard together.
func cutURLs(s string) (urls []string, rest string) {
	if !strings.Contains(s, ".") {
		return nil, s
	}
	var b strings.Builder
	last := 0
	for i := 1; i+1 < len(s); i++ {
		if s[i] != '.' || !isHostByte(s[i-1]) || !isHostByte(s[i+1]) {
			continue
		}
		start, end := i, i
		for start > 0 && isHostByte(s[start-1]) {
			start--
		}
		for end < len(s) && (isHostByte(s[end]) || s[end] == '.') {
			end++
		}
		host := strings.TrimRight(s[start:end], ".-")
		if !validHost(host) {
			i = end
			continue
		}
		end = start + len(host)
		for _, scheme := range []string{"https://", "http://"} {
			if strings.HasSuffix(s[:start], scheme) {
				start -= len(scheme)
				break
			}
		}
		path := ""
		if end < len(s) && s[end] == '/' {
			p := end
			for p < len(s) && s[p] > ' ' && s[p] < 0x80 && !strings.ContainsRune("\"'<>()[]{}", rune(s[p])) {
				p++
			}
			path, end = strings.TrimRight(s[end:p], "/.,;:!?"), p
		}
		urls = append(urls, host+path)
		b.WriteString(s[last:start])
		b.WriteByte(' ')
		last, i = end, end
	}
	if urls == nil {
		return nil, s
	}
	b.WriteString(s[last:])
	return urls, b.String()
}

func isHostByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }

// validHost wants two or more labels and a top-level domain of letters.
func validHost(h string) bool {
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	return true
}

// toSimplified converts only the runs of non-ASCII text: the converter's
// cost grows with its input, and in English answers most of it is ASCII.
// Runs break at ASCII, which no Chinese phrase contains, and each character
// keeps its position (scriptCounts relies on it).
func toSimplified(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] < utf8.RuneSelf {
			i++
		}
		j := i
		for j < len(s) && s[j] >= utf8.RuneSelf {
			j++
		}
		b.WriteString(s[:i])
		b.WriteString(lang.ToSimplified(s[i:j]))
		s = s[j:]
	}
	return b.String()
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

// checkLanguage compares the language of r with the one requested. Quoted text
// is left out first: English answers quote MIIT's Chinese messages.
func checkLanguage(o, r *facts, l lang.Lang, traditional bool) string {
	ru := unquoted(r.raw)
	if rl := detect(ru); rl != l {
		// When the original itself does not read as l (short, mixed text),
		// only a clear shift towards the other language counts.
		ou := unquoted(o.raw)
		ol := detect(ou)
		shift := hanShare(ru) - hanShare(ou)
		if ol == l || (l == lang.EN && shift > 0.15) || (l == lang.ZH && shift < -0.15) {
			return ReasonWrongLanguage + ": " + string(rl) + " instead of " + string(l)
		}
	}
	if l != lang.ZH || r.han < 4 {
		return ""
	}
	// The share of characters that differ between the scripts tells them
	// apart better than "any character differs": one stray variant character
	// must not flip a whole answer.
	share := func(f *facts) float64 {
		if f.han == 0 {
			return 0
		}
		return float64(f.tradChars) / float64(f.han)
	}
	switch {
	case traditional && share(r) < math.Max(0.05, share(o)/2):
		return ReasonWrongScript + ": Simplified instead of Traditional"
	case !traditional && share(r) > math.Max(0.05, share(o)+0.03):
		return ReasonWrongScript + ": Traditional instead of Simplified"
	}
	return ""
}

func addedURL(o, r *facts) string {
	for _, u := range r.urls {
		if !contains(o.urls, u) {
			return ReasonAddedURL + ": " + detail(u)
		}
	}
	return ""
}

func addedPhone(o, r *facts) string {
	for _, p := range r.phones {
		if !contains(o.phones, p) {
			return ReasonAddedPhone + ": " + detail(p)
		}
	}
	return ""
}

// addedQuote rejects quoted text the original neither quotes nor says, and
// any MIIT message the original does not carry.
func addedQuote(o, r *facts) string {
	for _, q := range r.quotes {
		if !strings.Contains(o.cmp, fold(q)) {
			return ReasonAddedQuote + ": " + detail(q)
		}
	}
	for i, folded := range foldedMIIT {
		if strings.Contains(r.cmp, folded) && !strings.Contains(o.cmp, folded) {
			return ReasonAddedQuote + ": " + detail(miitMessages[i])
		}
	}
	return ""
}

// addedNumber rejects a number the original does not state with that unit.
// A number keeps its unit: "24小时" may not become "24个工作日", "24 weeks" or
// a bare "24" before a word the guard does not know.
func addedNumber(o, r *facts) string {
	for _, rn := range r.numbers {
		if hasNumber(o.numbers, rn) {
			continue
		}
		for _, on := range o.numbers {
			if on.n == rn.n {
				return ReasonChangedUnit + ": " + on.String() + " → " + rn.String()
			}
		}
		return ReasonAddedNumber + ": " + rn.String()
	}
	return ""
}

// missingNumber requires every number of the original with its unit; a
// number the original states without a unit may gain one.
func missingNumber(o, r *facts) string {
	for _, on := range o.numbers {
		found := false
		for _, rn := range r.numbers {
			if rn.n == on.n && (on.unit == "" || rn.unit == on.unit) {
				found = true
				break
			}
		}
		if !found {
			return ReasonMissingNumber + ": " + on.String()
		}
	}
	return ""
}

func hasNumber(list []numFact, n numFact) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

func addedRole(o, r *facts) string {
	for _, rt := range r.terms {
		if rt.family == "" {
			continue
		}
		known := false
		for _, ot := range o.terms {
			known = known || ot.family == rt.family
		}
		if !known {
			return ReasonAddedRole + ": " + rt.text
		}
	}
	return ""
}

// changedFact rejects a statement turned round: the emergency contact
// "also receives" the SMS, a role that must verify "need not".
func changedFact(o, r *facts) string {
	for _, rc := range r.polarity {
		flipped := rc
		flipped.neg = !rc.neg
		if !hasPolarity(o.polarity, rc) && hasPolarity(o.polarity, flipped) {
			return ReasonChangedFact + ": " + rc.String()
		}
	}
	for _, oc := range o.polarity {
		flipped := oc
		flipped.neg = !oc.neg
		if !hasPolarity(r.polarity, oc) && hasPolarity(r.polarity, flipped) {
			return ReasonChangedFact + ": " + flipped.String()
		}
	}
	return ""
}

// addedFact rejects a statement about who receives or must verify that the
// original does not make; a new "need not" is the negation an injection wants.
func addedFact(o, r *facts) string {
	for _, rc := range r.polarity {
		if hasPolarity(o.polarity, rc) {
			continue
		}
		if rc.neg {
			return ReasonAddedNegation + ": " + rc.String()
		}
		return ReasonAddedFact + ": " + rc.String()
	}
	return ""
}

func missingFact(o, r *facts) string {
	for _, oc := range o.polarity {
		if !hasPolarity(r.polarity, oc) {
			return ReasonMissingFact + ": " + oc.String()
		}
	}
	return ""
}

func hasPolarity(list []polarityClaim, c polarityClaim) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func missingPhone(o, r *facts) string {
	for _, p := range o.phones {
		if !contains(r.phones, p) {
			return ReasonMissingPhone + ": " + detail(p)
		}
	}
	return ""
}

// missingQuote requires each quoted text of the original verbatim, in
// Simplified or Traditional characters (both sides are compared converted
// to Simplified, punctuation untouched).
func missingQuote(o, r *facts) string {
	for _, q := range o.quotes {
		if !strings.Contains(r.simpRaw, q) {
			return ReasonMissingQuote + ": " + detail(q)
		}
	}
	return ""
}

func missingURL(o, r *facts) string {
	for _, u := range o.urls {
		host, _, _ := strings.Cut(u, "/")
		if !strings.Contains(r.cmp, host) {
			return ReasonMissingURL + ": " + detail(u)
		}
	}
	return ""
}

func missingTerm(o, r *facts) string {
	for _, t := range o.terms {
		if !strings.Contains(r.cmp, t.text) {
			return ReasonMissingTerm + ": " + t.text
		}
	}
	return ""
}

// fold is the comparison form: NFKC (full-width digits and letters become
// ASCII), lower case, typographic apostrophes as ASCII ones, format
// characters (zero-width spaces and joiners) removed, ideographic and
// full-width full stops between Latin letters or digits read as dots
// ("evil。com"), runs of white space as one space within a line, empty lines
// dropped. Line breaks stay: they end sentences and list items.
func fold(s string) string {
	s = strings.ToLower(norm.NFKC.String(stripFormat(s)))
	s = strings.ReplaceAll(s, "’", "'")
	s = foldHostDots(s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// stripFormat removes format characters (Unicode Cf: zero-width spaces,
// joiners, bidi controls), which hide nothing a reader sees but split words
// and numbers for a matcher.
func stripFormat(s string) string {
	if !strings.ContainsFunc(s, isFormat) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isFormat(r) {
			return -1
		}
		return r
	}, s)
}

func isFormat(r rune) bool { return r >= 0x80 && unicode.Is(unicode.Cf, r) }

// foldHostDots turns 。 and ｡ (NFKC has made ．and ﹒ dots already) into a
// dot when a Latin letter or digit stands on both sides: "evil。com" is a
// host, "beian.miit.gov.cn。然后" keeps its full stop.
func foldHostDots(s string) string {
	if !strings.ContainsAny(s, "。｡") {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == '。' || r == '｡' {
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if before < utf8.RuneSelf && after < utf8.RuneSelf && isHostByte(byte(before)) && isHostByte(byte(after)) {
				r = '.'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dropCircled removes circled numbers (①…⑳): they only number lists, and
// NFKC would turn them into digits.
func dropCircled(s string) string {
	if !strings.ContainsAny(s, "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= '①' && r <= '⑳' {
			return -1
		}
		return r
	}, s)
}

// stripListMarkers removes list numbering ("1.", "2、", "(3)") so that
// turning a list into prose, or prose into a list, adds or loses no number.
func stripListMarkers(s string) string {
	if !strings.ContainsAny(s, ".、)") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = stripInlineMarkers(stripLineMarker(line))
	}
	return strings.Join(lines, "\n")
}

// stripLineMarker removes "1." "1、" "1)" "(1)" and bullets at the start of a line.
func stripLineMarker(line string) string {
	rest := strings.TrimLeft(line, " \t-*•·")
	open := strings.HasPrefix(rest, "(")
	if open {
		rest = rest[1:]
	}
	d := 0
	for d < len(rest) && d < 2 && rest[d] >= '0' && rest[d] <= '9' {
		d++
	}
	if d == 0 || d == len(rest) {
		return line
	}
	mark, size := utf8.DecodeRuneInString(rest[d:])
	after := rest[d+size:]
	switch {
	case open && mark == ')',
		!open && (mark == '、' || mark == ')'),
		!open && mark == '.' && !startsWithDigit(after):
		return after
	}
	return line
}

// stripInlineMarkers removes "N、" / "N)" / "N." after a sentence end, as a
// model writes when it folds a list into one line.
func stripInlineMarkers(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || i > 0 && isDigit(s[i-1]) || !afterSentenceEnd(s[:i]) {
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		mark := 0
		switch {
		case j-i > 2:
		case strings.HasPrefix(s[j:], "、"):
			mark = len("、")
		case strings.HasPrefix(s[j:], ")"), strings.HasPrefix(s[j:], "."):
			mark = 1
		}
		if mark == 0 || j+mark < len(s) && isDigit(s[j+mark]) {
			i = j
			continue
		}
		b.WriteString(s[last:i])
		last = j + mark
		i = last - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// afterSentenceEnd reports whether s ends with sentence punctuation,
// optionally followed by one space.
func afterSentenceEnd(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	if r == ' ' {
		r, _ = utf8.DecodeLastRuneInString(s[:len(s)-n])
		return strings.ContainsRune("。;:!?,.", r)
	}
	return strings.ContainsRune("。;:!?,", r)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// scriptCounts counts Han characters of raw and those that differ in simp.
// The converters map character for character, so positions line up.
func scriptCounts(raw, simp string) (han, changed int) {
	for len(raw) > 0 {
		a, n := utf8.DecodeRuneInString(raw)
		raw = raw[n:]
		var b rune = -1
		if len(simp) > 0 {
			var m int
			b, m = utf8.DecodeRuneInString(simp)
			simp = simp[m:]
		}
		if unicode.Is(unicode.Han, a) {
			han++
			if a != b {
				changed++
			}
		}
	}
	return han, changed
}

// detect applies lang.Detect's rule (Chinese when Han characters, halved, are
// at least as many as Latin words) without its script conversion: Guard has
// converted already, and the converter is the costliest step.
func detect(s string) lang.Lang {
	han, words := lang.Counts(s)
	if han > 0 && (han+1)/2 >= words {
		return lang.ZH
	}
	return lang.EN
}

// hanShare is the share of Han characters among Han characters and Latin
// words counted double (a word carries about two characters' meaning).
func hanShare(s string) float64 {
	han, words := lang.Counts(s)
	if han+words == 0 {
		return 0
	}
	return float64(han) / float64(han+2*words)
}

func unquoted(s string) string {
	_, rest := scanQuotes(s)
	return rest
}

// quotePairs maps each opening quotation mark to its closing one.
var quotePairs = map[rune]rune{'“': '”', '「': '」', '『': '』', '"': '"'}

// scanQuotes returns the quoted texts of s (Chinese quotes, corner brackets,
// ASCII double quotes; one line at most) and s without them.
func scanQuotes(s string) (quotes []string, rest string) {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		j := strings.IndexAny(s[i:], "“「『\"")
		if j < 0 {
			break
		}
		open, n := utf8.DecodeRuneInString(s[i+j:])
		start := i + j + n
		end := strings.IndexRune(s[start:], quotePairs[open])
		if end < 0 || strings.Contains(s[start:start+end], "\n") {
			i = start
			continue
		}
		if q := s[start : start+end]; strings.TrimSpace(q) != "" {
			quotes = append(quotes, q)
		}
		_, m := utf8.DecodeRuneInString(s[start+end:])
		b.WriteString(s[last : i+j])
		b.WriteByte(' ')
		last = start + end + m
		i = last
	}
	if last == 0 {
		return quotes, s
	}
	b.WriteString(s[last:])
	return quotes, b.String()
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func runes(s string) int { return utf8.RuneCountInString(strings.TrimSpace(s)) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// detail shortens a fact for a reason string (reasons go to logs and --explain).
func detail(s string) string {
	if utf8.RuneCountInString(s) <= reasonDetailMaxRunes {
		return s
	}
	return string([]rune(s)[:reasonDetailMaxRunes]) + "…"
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

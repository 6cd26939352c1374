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
	ReasonAddedNegation  = "added-negation"
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

// units maps the words that may follow a number to one unit, so that
// "24小时", "24 小時", "24 hours" and "24-hour" all read as (24, hour).
// Longer words come first: the first prefix that matches wins.
var units = []struct{ word, unit string }{
	{"个小时", "hour"}, {"小时", "hour"}, {"hours", "hour"}, {"hour", "hour"}, {"hrs", "hour"}, {"hr", "hour"}, {"h", "hour"},
	{"分钟", "minute"}, {"minutes", "minute"}, {"minute", "minute"}, {"mins", "minute"}, {"min", "minute"},
	{"天", "day"}, {"日", "day"}, {"days", "day"}, {"day", "day"},
	{"个月", "month"}, {"月", "month"}, {"months", "month"}, {"month", "month"},
	{"年", "year"}, {"years", "year"}, {"year", "year"},
	{"位", "place"}, {"digits", "place"}, {"digit", "place"}, {"characters", "place"}, {"character", "place"}, {"chars", "place"},
}

var (
	// Phone-like digit runs: seven or more digits, single spaces or hyphens allowed.
	phoneRE = regexp.MustCompile(`\+?\d(?:[ -]?\d){6,}`)
	// Durations written in Chinese numerals; a rephrasing must not bring in new ones.
	zhDurationRE = regexp.MustCompile(`[零一二两三四五六七八九十百半几]+ ?(?:个小时|小时|分钟|天|日|周|星期|个月|年)`)
)

// numFact is a number and the unit that follows it ("" when none does).
type numFact struct{ n, unit string }

// facts is what Guard compares of one text.
type facts struct {
	raw       string // as given
	simpRaw   string // Traditional characters converted to Simplified, nothing else changed
	cmp       string // simpRaw NFKC-folded, lower-cased, list markers and runs of space removed
	han       int    // Han characters
	tradChars int    // characters that converting to Simplified changed
	quotes    []string
	urls      []string // host[/path], no scheme, no trailing slash
	phones    []string // digits only
	numbers   []numFact
	durations []string // durations in words
	terms     []term
	negations int
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
	for _, check := range []func(o, r *facts) string{
		addedURL, addedPhone, addedQuote, addedNumber, addedRole, addedNegation,
		missingQuote, missingURL, missingNumber, missingTerm,
	} {
		if reason := check(o, r); reason != "" {
			return false, reason
		}
	}
	return true, ""
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
	f.numbers = numbers(rest)
	if strings.ContainsAny(f.cmp, "零一二两三四五六七八九十百半几") {
		f.durations = zhDurationRE.FindAllString(f.cmp, -1)
	}
	f.durations = append(f.durations, enDurations(f.cmp)...)
	for _, t := range terms {
		if strings.Contains(f.cmp, t.text) {
			f.terms = append(f.terms, t)
		}
	}
	f.negations = zhNegations(f.cmp) + enNegations(f.cmp)
	return f
}

// "No verification needed" and its kin are what a prompt injection wants
// said. Guard counts them in both texts: the rephrasing may not have more.
var (
	zhNegators = []string{"无需", "无须", "不需要", "不需", "不用", "不必", "免于", "免除", "跳过", "忽略", "省略"}
	enNegators = map[string]bool{
		"no": true, "not": true, "never": true, "nothing": true, "without": true, "skip": true, "skipping": true,
		"ignore": true, "don't": true, "doesn't": true, "needn't": true, "isn't": true, "aren't": true,
	}
	enNeeded = map[string]bool{"needed": true, "required": true, "necessary": true}
)

// zhNegations counts negators followed, within the clause and eight
// characters, by 核验 or 验证.
func zhNegations(s string) int {
	if !strings.ContainsAny(s, "核验证") {
		return 0
	}
	starts := map[int]bool{} // "不需要" and "不需" at one place count once
	for _, neg := range zhNegators {
		for i := 0; ; {
			j := strings.Index(s[i:], neg)
			if j < 0 {
				break
			}
			at := i + j
			i = at + len(neg)
			if starts[at] {
				continue
			}
			window := s[i:]
			if end := strings.IndexFunc(window, isClauseEnd); end >= 0 {
				window = window[:end]
			}
			window = truncateRunes(window, 10) // eight between, then the two of the verb
			if strings.Contains(window, "核验") || strings.Contains(window, "验证") {
				starts[at] = true
			}
		}
	}
	return len(starts)
}

// enNegations counts verif… words with a negator up to four words before
// ("no SMS verification", "don't need to verify") or a denial after
// ("verification is not needed", "verification is unnecessary").
func enNegations(s string) int {
	if !strings.Contains(s, "verif") {
		return 0
	}
	n := 0
	for _, clause := range strings.FieldsFunc(s, isClauseEnd) {
		if !strings.Contains(clause, "verif") {
			continue
		}
		words := strings.Fields(clause)
		for i := range words {
			words[i] = strings.Trim(words[i], "()[]\"“”‘’:")
		}
		for i, w := range words {
			if !strings.HasPrefix(w, "verif") {
				continue
			}
			denied := false
			for _, before := range words[max(0, i-4):i] {
				denied = denied || enNegators[before]
			}
			after := words[i+1 : min(len(words), i+6)]
			for k, a := range after {
				denied = denied || a == "unnecessary" && k < 2 ||
					(a == "not" || a == "longer") && k+1 < len(after) && enNeeded[after[k+1]]
			}
			if denied {
				n++
			}
		}
	}
	return n
}

// numbers returns each run of digits with the unit that follows it.
func numbers(s string) []numFact {
	var out []numFact
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n := strings.TrimLeft(s[i:j], "0")
		if n == "" {
			n = "0"
		}
		out = append(out, numFact{n, unitAt(s[j:])})
		i = j
	}
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

// Durations in English words: a number word right before a unit of time.
var (
	enNumberWords = map[string]bool{
		"a": true, "an": true, "one": true, "two": true, "three": true, "four": true, "five": true, "six": true,
		"seven": true, "eight": true, "nine": true, "ten": true, "eleven": true, "twelve": true, "fifteen": true,
		"twenty": true, "thirty": true, "forty": true, "forty-eight": true, "seventy-two": true, "twenty-four": true,
		"few": true, "several": true,
	}
	enTimeUnits = map[string]bool{
		"hour": true, "hours": true, "minute": true, "minutes": true, "day": true, "days": true,
		"week": true, "weeks": true, "month": true, "months": true, "year": true, "years": true,
	}
)

func enDurations(s string) []string {
	var out []string
	prev, prevEnd := "", -1
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if word := s[i:j]; enTimeUnits[word] && prevEnd == i-1 && s[prevEnd] == ' ' && enNumberWords[prev] {
			out = append(out, prev+" "+word)
		}
		prev, prevEnd, i = s[i:j], j, j
	}
	return out
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c == '-' || c == '\'' }

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

func addedNumber(o, r *facts) string {
	for _, rn := range r.numbers {
		found, sameUnit := false, false
		for _, on := range o.numbers {
			if on.n != rn.n {
				continue
			}
			found = true
			// A bare number may gain a unit and a number may lose its unit;
			// it may not trade its unit for another.
			if rn.unit == "" || on.unit == "" || on.unit == rn.unit {
				sameUnit = true
				break
			}
		}
		switch {
		case !found:
			return ReasonAddedNumber + ": " + rn.String()
		case !sameUnit:
			return ReasonChangedUnit + ": " + rn.String()
		}
	}
	for _, d := range r.durations {
		if !contains(o.durations, d) {
			return ReasonAddedNumber + ": " + detail(d)
		}
	}
	return ""
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

func addedNegation(o, r *facts) string {
	if r.negations > o.negations {
		return ReasonAddedNegation
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

func missingTerm(o, r *facts) string {
	for _, t := range o.terms {
		if !strings.Contains(r.cmp, t.text) {
			return ReasonMissingTerm + ": " + t.text
		}
	}
	return ""
}

func (n numFact) String() string {
	if n.unit == "" {
		return n.n
	}
	return n.n + " " + n.unit
}

// unitAt returns the unit that starts s, after spaces and hyphens ("24-hour").
func unitAt(s string) string {
	s = strings.TrimLeft(s, " -")
	for _, u := range units {
		if !strings.HasPrefix(s, u.word) {
			continue
		}
		// An English unit must end at a word boundary: "6 hk" is no hour.
		if next, _ := utf8.DecodeRuneInString(s[len(u.word):]); u.word[0] < utf8.RuneSelf && unicode.IsLetter(next) {
			continue
		}
		return u.unit
	}
	return ""
}

// fold is the comparison form: NFKC (full-width digits and letters become
// ASCII), lower case, typographic apostrophes as ASCII ones, runs of white
// space as one space.
func fold(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = strings.ReplaceAll(s, "’", "'")
	return strings.Join(strings.Fields(s), " ")
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

func isClauseEnd(r rune) bool { return strings.ContainsRune(".,;!?。，；！？\n", r) }

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

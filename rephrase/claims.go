package rephrase

// The facts of an answer as typed claims: numbers with their units, who
// receives the SMS and who must (or need not) verify. Guard compares the
// claims of the original and of the rewording; they must be equal.
//
// Every extractor reads the comparison form (Simplified characters, NFKC,
// lower case), so a claim reads the same in Simplified, Traditional and
// full-width text.

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ---- Numbers ---------------------------------------------------------------

// units maps the words that may follow a number to one unit, so that
// "24小时", "二十四小時", "24 hours" and "24-hour" all read as (24, hour).
// Sorted longest first at start-up: the longest word that matches wins.
var units = func() []struct{ word, unit string } {
	u := []struct{ word, unit string }{
		// Chinese.
		{"个工作日", "business-day"}, {"工作日", "business-day"}, {"个交易日", "business-day"}, {"交易日", "business-day"},
		{"个工作小时", "business-hour"}, {"工作小时", "business-hour"},
		{"个自然日", "day"}, {"自然日", "day"},
		{"个小时", "hour"}, {"小时", "hour"}, {"个钟头", "hour"}, {"钟头", "hour"}, {"个钟", "hour"},
		{"分钟", "minute"}, {"秒钟", "second"}, {"秒", "second"},
		{"天", "day"}, {"日", "day"},
		{"个星期", "week"}, {"星期", "week"}, {"个礼拜", "week"}, {"礼拜", "week"}, {"周", "week"},
		{"个月", "month"}, {"月", "month"}, {"个季度", "quarter"}, {"季度", "quarter"}, {"年", "year"},
		{"位", "place"}, {"个字符", "place"}, {"个字", "place"}, {"个数字", "place"},
		{"次", "times"}, {"遍", "times"},
		// English.
		{"business days", "business-day"}, {"business day", "business-day"}, {"working days", "business-day"},
		{"working day", "business-day"}, {"work days", "business-day"}, {"work day", "business-day"},
		{"workdays", "business-day"}, {"workday", "business-day"},
		{"business hours", "business-hour"}, {"business hour", "business-hour"}, {"working hours", "business-hour"}, {"working hour", "business-hour"},
		{"calendar days", "day"}, {"calendar day", "day"},
		{"hours", "hour"}, {"hour", "hour"}, {"hrs", "hour"}, {"hr", "hour"}, {"h", "hour"},
		{"minutes", "minute"}, {"minute", "minute"}, {"mins", "minute"}, {"min", "minute"},
		{"seconds", "second"}, {"second", "second"}, {"secs", "second"}, {"sec", "second"},
		{"days", "day"}, {"day", "day"},
		{"weeks", "week"}, {"week", "week"}, {"wks", "week"}, {"wk", "week"},
		{"fortnights", "fortnight"}, {"fortnight", "fortnight"},
		{"months", "month"}, {"month", "month"},
		{"quarters", "quarter"}, {"quarter", "quarter"},
		{"years", "year"}, {"year", "year"}, {"yrs", "year"},
		{"digits", "place"}, {"digit", "place"}, {"characters", "place"}, {"character", "place"},
		{"chars", "place"}, {"char", "place"}, {"numbers", "place"},
		{"times", "times"},
	}
	sort.SliceStable(u, func(i, j int) bool { return len(u[i].word) > len(u[j].word) })
	return u
}()

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

// numFact is a number and the unit that follows it ("" when none does).
// n is the value in digits ("24", "0.5"), or "few" for 几天 / "a few days".
type numFact struct{ n, unit string }

func (n numFact) String() string {
	if n.unit == "" {
		return n.n
	}
	return n.n + " " + n.unit
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

// Chinese numerals, financial (大写) forms included, after conversion to
// Simplified (貳→贰, 參→参, 陸→陆, 萬→万).
var zhDigits = map[rune]int{
	'零': 0, '〇': 0, '一': 1, '幺': 1, '壹': 1, '二': 2, '两': 2, '贰': 2, '三': 3, '叁': 3, '参': 3,
	'四': 4, '肆': 4, '五': 5, '伍': 5, '六': 6, '陆': 6, '七': 7, '柒': 7, '八': 8, '捌': 8, '九': 9, '玖': 9,
}

var zhMultipliers = map[rune]int{'十': 10, '拾': 10, '百': 100, '佰': 100, '千': 1000, '仟': 1000}

func isZhNumeral(r rune) bool {
	_, d := zhDigits[r]
	_, m := zhMultipliers[r]
	return d || m || r == '万' || r == '亿' || r == '廿' || r == '卅' || r == '半' || r == '几' || r == '数'
}

// zhValue reads a run of Chinese numerals: 二十四 → 24, 叁 → 3, 二〇二〇 → 2020,
// 半 → 0.5, 几/数 → few. ok is false for runs that are no number.
func zhValue(run []rune) (string, bool) {
	for _, r := range run {
		if r == '几' || r == '数' {
			return "few", true
		}
	}
	if len(run) == 1 && run[0] == '半' {
		return "0.5", true
	}
	positional := true // 二〇二〇: digit by digit
	for _, r := range run {
		if _, ok := zhDigits[r]; !ok {
			positional = false
		}
	}
	if positional {
		var b strings.Builder
		for _, r := range run {
			b.WriteByte(byte('0' + zhDigits[r]))
		}
		n := strings.TrimLeft(b.String(), "0")
		if n == "" {
			n = "0"
		}
		return n, true
	}
	total, section, digit := 0, 0, 0
	for _, r := range run {
		switch {
		case r == '廿':
			section += 20
		case r == '卅':
			section += 30
		case r == '万' || r == '亿':
			mult := 10000
			if r == '亿' {
				mult = 100000000
			}
			total += (section + digit) * mult
			section, digit = 0, 0
		default:
			if d, ok := zhDigits[r]; ok {
				digit = d
				continue
			}
			m, ok := zhMultipliers[r]
			if !ok {
				return "", false
			}
			if digit == 0 {
				digit = 1 // 十四 is 14
			}
			section += digit * m
			digit = 0
		}
	}
	return strconv.Itoa(total + section + digit), true
}

// zhNumbers finds Chinese numerals followed by a unit of time or, after
// 后/前/末, by 位 ("后六位"). Numerals before other words (一直, 一致, 统一)
// are no claims, nor ordinals (第一天).
func zhNumbers(s string) []numFact {
	var out []numFact
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if !isZhNumeral(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isZhNumeral(rs[j]) {
			j++
		}
		run := rs[i:j]
		i = j
		if i-len(run) > 0 && rs[i-len(run)-1] == '第' {
			continue
		}
		unit := unitAt(string(rs[j:]))
		switch unit {
		case "", "times":
			continue
		case "place":
			if start := j - len(run); start == 0 || !strings.ContainsRune("后前末", rs[start-1]) {
				continue
			}
		}
		if v, ok := zhValue(run); ok {
			out = append(out, numFact{v, unit})
		}
	}
	return out
}

// English number words.
var enNumberWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}

// enNumbers reads number words ("twenty-four hours", "six characters",
// "an hour", "a few days", "half a day"). A number word with no unit is a
// claim of its own from two up ("two possible causes"); "one" and "a" alone
// are too common to be one.
func enNumbers(s string) []numFact {
	var out []numFact
	words := wordSpans(s)
	for i := 0; i < len(words); i++ {
		w := s[words[i][0]:words[i][1]]
		var value string
		next := i + 1
		switch {
		case w == "a" || w == "an":
			if next < len(words) && (s[words[next][0]:words[next][1]] == "few" || s[words[next][0]:words[next][1]] == "couple") {
				value, next = "few", next+1
				if next < len(words) && s[words[next][0]:words[next][1]] == "of" {
					next++
				}
			} else {
				value = "1"
			}
		case w == "few" || w == "several":
			value = "few"
		case w == "half":
			value = "0.5"
			if next < len(words) && (s[words[next][0]:words[next][1]] == "a" || s[words[next][0]:words[next][1]] == "an") {
				next++
			}
		default:
			v, n, ok := enValue(s, words, i)
			if !ok {
				continue
			}
			value, next = strconv.Itoa(v), n
		}
		rest := ""
		if next < len(words) {
			rest = s[words[next][0]:]
		}
		unit := ""
		if next < len(words) && words[next][0]-words[next-1][1] <= 2 {
			unit = unitAt(rest)
		}
		switch {
		case unit != "":
			out = append(out, numFact{value, unit})
		case w != "a" && w != "an" && w != "one" && w != "half" && value != "few":
			out = append(out, numFact{value, ""})
		}
		i = next - 1
	}
	return out
}

// enValue reads number words from words[i]: "twenty-four", "twenty four",
// "one hundred and twenty". next is the index after them.
func enValue(s string, words [][2]int, i int) (value, next int, ok bool) {
	total, current := 0, 0
	j := i
	for ; j < len(words); j++ {
		w := s[words[j][0]:words[j][1]]
		if w == "and" && j > i && current >= 100 {
			continue
		}
		parts := strings.Split(w, "-")
		all := true
		for _, p := range parts {
			if _, known := enNumberWords[p]; !known {
				all = false
			}
		}
		if !all {
			break
		}
		for _, p := range parts {
			n := enNumberWords[p]
			switch {
			case n == 100:
				if current == 0 {
					current = 1
				}
				current *= 100
			default:
				current += n
			}
		}
	}
	if j == i {
		return 0, i, false
	}
	return total + current, j, true
}

// wordSpans returns the byte spans of the words (letters, digits,
// apostrophes and inner hyphens) of lower-case text.
func wordSpans(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isWordByte(s[j]) || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c == '-' || c == '\'' }

// timeWords are times without a number that a rewording could slip in
// ("verify by tomorrow"): claims like numbers.
var timeWords = []struct{ word, canon string }{
	{"明天", "tomorrow"}, {"明日", "tomorrow"}, {"次日", "tomorrow"}, {"隔天", "tomorrow"}, {"第二天", "tomorrow"},
	{"后天", "day-after-tomorrow"}, {"当天", "today"}, {"当日", "today"}, {"今天", "today"}, {"今日", "today"},
	{"下周", "next-week"}, {"tomorrow", "tomorrow"}, {"next day", "tomorrow"}, {"overnight", "tomorrow"},
	{"today", "today"}, {"next week", "next-week"}, {"end of the day", "today"},
}

func timeClaims(s string) []numFact {
	var out []numFact
	for _, t := range timeWords {
		if containsWord(s, t.word) {
			out = append(out, numFact{t.canon, "time"})
		}
	}
	return out
}

// ---- Polarity: who receives the SMS, who must or need not verify -----------

// A polarityClaim says that a role receives (or does not receive) the SMS,
// or must (or need not) verify. role "" is anyone: only its negative
// ("verification is optional") is a claim, since the positive is in nearly
// every answer and worded in too many ways to compare.
type polarityClaim struct {
	pred string // "receive" or "verify"
	role string // "entity", "website", "emergency" or ""
	neg  bool
}

func (c polarityClaim) String() string {
	who := c.role
	if who == "" {
		who = "anyone"
	}
	switch {
	case c.pred == "receive" && c.neg:
		return who + " does not receive the SMS"
	case c.pred == "receive":
		return who + " receives the SMS"
	case c.neg:
		return who + " need not verify"
	}
	return who + " must verify"
}

// roleNames, in the comparison form.
var roleNames = map[string][]string{
	"entity": {"主体负责人", "法定代表人", "法人代表", "person in charge of the entity", "entity's person in charge",
		"entity owner", "entity's responsible person", "person responsible for the entity", "legal representative"},
	"website": {"网站负责人", "person in charge of the website", "website's person in charge", "website owner",
		"website's responsible person", "person responsible for the website", "site administrator", "website administrator"},
	"emergency": {"应急联系电话", "应急联系人", "应急电话", "紧急联系人", "紧急联系电话", "emergency contact", "emergency phone", "emergency number"},
}

var roleOrder = []string{"entity", "website", "emergency"}

var (
	receiveWords = []string{"收到", "收不到", "收得到", "收唔到", "发去", "发送", "发", "接收", "接到", "收取", "发给", "发到", "发至", "发送给", "发送到", "送达", "会收", "能收", "收短信",
		"receive", "receives", "received", "receiving", "get", "gets", "got", "getting", "arrive", "arrives", "arrived",
		"goes to", "sent to", "delivered to", "texted to", "send", "sends", "sent"}
	verifyWords = []string{"核验", "验证", "认证", "verify", "verifies", "verified", "verifying", "verification", "verifications"}
	// What "need not" can be about: the verification, the SMS, the step.
	verifyObjects = []string{"核验", "验证", "短信", "这一步", "此步", "该步", "verify", "verifies", "verified", "verifying", "verification",
		"sms", "text", "code", "this step", "the step"}
	// A plain negation with one of these reads as "need not": "no verification is needed".
	necessity = []string{"需要", "必须", "要求", "必要", "need", "needs", "needed", "required", "require", "requires", "necessary", "must", "have to", "has to", "mandatory"}
)

// Negation markers. weight 0 marks words that look negative and are not
// (不同, 非常, 别人); kind modal marks "need not" and its kin; strong ones
// say "optional" with no object needed.
type marker struct {
	text   string
	weight int
	kind   int
}

const (
	plain = iota
	modal
	strong
	notNegation
)

var markers = func() []marker {
	var m []marker
	add := func(kind, weight int, words ...string) {
		for _, w := range words {
			m = append(m, marker{w, weight, kind})
		}
	}
	add(notNegation, 0, "不同", "不过", "不仅", "不只", "不久", "不断", "不少", "不管", "不论", "不要紧", "无论", "非常", "未来",
		"别人", "别的", "分别", "区别", "类别", "特别", "个别", "级别", "免费", "无误", "没问题", "并非只", "不但",
		"nothing but", "not only", "no matter", "no problem")
	add(strong, 1, "不是必须", "不是必要", "并不必要", "非必须", "并非必须", "不必须", "不强制", "非强制", "可选", "可做可不做", "可以不做", "可不做", "不做也可以", "不做也行", "做不做都",
		"optional", "not mandatory", "not compulsory", "not obligatory", "isn't mandatory", "isn't compulsory", "isn't obligatory",
		"not required", "isn't required", "aren't required", "not necessary", "isn't necessary", "unnecessary", "not needed", "isn't needed")
	add(modal, 1, "无需", "无须", "唔使", "唔驶", "唔需要", "毋须", "毋需", "不需要", "不需", "不用", "不必", "用不着", "没必要", "没有必要", "不要求", "不一定要", "可以不", "可不",
		"跳过", "忽略", "省略", "略过", "免于", "免除", "免做", "豁免",
		"no need", "needn't", "need not", "don't need", "doesn't need", "do not need", "does not need", "won't need",
		"don't have to", "doesn't have to", "do not have to", "does not have to", "not have to", "no longer",
		"skip", "skipping", "skipped", "ignore", "ignoring", "ignored", "disregard", "nothing more", "nothing else",
		"no further", "exempt", "waived")
	add(plain, 1, "不", "没", "无", "未", "非", "别", "勿", "甭", "除了", "唔", "冇", "毋",
		"not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "without", "cannot", "except", "other than",
		"don't", "doesn't", "didn't", "won't", "isn't", "aren't", "can't", "wasn't", "weren't", "haven't", "hasn't",
		"shouldn't", "mustn't", "wouldn't", "couldn't")
	sort.SliceStable(m, func(i, j int) bool { return len(m[i].text) > len(m[j].text) })
	return m
}()

// markersByFirst indexes markers by their first byte: scanMarkers tries
// only the few that can start where it stands.
var markersByFirst = func() map[byte][]marker {
	m := map[byte][]marker{}
	for _, mk := range markers {
		m[mk.text[0]] = append(m[mk.text[0]], mk) // stays longest first
	}
	return m
}()

// markerHit is one marker found in a clause, at rune position pos.
type markerHit struct {
	marker
	pos, end int // rune positions
}

// scanMarkers finds negation markers left to right, the longest at each
// place; English ones only as whole words.
func scanMarkers(s string) []markerHit {
	var hits []markerHit
	pos := 0
	for i := 0; i < len(s); {
		found := false
		for _, m := range markersByFirst[s[i]] {
			if !strings.HasPrefix(s[i:], m.text) {
				continue
			}
			if m.text[0] < utf8.RuneSelf && !wordBoundary(s, i, i+len(m.text)) {
				continue
			}
			n := utf8.RuneCountInString(m.text)
			hits = append(hits, markerHit{m, pos, pos + n})
			i += len(m.text)
			pos += n
			found = true
			break
		}
		if !found {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			pos++
		}
	}
	return hits
}

func wordBoundary(s string, start, end int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:start])
	after, _ := utf8.DecodeRuneInString(s[end:])
	letter := func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || r == '\'') }
	return !letter(before) && !letter(after)
}

func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		at := i + j
		if w[0] >= utf8.RuneSelf || wordBoundary(s, at, at+len(w)) {
			return true
		}
		i = at + 1
	}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if containsWord(s, w) {
			return true
		}
	}
	return false
}

// polarityClaims reads who receives the SMS and who must or need not verify,
// clause by clause. s is the comparison form without quotes, MIIT messages
// and URLs. A clause that names a role but no verb takes the verb of its
// sentence ("网站负责人会收到，应急联系电话不会"), or of the line before when
// that line leads in with a colon (a list of roles under "the SMS goes to:").
func polarityClaims(s string) []polarityClaim {
	var out []polarityClaim
	seen := map[polarityClaim]bool{}
	add := func(c polarityClaim) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	carried := "" // the predicate of a lead-in line ending with a colon
	for _, sentence := range sentences(s) {
		clauses := splitClauses(sentence)
		own := ""
		for _, c := range clauses {
			if p := predicate(c); p != "" {
				own = p
				break
			}
		}
		if own != "" {
			carried = ""
		}
		for _, c := range clauses {
			roles := rolesIn(c)
			hits := scanMarkers(c)
			if len(roles) == 0 {
				if needNot(c, hits) {
					add(polarityClaim{pred: "verify", neg: true})
				}
				continue
			}
			p := predicate(c)
			if p == "" {
				p = own
			}
			if p == "" {
				p = carried
			}
			if p == "" {
				continue
			}
			weight := 0
			for _, h := range hits {
				weight += h.weight
			}
			for _, r := range roles {
				add(polarityClaim{pred: p, role: r, neg: weight%2 == 1})
			}
		}
		if t := strings.TrimSpace(sentence); strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：") {
			carried = own
		}
	}
	return out
}

// needNot reports a clause that says verification (or the SMS, or this
// step) is not needed, optional, or can be skipped or ignored, unless a
// negator right before takes it back ("不能跳过", "don't ignore").
func needNot(clause string, hits []markerHit) bool {
	object := containsAny(clause, verifyObjects)
	// English only: in Chinese "需要核验的申请" is a noun phrase, and
	// "不需要" is a marker of its own.
	if object && containsAny(clause, necessity) {
		weight := 0
		for _, h := range hits {
			if h.text[0] < utf8.RuneSelf {
				weight += h.weight
			}
		}
		if weight%2 == 1 {
			return true
		}
	}
	for i, h := range hits {
		if h.kind != strong && !(h.kind == modal && object) {
			continue
		}
		if i > 0 && hits[i-1].kind == plain && h.pos-hits[i-1].end <= 3 {
			continue // 不能跳过, must not ignore
		}
		return true
	}
	return false
}

// predicate is "receive" when the clause has a verb of receiving, else
// "verify" when it speaks of verifying, else "".
func predicate(clause string) string {
	switch {
	case containsAny(clause, receiveWords):
		return "receive"
	case containsAny(clause, verifyWords):
		return "verify"
	}
	return ""
}

func rolesIn(clause string) []string {
	var out []string
	for _, r := range roleOrder {
		for _, name := range roleNames[r] {
			if strings.Contains(clause, name) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// sentences splits at line breaks, Chinese and English sentence ends and
// semicolons. An English full stop ends a sentence only before a space or
// the end (not inside 1.5 or a host).
func sentences(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		end := strings.ContainsRune("\n。!?！？;；", r) ||
			r == '.' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n')
		if end {
			out = append(out, s[start:i+utf8.RuneLen(r)])
			start = i + utf8.RuneLen(r)
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// splitClauses splits a sentence at commas and at words that turn it
// ("但", "but", "whereas"), so that "网站负责人会收到，应急联系电话不会" is two clauses.
func splitClauses(sentence string) []string {
	for _, w := range []string{"但是", "但", "然而", "而", " but ", " whereas ", " however "} {
		sentence = strings.ReplaceAll(sentence, w, "，")
	}
	return strings.FieldsFunc(sentence, func(r rune) bool { return r == ',' || r == '，' })
}

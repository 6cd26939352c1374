package matrix

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beianbot/beianbot/lang"
)

// Span is one recognised synonym in the normalised text (lang.Normalize of
// the user's words): bytes Start..End, their text, and what they name. A word
// that names several things ("网站变更") gives one Span per meaning, all with
// the same Start and End.
type Span struct {
	Start, End int
	Text       string
	Business   string
	Subcase    string // "" when the words name the business as a whole
}

// Match is what a text says about the table.
type Match struct {
	Rows  []Row  // every row the words can mean, table order; empty when no filing type was named
	Spans []Span // what was recognised (for --explain)
	Rule  string // one line saying which rule decided, for --explain
}

// Agree reports whether the match can be answered: at least one row, and all
// rows need the same persons to verify. When false with rows, ask back.
func (m Match) Agree() bool {
	if len(m.Rows) == 0 {
		return false
	}
	for _, r := range m.Rows[1:] {
		if r.Principal != m.Rows[0].Principal || r.Website != m.Rows[0].Website {
			return false
		}
	}
	return true
}

// meaning is what a synonym stands for: a whole business (subcase "") or one
// subcase of a business.
type meaning struct {
	business, subcase string
}

func (m meaning) String() string {
	if m.subcase == "" {
		return m.business
	}
	return m.business + "/" + m.subcase
}

// Lookup finds every row the user's text can mean. Synonyms are matched
// longest first without overlap, so 不涉及变更省份 is not read as 涉及变更省份.
// A business named without any of its subcases means all its rows; a subcase
// named without its business means the rows having that subcase. Rows come
// back in table order; Agree tells whether to answer or ask back.
func (t *Table) Lookup(text string) Match {
	norm := lang.Normalize(text)
	return t.match(norm, t.scan(norm))
}

// Residual returns the normalised text with the recognised filing types cut
// out, so the caller can tell "just a filing type" from a question about
// something else, and detect the language of the remaining words.
func (t *Table) Residual(text string) string {
	norm := lang.Normalize(text)
	var b strings.Builder
	last := 0
	for _, o := range t.scan(norm) {
		if o.node.ignore {
			continue
		}
		b.WriteString(norm[last:o.start])
		b.WriteByte(' ')
		last = o.end
	}
	b.WriteString(norm[last:])
	return strings.Join(strings.Fields(b.String()), " ")
}

// Narrow resolves the reply to an ask-back: the rows among candidates that
// text picks, by a 1-based option number ("2", "第2个", "option 2"), by naming a
// business or subcase (any synonym, so a Label in either language works too),
// or, failing those, for a short reply, by words of the options' labels
// ("网站的那个", "the website one"). Rows keep the candidates' order and are
// empty when the text picks none of them, e.g. because it names another
// filing type: then it is a new question.
func (t *Table) Narrow(candidates []Row, text string) Match {
	norm := lang.Normalize(text)
	if n, ok := optionNumber(norm); ok {
		if n >= 1 && n <= len(candidates) {
			return Match{Rows: []Row{candidates[n-1]}, Rule: fmt.Sprintf("option %d of %d", n, len(candidates))}
		}
		return Match{Rule: fmt.Sprintf("option %d is not among options 1-%d", n, len(candidates))}
	}

	m := t.match(norm, t.scan(norm))
	if len(m.Rows) > 0 {
		picked := intersect(candidates, m.Rows)
		if len(picked) == 0 {
			m.Rule = fmt.Sprintf("names none of the %d options (%s)", len(candidates), m.Rule)
		} else {
			m.Rule = fmt.Sprintf("%d of %d options named (%s)", len(picked), len(candidates), m.Rule)
		}
		m.Rows = picked
		return m
	}

	if picked := byLabelWords(candidates, norm); len(picked) > 0 {
		return Match{Rows: picked, Rule: fmt.Sprintf("words of the option labels pick %d of %d", len(picked), len(candidates))}
	}
	return Match{Rule: fmt.Sprintf("picks none of the %d options", len(candidates))}
}

// match turns the recognised occurrences into rows.
func (t *Table) match(norm string, all []occurrence) Match {
	var occs []occurrence // without the ignore phrases
	for _, o := range all {
		if !o.node.ignore {
			occs = append(occs, o)
		}
	}
	if len(occs) == 0 {
		return Match{Rule: "no filing type named"}
	}

	// A word with several meanings is read in the light of the other words:
	// in "变更备案，主体变更" the second names the subcase 仅主体变更 of the
	// 变更备案 just mentioned, not the business 变更主体. Alone it keeps every meaning.
	var notes []string
	named := map[string]int{} // business → how many occurrences have a meaning in it
	for _, o := range occs {
		for _, b := range o.node.businesses {
			named[b]++
		}
	}
	chosen := make([][]meaning, len(occs))
	for k, o := range occs {
		chosen[k] = o.node.meanings
		if len(o.node.meanings) < 2 {
			continue
		}
		var fit []meaning
		for _, m := range o.node.meanings {
			if named[m.business] > 1 { // another occurrence names this business too
				fit = append(fit, m)
			}
		}
		if len(fit) > 0 && len(fit) < len(o.node.meanings) {
			chosen[k] = fit
			note := fmt.Sprintf("%q read as %s", norm[o.start:o.end], joinMeanings(fit))
			if !slices.Contains(notes, note) {
				notes = append(notes, note)
			}
		}
	}

	businesses := map[string]bool{}   // businesses named as a whole
	subcases := map[string][]string{} // business → its subcases named
	var spans []Span
	for k, o := range occs {
		for _, m := range chosen[k] {
			spans = append(spans, Span{Start: o.start, End: o.end, Text: norm[o.start:o.end], Business: m.business, Subcase: m.subcase})
			switch {
			case m.subcase == "":
				businesses[m.business] = true
			case !slices.Contains(subcases[m.business], m.subcase):
				subcases[m.business] = append(subcases[m.business], m.subcase)
			}
		}
	}

	var rows []Row
	for _, r := range t.rows {
		if slices.Contains(subcases[r.Business], r.Subcase) ||
			businesses[r.Business] && len(subcases[r.Business]) == 0 {
			rows = append(rows, r)
		}
	}
	m := Match{Rows: rows, Spans: spans}
	m.Rule = t.rule(businesses, subcases, notes, m)
	return m
}

// rule explains in one line how the rows were chosen.
func (t *Table) rule(businesses map[string]bool, subcases map[string][]string, notes []string, m Match) string {
	var parts []string
	alone := map[string][]string{} // subcase named without its business → those businesses
	var aloneOrder []string
	for _, b := range t.Businesses() {
		subs := subcases[b]
		n := 0
		for _, r := range m.Rows {
			if r.Business == b {
				n++
			}
		}
		switch {
		case businesses[b] && len(subs) == 0 && t.RowsOf(b)[0].Subcase == "": // a business without subcases
			parts = append(parts, fmt.Sprintf("business %s: %s", b, plural(n, "row")))
		case businesses[b] && len(subs) == 0:
			parts = append(parts, fmt.Sprintf("business %s without subcase: %s", b, plural(n, "row")))
		case businesses[b]:
			parts = append(parts, fmt.Sprintf("business %s with subcase %s: %s", b, strings.Join(subs, ", "), plural(n, "row")))
		default:
			for _, s := range subs {
				if alone[s] == nil {
					aloneOrder = append(aloneOrder, s)
				}
				alone[s] = append(alone[s], b)
			}
		}
	}
	for _, s := range aloneOrder {
		parts = append(parts, fmt.Sprintf("subcase %s without its business: %s (%s)", s, plural(len(alone[s]), "row"), strings.Join(alone[s], ", ")))
	}
	parts = append(parts, notes...)
	verdict := fmt.Sprintf("%s disagree: ask back", plural(len(m.Rows), "row"))
	if m.Agree() {
		verdict = fmt.Sprintf("agree: principal %s, website %s", yesNo(m.Rows[0].Principal), yesNo(m.Rows[0].Website))
	}
	return strings.Join(parts, "; ") + "; " + verdict
}

// occurrence is a phrase of the trie found in the token stream.
type occurrence struct {
	from, to   int // token range [from, to)
	start, end int // byte range in the normalised text
	runes      int // length in characters, for longest-first
	node       *trieNode
}

// scan finds the synonyms and ignore phrases in normalised text: every
// phrase at every position, then the longest first (ties: leftmost), dropping
// those that overlap one already taken. The result is in text order.
func (t *Table) scan(norm string) []occurrence {
	if t.trie == nil { // a zero Table, not made by Parse
		return nil
	}
	toks := tokenize(norm)
	var all []occurrence
	for i := range toks {
		n := t.trie
		for j := i; j < len(toks); j++ {
			if j > i && !toks[j].joined {
				break
			}
			if n = n.next[toks[j].text]; n == nil {
				break
			}
			if n.ignore || len(n.meanings) > 0 {
				start, end := toks[i].start, toks[j].end
				all = append(all, occurrence{from: i, to: j + 1, start: start, end: end,
					runes: utf8.RuneCountInString(norm[start:end]), node: n})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b occurrence) int {
		if a.runes != b.runes {
			return b.runes - a.runes
		}
		return a.from - b.from
	})
	used := make([]bool, len(toks))
	var kept []occurrence
	for _, o := range all {
		if slices.Contains(used[o.from:o.to], true) {
			continue
		}
		for k := o.from; k < o.to; k++ {
			used[k] = true
		}
		kept = append(kept, o)
	}
	slices.SortFunc(kept, func(a, b occurrence) int { return a.from - b.from })
	return kept
}

// trieNode is a node of the phrase trie, keyed by token.
type trieNode struct {
	next     map[string]*trieNode
	meanings []meaning // what the phrase ending here names, table order
	// businesses of meanings, each once
	businesses []string
	ignore     bool // the phrase names no filing type though it contains a synonym
}

func (n *trieNode) insert(toks []token) *trieNode {
	for _, tok := range toks {
		if n.next == nil {
			n.next = map[string]*trieNode{}
		}
		c := n.next[tok.text]
		if c == nil {
			c = &trieNode{}
			n.next[tok.text] = c
		}
		n = c
	}
	return n
}

// buildIndex puts every synonym and ignore phrase into the trie, checking that
// each can actually match.
func (t *Table) buildIndex(p *parser) error {
	t.trie = &trieNode{}
	seen := map[meaning]bool{}
	var order []meaning // business, then its subcases, in table order
	for _, r := range t.rows {
		ms := []meaning{{business: r.Business}}
		if r.Subcase != "" {
			ms = append(ms, meaning{business: r.Business, subcase: r.Subcase})
		}
		for _, m := range ms {
			if !seen[m] {
				seen[m] = true
				order = append(order, m)
			}
		}
	}
	for _, m := range order {
		for _, s := range t.synonyms[m] {
			toks, err := phraseTokens(s.text)
			if err != nil {
				line := p.synonymLine[synonymKey{m, strings.ToLower(s.text)}]
				return &ParseError{File: p.file, Line: max(line, 1), Field: s.list, Msg: fmt.Sprintf("synonym %q of %s: %v", s.text, m, err)}
			}
			n := t.trie.insert(toks)
			if !slices.Contains(n.meanings, m) {
				n.meanings = append(n.meanings, m)
			}
			if !slices.Contains(n.businesses, m.business) {
				n.businesses = append(n.businesses, m.business)
			}
		}
	}
	for i, s := range t.ignore {
		toks, err := phraseTokens(s)
		if err == nil {
			n := t.trie.insert(toks)
			if len(n.meanings) > 0 {
				err = fmt.Errorf("is also a synonym of %s", joinMeanings(n.meanings))
			}
			n.ignore = true
		}
		if err != nil {
			return &ParseError{File: p.file, Line: max(p.ignoreLines[i], 1), Field: "ignore", Msg: fmt.Sprintf("%q: %v", s, err)}
		}
	}
	return nil
}

// phraseTokens tokenises a synonym, which must be one unbroken phrase.
func phraseTokens(s string) ([]token, error) {
	toks := tokenize(lang.Normalize(s))
	if len(toks) == 0 {
		return nil, fmt.Errorf("has no words to match")
	}
	for _, tok := range toks[1:] {
		if !tok.joined {
			return nil, fmt.Errorf("contains punctuation, which would stop it from ever matching")
		}
	}
	return toks, nil
}

// token is a unit of matching: one Han character, or one Latin word in
// canonical form (lower case, singular, common variants folded).
type token struct {
	text       string
	start, end int  // bytes in the normalised text
	joined     bool // only spaces, hyphens or skipped words since the previous token
}

// skipWords are dropped from English text and synonyms alike, so "add a
// website" matches "add website" and "cancel my filing" matches "cancel filing".
var skipWords = map[string]bool{"a": true, "an": true, "the": true, "my": true, "our": true, "your": true}

// wordAliases fold spellings customers use for the same thing, so the data
// file need not list every combination.
var wordAliases = map[string]string{
	"filling":      "filing", // the commonest misspelling
	"registration": "filing", // "ICP registration" is what many call the filing
	"site":         "website",
	"subject":      "entity", // 主体 is translated both ways
}

func tokenize(s string) []token {
	var toks []token
	// gap is what lies between the previous token and the next one. Chinese
	// words are not separated by spaces, so a Han character joins the phrase
	// before it only when nothing at all lies between them; English words
	// join across spaces, hyphens and skipped words. Punctuation always breaks:
	// "变更，主体" is not 变更主体.
	const (
		none = iota
		soft
		hard
	)
	gap := hard
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.Is(unicode.Han, r):
			toks = append(toks, token{text: s[i : i+size], start: i, end: i + size, joined: gap == none})
			gap = none
			i += size
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			end, word := readWord(s, i)
			if w := canonical(word); skipWords[w] {
				gap = max(gap, soft)
			} else {
				toks = append(toks, token{text: w, start: i, end: end, joined: gap != hard})
				gap = none
			}
			i = end
		case r == ' ' || r == '-' || r == '_':
			gap = max(gap, soft)
			i += size
		default:
			gap = hard
			i += size
		}
	}
	return toks
}

// readWord reads a run of non-Han letters and digits starting at i, dropping
// apostrophes inside it ("doesn't" → "doesnt").
func readWord(s string, i int) (end int, word string) {
	var b strings.Builder
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\'' || r == '’' {
			if next, _ := utf8.DecodeRuneInString(s[i+size:]); unicode.IsLetter(next) && !unicode.Is(unicode.Han, next) && b.Len() > 0 {
				i += size
				continue
			}
			break
		}
		if unicode.Is(unicode.Han, r) || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		b.WriteRune(r)
		i += size
	}
	return i, b.String()
}

func canonical(w string) string {
	if a, ok := wordAliases[w]; ok {
		return a
	}
	w = singular(w)
	if a, ok := wordAliases[w]; ok {
		return a
	}
	return w
}

// singular strips simple English plurals. It only has to be consistent, since
// synonyms and text go through it alike.
func singular(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case len(w) > 3 && strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}

// optionPatterns recognise a reply that is only an option number.
var optionPatterns = []*regexp.Regexp{
	regexp.MustCompile(`^(?:i (?:choose|pick|want|mean) |choose |pick )?(?:(?:option|choice|number|no\.?) ?|#)?(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)$`),
	regexp.MustCompile(`^(?:i (?:choose|pick|want|mean) )?(?:the )?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|4th|5th|6th|7th|8th|9th|10th)(?: one| option)?$`),
	regexp.MustCompile(`^(?:我选|选|选项|是)?(?:第 ?)?(\d{1,2}|[一二三四五六七八九十]) ?(?:个选项|个|项|种|条|号)?(?:吧|啊)?$`),
}

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
	"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}

// optionNumber reads a reply such as "2", "option 2", "the second one" or "第2个".
func optionNumber(norm string) (int, bool) {
	s := strings.TrimRight(norm, " .。!！)")
	for _, re := range optionPatterns {
		m := re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		w := m[1]
		if w[0] >= '0' && w[0] <= '9' {
			w = strings.TrimRight(w, "stndrh") // "2nd" → "2"
		}
		if n, err := strconv.Atoi(w); err == nil {
			return n, true
		}
		if n, ok := numberWords[m[1]]; ok {
			return n, true
		}
	}
	return 0, false
}

// fillerWords may surround the label words of a reply ("the website one").
var fillerWords = map[string]bool{
	"one": true, "option": true, "choice": true, "it": true, "i": true, "mean": true, "want": true,
	"choose": true, "pick": true, "please": true, "that": true, "this": true, "which": true, "is": true,
	"for": true, "my": true, "case": true, "about": true, "with": true,
}

var fillerZH = strings.NewReplacer("我选", "", "选", "", "那个", "", "这个", "", "一个", "", "的", "", "是", "", "吧", "", "啊", "", "呢", "", "我", "", "就", "")

// byLabelWords picks the candidates whose label contains every word of a
// short reply: Chinese as a substring of the Chinese label (at least two
// characters), English as words of the English label.
func byLabelWords(candidates []Row, norm string) []Row {
	if utf8.RuneCountInString(norm) > 30 {
		return nil
	}
	zh := fillerZH.Replace(lang.Compact(norm))
	var words []string
	for _, tok := range tokenize(norm) {
		if !fillerWords[tok.text] && !unicode.Is(unicode.Han, []rune(tok.text)[0]) {
			words = append(words, tok.text)
		}
	}
	var picked []Row
	for _, r := range candidates {
		zhOK := utf8.RuneCountInString(zh) >= 2 && isHan(zh) && strings.Contains(lang.Compact(r.Label(lang.ZH)), zh)
		enOK := len(words) > 0 && !hasHan(norm) && containsAll(tokenize(lang.Normalize(r.Label(lang.EN))), words)
		if zhOK || enOK {
			picked = append(picked, r)
		}
	}
	return picked
}

func containsAll(toks []token, words []string) bool {
	for _, w := range words {
		if !slices.ContainsFunc(toks, func(t token) bool { return t.text == w }) {
			return false
		}
	}
	return true
}

func isHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

func intersect(candidates, rows []Row) []Row {
	var out []Row
	for _, c := range candidates {
		if slices.ContainsFunc(rows, func(r Row) bool { return r.Business == c.Business && r.Subcase == c.Subcase }) {
			out = append(out, c)
		}
	}
	return out
}

func joinMeanings(ms []meaning) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, " or ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

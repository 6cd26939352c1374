package concept

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token is a unit of matching: one Han character, or one Latin word or number
// in canonical form (lower case, apostrophes dropped, stemmed).
type Token struct {
	Text       string
	Start, End int  // bytes in the normalised text
	Han        bool // a Han character
	// Joined: nothing but spaces, hyphens or skipped words lies between this
	// token and the one before, so a phrase may continue across the gap.
	Joined bool
	// Break: a clause boundary (punctuation such as ，。？, or a line break)
	// lies between this token and the one before.
	Break bool
	// Question: the boundary before this token closes a question ("?", "？").
	Question bool
	// Possessive: an English word written with 's ("the site's licence").
	Possessive bool
}

// contrastWords start a new clause: what follows "but" is said apart from
// what precedes it ("remove one website but keep the others").
var contrastWords = map[string]bool{"but": true, "however": true, "although": true, "though": true, "whereas": true, "except": true,
	"但": true, "但是": true, "可是": true, "然而": true, "不过": true}

// skipWords are dropped from English text and lexicon phrases alike, so
// "add a website" matches "add website".
var skipWords = map[string]bool{"a": true, "an": true, "the": true, "my": true, "our": true, "your": true, "its": true, "their": true, "his": true, "her": true}

// clauseMarks end a clause; questionMarks end a question.
const (
	clauseMarks   = ",，;；:：。!！?？\n…「」『』\"“”<>《》|/"
	questionMarks = "?？"
)

// Tokenize splits normalised text (see lang.Normalize) into tokens.
func Tokenize(s string) []Token {
	var toks []Token
	const (
		none = iota
		soft
		hard
	)
	gap := hard
	brk, question := false, false
	prevLatin := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.Is(unicode.Han, r):
			joined := gap == none || gap == soft && prevLatin
			if contrastWords[s[i:i+size]] || contrastAt(s[i:]) {
				brk = true
			}
			toks = append(toks, Token{Text: s[i : i+size], Start: i, End: i + size, Han: true, Joined: joined, Break: brk, Question: question})
			gap, brk, question, prevLatin = none, false, false, false
			i += size
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			end, word := readWord(s, i)
			possessive := false
			if w := strings.ToLower(word); len(w) > 3 && (strings.HasSuffix(s[i:end], "'s") || strings.HasSuffix(s[i:end], "’s")) {
				word, possessive = word[:len(word)-1], true // readWord dropped the apostrophe
			}
			for _, part := range splitDigits(word) {
				if skipWords[strings.ToLower(part)] {
					gap = max(gap, soft)
					continue
				}
				w := Canonical(part)
				joined := gap != hard
				if contrastWords[strings.ToLower(part)] {
					brk = true
				}
				toks = append(toks, Token{Text: w, Start: i, End: end, Joined: joined, Break: brk, Question: question, Possessive: possessive})
				gap, brk, question, prevLatin = none, false, false, true
			}
			i = end
		case r == ' ' || r == '-' || r == '_' || r == '\'' || r == '’':
			gap = max(gap, soft)
			i += size
		case r == '.':
			// A dot inside a word ("beian.miit.gov.cn", "3.5") joins; a dot
			// that ends a sentence breaks the clause.
			next, _ := utf8.DecodeRuneInString(s[i+size:])
			if i+size < len(s) && (unicode.IsLetter(next) || unicode.IsDigit(next)) && !unicode.Is(unicode.Han, next) {
				gap = max(gap, soft)
			} else {
				gap, brk = hard, true
			}
			i += size
		default:
			gap = hard
			if strings.ContainsRune(clauseMarks, r) {
				brk = true
			}
			if strings.ContainsRune(questionMarks, r) {
				question = true
			}
			i += size
		}
	}
	return toks
}

// contrastAt reports whether a Chinese contrast word starts s.
func contrastAt(s string) bool {
	for _, w := range []string{"但是", "可是", "然而", "不过"} {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
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

// splitDigits separates a number from letters stuck to it: "24h" is 24 and h,
// "6位" never reaches here (Han is read apart).
func splitDigits(w string) []string {
	var parts []string
	start := 0
	for i, r := range w {
		if i > start && unicode.IsDigit(r) != unicode.IsDigit(rune(w[start])) {
			parts = append(parts, w[start:i])
			start = i
		}
	}
	return append(parts, w[start:])
}

// Canonical is the form a Latin word is matched in: lower case, with
// inflections stripped, so that "verify", "verified" and "verifying" are one
// word. The stemmer is deliberately light: only the endings of plurals and
// verb forms go, so "accessibility" stays apart from "access" (Porter's
// stemmer would merge them).
func Canonical(w string) string {
	w = strings.ToLower(w)
	if w == "" || unicode.IsDigit(rune(w[0])) {
		return w
	}
	if a, ok := aliases[w]; ok {
		w = a
	}
	return stem(w)
}

func stem(w string) string {
	n := len(w)
	switch {
	case n > 4 && (strings.HasSuffix(w, "ies") || strings.HasSuffix(w, "ied")):
		return w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:n-1]
	}
	n = len(w)
	suffixed := false
	switch {
	case n > 5 && strings.HasSuffix(w, "ing"):
		w, suffixed = w[:n-3], true
	case n > 4 && strings.HasSuffix(w, "ed"):
		w, suffixed = w[:n-2], true
	}
	n = len(w)
	if suffixed && n > 4 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouy", rune(w[n-1])) {
		w = w[:n-1] // "stopped" → stop, "cancelled" → cancel
	}
	if n := len(w); n > 3 && strings.HasSuffix(w, "e") {
		w = w[:n-1]
	}
	return w
}

// aliases fold spellings that the stemmer leaves apart.
var aliases = map[string]string{
	"filling":  "filing", // the commonest misspelling of filing
	"filled":   "filed",
	"msg":      "message",
	"txt":      "text",
	"pls":      "please",
	"plz":      "please",
	"u":        "you",
	"ur":       "your",
	"r":        "are",
	"hrs":      "hours",
	"hr":       "hour",
	"wat":      "what",
	"wot":      "what",
	"thx":      "thanks",
	"websites": "website",
}

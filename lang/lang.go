// Package lang normalises customer text and tells which language it is in.
// Every matcher in beianbot (matrix, index, MIIT messages) compares normalised text.
package lang

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/unicode/norm"

	"github.com/beianbot/beianbot/lru"
)

// Lang is the language of a reply: Chinese or English.
type Lang string

const (
	ZH Lang = "zh"
	EN Lang = "en"
)

// Parse accepts "zh", "en" and common spellings of them; ok is false otherwise.
func Parse(s string) (Lang, bool) {
	l, _, ok := ParseTag(s)
	return l, ok
}

// ParseTag is Parse that also tells whether the tag asks for Traditional
// characters: zh-Hant, zh-TW, zh-HK and zh-MO do.
func ParseTag(s string) (l Lang, traditional, ok bool) {
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-")) {
	case "zh-hant", "zh-tw", "zh-hk", "zh-mo", "繁體", "繁体", "繁體中文":
		return ZH, true, true
	case "zh", "zh-cn", "zh-hans", "zh-sg", "cn", "chinese", "中文", "简体", "简体中文":
		return ZH, false, true
	case "en", "en-us", "en-gb", "english":
		return EN, false, true
	}
	return "", false, false
}

var (
	convOnce  sync.Once
	t2s, s2tw *opencc.OpenCC
	convErr   error
)

func converters() error {
	convOnce.Do(func() {
		t2s, convErr = opencc.New("t2s")
		if convErr != nil {
			return
		}
		s2tw, convErr = opencc.New("s2tw")
	})
	return convErr
}

// ToSimplified converts Traditional Chinese characters to Simplified.
// Text without Han characters is returned unchanged without touching the converter.
func ToSimplified(s string) string {
	if !hasHan(s) || converters() != nil {
		return s
	}
	if out, ok := recent.Get(s); ok {
		return out
	}
	out, err := t2s.Convert(s)
	if err != nil {
		return s
	}
	if len(s) <= convCacheMaxLen {
		recent.Put(s, out)
	}
	return out
}

// recent remembers the last conversions: answering one message normalises the
// same text several times (language, table, index), and the converter is the
// most expensive step of a reply.
var recent = lru.New[string, string](convCacheSize, 0, nil)

const convCacheSize = 256
const convCacheMaxLen = 4096 // longer texts are rare and not worth keeping

// ToTraditional converts Simplified Chinese to Traditional characters in
// their standard forms (說, 閱, 稅), which Hong Kong, Macau and Taiwan
// readers all read as their own. OpenCC's Hong Kong table is not used: it
// writes Japanese-shaped variants such as 説 and 閲.
func ToTraditional(s string) string {
	if !hasHan(s) || converters() != nil {
		return s
	}
	out, err := s2tw.Convert(s)
	if err != nil {
		return s
	}
	return out
}

// IsTraditional reports whether s is written in Traditional characters:
// converting it to Simplified changes it.
func IsTraditional(s string) bool {
	return hasHan(s) && ToSimplified(s) != s
}

// Normalize prepares text for matching: invalid UTF-8 and control characters
// are dropped, full-width forms folded (NFKC), letters lower-cased, Traditional
// characters converted to Simplified, and runs of white space collapsed.
func Normalize(s string) string {
	n, _ := NormalizeScript(s)
	return n
}

// NormalizeScript is Normalize that also reports whether the text was
// written in Traditional characters (the conversion changed it) or in
// written Cantonese, at the cost of one conversion instead of two.
func NormalizeScript(s string) (normalized string, traditional bool) {
	s = strings.ToValidUTF8(s, " ")
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	// A run of white space becomes one space, or one line break when it
	// holds one: line breaks end clauses, which readers of long messages use.
	var pending rune // the separator owed before the next character
	for _, r := range s {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r) && !unicode.IsSpace(r), unicode.Is(unicode.Cf, r):
			continue // control and format characters (zero-width spaces and joiners)
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			if b.Len() > 0 {
				pending = '\n'
			}
			continue
		case unicode.IsSpace(r):
			if b.Len() > 0 && pending == 0 {
				pending = ' '
			}
			continue
		}
		if pending != 0 {
			b.WriteRune(pending)
			pending = 0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	folded := b.String()
	simplified := ToSimplified(folded)
	// Written Cantonese is Hong Kong and Macau's: a message in it wants
	// Traditional characters back even when none of its own characters
	// differ between the scripts ("唔涉及").
	out := cantonese.Replace(simplified)
	return out, simplified != folded || out != simplified
}

// cantonese folds common written-Cantonese words into their Mandarin
// equivalents (after conversion to Simplified), so that one set of Chinese
// words serves Hong Kong and Macau customers too. Only words that mean
// nothing else in Mandarin are folded.
var cantonese = strings.NewReplacer(
	// Words first: the replacer takes the first listed match at each place.
	"点解", "为什么", "点样", "怎么", "点算", "怎么办", "边个", "谁", "边位", "哪位", "边度", "哪里",
	"乜嘢", "什么", "咩嘢", "什么", "几耐", "多久", "而家", "现在", "系咪", "是不是", "系唔系", "是不是",
	"使不使", "需不需要", "使唔使", "需不需要", "净系", "只是", "淨係", "只是",
	"冇郁", "没动", "唔郁", "不动", "郁过", "动过", "郁咗", "动了",
	"嚟", "来", "冇", "没", "咗", "了", "嘅", "的", "喺", "在", "哋", "们", "佢", "他", "啲", "些",
	"唔", "不", "畀", "给", "睇", "看", "搵", "找", "揾", "找", "攞", "拿", "係", "是",
)

// Compact removes everything but letters and digits, so that two texts that
// differ only in punctuation, spaces or width compare equal.
func Compact(s string) string { return CompactNormalized(Normalize(s)) }

// CompactNormalized is Compact of text already normalised.
func CompactNormalized(norm string) string {
	var b strings.Builder
	for _, r := range norm {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Detect tells whether text is Chinese or English: Chinese when it holds at
// least as many Han characters (halved, since one word is about two characters)
// as Latin words, and at least one Han character. Traditional is true when the
// Chinese is written in Traditional characters.
func Detect(s string) (l Lang, traditional bool) {
	han, words := Counts(s)
	if han > 0 && (han+1)/2 >= words {
		return ZH, IsTraditional(s)
	}
	return EN, false
}

// Counts returns the number of Han characters and of Latin-letter words in s.
func Counts(s string) (han, latinWords int) {
	inWord := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			inWord = false
		case r < unicode.MaxLatin1 && unicode.IsLetter(r) || r >= 0xFF21 && r <= 0xFF5A:
			if !inWord {
				latinWords++
			}
			inWord = true
		default:
			inWord = false
		}
	}
	return han, latinWords
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

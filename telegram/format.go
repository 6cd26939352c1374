package telegram

import (
	"regexp"
	"sort"
	"strings"
)

// maxMessageUnits is Telegram's limit on a message's text. Telegram counts it
// after parsing entities; counting the escaped HTML in UTF-16 units, as here,
// is never less, so a part that fits here fits there.
const maxMessageUnits = 4096

// escapeHTML makes text safe for parse_mode HTML: Telegram's HTML knows only
// these four entities, and an unescaped < or & fails the whole message.
func escapeHTML(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return htmlEscaper.Replace(s)
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// utf16Len is the length of s in UTF-16 code units, as Telegram counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// splitText cuts plain text into parts whose escaped HTML each fit in limit
// UTF-16 units. It cuts between paragraphs when it can, else between lines,
// else after a sentence or a space, and only as a last resort inside a word
// (never inside a character).
func splitText(text string, limit int) []string { return splitBy(text, limit, escapedUnits) }

// splitBy is splitText for text whose parts are measured by units (the
// length of what is sent for them).
func splitBy(text string, limit int, units func(string) int) []string {
	text = strings.Trim(text, "\n")
	var parts []string
	for _, chunk := range split(text, limit, separators, units) {
		if strings.TrimSpace(chunk) != "" {
			parts = append(parts, chunk)
		}
	}
	return parts
}

// separators are tried in order; each is kept with the piece before it.
var separators = []string{"\n\n", "\n", "。", ". ", "！", "？", "! ", "? ", "；", "; ", "，", ", ", " "}

func escapedUnits(s string) int { return utf16Len(escapeHTML(s)) }

func split(text string, limit int, seps []string, units func(string) int) []string {
	if units(text) <= limit {
		return []string{text}
	}
	if len(seps) == 0 {
		return hardSplit(text, limit, units)
	}
	pieces := strings.SplitAfter(text, seps[0])
	if len(pieces) == 1 {
		return split(text, limit, seps[1:], units)
	}
	// Pack whole pieces greedily; a piece too long alone is cut finer.
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, strings.TrimRight(cur.String(), "\n "))
			cur.Reset()
		}
	}
	for _, p := range pieces {
		// A separator at the end of a part is trimmed, so it does not count.
		if units(strings.TrimRight(cur.String()+p, "\n ")) <= limit {
			cur.WriteString(p)
			continue
		}
		flush()
		if units(p) <= limit {
			cur.WriteString(p)
			continue
		}
		out = append(out, split(p, limit, seps[1:], units)...)
	}
	flush()
	return out
}

// hardSplit cuts at character boundaries, each part the longest that fits;
// a character never straddles parts.
func hardSplit(text string, limit int, units func(string) int) []string {
	var out []string
	for text != "" {
		// Binary search over character boundaries: units need not add up
		// character by character (a web address becomes a link).
		bounds := []int{}
		for i := range text {
			if i > 0 {
				bounds = append(bounds, i)
			}
		}
		bounds = append(bounds, len(text))
		n := sort.Search(len(bounds), func(i int) bool { return units(text[:bounds[i]]) > limit })
		cut := bounds[0] // limit smaller than one character: cannot happen with Telegram's limit
		if n > 0 {
			cut = bounds[n-1]
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return out
}

// formatted is a message as Telegram's HTML parse mode shows it: a note in
// italics (on a message edited after a tap: what was chosen), a heading —
// the MIIT messages an answer explains, quoted, or else its title in bold —
// and the body, whose web addresses become links. All text is escaped.
type formatted struct {
	note   string
	title  string
	quotes []string
	body   string
}

// htmlPart is one message's worth of a formatted text, and its plain text
// for when Telegram cannot parse the HTML.
type htmlPart struct{ html, plain string }

// parts renders f as messages of at most limit UTF-16 units of HTML each,
// the heading at the top of the first. Tags and entities are never cut: the
// plain text is split first, then each part is rendered.
func (f formatted) parts(limit int) []htmlPart {
	head, headPlain := f.heading()
	body := strings.Trim(f.body, "\n")
	if utf16Len(head) > limit/2 {
		// Cannot happen with the knowledge base's titles: keep the heading, unformatted.
		head, body = "", strings.TrimRight(headPlain, "\n")+"\n"+body
	}
	var parts []htmlPart
	for i, p := range splitBy(body, limit-utf16Len(head), bodyUnits) {
		part := htmlPart{html: bodyHTML(p), plain: p}
		if i == 0 {
			part.html, part.plain = head+part.html, headPlain+part.plain
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 && head != "" {
		parts = append(parts, htmlPart{html: strings.TrimRight(head, "\n"), plain: strings.TrimRight(headPlain, "\n")})
	}
	return parts
}

// heading renders the note and the heading, each ending with a line break.
func (f formatted) heading() (html, plain string) {
	var h, p strings.Builder
	if note := strings.TrimSpace(f.note); note != "" {
		h.WriteString("<i>" + escapeHTML(note) + "</i>\n\n")
		p.WriteString(note + "\n\n")
	}
	switch {
	case len(f.quotes) > 0:
		// The site's words, set apart as the customer sees them there.
		for _, q := range f.quotes {
			h.WriteString("<blockquote>" + escapeHTML(q) + "</blockquote>\n")
			p.WriteString(q + "\n")
		}
	case strings.TrimSpace(f.title) != "":
		title := strings.TrimSpace(f.title)
		h.WriteString("<b>" + escapeHTML(title) + "</b>\n")
		p.WriteString(title + "\n")
	}
	return h.String(), p.String()
}

// webAddress matches http(s) addresses in text, up to a space or a
// character that cannot end one in running text (Chinese punctuation, quotes).
var webAddress = regexp.MustCompile(`https?://[^\s<>"'“”‘’（）()\[\]{}，。、；：！？《》「」]+`)

// bodyHTML escapes text and makes its web addresses links.
func bodyHTML(text string) string {
	var b strings.Builder
	at := 0
	for _, loc := range webAddress.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		// Punctuation after an address ends the sentence, not the address.
		for end > start && strings.ContainsRune(".,;:!?", rune(text[end-1])) {
			end--
		}
		if end-start <= len("https://") {
			continue
		}
		addr := text[start:end]
		b.WriteString(escapeHTML(text[at:start]))
		b.WriteString(`<a href="` + escapeHTML(addr) + `">` + escapeHTML(addr) + "</a>")
		at = end
	}
	b.WriteString(escapeHTML(text[at:]))
	return b.String()
}

func bodyUnits(s string) int { return utf16Len(bodyHTML(s)) }

package telegram

import (
	"strings"
	"unicode/utf8"
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
func splitText(text string, limit int) []string {
	text = strings.Trim(text, "\n")
	var parts []string
	for _, chunk := range split(text, limit, separators) {
		if strings.TrimSpace(chunk) != "" {
			parts = append(parts, chunk)
		}
	}
	return parts
}

// separators are tried in order; each is kept with the piece before it.
var separators = []string{"\n\n", "\n", "。", ". ", "！", "？", "! ", "? ", "；", "; ", "，", ", ", " "}

func escapedUnits(s string) int { return utf16Len(escapeHTML(s)) }

func split(text string, limit int, seps []string) []string {
	if escapedUnits(text) <= limit {
		return []string{text}
	}
	if len(seps) == 0 {
		return hardSplit(text, limit)
	}
	pieces := strings.SplitAfter(text, seps[0])
	if len(pieces) == 1 {
		return split(text, limit, seps[1:])
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
		if escapedUnits(strings.TrimRight(cur.String()+p, "\n ")) <= limit {
			cur.WriteString(p)
			continue
		}
		flush()
		if escapedUnits(p) <= limit {
			cur.WriteString(p)
			continue
		}
		out = append(out, split(p, limit, seps[1:])...)
	}
	flush()
	return out
}

// hardSplit cuts at character boundaries; a character never straddles parts.
func hardSplit(text string, limit int) []string {
	var out []string
	for text != "" {
		units, cut := 0, 0
		for cut < len(text) {
			r, size := utf8.DecodeRuneInString(text[cut:])
			u := escapedUnits(string(r))
			if units+u > limit {
				break
			}
			units += u
			cut += size
		}
		if cut == 0 { // limit smaller than one character: cannot happen with Telegram's limit
			_, cut = utf8.DecodeRuneInString(text)
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return out
}

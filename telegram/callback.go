package telegram

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/beianbot/beianbot/bot"
)

// maxCallbackData is Telegram's limit on a button's callback_data, in bytes.
const maxCallbackData = 64

// A button's callback_data is "<kind>:<fields>". Buttons carry indexes and
// topic ids, never user text, so they stay short and need no server state.
const (
	cbExample  = "q" // q:<n>          example question n of the welcome
	cbChoose   = "c" // c:<tag>:<i>    option i of the ask-back whose tag is tag
	cbTopic    = "t" // t:<topic>      a "did you mean" suggestion
	cbWho      = "w" // w:<b> | w:<b>:<s>  /who wizard: business b, subcase s
	cbFeedback = "f" // f:<u|d>:<topic>[:<question id>]
	cbLang     = "l" // l:<zh|zh-hant|en|auto>
)

// callback is a parsed callback_data.
type callback struct {
	kind  string
	args  []string
	valid bool
}

func parseCallback(data string) callback {
	if len(data) == 0 || len(data) > maxCallbackData {
		return callback{}
	}
	parts := strings.Split(data, ":")
	return callback{kind: parts[0], args: parts[1:], valid: true}
}

// intArg returns argument i as a small non-negative number.
func (c callback) intArg(i int) (int, bool) {
	if i >= len(c.args) {
		return 0, false
	}
	n, err := strconv.Atoi(c.args[i])
	if err != nil || n < 0 || n > 1000 {
		return 0, false
	}
	return n, true
}

func (c callback) arg(i int) string {
	if i >= len(c.args) {
		return ""
	}
	return c.args[i]
}

// callbackData joins fields; ok is false when the result would not fit.
func callbackData(kind string, fields ...string) (string, bool) {
	s := kind
	for _, f := range fields {
		if strings.Contains(f, ":") {
			return "", false
		}
		s += ":" + f
	}
	return s, len(s) <= maxCallbackData
}

// clarifyTag names an ask-back, so that a tap on the buttons of an older
// ask-back is recognised as stale instead of choosing from the current one.
func clarifyTag(c *bot.Clarify) string {
	if c == nil {
		return ""
	}
	h := fnv.New32a()
	h.Write([]byte(c.Question))
	for _, o := range c.Options {
		h.Write([]byte{0})
		h.Write([]byte(o.Business))
		h.Write([]byte{1})
		h.Write([]byte(o.Subcase))
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

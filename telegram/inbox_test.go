package telegram

import (
	"fmt"
	"strings"
	"testing"
)

// An update that cannot be read is skipped with a log line: the offset moves
// past it, so the poller neither asks for it again and again nor stops.
func TestMalformedUpdateIsSkipped(t *testing.T) {
	h := start(t, setup{engine: echo(t)})
	chat := privateChat(bob)
	h.say(t, chat, bob, "hi", 1)
	bad := h.api.push(map[string]any{"message": "not an object"}) // the last update waiting
	h.waitHandled(t, bad)
	h.api.waitFor(t, "a poll past the malformed update", func() bool {
		for _, c := range h.api.callsOf("getUpdates", 0) {
			if c.Fields["offset"] == fmt.Sprint(bad+1) {
				return true
			}
		}
		return false
	})
	if got := h.say(t, chat, bob, "again", 1); !strings.Contains(got[0].Fields["text"], "again") {
		t.Errorf("after the malformed update, answered %q", got[0].Fields["text"])
	}
	if !strings.Contains(h.logs.String(), fmt.Sprintf("update=%d", bad)) {
		t.Errorf("the skipped update is not logged by its id:\n%s", h.logs.String())
	}
}

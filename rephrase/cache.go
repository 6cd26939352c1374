package rephrase

import (
	"hash/fnv"
	"strconv"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
)

// cacheKey identifies a request by topic, reply language and script, and the
// question compacted (case, width, punctuation and spaces do not matter). A
// hash of the answer is part of it too, so that an edited knowledge base
// never serves a rewording of the old text.
func cacheKey(req bot.RephraseRequest) string {
	h := fnv.New64a()
	h.Write([]byte(req.Answer))
	return req.Topic + "\x00" + string(req.Lang) + "\x00" + strconv.FormatBool(req.Traditional) + "\x00" +
		strconv.FormatUint(h.Sum64(), 36) + "\x00" + lang.Compact(truncateRunes(req.Question, maxQuestionRunes))
}

package support

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/beianbot/beianbot/bot"
	"github.com/beianbot/beianbot/lang"
	"github.com/beianbot/beianbot/store"
)

// ReportSource is what BuildReport reads; *store.Store implements it.
type ReportSource interface {
	QuestionsSince(ctx context.Context, since time.Time) ([]store.Question, error)
	ThreadsSince(ctx context.Context, since time.Time) ([]store.ThreadSummary, error)
}

// ReportOptions chooses the period and the thresholds of a report.
type ReportOptions struct {
	Since, Until time.Time
	// LowScore: an answer given with a confidence (see Score) above 0 and below
	// this is "low confidence". 0 reports none.
	LowScore float64
	// Similarity is the character-bigram Jaccard similarity at which two
	// questions are grouped; 0 means DefaultSimilarity.
	Similarity float64
}

// DefaultSimilarity groups questions that share at least half their
// character pairs, which joins rewordings and typos but not different asks.
const DefaultSimilarity = 0.5

// maxVariants is how many other wordings a group shows.
const maxVariants = 3

// Report is what the support team learns from a period of the question log.
type Report struct {
	Since       time.Time     `json:"since"`
	Until       time.Time     `json:"until"`
	Questions   int           `json:"questions"`
	Chats       int           `json:"chats"`
	Volume      []VolumeRow   `json:"volume"`
	Unanswered  []Group       `json:"unanswered"`
	Feedback    []FeedbackRow `json:"feedback"`
	Handoffs    Handoffs      `json:"handoffs"`
	Rephrase    Rephrase      `json:"rephrase"`
	Suggestions []Suggestion  `json:"suggestions"`
}

// VolumeRow counts one topic's questions by language.
type VolumeRow struct {
	Topic  string `json:"topic"`
	ZH     int    `json:"zh"`
	ZHHant int    `json:"zh_hant"`
	EN     int    `json:"en"`
	Total  int    `json:"total"`
}

// Group is similar questions the bot did not answer, or answered with low confidence.
type Group struct {
	Count         int      `json:"count"`
	Unanswered    int      `json:"unanswered"`
	LowConfidence int      `json:"low_confidence"`
	Langs         []string `json:"langs"`
	Question      string   `json:"question"`           // the first asked
	Variants      []string `json:"variants,omitempty"` // other wordings, up to 3
}

// FeedbackRow is 👍/👎 on one topic's answers. DownRate is 👎 among the
// answers that got any feedback (0 when none did).
type FeedbackRow struct {
	Topic    string  `json:"topic"`
	Answers  int     `json:"answers"`
	Up       int     `json:"up"`
	Down     int     `json:"down"`
	DownRate float64 `json:"down_rate"`
}

// Handoffs counts customers handed to a person.
type Handoffs struct {
	Offered          int `json:"offered"` // replies that offered a person
	Opened           int `json:"opened"`  // threads opened in the support group
	AnsweredByPerson int `json:"answered_by_person"`
	Closed           int `json:"closed"`
	Open             int `json:"open"`
	// MedianFirstReply is the median time from handoff to an agent's first
	// reply, in seconds (0 when no agent replied).
	MedianFirstReply int64 `json:"median_first_reply_seconds"`
}

// Rephrase counts LLM rephrasings and why some were not used.
type Rephrase struct {
	Attempted int          `json:"attempted"`
	Accepted  int          `json:"accepted"`
	NotUsed   []VerdictRow `json:"not_used"`
}

// VerdictRow is how often the guard (or a timeout, an error) gave one verdict.
type VerdictRow struct {
	Verdict string `json:"verdict"`
	Count   int    `json:"count"`
}

// Suggestion is a question worth adding to the knowledge base as an
// example: a person answered it, or the customer liked the bot's answer.
type Suggestion struct {
	Topic    string `json:"topic"` // "" when the agent named none on /close
	Lang     string `json:"lang"`  // zh or en: the knowledge base's example lists
	Source   string `json:"source"`
	Count    int    `json:"count"`
	Question string `json:"question"`
}

// Suggestion sources.
const (
	FromPerson   = "person"
	FromThumbsUp = "thumbs-up"
)

// BuildReport reads the log from opt.Since on and summarises it.
func BuildReport(ctx context.Context, src ReportSource, opt ReportOptions) (Report, error) {
	qs, err := src.QuestionsSince(ctx, opt.Since)
	if err != nil {
		return Report{}, err
	}
	ths, err := src.ThreadsSince(ctx, opt.Since)
	if err != nil {
		return Report{}, err
	}
	qs = slices.DeleteFunc(qs, func(q store.Question) bool { return !opt.Until.IsZero() && q.At.After(opt.Until) })
	ths = slices.DeleteFunc(ths, func(t store.ThreadSummary) bool { return !opt.Until.IsZero() && t.CreatedAt.After(opt.Until) })
	if opt.Similarity <= 0 {
		opt.Similarity = DefaultSimilarity
	}
	r := Report{Since: opt.Since, Until: opt.Until, Questions: len(qs)}
	chats := map[string]bool{}
	for _, q := range qs {
		chats[q.ChatHash] = true
	}
	r.Chats = len(chats)
	r.Volume = volume(qs)
	r.Unanswered = groupUnanswered(qs, opt)
	r.Feedback = feedback(qs)
	r.Handoffs = handoffs(qs, ths)
	r.Rephrase = rephrase(qs)
	r.Suggestions = suggestions(qs)
	return r, nil
}

// LangLabel names a question's language as the report shows it.
func LangLabel(l lang.Lang, traditional bool) string {
	switch {
	case l == lang.ZH && traditional:
		return "zh-Hant"
	case l == lang.ZH:
		return "zh"
	case l == "":
		return "?"
	}
	return string(l)
}

func volume(qs []store.Question) []VolumeRow {
	rows := map[string]*VolumeRow{}
	for _, q := range qs {
		row := rows[q.Topic]
		if row == nil {
			row = &VolumeRow{Topic: q.Topic}
			rows[q.Topic] = row
		}
		switch LangLabel(q.Lang, q.Traditional) {
		case "zh":
			row.ZH++
		case "zh-Hant":
			row.ZHHant++
		default:
			row.EN++
		}
		row.Total++
	}
	out := make([]VolumeRow, 0, len(rows))
	for _, row := range rows {
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b VolumeRow) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Topic, b.Topic))
	})
	return out
}

func groupUnanswered(qs []store.Question, opt ReportOptions) []Group {
	type group struct {
		Group
		grams map[string]bool
		seen  map[string]bool // compact forms already shown
		langs map[string]bool
		first int
	}
	var groups []*group
	for i, q := range qs {
		low := q.Answered && q.Score > 0 && q.Score < opt.LowScore
		if q.Answered && !low {
			continue
		}
		compact := lang.Compact(q.Text)
		if compact == "" {
			continue
		}
		grams := bigrams(compact)
		var best *group
		bestSim := 0.0
		for _, g := range groups {
			if sim := jaccard(grams, g.grams); sim >= opt.Similarity && sim > bestSim {
				best, bestSim = g, sim
			}
		}
		if best == nil {
			best = &group{Group: Group{Question: q.Text}, grams: grams, seen: map[string]bool{compact: true}, langs: map[string]bool{}, first: i}
			groups = append(groups, best)
		} else if !best.seen[compact] && len(best.Variants) < maxVariants {
			best.seen[compact] = true
			best.Variants = append(best.Variants, q.Text)
		}
		best.Count++
		if low {
			best.LowConfidence++
		} else {
			best.Unanswered++
		}
		best.langs[LangLabel(q.Lang, q.Traditional)] = true
	}
	slices.SortStableFunc(groups, func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.first, b.first))
	})
	out := make([]Group, 0, len(groups))
	for _, g := range groups {
		for l := range g.langs {
			g.Langs = append(g.Langs, l)
		}
		sort.Strings(g.Langs)
		out = append(out, g.Group)
	}
	return out
}

// bigrams returns the set of adjacent character pairs of a compacted text
// (the text itself when it is one character).
func bigrams(compact string) map[string]bool {
	rs := []rune(compact)
	set := map[string]bool{}
	if len(rs) == 1 {
		set[compact] = true
	}
	for i := 0; i+1 < len(rs); i++ {
		set[string(rs[i:i+2])] = true
	}
	return set
}

func jaccard(a, b map[string]bool) float64 {
	inter := 0
	for g := range a {
		if b[g] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func feedback(qs []store.Question) []FeedbackRow {
	rows := map[string]*FeedbackRow{}
	for _, q := range qs {
		if !q.Answered {
			continue
		}
		row := rows[q.Topic]
		if row == nil {
			row = &FeedbackRow{Topic: q.Topic}
			rows[q.Topic] = row
		}
		row.Answers++
		switch q.Feedback {
		case 1:
			row.Up++
		case -1:
			row.Down++
		}
	}
	out := make([]FeedbackRow, 0, len(rows))
	for _, row := range rows {
		if rated := row.Up + row.Down; rated > 0 {
			row.DownRate = float64(row.Down) / float64(rated)
		}
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b FeedbackRow) int {
		return cmp.Or(cmp.Compare(b.DownRate, a.DownRate), cmp.Compare(b.Down, a.Down),
			cmp.Compare(b.Answers, a.Answers), cmp.Compare(a.Topic, b.Topic))
	})
	return out
}

func handoffs(qs []store.Question, ths []store.ThreadSummary) Handoffs {
	var h Handoffs
	for _, q := range qs {
		if q.Handoff {
			h.Offered++
		}
	}
	var waits []time.Duration
	for _, t := range ths {
		h.Opened++
		if t.Open {
			h.Open++
		} else {
			h.Closed++
		}
		if t.AgentMessages > 0 {
			h.AnsweredByPerson++
		}
		if !t.FirstAgentAt.IsZero() {
			waits = append(waits, t.FirstAgentAt.Sub(t.CreatedAt))
		}
	}
	if len(waits) > 0 {
		slices.Sort(waits)
		m := waits[len(waits)/2]
		if len(waits)%2 == 0 {
			m = (waits[len(waits)/2-1] + m) / 2
		}
		h.MedianFirstReply = int64(m.Round(time.Second) / time.Second)
	}
	return h
}

func rephrase(qs []store.Question) Rephrase {
	var r Rephrase
	verdicts := map[string]int{}
	for _, q := range qs {
		if q.Rephrase == "" {
			continue
		}
		r.Attempted++
		if q.RephraseAccepted {
			r.Accepted++
		} else {
			verdicts[q.Rephrase]++
		}
	}
	r.NotUsed = []VerdictRow{}
	for v, n := range verdicts {
		r.NotUsed = append(r.NotUsed, VerdictRow{Verdict: v, Count: n})
	}
	slices.SortFunc(r.NotUsed, func(a, b VerdictRow) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Verdict, b.Verdict))
	})
	return r
}

// suggestions collects questions a person resolved (under the topic the
// agent named on /close, else none) and answers the customer liked (under
// the topic answered), one per topic, language and wording.
func suggestions(qs []store.Question) []Suggestion {
	type key struct{ topic, lang, compact string }
	index := map[key]int{}
	out := []Suggestion{}
	add := func(q store.Question, topic, source string) {
		l := "en"
		if q.Lang == lang.ZH {
			l = "zh"
		}
		compact := lang.Compact(q.Text)
		if compact == "" {
			return
		}
		k := key{topic, l, compact}
		if i, ok := index[k]; ok {
			out[i].Count++
			return
		}
		index[k] = len(out)
		out = append(out, Suggestion{Topic: topic, Lang: l, Source: source, Count: 1, Question: q.Text})
	}
	for _, q := range qs {
		switch {
		case q.HumanResolved:
			topic := q.ResolvedTopic
			if topic == bot.TopicUnknown {
				topic = ""
			}
			add(q, topic, FromPerson)
		case q.Feedback == 1 && q.Answered && q.Topic != bot.TopicUnknown:
			add(q, q.Topic, FromThumbsUp)
		}
	}
	slices.SortStableFunc(out, func(a, b Suggestion) int {
		// Topics in name order with the unnamed last; zh before en; people first.
		return cmp.Or(cmp.Compare(boolInt(a.Topic == ""), boolInt(b.Topic == "")), cmp.Compare(a.Topic, b.Topic),
			cmp.Compare(b.Lang, a.Lang), cmp.Compare(a.Source, b.Source))
	})
	return out
}

// durationText shows a duration as "14m", "1h05m" or "45s".
func durationText(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", seconds)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

package bot

import (
	"context"

	"github.com/beianbot/beianbot/lang"
)

// Reply is everything a front end needs to show one answer. It carries no
// formatting for any particular chat system: Text is plain text with line breaks.
type Reply struct {
	Question    string    `json:"question"`
	Lang        lang.Lang `json:"lang"`
	Traditional bool      `json:"traditional,omitempty"` // Text is in Traditional characters
	Topic       string    `json:"topic"`
	// Title is the knowledge-base title of the answer's topic (none for
	// "unknown"), for front ends that head an answer with it. Text does not
	// contain it.
	Title string `json:"title,omitempty"`
	// Quotes are the messages of MIIT's site the answer explains, exactly as
	// the site shows them, for front ends that set them apart. Text
	// contains them where it discusses them.
	Quotes      []string      `json:"quotes,omitempty"`
	Text        string        `json:"answer"`
	Matrix      *MatrixAnswer `json:"matrix,omitempty"`  // set when who-verifies was answered from the table
	Clarify     *Clarify      `json:"clarify,omitempty"` // set when the engine asks back
	Handoff     bool          `json:"handoff"`           // a human is offered
	Suggestions []Suggestion  `json:"suggestions,omitempty"`
	// Original is the deterministic text when Text was rephrased by the LLM.
	Original string          `json:"original,omitempty"`
	Rephrase *RephraseResult `json:"rephrase,omitempty"`
	Explain  *Explain        `json:"explain,omitempty"`
	// Route is the path through the engine that made the reply (for metrics).
	Route Route `json:"route,omitempty"`
}

// Route names the path through the engine that made a reply. There are
// only these, so a front end can count replies by route.
type Route string

const (
	// RoutePasted: a MIIT message pasted, whole or in part.
	RoutePasted Route = "pasted"
	// RouteTable: the verification table — a verdict for the rows the words
	// describe or a tap chose, an ask-back about which filing type, or advice
	// the table decides (no SMS is expected for this filing type).
	RouteTable Route = "table"
	// RouteIndex: a FAQ topic chosen from what the message says (the
	// classifier and the index, and the rules that read the message).
	RouteIndex Route = "index"
	// RouteUnknown: no topic trusted; the "I don't know" answer.
	RouteUnknown Route = "unknown"
	// RouteDirect: a topic asked for by name (a command, a link, a button,
	// a suggestion's number) or an empty message.
	RouteDirect Route = "direct"
)

// Routes are all the routes, for front ends that count them.
var Routes = []Route{RoutePasted, RouteTable, RouteIndex, RouteUnknown, RouteDirect}

// via marks the route that made r.
func (r Reply) via(route Route) Reply {
	r.Route = route
	return r
}

// MatrixAnswer is the verification table's verdict for the rows the user described.
type MatrixAnswer struct {
	Principal bool   `json:"principal"` // 主体负责人 must verify
	Website   bool   `json:"website"`   // 网站负责人 must verify
	Cases     []Case `json:"cases"`
}

// Case names one row of the verification table, exactly as the source does.
type Case struct {
	Business string `json:"business"`
	Subcase  string `json:"subcase"`
}

// Clarify is an ask-back: the user's words fit rows of the table that disagree.
type Clarify struct {
	Question string   `json:"question"`
	Options  []Option `json:"options"`
}

// Option is one choice of an ask-back. Subcase is empty when choosing the
// business is the whole choice (or leads to a further ask-back).
type Option struct {
	Business string `json:"business"`
	Subcase  string `json:"subcase"`
	Label    string `json:"label"`
}

// Suggestion is a "did you mean" candidate when the index was unsure.
type Suggestion struct {
	Topic string  `json:"topic"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

// Explain says why the engine answered as it did (for --explain).
type Explain struct {
	Rule       string `json:"rule"`
	Slots      string `json:"slots,omitempty"`      // what the words say about the filing
	Matrix     string `json:"matrix,omitempty"`     // how the table's rows were chosen
	Scores     []Hit  `json:"scores,omitempty"`     // the best topics' confidence, classifier and index combined
	Classifier []Hit  `json:"classifier,omitempty"` // the classifier's best topics, with their probabilities
	Hits       []Hit  `json:"hits,omitempty"`       // the index's best topics, with their scores
	Message    string `json:"message,omitempty"`    // the MIIT message recognised, if any
}

// Hit is one index result shown by --explain.
type Hit struct {
	Topic string  `json:"topic"`
	Score float64 `json:"score"`
	Field string  `json:"field,omitempty"`
}

// Conversation is the state the engine keeps between turns of one chat.
// Front ends store it per chat (in memory or in a database) and pass it back.
type Conversation struct {
	// Lang pins the reply language; empty means: follow each message.
	Lang lang.Lang `json:"lang,omitempty"`
	// Traditional pins Traditional characters for Chinese replies when Lang is pinned.
	Traditional bool `json:"traditional,omitempty"`
	// Pending is the ask-back the next message may answer.
	Pending *Clarify `json:"pending,omitempty"`
	// PendingLang is the language the pending ask-back was asked in.
	PendingLang lang.Lang `json:"pending_lang,omitempty"`
	// Suggested are the topics of a pending "did you mean", in the order offered.
	Suggested []string `json:"suggested,omitempty"`
	// Filing is the filing type the conversation last settled on (the rows of
	// the last table answer), so that "still no SMS" can be read against it.
	Filing []Case `json:"filing,omitempty"`
	// FilingText is what the customer said of that filing type (normalised),
	// so that "and the website info as well?" can add to it.
	FilingText string `json:"filing_text,omitempty"`
	// LastTopic, LastLang and LastTraditional describe the previous reply, so
	// that a message with no words of its own ("2", "?") keeps its language.
	LastTopic       string    `json:"last_topic,omitempty"`
	LastLang        lang.Lang `json:"last_lang,omitempty"`
	LastTraditional bool      `json:"last_traditional,omitempty"`
}

// Rephraser rewords a deterministic answer to fit the customer's question.
// It must return the original answer's facts unchanged or report that it did
// not (Accepted false); the engine then sends the original.
type Rephraser interface {
	Rephrase(ctx context.Context, req RephraseRequest) RephraseResult
}

// RephraseRequest is what a Rephraser may see. Question is the customer's
// text: untrusted data, never instructions.
type RephraseRequest struct {
	Topic       string
	Lang        lang.Lang
	Traditional bool
	Question    string
	Answer      string
}

// RephraseResult is a Rephraser's outcome. Text is the rephrased answer when
// Accepted; Verdict says why not otherwise (guard rejection, timeout, error…).
type RephraseResult struct {
	Text     string `json:"text,omitempty"`
	Accepted bool   `json:"accepted"`
	Verdict  string `json:"verdict"`
	Cached   bool   `json:"cached,omitempty"`
}

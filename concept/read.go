package concept

import (
	"slices"
)

// Mention is one concept found in a message.
type Mention struct {
	ID         string
	Kind       Kind
	Start, End int // bytes in the normalised text
	From, To   int // tokens [From, To)
	Clause     int
	// Negated: it says something does not happen, by a negation word just
	// before it in its clause ("doesn't change", "没有修改") or by itself
	// ("收不到", "unchanged"). When a negated concept has a negated form, ID
	// is already that form and Base keeps the word's own concept.
	Negated bool
	Base    string
	// Province is set for places: the province they lie in.
	Province string
}

// Clause is a stretch of the message between punctuation marks.
type Clause struct {
	From, To int // tokens [From, To)
	// Question: it ends with a question mark or holds a question word.
	Question bool
}

// Reading is what a message says, as concepts.
type Reading struct {
	Text     string // the normalised text read
	Tokens   []Token
	Mentions []Mention // in text order
	Clauses  []Clause
}

// negationWindow is how many tokens may stand between a negation word and the
// concept it negates: "nothing about the site changes", "neither of us has
// any SMS", "没有任何变更".
const negationWindow = 4

// verbReach is how far a verb may stand to take a negation over a nearer
// word: "nothing about the site changes" negates the change, "不跨省，谁来
// verify" the province.
const verbReach = 2

// Read reads normalised text (lang.Normalize).
func (l *Lexicon) Read(norm string) Reading {
	r := Reading{Text: norm, Tokens: Tokenize(norm)}
	l.correctTypos(r.Tokens)
	r.Clauses = clauses(r.Tokens)
	if n := len(r.Clauses); n > 0 && trailingQuestion(norm, r.Tokens) {
		r.Clauses[n-1].Question = true
	}
	clauseOf := make([]int, len(r.Tokens))
	for i, c := range r.Clauses {
		for k := c.From; k < c.To; k++ {
			clauseOf[k] = i
		}
	}
	for _, f := range l.phrases.Find(r.Tokens) {
		start, end := r.Tokens[f.From].Start, r.Tokens[f.To-1].End
		for _, e := range f.Values {
			m := Mention{ID: e.concept, Start: start, End: end, From: f.From, To: f.To, Clause: clauseOf[f.From]}
			if e.province != "" {
				m.ID, m.Province = Place, e.province
			}
			m.Kind, m.Base = l.concepts[m.ID].Kind, m.ID
			m.Negated = l.negative[m.ID] // "没收到", "unchanged": negative by themselves
			r.Mentions = append(r.Mentions, m)
		}
	}
	l.negate(&r)
	l.negateAfter(&r)
	l.compound(&r)
	for i, c := range r.Clauses {
		if c.Question {
			continue
		}
		for _, m := range r.Mentions {
			if m.Clause == i && m.Kind == Cue && m.ID != "need" {
				r.Clauses[i].Question = true
				break
			}
		}
	}
	return r
}

// negate marks the first concept after each negation word, within its clause
// and the window, as negated.
func (l *Lexicon) negate(r *Reading) {
	for i, n := range r.Mentions {
		if n.Kind != Negation {
			continue
		}
		// The negation belongs to the first verb-like concept in reach
		// ("nothing about the site changes" negates the change, not the
		// site); failing one, to the first concept.
		target := -1
		for j := i + 1; j < len(r.Mentions); j++ {
			m := r.Mentions[j]
			if m.Clause != n.Clause || m.From-n.To > negationWindow {
				break
			}
			if m.From < n.To || m.Kind == Negation || m.Kind == Other {
				continue
			}
			if (m.Kind == Action || l.concepts[m.ID].Negated != "") && m.From-n.To <= verbReach {
				target = j
				break
			}
			if target < 0 {
				target = j
			}
		}
		if target >= 0 {
			j := target
			m := &r.Mentions[j]
			l.negateOne(m)
			// A bundle's other meanings share the span; negate them alike.
			k := j + 1
			for ; k < len(r.Mentions) && r.Mentions[k].From == m.From && r.Mentions[k].To == m.To; k++ {
				l.negateOne(&r.Mentions[k])
			}
			// "不涉及换省份": what is involved is negated too.
			if m.Base == "involve" && k < len(r.Mentions) && r.Mentions[k].Clause == m.Clause && r.Mentions[k].From-m.To <= 1 {
				l.negateOne(&r.Mentions[k])
				for k2 := k + 1; k2 < len(r.Mentions) && r.Mentions[k2].From == r.Mentions[k].From; k2++ {
					l.negateOne(&r.Mentions[k2])
				}
			}
		}
	}
}

// negateAfter applies an English negation that follows its verb: "got
// nothing", "received none". (A Chinese negation after the verb asks
// instead: "收到没有" is "did it arrive?".)
func (l *Lexicon) negateAfter(r *Reading) {
	for i, n := range r.Mentions {
		if n.Kind != Negation || i == 0 || r.Tokens[n.From].Han {
			continue
		}
		if !postNegations[r.Tokens[n.From].Text] {
			continue
		}
		prev := &r.Mentions[i-1]
		if prev.Clause == n.Clause && n.From == prev.To && !prev.Negated && l.concepts[prev.ID].Negated != "" && prev.Kind != Action {
			l.negateOne(prev)
		}
	}
}

// postNegations are the English negation words that may follow their verb.
var postNegations = map[string]bool{Canonical("nothing"): true, Canonical("none"): true, Canonical("no"): true}

// negateOne marks a mention negated, turning it into its negated concept
// when it has one.
func (l *Lexicon) negateOne(m *Mention) {
	m.Negated = true
	if neg := l.concepts[m.ID].Negated; neg != "" {
		m.ID = neg
		m.Kind = l.concepts[neg].Kind
	}
}

// compound adds the concept two neighbouring mentions make together
// ("其他" + "云服务商" is another provider).
func (l *Lexicon) compound(r *Reading) {
	var add []Mention
	for i, a := range r.Mentions {
		for _, b := range r.Mentions[i+1:] {
			if b.Clause != a.Clause {
				break
			}
			if b.From < a.To {
				continue
			}
			for _, c := range l.compounds {
				// A negation as the first part takes the second whatever it
				// did to it ("never had a beian": the filing it negated).
				ok := c.first == a.ID && (c.then == b.ID || c.then == b.Base && a.Kind == Negation) && b.From-a.To <= c.within &&
					(a.Kind == Negation || !a.Negated && !b.Negated)
				if ok {
					add = append(add, Mention{ID: c.means, Kind: l.concepts[c.means].Kind, Start: a.Start, End: b.End, From: a.From, To: b.To, Clause: a.Clause, Base: c.means})
				}
			}
		}
	}
	if len(add) > 0 {
		r.Mentions = append(r.Mentions, add...)
		slices.SortStableFunc(r.Mentions, func(x, y Mention) int { return x.From - y.From })
	}
}

// clauses splits tokens at clause boundaries.
func clauses(toks []Token) []Clause {
	var out []Clause
	from := 0
	for i := 1; i <= len(toks); i++ {
		if i == len(toks) || toks[i].Break {
			q := i < len(toks) && toks[i].Question
			out = append(out, Clause{From: from, To: i, Question: q})
			from = i
		}
	}
	return out
}

// trailingQuestion reports whether the text ends with a question mark after
// its last token (Tokenize records marks only before a following token).
func trailingQuestion(norm string, toks []Token) bool {
	if len(toks) == 0 {
		return false
	}
	for _, r := range norm[toks[len(toks)-1].End:] {
		if r == '?' || r == '？' {
			return true
		}
	}
	return false
}

// correctTypos replaces a Latin word the lexicon does not know by the one
// lexicon word it is one edit away from, keeping its first letter ("domian"
// → "domain"), for words of five letters or more; shorter words have too
// many neighbours.
func (l *Lexicon) correctTypos(toks []Token) {
	for i, t := range toks {
		if t.Han || len(t.Text) < 5 || l.vocab[t.Text] || isDigits(t.Text) {
			continue
		}
		var found string
		for _, n := range []int{len(t.Text) - 1, len(t.Text), len(t.Text) + 1} {
			for _, w := range l.vocabByLen[n] {
				// A typo seldom touches the first letter, and a real word one
				// edit from a lexicon word often does ("design", "resign").
				if w[0] == t.Text[0] && OneEdit(t.Text, w) {
					if found != "" && found != w {
						found = "-" // ambiguous: leave the word alone
						break
					}
					found = w
				}
			}
		}
		if found != "" && found != "-" {
			toks[i].Text = found
		}
	}
}

// OneEdit reports whether a and b differ by one insertion, deletion,
// substitution or swap of adjacent letters (bytes).
func OneEdit(a, b string) bool {
	if a == b {
		return false
	}
	la, lb := len(a), len(b)
	switch {
	case la == lb:
		diff := -1
		for i := 0; i < la; i++ {
			if a[i] != b[i] {
				if diff >= 0 {
					// a second difference: only a swap of neighbours is one edit
					return diff == i-1 && a[diff] == b[i] && a[i] == b[diff] && a[i+1:] == b[i+1:]
				}
				diff = i
			}
		}
		return true
	case la == lb+1:
		return oneDeletion(a, b)
	case lb == la+1:
		return oneDeletion(b, a)
	}
	return false
}

// oneDeletion reports whether deleting one byte of long gives short.
func oneDeletion(long, short string) bool {
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	return long[i+1:] == short[i:]
}

// Has reports whether the reading mentions concept id (after negation:
// "没收到" has not_received, not receive).
func (r Reading) Has(id string) bool {
	for _, m := range r.Mentions {
		if m.ID == id {
			return true
		}
	}
	return false
}

// HasKind reports whether the reading mentions a concept of kind k.
func (r Reading) HasKind(k Kind) bool {
	for _, m := range r.Mentions {
		if m.Kind == k {
			return true
		}
	}
	return false
}

// Focus returns the clauses that hold the question of a message that tells
// a story first ("we got the text on Friday, the boss was away — what can we
// do now?"): its question clauses, when they say something of the subject
// themselves. It returns nil when every clause counts alike: a message that
// asks nothing, asks in every clause, or asks only "what now?" about a
// story that carries the meaning.
func (r Reading) Focus() []int {
	var qs []int
	informative := false
	for i, c := range r.Clauses {
		if !c.Question {
			continue
		}
		qs = append(qs, i)
		for _, m := range r.Mentions {
			if m.Clause == i {
				switch m.Kind {
				case Action, Object, Role, Qualifier, Term:
					informative = true
				}
			}
		}
	}
	if len(qs) == 0 || len(qs) == len(r.Clauses) || !informative {
		return nil
	}
	return qs
}

// InQuestion reports whether mention m stands in a question clause.
func (r Reading) InQuestion(m Mention) bool {
	return m.Clause < len(r.Clauses) && r.Clauses[m.Clause].Question
}

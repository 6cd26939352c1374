package classify

import (
	"slices"

	"github.com/beianbot/beianbot/concept"
)

// storyWeight is how much a clause that asks nothing counts beside the
// question in a long message: "we got the text on Friday, the boss was away
// until Monday — what can we do now?" is about its last clause.
const storyWeight = 0.4

// ConceptWeight is how much a concept counts beside a word or character.
var ConceptWeight = 2.0

// Features turns a reading into the classifier's inputs: Chinese characters
// and character pairs, English words and word pairs, and the concepts
// mentioned, alone and in pairs within a clause. Concepts are the same in
// every language, so an example in one language teaches the others.
func Features(r concept.Reading) []Feature {
	weights := clauseWeights(r)
	var out []Feature
	add := func(name string, clause int) {
		out = append(out, Feature{Name: name, Weight: weights[clause]})
	}
	clauseOf := func(tok int) int {
		for i, c := range r.Clauses {
			if tok >= c.From && tok < c.To {
				return i
			}
		}
		return 0
	}
	// A word inside a negated concept is not the word: "never got" must not
	// look like "got the code".
	negated := make([]bool, len(r.Tokens))
	for _, m := range r.Mentions {
		if m.Negated {
			for k := m.From; k < m.To; k++ {
				negated[k] = true
			}
		}
	}
	for i, t := range r.Tokens {
		c := clauseOf(i)
		prefix := ""
		if negated[i] {
			prefix = "!"
		}
		if t.Han {
			add("h:"+prefix+t.Text, c)
		} else {
			add("w:"+prefix+t.Text, c)
		}
		if i > 0 && t.Joined && !t.Break {
			prev := r.Tokens[i-1]
			switch {
			case t.Han && prev.Han:
				add("hh:"+prev.Text+t.Text, c)
			case !t.Han && !prev.Han:
				add("ww:"+prev.Text+"_"+t.Text, c)
			}
		}
	}
	for i, m := range r.Mentions {
		if m.Kind == concept.Other {
			continue
		}
		out = append(out, Feature{Name: "c:" + m.ID, Weight: ConceptWeight * weights[m.Clause]})
		if m.Negated && m.ID == m.Base && m.Kind != concept.Negation {
			out = append(out, Feature{Name: "c:!" + m.ID, Weight: ConceptWeight * weights[m.Clause]})
		}
		for _, n := range r.Mentions[i+1:] {
			if n.Clause != m.Clause {
				break
			}
			if n.Kind == concept.Other || n.ID == m.ID {
				continue
			}
			a, b := m.ID, n.ID
			if a > b {
				a, b = b, a
			}
			add("cc:"+a+"+"+b, m.Clause)
		}
	}
	return out
}

// clauseWeights weighs each clause: in a message that tells a story and then
// asks, the asking clauses count fully and the story less (see
// concept.Reading.Focus); otherwise all alike.
func clauseWeights(r concept.Reading) []float64 {
	w := make([]float64, max(len(r.Clauses), 1))
	focus := r.Focus()
	for i := range w {
		w[i] = 1
		if focus != nil && !slices.Contains(focus, i) {
			w[i] = storyWeight
		}
	}
	return w
}

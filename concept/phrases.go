package concept

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/beianbot/beianbot/lang"
)

// Phrases is a set of phrases, each carrying values, found in a token stream
// longest first. The lexicon is one; the verification table's own names are
// another.
type Phrases[V comparable] struct {
	root pnode[V]
}

type pnode[V comparable] struct {
	next   map[string]*pnode[V]
	values []V
}

// Found is one phrase found in tokens [From, To), with its values.
type Found[V any] struct {
	From, To int
	Values   []V
}

// Add adds a phrase (normalised and tokenised like customer text) with value
// v, unless it has it already, and returns the values the phrase had before,
// so the caller can report a phrase listed for two things.
func (p *Phrases[V]) Add(phrase string, v V) (before []V, err error) {
	toks := Tokenize(lang.Normalize(phrase))
	if len(toks) == 0 {
		return nil, fmt.Errorf("%q has no letters to match", phrase)
	}
	for _, t := range toks[1:] {
		if !t.Joined {
			return nil, fmt.Errorf("%q contains punctuation, which would stop it from ever matching", phrase)
		}
	}
	n := &p.root
	for _, t := range toks {
		if n.next == nil {
			n.next = map[string]*pnode[V]{}
		}
		c := n.next[t.Text]
		if c == nil {
			c = &pnode[V]{}
			n.next[t.Text] = c
		}
		n = c
	}
	before = slices.Clone(n.values)
	if !slices.Contains(n.values, v) {
		n.values = append(n.values, v)
	}
	return before, nil
}

// Find finds the phrases in toks: every phrase at every position, then the
// longest first (ties: leftmost), dropping those that overlap one already
// kept, so that "不涉及" is read whole and not as "不" and "涉及". The result
// is in text order.
func (p *Phrases[V]) Find(toks []Token) []Found[V] {
	var all []Found[V]
	for i := range toks {
		n := &p.root
		for j := i; j < len(toks); j++ {
			if j > i && !toks[j].Joined {
				break
			}
			if n = n.next[toks[j].Text]; n == nil {
				break
			}
			if len(n.values) > 0 {
				all = append(all, Found[V]{From: i, To: j + 1, Values: n.values})
			}
		}
	}
	length := func(f Found[V]) int {
		n := 0
		for _, t := range toks[f.From:f.To] {
			n += utf8.RuneCountInString(t.Text)
		}
		return n
	}
	slices.SortStableFunc(all, func(a, b Found[V]) int {
		if la, lb := length(a), length(b); la != lb {
			return lb - la
		}
		return a.From - b.From
	})
	used := make([]bool, len(toks))
	var kept []Found[V]
	for _, f := range all {
		if slices.Contains(used[f.From:f.To], true) {
			continue
		}
		for k := f.From; k < f.To; k++ {
			used[k] = true
		}
		kept = append(kept, f)
	}
	slices.SortFunc(kept, func(a, b Found[V]) int { return a.From - b.From })
	return kept
}

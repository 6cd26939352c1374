// Package concept reads what a customer's message mentions — SMS, verify,
// change, the entity, a province, a who-question — as the same concept tokens in Simplified, Traditional and English.
package concept

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/lang"
)

// Kind says what a concept is used for; see data/lexicon.yaml.
type Kind string

const (
	Action    Kind = "action"
	Object    Kind = "object"
	Role      Kind = "role"
	Qualifier Kind = "qualifier"
	Term      Kind = "term"
	Cue       Kind = "cue"
	Negation  Kind = "negation"
	Other     Kind = "other"
)

var kinds = []Kind{Action, Object, Role, Qualifier, Term, Cue, Negation, Other}

// Place is the concept id of a place name; its Mention carries the province.
const Place = "place"

// Concept is one entry of the lexicon.
type Concept struct {
	ID       string
	Kind     Kind
	Negated  string // the concept a negated mention becomes, "" to stay itself
	Offtopic bool   // a subject beianbot does not answer (fees, accounts…)
}

// Lexicon is the parsed lexicon and gazetteer with their phrase trie. It is
// read-only after loading and safe for concurrent use.
type Lexicon struct {
	concepts map[string]Concept
	phrases  Phrases[entry]
	// vocab holds every Latin word of the lexicon, for typo correction.
	vocab map[string]bool
	// vocabByLen indexes vocab by length, so a typo is compared only with
	// words one letter longer or shorter.
	vocabByLen map[int][]string
	compounds  []compound
	// negative are the concepts that say something does not happen (the
	// negated forms of others: not_received, unchanged…).
	negative map[string]bool
}

// compound is two concepts side by side (at most within words apart) that
// mean a third.
type compound struct {
	first, then, means string
	within             int
}

// entry is what one phrase of the lexicon means: a concept, or a place.
type entry struct {
	concept  string
	province string // for place names: the province they lie in
	field    string // where the phrase was listed, for errors about it
}

//go:embed data/lexicon.yaml
var lexiconYAML []byte

//go:embed data/places.yaml
var placesYAML []byte

const (
	lexiconFile = "concept/data/lexicon.yaml"
	placesFile  = "concept/data/places.yaml"
)

var loadEmbedded = sync.OnceValues(func() (*Lexicon, error) {
	return Parse(lexiconFile, lexiconYAML, placesFile, placesYAML)
})

// Embedded returns the lexicon compiled into the binary, parsed once.
func Embedded() (*Lexicon, error) { return loadEmbedded() }

// Concept returns the concept with id.
func (l *Lexicon) Concept(id string) (Concept, bool) {
	c, ok := l.concepts[id]
	return c, ok
}

// IDs returns every concept id, sorted.
func (l *Lexicon) IDs() []string {
	var out []string
	for id := range l.concepts {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Error is a problem in a lexicon or gazetteer file: which file, line and field.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg) }

// lexiconDoc is data/lexicon.yaml.
type lexiconDoc struct {
	Concepts map[string]struct {
		Kind     Kind     `yaml:"kind"`
		Negated  string   `yaml:"negated"`
		Offtopic bool     `yaml:"offtopic"`
		ZH       []string `yaml:"zh"`
		EN       []string `yaml:"en"`
	} `yaml:"concepts"`
	Bundles []struct {
		Means []string `yaml:"means"`
		ZH    []string `yaml:"zh"`
		EN    []string `yaml:"en"`
	} `yaml:"bundles"`
	Compounds []struct {
		First  string `yaml:"first"`
		Then   string `yaml:"then"`
		Means  string `yaml:"means"`
		Within *int   `yaml:"within"`
	} `yaml:"compounds"`
}

// placesDoc is data/places.yaml.
type placesDoc struct {
	Provinces []struct {
		ZH     string `yaml:"zh"`
		EN     string `yaml:"en"`
		Cities struct {
			ZH []string `yaml:"zh"`
			EN []string `yaml:"en"`
		} `yaml:"cities"`
	} `yaml:"provinces"`
}

// Parse reads a lexicon and a gazetteer. Every problem — an unknown kind or
// field, a word listed for two concepts, a bundle of unknown concepts — is
// an error naming the file, the line and the field.
func Parse(lexName string, lexData []byte, placesName string, placesData []byte) (*Lexicon, error) {
	var doc lexiconDoc
	if err := decodeStrict(lexName, lexData, &doc); err != nil {
		return nil, err
	}
	var pdoc placesDoc
	if err := decodeStrict(placesName, placesData, &pdoc); err != nil {
		return nil, err
	}
	lines := newLineFinder(lexData)
	l := &Lexicon{concepts: map[string]Concept{}, vocab: map[string]bool{}, vocabByLen: map[int][]string{}, negative: map[string]bool{}}
	if len(doc.Concepts) == 0 {
		return nil, &Error{lexName, 1, "concepts", "missing or empty"}
	}
	ids := make([]string, 0, len(doc.Concepts))
	for id := range doc.Concepts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := doc.Concepts[id]
		if !slices.Contains(kinds, c.Kind) {
			return nil, &Error{lexName, lines.find(id + ":"), "concepts." + id + ".kind", fmt.Sprintf("%q is not one of %v", c.Kind, kinds)}
		}
		l.concepts[id] = Concept{ID: id, Kind: c.Kind, Negated: c.Negated, Offtopic: c.Offtopic}
	}
	for _, id := range ids {
		c := doc.Concepts[id]
		if c.Negated != "" {
			l.negative[c.Negated] = true
			if _, ok := l.concepts[c.Negated]; !ok {
				return nil, &Error{lexName, lines.find(id + ":"), "concepts." + id + ".negated", fmt.Sprintf("unknown concept %q", c.Negated)}
			}
		}
		if len(c.ZH)+len(c.EN) == 0 {
			return nil, &Error{lexName, lines.find(id + ":"), "concepts." + id, "no words"}
		}
	}
	// A phrase may carry several meanings only when one entry (a bundle)
	// gives them; a word listed under two entries is reported.
	add := func(field string, at int, word string, means []string) error {
		// "to your" would be read as "to": a phrase that skipped words
		// reduce to one word says less than it seems to.
		if toks := Tokenize(lang.Normalize(word)); len(toks) == 1 && len(strings.Fields(word)) > 1 {
			return &Error{lexName, lines.findAfter(at, word), field, fmt.Sprintf("%q is read as the one word %q (a, the, my, our, your… are skipped)", word, toks[0].Text)}
		}
		for _, t := range Tokenize(lang.Normalize(word)) {
			if !t.Han && !isDigits(t.Text) {
				l.vocab[t.Text] = true
			}
		}
		for _, m := range means {
			before, err := l.phrases.Add(word, entry{concept: m, field: field})
			if err != nil {
				return &Error{lexName, lines.findAfter(at, word), field, err.Error()}
			}
			for _, b := range before {
				if b.concept != "" && b.field != field {
					return &Error{lexName, lines.findAfter(at, word), field, fmt.Sprintf("%q is already listed under %s", word, b.field)}
				}
			}
		}
		return nil
	}
	// Word problems are collected, so that one run lists them all.
	var errs []error
	for _, id := range ids {
		c := doc.Concepts[id]
		for _, w := range append(append([]string{}, c.ZH...), c.EN...) {
			if err := add("concepts."+id, lines.find("  "+id+":"), w, []string{id}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	bundlesAt := lines.find("bundles:")
	for i, b := range doc.Bundles {
		field := fmt.Sprintf("bundles[%d]", i)
		if len(b.Means) == 0 {
			return nil, &Error{lexName, lines.find("means:"), field + ".means", "empty"}
		}
		for _, m := range b.Means {
			if _, ok := l.concepts[m]; !ok {
				return nil, &Error{lexName, lines.find(m), field + ".means", fmt.Sprintf("unknown concept %q", m)}
			}
		}
		for _, w := range append(append([]string{}, b.ZH...), b.EN...) {
			if err := add(field, bundlesAt, w, b.Means); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for i, c := range doc.Compounds {
		for _, id := range []string{c.First, c.Then, c.Means} {
			if _, ok := l.concepts[id]; !ok {
				errs = append(errs, &Error{lexName, lines.findAfter(lines.find("compounds:"), id), fmt.Sprintf("compounds[%d]", i), fmt.Sprintf("unknown concept %q", id)})
			}
		}
		within := 1
		if c.Within != nil {
			within = *c.Within
		}
		l.compounds = append(l.compounds, compound{c.First, c.Then, c.Means, within})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l.concepts[Place] = Concept{ID: Place, Kind: Qualifier}
	plines := newLineFinder(placesData)
	for i, p := range pdoc.Provinces {
		field := fmt.Sprintf("provinces[%d]", i)
		if p.ZH == "" || p.EN == "" {
			return nil, &Error{placesName, plines.find(p.ZH + p.EN), field, "zh and en are required"}
		}
		for _, w := range append(append([]string{p.ZH, p.EN}, p.Cities.ZH...), p.Cities.EN...) {
			before, err := l.phrases.Add(w, entry{province: p.ZH, field: field})
			if err != nil {
				return nil, &Error{placesName, plines.find(w), field, err.Error()}
			}
			for _, b := range before {
				if b.province != "" && b.province != p.ZH {
					return nil, &Error{placesName, plines.find(w), field, fmt.Sprintf("%q is already a place in %s", w, b.province)}
				}
			}
			for _, t := range Tokenize(lang.Normalize(w)) {
				if !t.Han {
					l.vocab[t.Text] = true
				}
			}
		}
	}
	for w := range l.vocab {
		l.vocabByLen[len(w)] = append(l.vocabByLen[len(w)], w)
	}
	for _, ws := range l.vocabByLen {
		sort.Strings(ws)
	}
	return l, nil
}

func decodeStrict(name string, data []byte, v any) error {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("load %s: %w", name, err)
	}
	return nil
}

// lineFinder finds the first line of a file that holds a text, so that
// errors about a word can name where it was written.
type lineFinder []string

func newLineFinder(data []byte) lineFinder { return strings.Split(string(data), "\n") }

func (lf lineFinder) find(s string) int { return lf.findAfter(0, s) }

// findAfter finds s at or after line from (1-based), else anywhere.
func (lf lineFinder) findAfter(from int, s string) int {
	for i := max(from-1, 0); i < len(lf); i++ {
		if strings.Contains(lf[i], s) {
			return i + 1
		}
	}
	if from > 0 {
		return lf.find(s)
	}
	return 1
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

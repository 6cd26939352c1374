package knowledge

import "slices"

// Diff is what changed from one knowledge base to another, topic by topic:
// what a support engineer reviews before an edit goes live.
type Diff struct {
	Added, Removed []Topic // topics in only one of the two
	Changed        []TopicDiff
}

// TopicDiff is what changed in one topic present in both bases.
type TopicDiff struct {
	ID    string
	Texts []TextChange // title and answer, per language
	Lists []ListChange // examples, keywords and MIIT messages: items added and removed
}

// TextChange is one text that differs, e.g. Field "answer.en".
type TextChange struct {
	Field, Old, New string
}

// ListChange is one list's items added and removed, e.g. Field "examples.zh".
// Reordering alone is no change.
type ListChange struct {
	Field          string
	Added, Removed []string
}

// Empty says whether the two bases have the same content.
func (d Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// Compare lists what changed from old to cur: topics in contract order.
func Compare(old, cur *Base) Diff {
	var d Diff
	for _, t := range old.topics {
		if _, ok := cur.Topic(t.ID); !ok {
			d.Removed = append(d.Removed, t)
		}
	}
	for _, t := range cur.topics {
		o, ok := old.Topic(t.ID)
		if !ok {
			d.Added = append(d.Added, t)
			continue
		}
		if td := compareTopic(o, t); len(td.Texts)+len(td.Lists) > 0 {
			d.Changed = append(d.Changed, td)
		}
	}
	return d
}

func compareTopic(o, t Topic) TopicDiff {
	td := TopicDiff{ID: t.ID}
	text := func(field, a, b string) {
		if a != b {
			td.Texts = append(td.Texts, TextChange{field, a, b})
		}
	}
	text("title.zh", o.Title.ZH, t.Title.ZH)
	text("title.en", o.Title.EN, t.Title.EN)
	text("answer.zh", o.Answer.ZH, t.Answer.ZH)
	text("answer.en", o.Answer.EN, t.Answer.EN)
	list := func(field string, a, b []string) {
		c := ListChange{Field: field, Added: missing(b, a), Removed: missing(a, b)}
		if len(c.Added)+len(c.Removed) > 0 {
			td.Lists = append(td.Lists, c)
		}
	}
	list("examples.zh", o.Examples.ZH, t.Examples.ZH)
	list("examples.en", o.Examples.EN, t.Examples.EN)
	list("keywords.zh", o.Keywords.ZH, t.Keywords.ZH)
	list("keywords.en", o.Keywords.EN, t.Keywords.EN)
	list("messages", o.Messages, t.Messages)
	return td
}

// missing returns the items of a that b lacks, in a's order.
func missing(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

package matrix

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/lang"
)

// Match is what a message says about the table.
type Match struct {
	// Rows are the rows the words describe best, in table order; empty when
	// they name no filing type. When they disagree, ask back.
	Rows []Row
	// Vague: the words name an action but nothing it is done to, and the
	// action alone does not decide ("we need to change something"); Rows
	// are all the rows of that action.
	Vague bool
	Slots Slots  // what was read, for --explain
	Rule  string // one line saying how the rows were chosen, for --explain
}

// Agree reports whether the match can be answered: at least one row, and all
// rows need the same persons to verify. When false with rows, ask back.
func (m Match) Agree() bool {
	if len(m.Rows) == 0 {
		return false
	}
	for _, r := range m.Rows[1:] {
		if r.Principal != m.Rows[0].Principal || r.Website != m.Rows[0].Website {
			return false
		}
	}
	return true
}

// Slots is what the words say about the filing, read from their concepts.
type Slots struct {
	Actions   []string // what is done: first, add, transfer_in, change, migrate, cancel
	Targets   []string // the objects it is done to
	Mentioned []string // objects named in passing ("we have three websites")
	Unchanged []string // objects the words say stay as they are
	Maybe     []string // objects that may or may not change ("maybe the website too", "A or B")
	Province  string   // "same", "changed" or "" when not said
	Initiator string   // "provider" when the provider starts it
	Both      bool     // "both", "都": more than one part changes
	Relocated bool     // the entity moves: where to decides the row
	Names     []string // the table's own names found ("变更主体", "仅接入变更")
	Signals   []string // concepts that point to a business ("change_filing")
	names     []name
}

// String shows the slots compactly for --explain.
func (s Slots) String() string {
	var parts []string
	add := func(k string, v []string) {
		if len(v) > 0 {
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
	}
	add("action", s.Actions)
	add("object", s.Targets)
	add("mentioned", s.Mentioned)
	add("unchanged", s.Unchanged)
	add("maybe", s.Maybe)
	if s.Province != "" {
		parts = append(parts, "province="+s.Province)
	}
	if s.Initiator != "" {
		parts = append(parts, "initiator="+s.Initiator)
	}
	if s.Both {
		parts = append(parts, "both")
	}
	if s.Relocated {
		parts = append(parts, "relocated")
	}
	add("named", s.Names)
	add("signals", s.Signals)
	if len(parts) == 0 {
		return "nothing about the filing"
	}
	return strings.Join(parts, " ")
}

func (s Slots) empty() bool {
	return len(s.Actions) == 0 && len(s.names) == 0
}

// Select finds the rows a reading describes. The words are read as slots (an
// action, the objects it is done to, qualifiers such as the province), every
// row is scored by how well it fits them, and the best-fitting rows are
// returned. Words that name no action and none of the table's names name no
// filing type: objects alone ("网站负责人") are not one.
func (t *Table) Select(r concept.Reading) Match {
	s := t.readSlots(r)
	if s.empty() {
		return Match{Slots: s, Rule: "no filing type named"}
	}
	rows, scores := t.best(t.rows, s, len(s.Actions) > 0)
	m := Match{Rows: rows, Slots: s}
	// An action alone is vague when its rows disagree ("we need to change
	// something"), or when it is "first", which is often "for the first time".
	if len(s.Targets)+len(s.Mentioned)+len(s.names) == 0 && s.Province == "" &&
		(!m.Agree() || slices.Contains(s.Actions, "first")) {
		m.Vague = true
	}
	m.Rule = rule(s, rows, scores, m)
	return m
}

// best scores rows against the slots and returns the best-fitting ones.
// requireAction drops rows whose action the words do not name.
func (t *Table) best(rows []Row, s Slots, requireAction bool) ([]Row, map[string]float64) {
	scores := map[string]float64{}
	var kept []Row
	top := 0.0
	for _, row := range rows {
		sc, ok := score(row, s, requireAction)
		if !ok {
			continue
		}
		scores[row.Label(lang.ZH)] = sc
		if len(kept) == 0 || sc > top {
			kept, top = []Row{row}, sc
		} else if sc == top {
			kept = append(kept, row)
		}
	}
	if len(kept) > 0 && top <= 0 {
		return nil, scores
	}
	return kept, scores
}

// Weights of the fit. A row's own name outweighs any description; a named
// action is needed before objects count.
const (
	wName      = 5
	wAction    = 4
	wTarget    = 2
	wAccepted  = 1
	wMentioned = 0.5
	wQualifier = 2
	wMismatch  = -3 // the words say this changes, the row does not involve it (or the reverse)
	wMissing   = -1 // the row is about an object the words never mention
)

// score is how well one row fits the slots; ok is false when it cannot fit
// at all (another action, the other province).
func score(row Row, s Slots, requireAction bool) (float64, bool) {
	sig := row.sig
	sc := 0.0
	named := false
	for _, n := range s.names {
		if n.business == row.Business && (n.subcase == "" || n.subcase == row.Subcase) {
			sc += wName
			named = true
		}
	}
	if requireAction && !named {
		if !hasAny(sig.actions, s.Actions) {
			return 0, false
		}
	}
	if hasAny(sig.actions, s.Actions) {
		sc += wAction
	}
	if hasAny(sig.signals, s.Signals) {
		sc += wTarget
	}
	involves := func(o string) bool { return slices.Contains(sig.objects, o) || slices.Contains(sig.parts, o) }
	for _, o := range s.Unchanged {
		if involves(o) {
			sc += wMismatch
		}
	}
	// A row's name counts for it, but what else the words describe still
	// counts too: "we rename the company and change the website" is more
	// than the row named "Change website".
	for _, o := range s.Targets {
		switch {
		case o == "filing" && (involves(o) || slices.Contains(sig.accepts, o)):
			// "in the filing", "on our record": almost every message about
			// a change says it; it must not pick 变更备案 over 变更主体.
			sc += wAccepted
		case involves(o):
			sc += wTarget
		case slices.Contains(sig.accepts, o):
			sc += wAccepted
		default:
			sc += wMismatch
		}
	}
	for _, o := range s.Mentioned {
		// Named in passing, an object speaks for a business made of it, not
		// for a subcase: "our admin left the company" changes no entity part.
		if slices.Contains(sig.objects, o) || slices.Contains(sig.accepts, o) {
			sc += wMentioned
		}
	}
	for _, o := range sig.objects {
		if !named && !slices.Contains(s.Targets, o) && !slices.Contains(s.Mentioned, o) && !slices.Contains(s.Maybe, o) {
			sc += wMissing
		}
	}
	return subcaseScore(sc, sig, s)
}

// subcaseScore adds to a row's score how well its subcase fits; ok is false
// when the subcase cannot fit (the other province).
func subcaseScore(sc float64, sig signature, s Slots) (float64, bool) {
	// A subcase made of parts fits when the words name the same parts.
	if len(sig.parts) > 0 {
		said := func(o string) bool { return slices.Contains(s.Targets, o) }
		saysParts := false
		for _, o := range []string{"entity", "website", "access"} {
			saysParts = saysParts || said(o)
		}
		if saysParts {
			for _, o := range sig.parts {
				// A part that maybe changes counts neither way: the rows
				// with and without it stay level, and the bot asks.
				if !said(o) && !slices.Contains(s.Maybe, o) {
					sc += wMissing
				}
			}
		}
		if s.Both && len(sig.parts) > 1 {
			sc += wQualifier
		}
	}
	switch {
	case sig.province != "" && s.Province != "":
		if sig.province != s.Province {
			return 0, false
		}
		sc += wQualifier
	case sig.province != "" && s.Relocated:
		sc += wQualifier // a move makes the province the question
	}
	if sig.initiator != "" && s.Initiator == sig.initiator {
		sc += wAccepted
	}
	return sc, true
}

func hasAny(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// readSlots reads the slots from a message's concepts, in steps: where the
// entity moves, which actions are said, which objects they are done to (and
// which stay as they are, or only may change), then the province.
func (t *Table) readSlots(r concept.Reading) Slots {
	var s Slots
	s.names = t.namesIn(r)
	for _, n := range s.names {
		label := n.business
		if n.subcase != "" {
			label += "/" + n.subcase
		}
		s.Names = append(s.Names, label)
	}
	ms := r.Mentions
	inClause := func(clause int, pred func(concept.Mention) bool) bool {
		return slices.ContainsFunc(ms, func(m concept.Mention) bool { return m.Clause == clause && pred(m) })
	}
	is := func(ids ...string) func(concept.Mention) bool {
		return func(m concept.Mention) bool { return slices.Contains(ids, m.ID) && !m.Negated }
	}
	addTo := func(list *[]string, o string) {
		if !slices.Contains(*list, o) {
			*list = append(*list, o)
		}
	}

	// Moving a company, moving to a place, or a new address is about where
	// the entity is: a change of the entity, not a migration of the filing.
	// "公司从北京搬到上海", "our company moved", "地址要变".
	relocation := map[int]bool{} // index in ms of a move or change word about where the entity is
	for i, m := range ms {
		if m.Negated || m.ID != "migrate" && m.ID != "change" {
			continue
		}
		if slices.ContainsFunc(ms, func(o concept.Mention) bool {
			where := o.ID == concept.Place || o.ID == "location" || o.ID == "province"
			company := m.ID == "migrate" && (o.ID == "entity_holder" || o.ID == "entity") && o.To <= m.From
			return where && near(m, o, 3) || company && near(m, o, 1)
		}) {
			relocation[i] = true
		}
	}

	// The actions: "new" is an adjective beside another action ("换了一台新
	// 服务器", "ending the hosting, keeping the site with the new host"), and
	// so is "first" with nothing after it that is first
	// ("change the number at the old provider first"), but not alone ("this
	// one is our first").
	actionAt := map[int]bool{}
	for i, m := range ms {
		switch {
		case m.Kind != concept.Action || m.Negated || relocation[i] && m.ID == "migrate":
		case m.ID == "new" && slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.Kind == concept.Action && o.ID != "new" && !o.Negated
		}):
		case m.ID == "first" && m.Base == "first" && !slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.Kind == concept.Object && o.Clause == m.Clause && o.From >= m.From && o.From-m.To <= 2
		}) && slices.ContainsFunc(ms, func(o concept.Mention) bool {
			// ("new" gives way to other actions itself: "a new company
			// filing for the first time" keeps one of the two.)
			return o.Kind == concept.Action && o.ID != "first" && o.ID != "new" && !o.Negated
		}):
		default:
			actionAt[i] = true
		}
	}

	// An action with nothing in its clause to act on ("he changed his phone
	// number") is about something else, when another action names what it
	// is done to or needs nothing ("transfer-in: … nothing came").
	hasThing := func(clause int) bool {
		// (or it acts on the things of the clause before: "主体和网站都不要了，全部注销")
		if inClause(clause, isThing) {
			return true
		}
		for j, o := range ms {
			if actionAt[j] && o.Clause == clause-1 {
				return false
			}
		}
		return clause > 0 && inClause(clause-1, isThing)
	}
	for i, m := range ms {
		if !actionAt[i] || hasThing(m.Clause) || m.ID == "transfer_in" || m.ID == "first" {
			continue
		}
		for j, o := range ms {
			if j != i && actionAt[j] && o.ID != m.ID && (hasThing(o.Clause) || o.ID == "transfer_in") {
				delete(actionAt, i)
				break
			}
		}
	}

	// A person of the filing changed ("换了法人", "new CEO", "网站负责人的手机
	// 号换了", "主体负责人和网站负责人都换了人") stands for the part they belong
	// to. A change word must stand right beside the person (or after "的 …");
	// one who left counts anywhere in the clause, unless something other than
	// a change is done ("网站负责人离职了" beside "注销" is a side note).
	otherAction := slices.ContainsFunc(ms, func(a concept.Mention) bool {
		return a.Kind == concept.Action && !a.Negated && a.ID != "change" && a.ID != "new"
	})
	roleTargets := map[int]string{}
	for i, m := range ms {
		obj := map[string]string{"principal_person": "entity", "website_person": "website"}[m.ID]
		if obj == "" {
			continue
		}
		for j, a := range ms {
			if a.Clause != m.Clause || objectBetween(ms, m, a) || cueBetween(ms, m, a) {
				continue
			}
			owned := m.To < len(r.Tokens) && possessive[r.Tokens[m.To].Text] && a.From > m.To && a.From-m.To <= 5
			switch {
			case actionAt[j] && a.ID == "change" && (near(m, a, 2) || owned),
				a.ID == "new" && !a.Negated && (m.From >= a.To && m.From-a.To <= 1 || a.From >= m.To && a.From-m.To <= 2) &&
					!objectRightAfter(ms, a), // "the webmaster of the new site": the site is new
				a.ID == "person_left" && !a.Negated && !otherAction:
				roleTargets[i] = obj
			}
		}
	}

	// Persons joined by "and" share what is said of them: "both the legal
	// rep's phone and the website owner's phone changed".
	for i, m := range ms {
		obj := map[string]string{"principal_person": "entity", "website_person": "website"}[m.ID]
		if obj == "" || roleTargets[i] != "" {
			continue
		}
		for j, p := range ms {
			if roleTargets[j] == "" || p.Clause != m.Clause {
				continue
			}
			lo, hi := min(m.To, p.To), max(m.From, p.From)
			if slices.ContainsFunc(ms, func(a concept.Mention) bool { return a.ID == "and" && a.From >= lo && a.To <= hi }) {
				roleTargets[i] = obj
			}
		}
	}

	// Each object takes the status of the nearest action or "unchanged"
	// word in its clause ("主体变了网站没变" changes the entity only). In a
	// clause that says "only" it is what the words are about; in one that
	// says "maybe" or "A or B", it only may be.
	for i, m := range ms {
		obj := roleTargets[i]
		if obj == "" && m.Kind == concept.Object && !m.Negated {
			obj = m.ID
		}
		if obj == "" {
			continue
		}
		if obj == "entity_holder" {
			// "our company's website", "公司的网站": a company right before
			// another object owns it; "公司要调整一些信息": a company that
			// wants something done is who does it.
			if slices.ContainsFunc(ms, func(o concept.Mention) bool {
				owns := o.Kind == concept.Object && o.ID != "entity_holder" &&
					(o.From == m.To || o.From == m.To+1 && possessive[r.Tokens[m.To].Text])
				wants := o.ID == "modal" && o.From == m.To
				return o.Clause == m.Clause && o.From >= m.To && (owns || wants)
			}) {
				continue
			}
			obj = "entity"
		}
		if m.Kind == concept.Object && r.Tokens[m.To-1].Possessive && slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.Kind == concept.Object && o.Clause == m.Clause && o.From == m.To
		}) {
			continue // "our company's website": the website is what is meant
		}
		if obj == "filing" && slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.ID == "whole" && !o.Negated && o.Clause == m.Clause && m.From >= o.To && m.From-o.To-ownerBetween(ms, o, m) <= 2
		}) {
			// "the entire ICP record", "整个备案", "整个公司的备案": all of the
			// entity's filing (an owner between does not break it).
			obj = "entity"
		}
		onlyThis := slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.ID == "only" && !o.Negated && o.Clause == m.Clause && m.From >= o.To && m.From-o.To <= 1
		})
		switch st := status(ms, i, actionAt); {
		case roleTargets[i] != "", onlyThis:
			addTo(&s.Targets, obj) // the person changed, or "only the company details"
		case uncertain(ms, m):
			addTo(&s.Maybe, obj)
		case st == "target", st == "" && inClause(m.Clause, is("only")):
			addTo(&s.Targets, obj)
		case st == "unchanged":
			addTo(&s.Unchanged, obj)
		default:
			addTo(&s.Mentioned, obj)
		}
	}
	// What the words say changes is not also unchanged ("法人换了，其他信息不变").
	s.Unchanged = slices.DeleteFunc(s.Unchanged, func(o string) bool { return slices.Contains(s.Targets, o) })
	s.Mentioned = slices.DeleteFunc(s.Mentioned, func(o string) bool {
		return slices.Contains(s.Targets, o) || slices.Contains(s.Unchanged, o) || slices.Contains(s.Maybe, o)
	})
	s.Maybe = slices.DeleteFunc(s.Maybe, func(o string) bool { return slices.Contains(s.Targets, o) })
	// "One of our three websites, cancel it": what is one of several is the
	// countable object named before.
	if slices.ContainsFunc(ms, is("one_of")) && slices.Contains(s.Mentioned, "website") {
		addTo(&s.Targets, "website")
		s.Mentioned = slices.DeleteFunc(s.Mentioned, func(o string) bool { return o == "website" })
	}

	// The actions said, with "new" read by what is new.
	for j, m := range ms {
		if !actionAt[j] {
			continue
		}
		a := m.ID
		switch {
		case a == "new" && (len(roleTargets) > 0 || slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.Kind == concept.Role && o.Clause == m.Clause && o.From >= m.To && o.From-m.To <= 1
		})):
			a = "change" // "new CEO", "新负责人", "a new phone number for the website owner"
		case a == "new" && (slices.Contains(s.Targets, "website") || slices.Contains(s.Targets, "access") || slices.Contains(s.Targets, "domain")):
			a = "add"
		case a == "new":
			a = "first"
		}
		addTo(&s.Actions, a)
	}
	// "Not changing province" says what stays as much as "the site stays".
	provinceStays := province(r, relocation) == "same" && slices.ContainsFunc(ms, func(m concept.Mention) bool {
		return m.ID == "unchanged" || (m.ID == "change" || m.ID == "migrate") && m.Negated
	})
	switch {
	case len(s.Actions) == 0 && len(roleTargets) > 0:
		addTo(&s.Actions, "change") // "网站负责人离职了"
	case len(s.Actions) == 0 && (len(s.Unchanged) > 0 || provinceStays) && len(s.Mentioned)+len(s.Targets) > 0:
		// "The site stays the same, only the company name": saying what
		// does not change, beside something else, says that the something
		// else does.
		for _, o := range s.Mentioned {
			addTo(&s.Targets, o)
		}
		s.Mentioned = nil
		addTo(&s.Actions, "change")
	}
	if len(relocation) > 0 {
		addTo(&s.Actions, "change")
		addTo(&s.Targets, "entity")
		s.Mentioned = slices.DeleteFunc(s.Mentioned, func(o string) bool { return o == "entity" })
		s.Relocated = true
	}

	// A move from another provider, or towards this one, is a transfer in:
	// "moving our filing over from another cloud", "网站换到青云".
	transfer := false
	transferClause := map[int]bool{}
	for i, m := range ms {
		switch {
		case m.ID == "other_provider" && !m.Negated:
			transfer, transferClause[m.Clause] = true, true
		case m.ID == "to_here" && slices.ContainsFunc(ms, func(o concept.Mention) bool {
			return o.Clause == m.Clause && !o.Negated && !relocation[i] && (o.ID == "migrate" || o.ID == "transfer_in" || o.ID == "change")
		}):
			transfer, transferClause[m.Clause] = true, true
		}
	}
	if transfer {
		// The previous provider doing the cancelling ("our old host is
		// shutting down", "原来的服务商倒闭了") is why the site moves, not
		// a filing type of its own: leaving them is the move.
		leaving, cancels := 0, 0
		for i, m := range ms {
			if !actionAt[i] || m.ID != "cancel" {
				continue
			}
			cancels++
			if slices.ContainsFunc(ms, func(o concept.Mention) bool {
				return o.ID == "other_provider" && !o.Negated && o.Clause == m.Clause && o.To <= m.From && !objectBetween(ms, o, m)
			}) {
				leaving++
			}
		}
		moved := leaving > 0 && leaving == cancels
		if moved {
			s.Actions = slices.DeleteFunc(s.Actions, func(a string) bool { return a == "cancel" })
		}
		for _, a := range []string{"migrate", "change", "add"} {
			if slices.Contains(s.Actions, a) && !(a == "change" && s.Relocated) {
				moved = true
			}
		}
		// A change said apart from a move towards us, with its own object
		// ("换到青云另一个地域的服务器，客服提交了接入信息变更"), is a change
		// still: the words then fit two filing types, and the table decides
		// whether to ask. (Named, the previous provider makes any change of
		// host the move itself: "we switched hosts … the previous provider".)
		changeApart := !slices.ContainsFunc(ms, is("other_provider")) && slices.ContainsFunc(ms, func(m concept.Mention) bool {
			return m.ID == "change" && !m.Negated && !transferClause[m.Clause] &&
				inClause(m.Clause, func(o concept.Mention) bool { return o.Kind == concept.Object })
		})
		switch {
		case moved:
			s.Actions = slices.DeleteFunc(s.Actions, func(a string) bool {
				return a == "migrate" || a == "add" || a == "change" && !changeApart
			})
			addTo(&s.Actions, "transfer_in")
		case len(s.Actions) == 0 && (slices.Contains(s.Targets, "access") || slices.Contains(s.Mentioned, "access") || slices.Contains(s.Mentioned, "website")):
			addTo(&s.Actions, "transfer_in") // "already filed with aliyun, now hosting with you"
		}
	}
	for _, list := range []*[]string{&s.Actions, &s.Targets, &s.Mentioned, &s.Unchanged, &s.Maybe} {
		sort.Strings(*list)
	}

	s.Province = province(r, relocation)
	if s.Province == "" && slices.Contains(s.Targets, "entity") && !s.Relocated &&
		!slices.ContainsFunc(ms, func(m concept.Mention) bool {
			return m.ID == "location" || m.ID == "province" || m.ID == concept.Place
		}) &&
		(slices.ContainsFunc(ms, is("only", "rename")) || len(roleTargets) > 0) {
		// A new name or legal representative, or "only" this, moves nothing:
		// the province stays.
		s.Province = "same"
	}
	objects := 0
	for _, m := range ms {
		if m.Kind == concept.Object {
			objects++
		}
	}
	for _, m := range ms {
		switch {
		case m.Kind == concept.Qualifier && m.ID == "change_filing" && !m.Negated &&
			!slices.ContainsFunc(ms, func(o concept.Mention) bool {
				return o.Kind == concept.Object && o.ID != "filing" && o.Clause == m.Clause && (m.From >= o.To && m.From-o.To <= 1 || o.From >= m.To && o.From-m.To <= 1)
			}):
			// "make a change to our filing", "备案变更", but not "an entity
			// change in the beian", where the change has its own object.
			addTo(&s.Signals, m.ID)
		case m.ID == "provider_initiated" && !m.Negated:
			s.Initiator = "provider"
		case m.ID == "both" && !m.Negated:
			// "both" of the parts: said of two objects, or alone (a reply
			// to "which parts change?"), not of two persons.
			inObjects := 0
			for _, o := range ms {
				if o.Clause == m.Clause && o.Kind == concept.Object {
					inObjects++
				}
			}
			roles := slices.ContainsFunc(ms, func(o concept.Mention) bool { return o.Kind == concept.Role })
			if inObjects >= 2 || objects == 0 && (!roles || len(roleTargets) >= 2) {
				s.Both = true
			}
		}
	}
	return s
}

// namesIn finds the table's own names in a reading, skipping one right after
// a negation or starting inside a longer word: "不涉及变更所在省" does not name
// 涉及变更所在省.
func (t *Table) namesIn(r concept.Reading) []name {
	var out []name
	for _, f := range t.names.Find(r.Tokens) {
		if slices.ContainsFunc(r.Mentions, func(m concept.Mention) bool {
			return m.Kind == concept.Negation && m.To == f.From || m.From < f.From && f.From < m.To
		}) {
			continue
		}
		for _, n := range f.Values {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// possessive are the words between an owner and what it owns: 公司的网站.
var possessive = map[string]bool{"的": true, "之": true}

// NameSpans returns where the table's own names stand in the reading's text
// (byte ranges), for telling the language of the words around them.
func (t *Table) NameSpans(r concept.Reading) [][2]int {
	var out [][2]int
	for _, f := range t.names.Find(r.Tokens) {
		out = append(out, [2]int{r.Tokens[f.From].Start, r.Tokens[f.To-1].End})
	}
	return out
}

// uncertain reports whether an object may or may not be meant: "maybe"
// shortly before it, or "A or B" with it on one side ("加网站还是加接入").
func uncertain(ms []concept.Mention, m concept.Mention) bool {
	for _, o := range ms {
		if o.Clause != m.Clause || o.Negated {
			continue
		}
		switch {
		case o.ID == "maybe" && m.From >= o.To && m.From-o.To <= 3:
			return true
		case o.ID == "alternative":
			// the alternative stands between this object and another
			if slices.ContainsFunc(ms, func(p concept.Mention) bool {
				if p.Kind != concept.Object || p.Clause != m.Clause || p.From == m.From {
					return false
				}
				lo, hi := min(m.From, p.From), max(m.From, p.From)
				return o.From > lo && o.From < hi
			}) {
				return true
			}
		}
	}
	return false
}

// cueBetween reports whether a question word stands between mentions a and
// b: in "变更备案 - does our webmaster verify?" the change is not the webmaster's.
func cueBetween(ms []concept.Mention, a, b concept.Mention) bool {
	lo, hi := min(a.To, b.To), max(a.From, b.From)
	return slices.ContainsFunc(ms, func(o concept.Mention) bool { return o.Kind == concept.Cue && o.From >= lo && o.To <= hi })
}

// objectBetween reports whether an object stands between mentions a and b:
// in "change filing - principal" the change is the filing's, not the principal's.
func objectBetween(ms []concept.Mention, a, b concept.Mention) bool {
	lo, hi := min(a.To, b.To), max(a.From, b.From)
	return slices.ContainsFunc(ms, func(o concept.Mention) bool { return o.Kind == concept.Object && o.From >= lo && o.To <= hi })
}

// isThing reports whether m is something an action can be done to: an
// object, a person, or "one of them".
func isThing(m concept.Mention) bool {
	return m.Kind == concept.Object || m.Kind == concept.Role || m.ID == "one_of"
}

// ownerBetween counts the tokens of company words ("公司", "company")
// between mentions a and b, which name whose thing b is, not another thing.
func ownerBetween(ms []concept.Mention, a, b concept.Mention) int {
	n := 0
	for _, o := range ms {
		if o.ID == "entity_holder" && o.From >= a.To && o.To <= b.From {
			n += o.To - o.From
		}
	}
	return n
}

// near reports whether two mentions stand within n tokens of each other in one clause.
func near(a, b concept.Mention, n int) bool {
	return a.Clause == b.Clause && (b.From >= a.To && b.From-a.To <= n || a.From >= b.To && a.From-b.To <= n)
}

// status is what the nearest action or "unchanged" word in its clause says
// of object mention i: "target", "unchanged", or "" when there is none. A
// word before the object counts one further than one after it.
func status(ms []concept.Mention, i int, actionAt map[int]bool) string {
	m := ms[i]
	best, st := -1, ""
	for j, o := range ms {
		if o.Clause != m.Clause || j == i {
			continue
		}
		var this string
		switch {
		case actionAt[j]:
			this = "target"
		case o.ID == "unchanged":
			// A negated change with its own object after it ("without change
			// of province") says nothing of an object before it.
			if o.Base != "unchanged" && o.From > m.From && slices.ContainsFunc(ms, func(p concept.Mention) bool {
				return (p.Kind == concept.Object || p.ID == "province" || p.ID == "location") && p.Clause == o.Clause && p.From >= o.To && p.From-o.To <= 2
			}) {
				continue
			}
			this = "unchanged"
		default:
			continue
		}
		d := o.From - m.To
		if o.From < m.From {
			d = m.From - o.To + 1
		}
		if best < 0 || d < best {
			best, st = d, this
		}
	}
	if st == "" && !slices.ContainsFunc(ms, func(o concept.Mention) bool { return o.Clause == m.Clause+1 && isThing(o) }) {
		// Nothing is said of the things of this clause in it; a clause
		// right after with an action (or "unchanged") and no things of its
		// own says it of them: "new legal rep and a new site name, both
		// changed", "整个备案都不要了，全部注销". ("One of them" is a thing of
		// its own: one of the sites, not all.)
		for j, o := range ms {
			switch {
			case o.Clause != m.Clause+1:
			case actionAt[j]:
				return "target"
			case o.ID == "unchanged":
				return "unchanged"
			}
		}
	}
	return st
}

// objectRightAfter reports whether an object follows m directly (at most
// one word between), in its clause: the object m qualifies.
func objectRightAfter(ms []concept.Mention, m concept.Mention) bool {
	return slices.ContainsFunc(ms, func(o concept.Mention) bool {
		return o.Kind == concept.Object && o.Clause == m.Clause && o.From >= m.To && o.From-m.To <= 1
	})
}

// province reads whether the words say the entity's province changes.
// Strong signs of a change are two provinces named, or the province with
// "another" or "cross" ("迁到外省", "another province"); the province with a
// change or move word ("changing province") is a weaker one. Signs that it
// stays are a place or location with "same", "still" or "unchanged" ("省份不
// 变", "还在杭州", "同一个区"), a negated change of it, or two places of one
// province; they outweigh the weak sign. A new address or another city alone
// says nothing of the province.
func province(r concept.Reading, relocation map[int]bool) string {
	provinces := map[string]bool{}
	places := 0
	var same, strong, weak bool
	for _, m := range r.Mentions {
		if m.ID == concept.Place {
			provinces[m.Province] = true
			places++
		}
		if m.ID != "location" && m.ID != "province" && m.ID != concept.Place {
			continue
		}
		for _, o := range r.Mentions {
			if o.Clause != m.Clause {
				continue
			}
			switch {
			case o.ID == "samewhere" && !o.Negated, o.ID == "unchanged", o.ID == "different" && o.Negated,
				(o.ID == "change" || o.ID == "migrate") && o.Negated:
				same = true
			case o.ID == "different" && m.ID == "province":
				strong = true
			case (o.ID == "change" || o.ID == "migrate") && m.ID == "province":
				weak = true
			}
		}
	}
	switch {
	case len(provinces) >= 2:
		strong = true
	case places >= 2 && len(provinces) == 1:
		same = true // "从杭州搬到宁波": two cities, one province
	}
	switch {
	case strong && !same, weak && !same:
		return "changed"
	case same && !strong:
		return "same"
	}
	return ""
}

// rule explains in one line how the rows were chosen.
func rule(s Slots, rows []Row, scores map[string]float64, m Match) string {
	var b strings.Builder
	b.WriteString(s.String())
	if len(rows) == 0 {
		b.WriteString(": no row fits")
		return b.String()
	}
	b.WriteString(" → ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%g)", r.Label(lang.ZH), scores[r.Label(lang.ZH)])
	}
	switch {
	case m.Vague:
		b.WriteString("; nothing named that the action is done to")
	case !m.Agree():
		fmt.Fprintf(&b, "; %s disagree: ask back", plural(len(rows), "row"))
	case len(rows) > 1:
		fmt.Fprintf(&b, "; %d rows agree", len(rows))
	}
	return b.String()
}

// Narrow resolves the reply to an ask-back: the rows among candidates that
// the reply picks, by a 1-based option number ("2", "第2个", "option 2"), by
// a plain yes or no to a yes/no question, by what it says (read like any
// message: "省份没变", "the website one", "both"), or, for a short reply, by
// words of the options' labels. Rows keep the candidates' order and are
// empty when the reply picks none of them: then it is a new question.
func (t *Table) Narrow(candidates []Row, r concept.Reading) Match {
	norm := r.Text
	if n, ok := optionNumber(norm); ok {
		if n >= 1 && n <= len(candidates) {
			return Match{Rows: []Row{candidates[n-1]}, Rule: fmt.Sprintf("option %d of %d", n, len(candidates))}
		}
		return Match{Rule: fmt.Sprintf("option %d is not among options 1-%d", n, len(candidates))}
	}
	if rows, ok := t.yesNo(candidates, r); ok {
		return Match{Rows: rows, Rule: "a plain yes or no to the question asked"}
	}
	s := t.readSlots(r)
	if !s.emptyReply() {
		rows, scores := t.best(candidates, s, false)
		if len(rows) > 0 && len(rows) < len(candidates) {
			return Match{Rows: rows, Slots: s, Rule: fmt.Sprintf("%d of %d options fit: ", len(rows), len(candidates)) + rule(s, rows, scores, Match{Rows: rows})}
		}
		if len(s.Actions) > 0 || len(s.names) > 0 {
			// It names a filing type, but none of the options (or not one
			// of them more than the others): a new question.
			return Match{Slots: s, Rule: fmt.Sprintf("picks none of the %d options (%s)", len(candidates), s)}
		}
	}
	if picked := byLabelWords(candidates, norm); len(picked) > 0 {
		return Match{Rows: picked, Rule: fmt.Sprintf("words of the option labels pick %d of %d", len(picked), len(candidates))}
	}
	return Match{Rule: fmt.Sprintf("picks none of the %d options", len(candidates))}
}

func (s Slots) emptyReply() bool {
	return s.empty() && len(s.Targets)+len(s.Mentioned)+len(s.Unchanged) == 0 && s.Province == "" && s.Initiator == "" && !s.Both
}

// yesNo answers a yes/no ask-back ("这次变更主体是否涉及变更所在省份？") from a
// short reply that says only yes or no.
func (t *Table) yesNo(candidates []Row, r concept.Reading) ([]Row, bool) {
	if len(candidates) == 0 || len(r.Tokens) > 6 {
		return nil, false
	}
	business := candidates[0].Business
	for _, c := range candidates[1:] {
		if c.Business != business {
			return nil, false
		}
	}
	ask, ok := t.asks[business]
	if !ok || ask.Yes == "" {
		return nil, false
	}
	yes, no := false, false
	for _, m := range r.Mentions {
		switch {
		case (m.ID == "affirm" || m.Base == "involve") && !m.Negated:
			yes = true
		case m.Kind == concept.Negation, m.ID == "affirm" && m.Negated, m.ID == "unchanged":
			no = true
		case m.Kind == concept.Cue || m.Kind == concept.Other:
		default:
			return nil, false // it says more than yes or no
		}
	}
	pick := ""
	switch {
	case yes && !no:
		pick = ask.Yes
	case no:
		pick = ask.No
	default:
		return nil, false
	}
	for _, c := range candidates {
		if c.Subcase == pick {
			return []Row{c}, true
		}
	}
	return nil, false
}

// optionPatterns recognise a reply that is only an option number.
var optionPatterns = []*regexp.Regexp{
	regexp.MustCompile(`^(?:i (?:choose|pick|want|mean) |choose |pick )?(?:(?:option|choice|number|no\.?) ?|#)?(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)$`),
	regexp.MustCompile(`^(?:i (?:choose|pick|want|mean) )?(?:the )?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|4th|5th|6th|7th|8th|9th|10th)(?: one| option)?$`),
	regexp.MustCompile(`^(?:我选|选|选项|是)?(?:第 ?)?(\d{1,2}|[一二三四五六七八九十]) ?(?:个选项|个|项|种|条|号)?(?:吧|啊)?$`),
}

var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
	"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
}

// optionNumber reads a reply such as "2", "option 2", "the second one" or "第2个".
func optionNumber(norm string) (int, bool) {
	s := strings.TrimRight(norm, " .。!！)")
	for _, re := range optionPatterns {
		m := re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		w := m[1]
		if w[0] >= '0' && w[0] <= '9' {
			w = strings.TrimRight(w, "stndrh") // "2nd" → "2"
		}
		if n, err := strconv.Atoi(w); err == nil {
			return n, true
		}
		if n, ok := numberWords[m[1]]; ok {
			return n, true
		}
	}
	return 0, false
}

// fillerWords may surround the label words of a reply ("the website one").
var fillerWords = map[string]bool{
	"one": true, "option": true, "choic": true, "it": true, "i": true, "mean": true, "want": true,
	"choos": true, "pick": true, "pleas": true, "that": true, "thi": true, "which": true, "is": true,
	"for": true, "case": true, "about": true, "with": true,
}

var fillerZH = strings.NewReplacer("我选", "", "选", "", "那个", "", "这个", "", "一个", "", "的", "", "是", "", "吧", "", "啊", "", "呢", "", "我", "", "就", "")

// byLabelWords picks the candidates whose label contains every word of a
// short reply: Chinese as a substring of the Chinese label (at least two
// characters), English as words of the English label.
func byLabelWords(candidates []Row, norm string) []Row {
	if utf8.RuneCountInString(norm) > 30 {
		return nil
	}
	zh := fillerZH.Replace(lang.Compact(norm))
	var words []string
	for _, tok := range concept.Tokenize(norm) {
		if !fillerWords[tok.Text] && !tok.Han {
			words = append(words, tok.Text)
		}
	}
	var picked []Row
	for _, r := range candidates {
		zhOK := utf8.RuneCountInString(zh) >= 2 && isHan(zh) && strings.Contains(lang.Compact(r.Label(lang.ZH)), zh)
		enOK := len(words) > 0 && !hasHan(norm) && containsAll(concept.Tokenize(lang.Normalize(r.Label(lang.EN))), words)
		if zhOK || enOK {
			picked = append(picked, r)
		}
	}
	return picked
}

func containsAll(toks []concept.Token, words []string) bool {
	for _, w := range words {
		if !slices.ContainsFunc(toks, func(t concept.Token) bool { return t.Text == w }) {
			return false
		}
	}
	return true
}

func isHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

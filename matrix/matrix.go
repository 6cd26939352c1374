// Package matrix holds the source's table of who must verify the SMS for each filing type
// and finds the rows a customer's words describe, from the concepts they mention.
package matrix

import (
	_ "embed"
	"sync"

	"github.com/beianbot/beianbot/concept"
	"github.com/beianbot/beianbot/lang"
)

// Row is one line of the verification table.
type Row struct {
	Business   string // 业务, exactly as in the table (Simplified)
	Subcase    string // 细分情况, exactly as in the table; "" where the table shows "/"
	BusinessEN string
	SubcaseEN  string
	Principal  bool // the 主体负责人 (person in charge of the entity) must verify
	Website    bool // the 网站负责人 (person in charge of the website) must verify

	// What the row is made of, as lexicon concepts (see data/matrix.yaml).
	sig signature
}

// signature is what a row is made of: the business's action and objects, and
// what its subcase adds.
type signature struct {
	actions   []string
	objects   []string
	accepts   []string
	signals   []string // concepts that point to the business
	parts     []string // the objects that change, for subcases about that
	province  string   // "same" or "changed", for subcases about that
	initiator string   // "provider", for subcases about that
}

// Label names the row for a reader: "变更主体 / 不涉及变更省份" or
// "Change entity / province unchanged"; a row without subcase is just its business.
func (r Row) Label(l lang.Lang) string {
	business, subcase := r.Business, r.Subcase
	if l == lang.EN {
		business, subcase = r.BusinessEN, r.SubcaseEN
	}
	if r.Subcase == "" {
		return business
	}
	return business + " / " + subcase
}

// ProviderInitiated reports whether the row is for a change the access
// provider starts (the table's "接入商发起" subcases): the table says
// nothing of the same change requested by the customer.
func (r Row) ProviderInitiated() bool { return r.sig.initiator == "provider" }

// Ask is a business's ask-back question, for when the words fit several of
// its rows: the question in both languages, and the subcases a plain yes or
// no picks ("" when the question is not a yes/no one).
type Ask struct {
	ZH, EN  string
	Yes, No string
}

// In returns the question in language l.
func (a Ask) In(l lang.Lang) string {
	if l == lang.EN {
		return a.EN
	}
	return a.ZH
}

// Table is the parsed verification table. It is read-only after Parse, so
// one Table may serve many goroutines.
type Table struct {
	rows []Row
	asks map[string]Ask // business → its ask-back, when it has one
	// names finds the table's own names (businesses and subcases, Chinese
	// and English) in a message.
	names concept.Phrases[name]
}

// name is what one of the table's names names: a business, or one subcase of it.
type name struct {
	business, subcase string
}

//go:embed data/matrix.yaml
var embedded []byte

const embeddedName = "matrix/data/matrix.yaml"

var loadEmbedded = sync.OnceValues(func() (*Table, error) {
	lex, err := concept.Embedded()
	if err != nil {
		return nil, err
	}
	return Parse(embeddedName, embedded, lex)
})

// Embedded returns the table compiled into the binary. It is parsed once;
// every call returns the same Table.
func Embedded() (*Table, error) {
	return loadEmbedded()
}

// Rows returns a copy of all rows in table order.
func (t *Table) Rows() []Row {
	return append([]Row(nil), t.rows...)
}

// Businesses returns the distinct businesses in table order.
func (t *Table) Businesses() []string {
	var out []string
	for i, r := range t.rows {
		if i == 0 || t.rows[i-1].Business != r.Business {
			out = append(out, r.Business)
		}
	}
	return out
}

// RowsOf returns the rows of one business in table order, or nil if the table has no such business.
func (t *Table) RowsOf(business string) []Row {
	var out []Row
	for _, r := range t.rows {
		if r.Business == business {
			out = append(out, r)
		}
	}
	return out
}

// AskOf returns a business's ask-back question, if it has one.
func (t *Table) AskOf(business string) (Ask, bool) {
	a, ok := t.asks[business]
	return a, ok
}

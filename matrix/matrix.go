// Package matrix holds the source's table of who must verify the SMS for each filing type
// and finds the rows a customer's free text can mean.
package matrix

import (
	_ "embed"
	"sync"

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

// Table is the parsed verification table with its synonym index. It is
// read-only after Parse, so one Table may serve many goroutines.
type Table struct {
	rows []Row
	// synonyms as written in the data file, per meaning, for tests and documentation.
	synonyms map[meaning][]synonym
	ignore   []string
	trie     *trieNode
}

// synonym is one way of writing a business or subcase, with the list it came from
// ("zh", "zh-hant", "en", or "name" for the table's own names).
type synonym struct {
	text, list string
}

//go:embed data/matrix.yaml
var embedded []byte

const embeddedName = "matrix/data/matrix.yaml"

var loadEmbedded = sync.OnceValues(func() (*Table, error) {
	return Parse(embeddedName, embedded)
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

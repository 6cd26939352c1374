package matrix

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/lang"
)

// ParseError is a problem in a matrix data file: which file, line and field.
type ParseError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// Parse reads a matrix data file (see data/matrix.yaml for the format). name is
// used in error messages only. Anything the format does not allow — an unknown
// field, a missing name, a duplicate row, a yes/no that is neither — is an
// error naming the file, the line and the field.
func Parse(name string, data []byte) (*Table, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	p := &parser{file: name}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, p.errf(&doc, "businesses", "empty file")
	}
	t := &Table{synonyms: map[meaning][]synonym{}}
	if err := p.document(t, doc.Content[0]); err != nil {
		return nil, err
	}
	if err := t.buildIndex(p); err != nil {
		return nil, err
	}
	return t, nil
}

// parser walks the YAML node tree by hand rather than decoding into structs,
// so that every error can name the line and the field.
type parser struct {
	file string
	// where each synonym was written, for error messages about it.
	synonymLine map[synonymKey]int
	ignoreLines []int
}

type synonymKey struct {
	m    meaning
	text string
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := n.Line
	if line == 0 {
		line = 1
	}
	return &ParseError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) document(t *Table, root *yaml.Node) error {
	f, err := p.fields(root, "document", "businesses", "ignore")
	if err != nil {
		return err
	}
	if f["businesses"] == nil {
		return p.errf(root, "businesses", "missing")
	}
	if n := deref(f["ignore"]); n != nil {
		if n.Kind != yaml.SequenceNode {
			return p.errf(n, "ignore", "want a list of phrases")
		}
		for _, c := range n.Content {
			s, err := p.scalar(c, "ignore")
			if err != nil {
				return err
			}
			if s == "" {
				return p.errf(c, "ignore", "empty phrase")
			}
			t.ignore = append(t.ignore, s)
			p.ignoreLines = append(p.ignoreLines, deref(c).Line)
		}
	}
	list := deref(f["businesses"])
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return p.errf(list, "businesses", "want a non-empty list of businesses")
	}
	seen := map[string]int{} // business name → line, to report duplicates
	for _, bn := range list.Content {
		if err := p.business(t, deref(bn), seen); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) business(t *Table, n *yaml.Node, seen map[string]int) error {
	f, err := p.fields(n, "business", "name", "en", "synonyms", "rows")
	if err != nil {
		return err
	}
	name, err := p.name(n, f, "name")
	if err != nil {
		return err
	}
	if line, dup := seen[name]; dup {
		return p.errf(f["name"], "name", "duplicate business %s (first at line %d)", name, line)
	}
	seen[name] = f["name"].Line
	en, err := p.name(n, f, "en")
	if err != nil {
		return err
	}
	bm := meaning{business: name}
	if err := p.synonyms(t, bm, f["synonyms"], f["name"], "name", f["en"]); err != nil {
		return err
	}

	rows := deref(f["rows"])
	if rows == nil {
		return p.errf(n, "rows", "missing for business %s", name)
	}
	if rows.Kind != yaml.SequenceNode || len(rows.Content) == 0 {
		return p.errf(rows, "rows", "want a non-empty list of rows for business %s", name)
	}
	subcases := map[string]int{} // subcase → line, to report duplicates
	for _, rn := range rows.Content {
		row, err := p.row(t, deref(rn), name, en, subcases)
		if err != nil {
			return err
		}
		t.rows = append(t.rows, row)
	}
	return nil
}

func (p *parser) row(t *Table, n *yaml.Node, business, businessEN string, subcases map[string]int) (Row, error) {
	f, err := p.fields(n, "row", "subcase", "en", "synonyms", "principal", "website")
	if err != nil {
		return Row{}, err
	}
	r := Row{Business: business, BusinessEN: businessEN}
	if f["subcase"] != nil {
		if r.Subcase, err = p.scalar(f["subcase"], "subcase"); err != nil {
			return Row{}, err
		}
	}
	if line, dup := subcases[r.Subcase]; dup {
		return Row{}, p.errf(n, "subcase", "duplicate row %s (first at line %d)", r.Label(lang.ZH), line)
	}
	subcases[r.Subcase] = n.Line
	// A row without subcase stands for the whole business, so it must be its only row.
	if _, whole := subcases[""]; whole && len(subcases) > 1 {
		return Row{}, p.errf(n, "subcase", `business %s has a row without subcase and other rows; the table shows "/" only for a business with one row`, business)
	}
	switch {
	case r.Subcase == "/":
		return Row{}, p.errf(f["subcase"], "subcase", `leave subcase out where the table shows "/"`)
	case r.Subcase == "":
		for _, k := range []string{"en", "synonyms"} {
			if f[k] != nil {
				return Row{}, p.errf(f[k], k, "not allowed on a row without subcase (business %s); put it on the business", business)
			}
		}
	default:
		if r.SubcaseEN, err = p.name(n, f, "en"); err != nil {
			return Row{}, err
		}
		m := meaning{business: business, subcase: r.Subcase}
		if err := p.synonyms(t, m, f["synonyms"], f["subcase"], "subcase", f["en"]); err != nil {
			return Row{}, err
		}
	}
	if r.Principal, err = p.yesNo(n, f, "principal"); err != nil {
		return Row{}, err
	}
	if r.Website, err = p.yesNo(n, f, "website"); err != nil {
		return Row{}, err
	}
	return r, nil
}

// synonyms records the names and synonym lists of one business or subcase:
// its Chinese name (nameNode, in field nameField), its English name (enNode)
// and the lists under n.
func (p *parser) synonyms(t *Table, m meaning, n, nameNode *yaml.Node, nameField string, enNode *yaml.Node) error {
	add := func(node *yaml.Node, text, list string) error {
		if p.synonymLine == nil {
			p.synonymLine = map[synonymKey]int{}
		}
		k := synonymKey{m, strings.ToLower(text)}
		if line, dup := p.synonymLine[k]; dup {
			return p.errf(node, list, "duplicate synonym %q (first at line %d)", text, line)
		}
		p.synonymLine[k] = node.Line
		t.synonyms[m] = append(t.synonyms[m], synonym{text: text, list: list})
		return nil
	}
	for _, nn := range []struct {
		node *yaml.Node
		list string
	}{{nameNode, nameField}, {enNode, "en"}} {
		text, err := p.scalar(nn.node, nn.list)
		if err != nil {
			return err
		}
		if err := add(deref(nn.node), text, nn.list); err != nil {
			return err
		}
	}
	if n == nil {
		return nil
	}
	n = deref(n)
	f, err := p.fields(n, "synonyms", "zh", "zh-hant", "en")
	if err != nil {
		return err
	}
	for _, list := range []string{"zh", "zh-hant", "en"} {
		ln := f[list]
		if ln == nil {
			continue
		}
		ln = deref(ln)
		if ln.Kind != yaml.SequenceNode {
			return p.errf(ln, list, "want a list of synonyms")
		}
		for _, sn := range ln.Content {
			sn = deref(sn)
			s, err := p.scalar(sn, list)
			if err != nil {
				return err
			}
			if s == "" {
				return p.errf(sn, list, "empty synonym")
			}
			if err := add(sn, s, list); err != nil {
				return err
			}
		}
	}
	return nil
}

// fields checks that n is a mapping with only known keys, each at most once.
func (p *parser) fields(n *yaml.Node, what string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, what, "want a mapping with fields %s", strings.Join(known, ", "))
	}
	f := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(known, k.Value) {
			return nil, p.errf(k, k.Value, "unknown field in %s (known: %s)", what, strings.Join(known, ", "))
		}
		if f[k.Value] != nil {
			return nil, p.errf(k, k.Value, "field given twice in %s", what)
		}
		f[k.Value] = v
	}
	return f, nil
}

// name returns a required, non-empty string field.
func (p *parser) name(parent *yaml.Node, f map[string]*yaml.Node, key string) (string, error) {
	n := f[key]
	if n == nil {
		return "", p.errf(parent, key, "missing")
	}
	s, err := p.scalar(n, key)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", p.errf(n, key, "empty")
	}
	return s, nil
}

func (p *parser) scalar(n *yaml.Node, field string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, field, "want a single value")
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(n.Value), nil
}

// yesNo reads a required yes/no field: yes where the table shows 有, no where it shows "/".
func (p *parser) yesNo(parent *yaml.Node, f map[string]*yaml.Node, key string) (bool, error) {
	n := f[key]
	if n == nil {
		return false, p.errf(parent, key, "missing (want yes or no)")
	}
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "yes", "true":
			return true, nil
		case "no", "false":
			return false, nil
		}
	}
	return false, p.errf(n, key, "want yes or no, got %q", n.Value)
}

// deref follows a YAML alias (*name) to the node it names, so shared synonym
// lists can be written once with an anchor (&name).
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

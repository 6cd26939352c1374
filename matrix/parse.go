package matrix

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/concept"
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

// Parse reads a matrix data file (see data/matrix.yaml for the format),
// checking its concepts against lex. name is used in error messages only.
// Anything the format does not allow — an unknown field or concept, a missing
// name, a duplicate row, a yes/no that is neither — is an error naming the
// file, the line and the field.
func Parse(name string, data []byte, lex *concept.Lexicon) (*Table, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	p := &parser{file: name, lex: lex}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, p.errf(&doc, "businesses", "empty file")
	}
	t := &Table{asks: map[string]Ask{}}
	if err := p.document(t, doc.Content[0]); err != nil {
		return nil, err
	}
	return t, nil
}

// parser walks the YAML node tree by hand rather than decoding into structs,
// so that every error can name the line and the field.
type parser struct {
	file string
	lex  *concept.Lexicon
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) error {
	line := n.Line
	if line == 0 {
		line = 1
	}
	return &ParseError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) document(t *Table, root *yaml.Node) error {
	f, err := p.fields(root, "document", "businesses")
	if err != nil {
		return err
	}
	if f["businesses"] == nil {
		return p.errf(root, "businesses", "missing")
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
	f, err := p.fields(n, "business", "name", "en", "action", "objects", "accepts", "signals", "ask", "rows")
	if err != nil {
		return err
	}
	bname, err := p.name(n, f, "name")
	if err != nil {
		return err
	}
	if line, dup := seen[bname]; dup {
		return p.errf(f["name"], "name", "duplicate business %s (first at line %d)", bname, line)
	}
	seen[bname] = f["name"].Line
	en, err := p.name(n, f, "en")
	if err != nil {
		return err
	}
	var sig signature
	if sig.actions, err = p.concepts(n, f, "action", concept.Action, true); err != nil {
		return err
	}
	if sig.objects, err = p.concepts(n, f, "objects", concept.Object, true); err != nil {
		return err
	}
	if sig.accepts, err = p.concepts(n, f, "accepts", concept.Object, false); err != nil {
		return err
	}
	if sig.signals, err = p.concepts(n, f, "signals", concept.Qualifier, false); err != nil {
		return err
	}
	for _, text := range []string{bname, en} {
		if err := p.addName(t, f["name"], text, name{business: bname}); err != nil {
			return err
		}
	}

	rows := deref(f["rows"])
	if rows == nil {
		return p.errf(n, "rows", "missing for business %s", bname)
	}
	if rows.Kind != yaml.SequenceNode || len(rows.Content) == 0 {
		return p.errf(rows, "rows", "want a non-empty list of rows for business %s", bname)
	}
	subcases := map[string]int{} // subcase → line, to report duplicates
	for _, rn := range rows.Content {
		row, err := p.row(t, deref(rn), bname, en, sig, subcases)
		if err != nil {
			return err
		}
		t.rows = append(t.rows, row)
	}
	if f["ask"] != nil {
		a, err := p.ask(deref(f["ask"]), bname, subcases)
		if err != nil {
			return err
		}
		t.asks[bname] = a
	}
	return nil
}

func (p *parser) ask(n *yaml.Node, business string, subcases map[string]int) (Ask, error) {
	f, err := p.fields(n, "ask", "zh", "en", "yes", "no")
	if err != nil {
		return Ask{}, err
	}
	var a Ask
	if a.ZH, err = p.name(n, f, "zh"); err != nil {
		return Ask{}, err
	}
	if a.EN, err = p.name(n, f, "en"); err != nil {
		return Ask{}, err
	}
	for _, yn := range []struct {
		key string
		to  *string
	}{{"yes", &a.Yes}, {"no", &a.No}} {
		if f[yn.key] == nil {
			continue
		}
		if *yn.to, err = p.scalar(f[yn.key], yn.key); err != nil {
			return Ask{}, err
		}
		if _, ok := subcases[*yn.to]; !ok || *yn.to == "" {
			return Ask{}, p.errf(f[yn.key], yn.key, "%q is not a subcase of %s", *yn.to, business)
		}
	}
	if (a.Yes == "") != (a.No == "") {
		return Ask{}, p.errf(n, "yes", "give both yes and no, or neither")
	}
	return a, nil
}

func (p *parser) row(t *Table, n *yaml.Node, business, businessEN string, bsig signature, subcases map[string]int) (Row, error) {
	f, err := p.fields(n, "row", "subcase", "en", "parts", "province", "initiator", "principal", "website")
	if err != nil {
		return Row{}, err
	}
	r := Row{Business: business, BusinessEN: businessEN, sig: bsig}
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
		for _, k := range []string{"en", "parts", "province", "initiator"} {
			if f[k] != nil {
				return Row{}, p.errf(f[k], k, "not allowed on a row without subcase (business %s)", business)
			}
		}
	default:
		if r.SubcaseEN, err = p.name(n, f, "en"); err != nil {
			return Row{}, err
		}
		for _, text := range []string{r.Subcase, r.SubcaseEN} {
			if err := p.addName(t, f["subcase"], text, name{business: business, subcase: r.Subcase}); err != nil {
				return Row{}, err
			}
		}
	}
	if r.sig.parts, err = p.concepts(n, f, "parts", concept.Object, false); err != nil {
		return Row{}, err
	}
	for _, k := range []struct {
		key   string
		to    *string
		allow []string
	}{{"province", &r.sig.province, []string{"same", "changed"}}, {"initiator", &r.sig.initiator, []string{"provider"}}} {
		if f[k.key] == nil {
			continue
		}
		if *k.to, err = p.scalar(f[k.key], k.key); err != nil {
			return Row{}, err
		}
		if !slices.Contains(k.allow, *k.to) {
			return Row{}, p.errf(f[k.key], k.key, "want one of %s, got %q", strings.Join(k.allow, ", "), *k.to)
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

// concepts reads a list of lexicon concepts of one kind.
func (p *parser) concepts(parent *yaml.Node, f map[string]*yaml.Node, key string, kind concept.Kind, required bool) ([]string, error) {
	n := deref(f[key])
	if n == nil {
		if required {
			return nil, p.errf(parent, key, "missing")
		}
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errf(n, key, "want a non-empty list of %s concepts", kind)
	}
	var out []string
	for _, c := range n.Content {
		id, err := p.scalar(c, key)
		if err != nil {
			return nil, err
		}
		if k, ok := p.lex.Concept(id); !ok || k.Kind != kind {
			return nil, p.errf(c, key, "%q is not an %s concept of the lexicon", id, kind)
		}
		out = append(out, id)
	}
	return out, nil
}

// addName records one of the table's names, which must be matchable.
func (p *parser) addName(t *Table, at *yaml.Node, text string, nm name) error {
	if _, err := t.names.Add(text, nm); err != nil {
		return p.errf(at, "name", "%v", err)
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

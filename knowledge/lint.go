package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/lang"
)

// Limits the lint checks apply.
const (
	// MinExamples is the fewest example questions a topic needs per language:
	// fewer and the index cannot recognise the ways customers ask.
	MinExamples = 10
	// MaxAnswerRunes is the longest answer, in characters after the default
	// provider is filled in, that still reads comfortably on a phone.
	MaxAnswerRunes = 500
)

// Problem is one finding of the validation. Errors make Load fail; warnings
// (Warning true) are only reported by Lint.
type Problem struct {
	File    string // the file, as named to Load (e.g. knowledge/data/deadline.yaml)
	Field   string // e.g. answer.en, examples.zh[3]; empty for the file as a whole
	Line    int    // 1-based; 0 when unknown
	Msg     string
	Warning bool
}

// Error formats the problem as "file:line: field: message".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Lint returns every problem of the knowledge base in fsys, errors and
// warnings, file by file; name is the directory's name in the messages.
func Lint(fsys fs.FS, name string) []Problem {
	_, problems := check(fsys, name)
	return problems
}

// check parses and validates every topic file. It returns the topics that
// parsed, valid or not, and all problems found.
func check(fsys fs.FS, name string) ([]Topic, []Problem) {
	var (
		topics   []Topic
		problems []Problem
		lines    = map[string]*fieldLines{} // file -> where its fields are, for cross-file findings
		present  = map[string]bool{}        // file names without extension
	)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, []Problem{{File: name, Msg: fmt.Sprintf("read directory: %v", err)}}
	}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := path.Join(name, e.Name())
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			problems = append(problems, Problem{File: file, Msg: fmt.Sprintf("read: %v", err)})
			continue
		}
		base := strings.TrimSuffix(e.Name(), ext)
		present[base] = true
		t, fl, ps := checkFile(file, base, data)
		problems = append(problems, ps...)
		if t != nil {
			topics = append(topics, *t)
			lines[file] = fl
		}
	}
	problems = append(problems, checkBase(name, topics, lines, present)...)
	return topics, problems
}

// checkBase finds what no single file shows: ids missing, unknown or
// duplicated, messages claimed twice, examples repeated across topics.
// A topic whose file exists but is broken is not reported missing as well:
// that file's own problems say what is wrong.
func checkBase(name string, topics []Topic, lines map[string]*fieldLines, present map[string]bool) []Problem {
	var problems []Problem
	seen := map[string]string{} // id -> file
	for _, t := range topics {
		if t.ID == "" {
			continue // reported by checkFile
		}
		if first, dup := seen[t.ID]; dup {
			problems = append(problems, Problem{File: t.File, Field: "id", Line: lines[t.File].of("id"),
				Msg: fmt.Sprintf("duplicate id %q, already used by %s", t.ID, first)})
			continue
		}
		seen[t.ID] = t.File
		if !slices.Contains(contract, t.ID) {
			problems = append(problems, Problem{File: t.File, Field: "id", Line: lines[t.File].of("id"),
				Msg: fmt.Sprintf("unknown topic id %q; the topic ids are fixed: %s", t.ID, strings.Join(contract, ", "))})
		}
	}
	for _, id := range contract {
		if _, ok := seen[id]; !ok && !present[id] {
			problems = append(problems, Problem{File: name, Msg: fmt.Sprintf("missing topic %q (expected in %s.yaml)", id, id)})
		}
	}

	// The engine routes a pasted MIIT message to one topic, so a message
	// claimed by two topics is an error.
	owner := map[string]string{} // compact message -> id
	for _, t := range topics {
		for i, m := range t.Messages {
			k := lang.Compact(m)
			if k == "" {
				continue
			}
			if other, dup := owner[k]; dup && other != t.ID {
				field := fmt.Sprintf("messages[%d]", i)
				problems = append(problems, Problem{File: t.File, Field: field, Line: lines[t.File].of(field),
					Msg: fmt.Sprintf("message %q is also explained by topic %q", m, other)})
				continue
			}
			owner[k] = t.ID
		}
	}

	// The same example in two topics pulls the index two ways.
	type place struct{ id, field string }
	firstSeen := map[string]place{}
	for _, t := range topics {
		for _, l := range []lang.Lang{lang.ZH, lang.EN} {
			for i, ex := range t.Examples.In(l) {
				k := lang.Compact(ex)
				if k == "" {
					continue
				}
				field := fmt.Sprintf("examples.%s[%d]", l, i)
				prev, dup := firstSeen[k]
				if !dup {
					firstSeen[k] = place{t.ID, field}
					continue
				}
				if prev.id == t.ID {
					problems = append(problems, Problem{File: t.File, Field: field, Line: lines[t.File].of(field), Warning: true,
						Msg: fmt.Sprintf("%q repeats %s of the same topic", ex, prev.field)})
				} else {
					problems = append(problems, Problem{File: t.File, Field: field, Line: lines[t.File].of(field), Warning: true,
						Msg: fmt.Sprintf("%q is also an example of topic %q (%s)", ex, prev.id, prev.field)})
				}
			}
		}
	}
	return problems
}

// fieldLines remembers the line of every field and list item of one file,
// keyed by its path ("answer.en", "examples.zh[3]").
type fieldLines struct{ m map[string]int }

// of returns the line of field, or of the nearest parent that exists
// (a missing answer.en is reported at answer), or 0.
func (fl *fieldLines) of(field string) int {
	if fl == nil {
		return 0
	}
	for field != "" {
		if n, ok := fl.m[field]; ok {
			return n
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

// topicFile is the schema of one file; KnownFields rejects anything else.
type topicFile struct {
	ID       string   `yaml:"id"`
	Title    Text     `yaml:"title"`
	Answer   Text     `yaml:"answer"`
	Examples Lists    `yaml:"examples"`
	Keywords Lists    `yaml:"keywords"`
	Messages []string `yaml:"messages"`
}

// The shape of topicFile, for the walk that finds lines and unknown fields.
type shape int

const (
	shapeString  shape = iota
	shapeText          // {zh: string, en: string}
	shapeLists         // {zh: [string], en: [string]}
	shapeStrings       // [string]
)

var topFields = map[string]shape{
	"id": shapeString, "title": shapeText, "answer": shapeText,
	"examples": shapeLists, "keywords": shapeLists, "messages": shapeStrings,
}

// checkFile validates one file; base is its name without extension, which
// must equal the id. The topic is nil when the file could not be decoded.
func checkFile(file, base string, data []byte) (t *Topic, fl *fieldLines, problems []Problem) {
	add := func(field string, line int, warn bool, format string, args ...any) {
		problems = append(problems, Problem{File: file, Field: field, Line: line, Warning: warn, Msg: fmt.Sprintf(format, args...)})
	}
	// The YAML parser is third-party code fed a file someone edited; a
	// crash in it must become a problem, not take the program down.
	defer func() {
		if r := recover(); r != nil {
			t, fl = nil, nil
			add("", 0, false, "YAML parser failed: %v", r)
		}
	}()

	if i := bytes.IndexByte(data, 0); i >= 0 {
		add("", lineAt(data, i), false, "binary file (NUL byte at offset %d), expected UTF-8 YAML text", i)
		return nil, nil, problems
	}
	if !utf8.Valid(data) {
		i := firstInvalid(data)
		add("", lineAt(data, i), false, "invalid UTF-8 at byte offset %d; save the file as UTF-8", i)
		return nil, nil, problems
	}
	if len(bytes.TrimSpace(data)) == 0 {
		add("", 0, false, "empty file")
		return nil, nil, problems
	}

	// First the syntax, into a node tree that keeps line numbers.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		line, msg := yamlErrorLine(err)
		add("", line, false, "YAML syntax: %s", msg)
		return nil, nil, problems
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			line, msg := yamlErrorLine(err)
			add("", line, false, "YAML syntax: %s", msg)
		} else {
			add("", extra.Line, false, "a second YAML document; one topic per file")
		}
		return nil, nil, problems
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		add("", root.Line, false, "expected a mapping with the fields id, title, answer, examples, keywords, messages")
		return nil, nil, problems
	}

	// Then the structure: every field known, every value of the right shape.
	fl = &fieldLines{m: map[string]int{}}
	before := len(problems)
	walkTop(root, fl, add)
	if len(problems) > before {
		return nil, nil, problems
	}

	// The structure is right, so the strict typed decode should succeed; if
	// it does not, its own message (with its line) is still worth reporting.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var raw topicFile
	if err := strict.Decode(&raw); err != nil {
		line, msg := yamlErrorLine(err)
		add("", line, false, "%s", msg)
		return nil, nil, problems
	}
	// The lists are clipped so that a caller appending to one (the slices are
	// shared by everyone holding the Base) gets a copy instead of a data race.
	t = &Topic{
		ID: raw.ID, Title: raw.Title, Answer: raw.Answer,
		Examples: Lists{ZH: slices.Clip(raw.Examples.ZH), EN: slices.Clip(raw.Examples.EN)},
		Keywords: Lists{ZH: slices.Clip(raw.Keywords.ZH), EN: slices.Clip(raw.Keywords.EN)},
		Messages: slices.Clip(raw.Messages),
		File:     file,
	}
	// Checked untrimmed, so a line inside a block text is counted right.
	problems = append(problems, checkTopic(t, base, fl)...)
	// Block texts (|) end in a newline; answers go out as they are, so trim.
	t.ID = strings.TrimSpace(t.ID)
	t.Title = Text{ZH: strings.TrimSpace(t.Title.ZH), EN: strings.TrimSpace(t.Title.EN)}
	t.Answer = Text{ZH: strings.TrimSpace(t.Answer.ZH), EN: strings.TrimSpace(t.Answer.EN)}
	return t, fl, problems
}

// walkTop checks the top-level mapping against the schema and records lines.
func walkTop(root *yaml.Node, fl *fieldLines, add func(string, int, bool, string, ...any)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolve(root.Content[i+1])
		if prev, dup := seen[k.Value]; dup {
			add(k.Value, k.Line, false, "defined twice (first at line %d)", prev)
			continue
		}
		seen[k.Value] = k.Line
		fl.m[k.Value] = k.Line
		s, known := topFields[k.Value]
		if !known {
			add(k.Value, k.Line, false, "unknown field %q (known: id, title, answer, examples, keywords, messages)", k.Value)
			continue
		}
		walkValue(k.Value, v, s, fl, add)
	}
}

func walkValue(field string, v *yaml.Node, s shape, fl *fieldLines, add func(string, int, bool, string, ...any)) {
	switch s {
	case shapeString:
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			add(field, v.Line, false, "expected a text")
		}
	case shapeStrings:
		if v.Kind != yaml.SequenceNode {
			add(field, v.Line, false, "expected a list of texts")
			return
		}
		for i, item := range v.Content {
			item = resolve(item)
			f := fmt.Sprintf("%s[%d]", field, i)
			fl.m[f] = item.Line
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				add(f, item.Line, false, "expected a text")
			}
		}
	case shapeText, shapeLists:
		if v.Kind != yaml.MappingNode {
			add(field, v.Line, false, "expected zh: and en:")
			return
		}
		inner := shapeString
		if s == shapeLists {
			inner = shapeStrings
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], resolve(v.Content[i+1])
			f := field + "." + k.Value
			if prev, dup := seen[k.Value]; dup {
				add(f, k.Line, false, "defined twice (first at line %d)", prev)
				continue
			}
			seen[k.Value] = k.Line
			if k.Value != "zh" && k.Value != "en" {
				add(f, k.Line, false, "unknown field %q (known: zh, en)", k.Value)
				continue
			}
			fl.m[f] = k.Line
			// Remember where a block text starts, so problems inside it get their own line.
			if val.Kind == yaml.ScalarNode && val.Style&yaml.LiteralStyle != 0 {
				fl.m[f+"#body"] = val.Line + 1
			}
			walkValue(f, val, inner, fl, add)
		}
	}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// checkTopic checks the content of a structurally valid topic.
func checkTopic(t *Topic, base string, fl *fieldLines) []Problem {
	var problems []Problem
	add := func(field string, line int, warn bool, format string, args ...any) {
		if line == 0 {
			line = fl.of(field)
		}
		problems = append(problems, Problem{File: t.File, Field: field, Line: line, Warning: warn, Msg: fmt.Sprintf(format, args...)})
	}

	switch {
	case strings.TrimSpace(t.ID) == "":
		add("id", 0, false, "missing; it must be the file name without .yaml (%q)", base)
	case t.ID != base:
		add("id", 0, false, "id %q does not match the file name %q", t.ID, base)
	}

	def := DefaultProvider()
	for _, l := range []lang.Lang{lang.ZH, lang.EN} {
		for _, f := range []struct {
			name string
			text string
		}{{"title", t.Title.In(l)}, {"answer", t.Answer.In(l)}} {
			field := f.name + "." + string(l)
			if strings.TrimSpace(f.text) == "" {
				if _, ok := fl.m[field]; ok {
					add(field, 0, false, "empty")
				} else {
					add(field, 0, false, "missing")
				}
				continue
			}
			for _, ph := range badPlaceholders(f.text) {
				add(field, lineInText(fl, field, f.text, ph.offset), false,
					"unknown placeholder %q; use {provider}, {filing_system} or {support}, and no other braces", ph.text)
			}
			if f.name == "answer" {
				if n := utf8.RuneCountInString(strings.TrimSpace(def.expand(f.text, l))); n > MaxAnswerRunes {
					add(field, 0, true, "%d characters, aim for at most %d so it reads on a phone", n, MaxAnswerRunes)
				}
			}
		}

		field := "examples." + string(l)
		n := 0
		for i, ex := range t.Examples.In(l) {
			f := fmt.Sprintf("%s[%d]", field, i)
			if strings.TrimSpace(ex) == "" {
				add(f, 0, false, "empty example")
				continue
			}
			n++
		}
		if n < MinExamples {
			add(field, 0, false, "%d example questions, need at least %d", n, MinExamples)
		}
		for i, kw := range t.Keywords.In(l) {
			if strings.TrimSpace(kw) == "" {
				add(fmt.Sprintf("keywords.%s[%d]", l, i), 0, false, "empty keyword")
			}
		}
	}

	for i, m := range t.Messages {
		field := fmt.Sprintf("messages[%d]", i)
		if strings.TrimSpace(m) == "" {
			add(field, 0, false, "empty message")
			continue
		}
		// Users paste the message, so both answers quote it exactly.
		for _, l := range []lang.Lang{lang.ZH, lang.EN} {
			if !strings.Contains(t.Answer.In(l), m) {
				add(field, 0, true, "answer.%s does not quote this message exactly", l)
			}
		}
	}
	return problems
}

type placeholder struct {
	text   string
	offset int
}

// badPlaceholders returns every brace in s that is not part of a known
// placeholder: an unknown {name}, or a { or } standing alone.
func badPlaceholders(s string) []placeholder {
	var bad []placeholder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '}':
			bad = append(bad, placeholder{"}", i})
		case '{':
			end := strings.IndexAny(s[i+1:], "{}\n")
			if end < 0 || s[i+1+end] != '}' {
				bad = append(bad, placeholder{"{", i})
				continue
			}
			name := s[i+1 : i+1+end]
			if !slices.Contains(placeholders, name) {
				bad = append(bad, placeholder{s[i : i+2+end], i})
			}
			i += end + 1
		}
	}
	return bad
}

// lineInText returns the file line of byte offset off inside a field's text
// when the text is a literal block, else the field's own line.
func lineInText(fl *fieldLines, field, text string, off int) int {
	if start, ok := fl.m[field+"#body"]; ok {
		return start + strings.Count(text[:off], "\n")
	}
	return fl.of(field)
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): `)

// yamlErrorLine splits the "line N:" the YAML library puts in its messages.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, msg[len(m[0]):]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

func lineAt(data []byte, off int) int { return 1 + bytes.Count(data[:off], []byte("\n")) }

func firstInvalid(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

package eval

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters):
// <testsuites> of one <testsuite> per set, one <testcase> per question, a
// <failure> for each wrong answer. testdata/junit.xsd describes the subset
// written here.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"` // CDATA keeps the detail readable in the file
}

// WriteJUnit writes the sets as JUnit XML: one test case per question.
func WriteJUnit(w io.Writer, sets []Set) error {
	doc := junitSuites{Name: "beianbot eval"}
	var total time.Duration
	for _, s := range sets {
		suite := junitSuite{Name: xmlText(s.Name)}
		var spent time.Duration
		for _, o := range s.Outcomes {
			spent += o.Latency
			tc := junitCase{Name: xmlText(caseName(o)), Classname: xmlText(className(s.Name, o.File)), Time: seconds(o.Latency)}
			if !o.OK {
				kind := "wrong answer"
				if o.WrongFact {
					kind = "wrong verdict"
				}
				tc.Failure = &junitFailure{Message: xmlText(o.Why), Type: kind, Text: xmlText(failureText(o))}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(suite.Cases)
		suite.Time = seconds(spent)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		total += spent
		doc.Suites = append(doc.Suites, suite)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// caseName says where the question is and what it is, on one line.
func caseName(o Outcome) string {
	var where string
	switch {
	case o.Dialog != "":
		where = fmt.Sprintf("dialog %s, turn %d", o.Dialog, o.Turn)
	case o.Case.Line > 0:
		where = fmt.Sprintf("line %d", o.Case.Line)
	default:
		where = o.Case.Topic
	}
	return where + ": " + OneLine(o.Case.Q, 80)
}

// className groups a set's cases by file the way CI systems show classes:
// the set as the package ("testdata/eval"), the file as the class ("zh").
func className(set, file string) string {
	name := file // the knowledge base's folds: "cv fold 1/5"
	if ext := filepath.Ext(file); ext == ".yaml" || ext == ".yml" {
		name = strings.TrimSuffix(filepath.Base(file), ext)
		if set == file { // a set of one file: its directory is the package
			set = filepath.Dir(file)
		}
	}
	return set + "." + strings.ReplaceAll(name, ".", "_")
}

// xmlText makes s fit in XML 1.0: invalid UTF-8 and the control characters
// XML forbids (all but tab, newline and carriage return) become U+FFFD.
// encoding/xml escapes markup but writes CDATA as it is.
func xmlText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// failureText is a failure's detail: the question, what was expected and
// given, and the engine's --explain lines.
func failureText(o Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "question: %s\n", o.Case.Q)
	fmt.Fprintf(&b, "expected: %s\n", ExpectedText(o.Case))
	fmt.Fprintf(&b, "got:      %s\n", GotText(o.Reply))
	for _, l := range ExplainLines(o.Reply) {
		fmt.Fprintf(&b, "%s\n", l)
	}
	fmt.Fprintf(&b, "answer:\n%s\n", o.Reply.Text)
	return b.String()
}

// OneLine folds whitespace and cuts s to n runes.
func OneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

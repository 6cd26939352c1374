package support

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
)

// WriteJSON writes the report as one indented JSON object; times are
// RFC 3339 in Beijing time.
func (r Report) WriteJSON(w io.Writer) error {
	r.Since, r.Until = r.Since.In(Beijing), r.Until.In(Beijing)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteCSV writes the report as blocks of CSV, one per section, separated
// by an empty line. Each block starts with a header row whose first cell is
// "section"; every data row starts with the section's name, so the blocks
// can be told apart (and filtered) by the first column.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	block := func(header []string, rows [][]string) {
		cw.Write(append([]string{"section"}, header...))
		for _, row := range rows {
			cw.Write(row)
		}
		cw.Flush()
		io.WriteString(w, "\n")
	}
	n := strconv.Itoa
	h := r.Handoffs
	block([]string{"metric", "value"}, [][]string{
		{"summary", "since", r.Since.In(Beijing).Format(time.RFC3339)},
		{"summary", "until", r.Until.In(Beijing).Format(time.RFC3339)},
		{"summary", "questions", n(r.Questions)},
		{"summary", "chats", n(r.Chats)},
		{"summary", "handoffs_offered", n(h.Offered)},
		{"summary", "threads_opened", n(h.Opened)},
		{"summary", "threads_answered_by_person", n(h.AnsweredByPerson)},
		{"summary", "threads_closed", n(h.Closed)},
		{"summary", "threads_open", n(h.Open)},
		{"summary", "median_first_reply_seconds", strconv.FormatInt(h.MedianFirstReply, 10)},
		{"summary", "rephrase_attempted", n(r.Rephrase.Attempted)},
		{"summary", "rephrase_accepted", n(r.Rephrase.Accepted)},
	})
	var rows [][]string
	for _, v := range r.Volume {
		rows = append(rows, []string{"volume", v.Topic, n(v.ZH), n(v.ZHHant), n(v.EN), n(v.Total)})
	}
	block([]string{"topic", "zh", "zh-Hant", "en", "total"}, rows)
	rows = nil
	for _, g := range r.Unanswered {
		rows = append(rows, []string{"unanswered", n(g.Count), n(g.Unanswered), n(g.LowConfidence),
			strings.Join(g.Langs, " "), g.Question, strings.Join(g.Variants, " | ")})
	}
	block([]string{"count", "unanswered", "low_confidence", "langs", "question", "variants"}, rows)
	rows = nil
	for _, f := range r.Feedback {
		rate := "" // no feedback at all: no rate, rather than 0
		if f.Up+f.Down > 0 {
			rate = strconv.FormatFloat(f.DownRate, 'f', 2, 64)
		}
		rows = append(rows, []string{"feedback", f.Topic, n(f.Answers), n(f.Up), n(f.Down), rate})
	}
	block([]string{"topic", "answers", "up", "down", "down_rate"}, rows)
	rows = nil
	for _, v := range r.Rephrase.NotUsed {
		rows = append(rows, []string{"rephrase_not_used", v.Verdict, n(v.Count)})
	}
	block([]string{"verdict", "count"}, rows)
	rows = nil
	for _, s := range r.Suggestions {
		rows = append(rows, []string{"suggestion", s.Topic, s.Lang, s.Source, n(s.Count), s.Question})
	}
	cw.Write(append([]string{"section"}, "topic", "lang", "source", "count", "question"))
	cw.WriteAll(rows) // the last block: no empty line after it
	return cw.Error()
}

// WriteText writes the report for a person to read in a terminal.
func (r Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "beianbot report: %s to %s (Beijing time)\n", r.Since.In(Beijing).Format("2006-01-02 15:04"), r.Until.In(Beijing).Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "%d questions from %d chats\n", r.Questions, r.Chats)

	section(&b, "Volume by topic and language")
	if len(r.Volume) == 0 {
		b.WriteString("(no questions)\n")
	} else {
		tw := table(&b)
		fmt.Fprintln(tw, "topic\tzh\tzh-Hant\ten\ttotal")
		var sum VolumeRow
		for _, v := range r.Volume {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", v.Topic, v.ZH, v.ZHHant, v.EN, v.Total)
			sum.ZH, sum.ZHHant, sum.EN, sum.Total = sum.ZH+v.ZH, sum.ZHHant+v.ZHHant, sum.EN+v.EN, sum.Total+v.Total
		}
		fmt.Fprintf(tw, "(all)\t%d\t%d\t%d\t%d\n", sum.ZH, sum.ZHHant, sum.EN, sum.Total)
		tw.Flush()
	}

	section(&b, "Unanswered and low-confidence questions, grouped by similarity")
	if len(r.Unanswered) == 0 {
		b.WriteString("(none)\n")
	} else {
		tw := table(&b)
		fmt.Fprintln(tw, "count\tunanswered\tlow\tlang\tquestion")
		for _, g := range r.Unanswered {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\n", g.Count, g.Unanswered, g.LowConfidence, strings.Join(g.Langs, ","), oneLine(g.Question))
			for _, v := range g.Variants {
				fmt.Fprintf(tw, "\t\t\t\t  also: %s\n", oneLine(v))
			}
		}
		tw.Flush()
	}

	section(&b, "Feedback by topic (down rate: 👎 among answers with feedback)")
	if len(r.Feedback) == 0 {
		b.WriteString("(no answers)\n")
	} else {
		tw := table(&b)
		fmt.Fprintln(tw, "topic\tanswers\tup\tdown\tdown rate")
		for _, f := range r.Feedback {
			rate := "-"
			if f.Up+f.Down > 0 {
				rate = fmt.Sprintf("%.0f%%", 100*f.DownRate)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", f.Topic, f.Answers, f.Up, f.Down, rate)
		}
		tw.Flush()
	}

	section(&b, "Handoffs")
	h := r.Handoffs
	tw := table(&b)
	fmt.Fprintf(tw, "offered a person\t%d\n", h.Offered)
	fmt.Fprintf(tw, "threads opened\t%d\n", h.Opened)
	fmt.Fprintf(tw, "answered by a person\t%d\n", h.AnsweredByPerson)
	fmt.Fprintf(tw, "closed\t%d\n", h.Closed)
	fmt.Fprintf(tw, "still open\t%d\n", h.Open)
	first := "-"
	if h.AnsweredByPerson > 0 && h.MedianFirstReply > 0 {
		first = durationText(h.MedianFirstReply)
	}
	fmt.Fprintf(tw, "median first reply\t%s\n", first)
	tw.Flush()

	section(&b, "LLM rephrasing")
	tw = table(&b)
	fmt.Fprintf(tw, "attempted\t%d\n", r.Rephrase.Attempted)
	fmt.Fprintf(tw, "accepted\t%d\n", r.Rephrase.Accepted)
	tw.Flush()
	if len(r.Rephrase.NotUsed) > 0 {
		b.WriteString("not used (guard rejections, timeouts, errors):\n")
		tw = table(&b)
		for _, v := range r.Rephrase.NotUsed {
			fmt.Fprintf(tw, "  %s\t%d\n", v.Verdict, v.Count)
		}
		tw.Flush()
	}

	section(&b, "Suggested knowledge-base examples (review before adding: the knowledge base never changes by itself)")
	if len(r.Suggestions) == 0 {
		b.WriteString("(none)\n")
	} else {
		y, err := SuggestionsYAML(r.Suggestions)
		if err != nil {
			return err
		}
		b.WriteString(y)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func section(b *bytes.Buffer, title string) {
	fmt.Fprintf(b, "\n%s\n%s\n", title, strings.Repeat("-", len([]rune(title))))
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0) }

// oneLine keeps a question on one line of a table.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// SuggestionsYAML prints suggestions as knowledge-base YAML, one block per
// topic ("deadline: examples: zh: [...]"), each example commented with where
// it came from. Suggestions without a topic come last, commented out, for a
// person to place.
func SuggestionsYAML(sug []Suggestion) (string, error) {
	var b strings.Builder
	var unnamed []Suggestion
	for i := 0; i < len(sug); {
		j := i
		for j < len(sug) && sug[j].Topic == sug[i].Topic {
			j++
		}
		if sug[i].Topic == "" {
			unnamed = append(unnamed, sug[i:j]...)
		} else {
			y, err := topicYAML(sug[i].Topic, sug[i:j])
			if err != nil {
				return "", err
			}
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "# knowledge/data/%s.yaml\n%s", sug[i].Topic, y)
		}
		i = j
	}
	if len(unnamed) > 0 {
		y, err := topicYAML("TOPIC", unnamed)
		if err != nil {
			return "", err
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("# Answered by a person who named no topic on /close; choose one:\n")
		for _, line := range strings.Split(strings.TrimRight(y, "\n"), "\n") {
			b.WriteString("# " + line + "\n")
		}
	}
	return b.String(), nil
}

func topicYAML(topic string, sug []Suggestion) (string, error) {
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	langs := &yaml.Node{Kind: yaml.MappingNode}
	for _, l := range []string{"zh", "en"} {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, s := range sug {
			if s.Lang != l {
				continue
			}
			item := scalar(oneLine(s.Question))
			item.LineComment = s.Source
			if s.Source == FromThumbsUp {
				item.LineComment = "👍"
			}
			if s.Count > 1 {
				item.LineComment += fmt.Sprintf(" ×%d", s.Count)
			}
			seq.Content = append(seq.Content, item)
		}
		if len(seq.Content) > 0 {
			langs.Content = append(langs.Content, scalar(l), seq)
		}
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		scalar(topic), {Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("examples"), langs}},
	}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("suggestions for %s as YAML: %w", topic, err)
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

package bot

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/knowledge"
	"github.com/beianbot/beianbot/lang"
)

//go:embed data/phrases.yaml
var phrasesYAML []byte

const phrasesFile = "bot/data/phrases.yaml"

// phrases is bot/data/phrases.yaml: the engine's own sentences and routing words.
type phrases struct {
	Text map[string]knowledge.Text `yaml:"text"`
}

// requiredText lists every sentence the engine uses, so a missing one is
// caught at load and not when a customer first needs it.
var requiredText = []string{
	"empty", "truncated", "matrix_case", "matrix_must", "matrix_not", "matrix_deadline", "matrix_none",
	"matrix_emergency", "role_principal", "role_website", "case_join", "clarify_business", "clarify_rows",
	"clarify_reply", "none_expected", "none_expected_role", "suggest", "suggest_human", "handoff", "matrix_provider_initiated", "subject", "unreadable",
}

func loadPhrases(data []byte, name string) (*phrases, error) {
	var p phrases
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	var errs []error
	for _, key := range requiredText {
		t, ok := p.Text[key]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: text.%s: missing", name, key))
		case strings.TrimSpace(t.ZH) == "":
			errs = append(errs, fmt.Errorf("%s: text.%s.zh: empty", name, key))
		case strings.TrimSpace(t.EN) == "":
			errs = append(errs, fmt.Errorf("%s: text.%s.en: empty", name, key))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &p, nil
}

// say returns sentence key in language l with {name} placeholders filled.
func (p *phrases) say(key string, l lang.Lang, args ...string) string {
	s := p.Text[key].In(l)
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+args[i]+"}", args[i+1])
	}
	return s
}

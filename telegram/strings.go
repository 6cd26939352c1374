package telegram

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/beianbot/beianbot/lang"
)

//go:embed strings.yaml
var stringsYAML []byte

// bilingual is one string in both reply languages.
type bilingual struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// commandText is one command: its menu entry and /help line in both
// languages, the menus it is in, and the support operation it needs.
type commandText struct {
	Command string    `yaml:"command"`
	ZH      string    `yaml:"zh"`
	EN      string    `yaml:"en"`
	Help    bilingual `yaml:"help"`
	Chats   []string  `yaml:"chats"` // chatPrivate, chatGroup
	Needs   string    `yaml:"needs"` // "", needsHandoff, needsReminders
}

// The menus a command can be in, and what it may need.
const (
	chatPrivate    = "private"
	chatGroup      = "group"
	needsHandoff   = "handoff"
	needsReminders = "reminders"
)

// Telegram's limits on the bot's profile texts, in characters.
const (
	maxDescription      = 512
	maxShortDescription = 120
)

// phrases is strings.yaml: what the front end says around the engine's answers.
type phrases struct {
	Text     map[string]bilingual `yaml:"text"`
	Buttons  map[string]bilingual `yaml:"buttons"`
	Examples struct {
		ZH []string `yaml:"zh"`
		EN []string `yaml:"en"`
	} `yaml:"examples"`
	Commands []commandText `yaml:"commands"`
	Profile  struct {
		Description      bilingual `yaml:"description"`
		ShortDescription bilingual `yaml:"short_description"`
	} `yaml:"profile"`
	Topics map[string]string `yaml:"topics"`

	trad sync.Map // Simplified → Traditional, converted once
}

// The keys the code uses; loading fails when one is missing, so a typo in the
// data file is caught by the tests rather than by a customer.
var (
	textKeys = []string{"welcome", "commands_header", "ask_for_text", "flood", "flood_tap", "apology", "feedback_up", "feedback_down",
		"stale_button", "lang_pick", "lang_set_zh", "lang_set_en",
		"lang_set_auto", "unknown_command", "chosen", "group_intro",
		"human_none", "human_already", "human_offer", "human_failed", "agent_says",
		"remind_ask", "remind_future", "remind_unavailable", "remind_already_done"}
	buttonKeys = []string{"feedback_up", "feedback_down", "lang_zh", "lang_zh_hant", "lang_en", "lang_auto",
		"human", "remind", "arrival_now", "arrival_ago"}
	topicKeys = []string{"steps", "help"}
	// commandNames are the commands the server handles; the menu must list exactly these.
	commandNames = []string{"start", "who", "steps", "lang", "remind", "human", "help"}
)

var (
	placeholder = regexp.MustCompile(`\{[a-z_]+\}`)
	commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	topicID     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,60}$`)
)

// loadPhrases parses and checks a strings file.
func loadPhrases(data []byte) (*phrases, error) {
	p := &phrases{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("parse strings: %w", err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("strings: %w", err)
	}
	return p, nil
}

func (p *phrases) validate() error {
	var errs []error
	check := func(section string, m map[string]bilingual, keys []string) {
		for _, k := range keys {
			b, ok := m[k]
			if !ok {
				errs = append(errs, fmt.Errorf("%s.%s: missing", section, k))
				continue
			}
			if strings.TrimSpace(b.ZH) == "" || strings.TrimSpace(b.EN) == "" {
				errs = append(errs, fmt.Errorf("%s.%s: both zh and en are required", section, k))
			}
			if !sameSet(placeholder.FindAllString(b.ZH, -1), placeholder.FindAllString(b.EN, -1)) {
				errs = append(errs, fmt.Errorf("%s.%s: zh and en use different {placeholders}", section, k))
			}
		}
		for k := range m {
			if !contains(keys, k) {
				errs = append(errs, fmt.Errorf("%s.%s: not used by the code", section, k))
			}
		}
	}
	check("text", p.Text, textKeys)
	check("buttons", p.Buttons, buttonKeys)

	if len(p.Examples.ZH) == 0 || len(p.Examples.ZH) != len(p.Examples.EN) {
		errs = append(errs, fmt.Errorf("examples: need the same number (at least one) in zh and en, have %d and %d", len(p.Examples.ZH), len(p.Examples.EN)))
	}
	for _, e := range append(append([]string{}, p.Examples.ZH...), p.Examples.EN...) {
		if strings.TrimSpace(e) == "" || utf8.RuneCountInString(e) > 80 {
			errs = append(errs, fmt.Errorf("examples: %q must be 1 to 80 characters", e))
		}
	}

	var names []string
	for _, c := range p.Commands {
		names = append(names, c.Command)
		if !commandName.MatchString(c.Command) {
			errs = append(errs, fmt.Errorf("commands: %q is not a valid command name", c.Command))
		}
		for _, d := range []string{c.ZH, c.EN} {
			if n := utf8.RuneCountInString(strings.TrimSpace(d)); n < 1 || n > 256 {
				errs = append(errs, fmt.Errorf("commands.%s: description must be 1 to 256 characters", c.Command))
			}
		}
		if strings.TrimSpace(c.Help.ZH) == "" || strings.TrimSpace(c.Help.EN) == "" {
			errs = append(errs, fmt.Errorf("commands.%s.help: both zh and en are required", c.Command))
		}
		if len(c.Chats) == 0 {
			errs = append(errs, fmt.Errorf("commands.%s.chats: name at least one of %s, %s", c.Command, chatPrivate, chatGroup))
		}
		for _, chat := range c.Chats {
			if chat != chatPrivate && chat != chatGroup {
				errs = append(errs, fmt.Errorf("commands.%s.chats: %q is neither %s nor %s", c.Command, chat, chatPrivate, chatGroup))
			}
		}
		if c.Needs != "" && c.Needs != needsHandoff && c.Needs != needsReminders {
			errs = append(errs, fmt.Errorf("commands.%s.needs: %q is neither %s nor %s", c.Command, c.Needs, needsHandoff, needsReminders))
		}
	}
	for _, d := range []struct {
		name  string
		text  bilingual
		limit int
	}{{"profile.description", p.Profile.Description, maxDescription}, {"profile.short_description", p.Profile.ShortDescription, maxShortDescription}} {
		for _, t := range []string{d.text.ZH, d.text.EN} {
			// Checked again at start-up, with the provider's name in place.
			if n := utf8.RuneCountInString(strings.TrimSpace(t)); n < 1 || n > d.limit {
				errs = append(errs, fmt.Errorf("%s: must be 1 to %d characters, has %d", d.name, d.limit, n))
			}
		}
	}
	if !sameSet(names, commandNames) {
		errs = append(errs, fmt.Errorf("commands: must list exactly %v, have %v", commandNames, names))
	}
	for _, k := range topicKeys {
		if !topicID.MatchString(p.Topics[k]) {
			errs = append(errs, fmt.Errorf("topics.%s: %q is not a topic id", k, p.Topics[k]))
		}
	}
	return errors.Join(errs...)
}

// text returns a string in the reply's language, with {key} placeholders
// replaced by the pairs in kv (values are used as they are: escape them
// before if the result is HTML).
func (p *phrases) text(key string, l lang.Lang, traditional bool, kv ...string) string {
	return p.pick(p.Text[key], l, traditional, kv...)
}

func (p *phrases) button(key string, l lang.Lang, traditional bool) string {
	return p.pick(p.Buttons[key], l, traditional)
}

func (p *phrases) pick(b bilingual, l lang.Lang, traditional bool, kv ...string) string {
	s := strings.TrimRight(b.EN, "\n")
	if l == lang.ZH {
		s = p.zh(strings.TrimRight(b.ZH, "\n"), traditional)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

func (p *phrases) examples(l lang.Lang, traditional bool) []string {
	if l != lang.ZH {
		return p.Examples.EN
	}
	out := make([]string, len(p.Examples.ZH))
	for i, e := range p.Examples.ZH {
		out[i] = p.zh(e, traditional)
	}
	return out
}

// zh converts to Traditional when asked, caching: the strings are few and fixed.
func (p *phrases) zh(s string, traditional bool) string {
	if !traditional {
		return s
	}
	if t, ok := p.trad.Load(s); ok {
		return t.(string)
	}
	t := lang.ToTraditional(s)
	p.trad.Store(s, t)
	return t
}

func sameSet(a, b []string) bool {
	a, b = append([]string{}, a...), append([]string{}, b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

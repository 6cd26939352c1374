// Package knowledge is beianbot's bilingual knowledge base: one YAML topic per file, embedded in the binary.
// It loads and validates the topics (errors and lint warnings name file, line and field) and fills in the provider's name.
package knowledge

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/beianbot/beianbot/lang"
)

// The topic ids are a contract: the engine, the JSON output and the
// evaluation files refer to them, so a knowledge base has exactly these.
const (
	Greeting              = "greeting"
	Background            = "background"
	WhichPhones           = "which-phones"
	WhoVerifies           = "who-verifies"
	HowToVerify           = "how-to-verify"
	HKMacauPass           = "hk-macau-pass"
	ResultAllDone         = "result-all-done"
	ResultWaitOthers      = "result-wait-others"
	Deadline              = "deadline"
	SMSNotReceived        = "sms-not-received"
	NewAccessNoSMS        = "new-access-no-sms"
	NoRecordFound         = "no-record-found"
	NoApplicationToResend = "no-application-to-resend"
	Unknown               = "unknown"
)

var contract = []string{
	Greeting, Background, WhichPhones, WhoVerifies, HowToVerify, HKMacauPass,
	ResultAllDone, ResultWaitOthers, Deadline, SMSNotReceived, NewAccessNoSMS,
	NoRecordFound, NoApplicationToResend, Unknown,
}

// IDs returns the contract's topic ids in their fixed order.
func IDs() []string { return slices.Clone(contract) }

// Text is one text in both languages.
type Text struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// In returns the text in language l (English for anything but Chinese).
func (t Text) In(l lang.Lang) string {
	if l == lang.ZH {
		return t.ZH
	}
	return t.EN
}

// Lists is a list of strings per language.
type Lists struct {
	ZH []string `yaml:"zh"`
	EN []string `yaml:"en"`
}

// In returns the list for language l (English for anything but Chinese).
func (ls Lists) In(l lang.Lang) []string {
	if l == lang.ZH {
		return ls.ZH
	}
	return ls.EN
}

// Topic is one entry of the knowledge base.
type Topic struct {
	ID       string
	Title    Text
	Answer   Text
	Examples Lists    // questions as customers write them; the index matches against these
	Keywords Lists    // terms that signal the topic
	Messages []string // texts MIIT's site shows that this topic explains, exactly as shown
	File     string   // the file the topic came from, for error messages
}

// Message is a text MIIT's site shows, with the topic that explains it.
type Message struct {
	Text    string
	TopicID string
}

// Base is a validated knowledge base: every contract topic, in contract order.
// It is read-only after loading and safe for concurrent use; the slices inside
// the Topics it returns are shared, so callers must not modify them.
type Base struct {
	topics []Topic
	byID   map[string]int
}

//go:embed data/*.yaml
var embedded embed.FS

// embeddedName is how errors name the embedded files: their path in the repository.
const embeddedName = "knowledge/data"

// Embedded loads the knowledge base compiled into the binary.
func Embedded() (*Base, error) {
	return Load(EmbeddedFS(), embeddedName)
}

// LoadDir loads a knowledge base from a directory of <id>.yaml files,
// the override set by knowledge_dir in the config.
func LoadDir(dir string) (*Base, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load knowledge base: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("load knowledge base %s: not a directory", dir)
	}
	return Load(os.DirFS(dir), dir)
}

// Load reads every .yaml file at the top of fsys; name is the directory's name
// in error messages. Any error-level problem fails the load (all of them are
// joined into the error); warnings are accepted, Lint reports them.
func Load(fsys fs.FS, name string) (*Base, error) {
	topics, problems := check(fsys, name)
	var errs []error
	for _, p := range problems {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load knowledge base %s: %d problem(s):\n%w", name, len(errs), errors.Join(errs...))
	}
	return newBase(topics), nil
}

// newBase orders valid topics as the contract does.
func newBase(topics []Topic) *Base {
	b := &Base{byID: make(map[string]int, len(topics))}
	for _, id := range contract {
		for _, t := range topics {
			if t.ID == id {
				b.byID[id] = len(b.topics)
				b.topics = append(b.topics, t)
				break
			}
		}
	}
	return b
}

// Topics returns all topics in contract order.
func (b *Base) Topics() []Topic { return slices.Clone(b.topics) }

// Topic returns the topic with the given id.
func (b *Base) Topic(id string) (Topic, bool) {
	i, ok := b.byID[id]
	if !ok {
		return Topic{}, false
	}
	return b.topics[i], true
}

// Messages returns every MIIT message the base explains, with its topic, in
// topic order. Each message belongs to exactly one topic (validation ensures it).
func (b *Base) Messages() []Message {
	var out []Message
	for _, t := range b.topics {
		for _, m := range t.Messages {
			out = append(out, Message{Text: m, TopicID: t.ID})
		}
	}
	return out
}

// Example is one example question of a topic, in one language.
type Example struct {
	TopicID string
	Lang    lang.Lang
	Text    string
}

// Fold splits the examples for k-fold cross-validation: fold i (0 ≤ i < k)
// holds out every k-th example of each topic and language, starting at the
// i-th, and returns the base without them and the held-out examples. Each
// example is held out in exactly one fold, and every topic keeps examples in
// every fold when it has at least k of them.
func (b *Base) Fold(k, i int) (train *Base, held []Example) {
	train = &Base{topics: make([]Topic, len(b.topics)), byID: b.byID}
	split := func(id string, l lang.Lang, qs []string) []string {
		var keep []string
		for n, q := range qs {
			if n%k == i {
				held = append(held, Example{TopicID: id, Lang: l, Text: q})
			} else {
				keep = append(keep, q)
			}
		}
		return keep
	}
	for n, t := range b.topics {
		t.Examples = Lists{ZH: split(t.ID, lang.ZH, t.Examples.ZH), EN: split(t.ID, lang.EN, t.Examples.EN)}
		train.topics[n] = t
	}
	return train, held
}

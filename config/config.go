// Package config loads beianbot's settings: defaults, then a YAML file, then
// BEIANBOT_<SECTION>_<KEY> environment variables, each overriding the one before.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Text is a string in both reply languages.
type Text struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// Config is every setting beianbot has. config.example.yaml documents each key.
type Config struct {
	Provider     Provider    `yaml:"provider"`
	KnowledgeDir string      `yaml:"knowledge_dir"`
	DataDir      string      `yaml:"data_dir"`
	Log          Log         `yaml:"log"`
	Index        Index       `yaml:"index"`
	Telegram     Telegram    `yaml:"telegram"`
	LLM          LLM         `yaml:"llm"`
	Reminders    Reminders   `yaml:"reminders"`
	QuestionLog  QuestionLog `yaml:"question_log"`
}

// Provider names the cloud provider that runs beianbot; answers use these names.
type Provider struct {
	Name           Text `yaml:"name"`
	FilingSystem   Text `yaml:"filing_system"`
	Support        Text `yaml:"support"`
	SupportContact Text `yaml:"support_contact"`
}

// Log configures the one logger every command and package writes through
// (standard error).
type Log struct {
	Format string `yaml:"format"` // text (key=value) or json (one object per line)
	Level  string `yaml:"level"`  // debug, info, warn or error
}

// Index tunes when a topic is trusted (the classifier's and the index's
// evidence combined); 0 means the engine's calibrated defaults.
type Index struct {
	MinScore  float64 `yaml:"min_score"`
	MinMargin float64 `yaml:"min_margin"`
}

// Telegram configures `beianbot serve`.
type Telegram struct {
	Token         string        `yaml:"token" secret:"true"`
	APIURL        string        `yaml:"api_url"`
	Mode          string        `yaml:"mode"`
	PollTimeout   time.Duration `yaml:"poll_timeout"`
	Webhook       Webhook       `yaml:"webhook"`
	SupportChatID int64         `yaml:"support_chat_id"`
	Workers       int           `yaml:"workers"`
	UserRate      float64       `yaml:"user_rate"`
	UserBurst     int           `yaml:"user_burst"`
	MaxChats      int           `yaml:"max_chats"`
	ChatTTL       time.Duration `yaml:"chat_ttl"`
	MetricsListen string        `yaml:"metrics_listen"`
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	InboxLimit    int           `yaml:"inbox_limit"`
	SendDeadline  time.Duration `yaml:"send_deadline"`
}

// Webhook configures webhook mode.
type Webhook struct {
	Listen       string `yaml:"listen"`
	PublicURL    string `yaml:"public_url"`
	SecretToken  string `yaml:"secret_token" secret:"true"`
	MaxBodyBytes int64  `yaml:"max_body_bytes"`
}

// LLM configures optional rephrasing through an OpenAI-compatible server.
type LLM struct {
	Enabled     bool          `yaml:"enabled"`
	BaseURL     string        `yaml:"base_url"`
	Model       string        `yaml:"model"`
	APIKey      string        `yaml:"api_key" secret:"true"`
	Timeout     time.Duration `yaml:"timeout"`
	MaxTokens   int           `yaml:"max_tokens"`
	Temperature float64       `yaml:"temperature"`
}

// Reminders configures the 24-hour deadline reminders.
type Reminders struct {
	Before []time.Duration `yaml:"before"`
}

// QuestionLog configures what is kept of customers' questions.
type QuestionLog struct {
	RetentionDays int    `yaml:"retention_days"`
	Salt          string `yaml:"salt" secret:"true"`
}

// Default returns the settings used when nothing is configured: the source
// document's provider, the embedded knowledge base, polling, no LLM.
func Default() Config {
	return Config{
		Provider: Provider{
			Name:         Text{ZH: "青云", EN: "QingCloud"},
			FilingSystem: Text{ZH: "青云备案系统", EN: "QingCloud's ICP filing system"},
			Support:      Text{ZH: "青云备案客服", EN: "QingCloud's filing support team"},
		},
		DataDir: "./data",
		Log:     Log{Format: "text", Level: "info"},
		Index:   Index{MinScore: 0, MinMargin: 0},
		Telegram: Telegram{
			APIURL:        "https://api.telegram.org",
			Mode:          "polling",
			PollTimeout:   30 * time.Second,
			Webhook:       Webhook{Listen: ":8443", MaxBodyBytes: 1 << 20},
			Workers:       8,
			UserRate:      0.5,
			UserBurst:     5,
			MaxChats:      10000,
			ChatTTL:       24 * time.Hour,
			ShutdownGrace: 10 * time.Second,
			InboxLimit:    10000,
			SendDeadline:  5 * time.Minute,
		},
		LLM: LLM{
			BaseURL:     "https://api.openai.com/v1",
			Model:       "gpt-4o-mini",
			Timeout:     3 * time.Second,
			MaxTokens:   600,
			Temperature: 0.3,
		},
		Reminders:   Reminders{Before: []time.Duration{12 * time.Hour, 2 * time.Hour}},
		QuestionLog: QuestionLog{RetentionDays: 30},
	}
}

// Load reads the file at path (none when path is ""), then the environment:
// environ is os.Environ() in production ("KEY=value" entries); tests pass
// their own. Every problem is reported, each on its own line: malformed or
// unknown keys in the file (with their line), BEIANBOT_* variables that are
// unknown or malformed, and values that do not validate.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	var problems []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config %s: %w", path, err)
		}
		problems = append(problems, decode(path, data, &cfg)...)
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	known := map[string]bool{}
	problems = append(problems, readSecretFiles(env, known)...)
	problems = append(problems, applyEnv(reflect.ValueOf(&cfg).Elem(), "BEIANBOT", env, known)...)
	var unknown []string
	for k := range env {
		if strings.HasPrefix(k, "BEIANBOT_") && !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		// Same as an unknown key in the file: a typo must not be ignored.
		problems = append(problems, fmt.Errorf("environment %s: unknown variable (config.example.yaml lists every key; BEIANBOT_<SECTION>_<KEY>)", k))
	}
	// Conventional names that people already have set.
	if cfg.LLM.APIKey == "" {
		cfg.LLM.APIKey = env["OPENAI_API_KEY"]
	}
	if len(problems) == 0 { // validating half-read settings would only add noise
		where := "config"
		if path != "" {
			where = "config " + path
		}
		for _, err := range cfg.validate() {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
		}
	}
	return cfg, errors.Join(problems...)
}

// decode reads the YAML file into cfg and returns one error per problem.
func decode(path string, data []byte, cfg *Config) []error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // an empty file means all defaults
	}
	if !utf8Valid(data) {
		return []error{fmt.Errorf("config %s: not UTF-8 text", path)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			keys := keyLines(data)
			var errs []error
			for _, e := range te.Errors {
				errs = append(errs, fmt.Errorf("config %s: %s", path, explainYAML(e, keys)))
			}
			return errs
		}
		return []error{fmt.Errorf("config %s: %w", path, err)}
	}
	return nil
}

// maxSecretFile is the largest secret file read: tokens and keys are short,
// and a path pointing at the wrong file should fail, not fill memory.
const maxSecretFile = 64 << 10

// readSecretFiles reads each secret from the file named by
// BEIANBOT_<PATH>_FILE, as Docker secrets and systemd credentials hand them
// over, and puts it in env under BEIANBOT_<PATH>, where applyEnv finds it.
// A trailing line break is dropped. No error ever quotes the file's content.
func readSecretFiles(env map[string]string, known map[string]bool) []error {
	var errs []error
	for _, name := range secretVars(reflect.TypeOf(Config{}), "BEIANBOT") {
		fileVar := name + "_FILE"
		known[fileVar] = true
		path := env[fileVar]
		if path == "" {
			continue
		}
		if env[name] != "" {
			errs = append(errs, fmt.Errorf("environment %s and %s are both set: use one", name, fileVar))
			continue
		}
		value, err := readSecretFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s=%s: %w", fileVar, path, err))
			continue
		}
		env[name] = value
	}
	return errs
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the file: %w", pathless(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read the file: %w", pathless(err))
	case len(data) > maxSecretFile:
		return "", fmt.Errorf("the file is larger than %d KiB; is it the secret?", maxSecretFile>>10)
	}
	value := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	switch {
	case strings.TrimSpace(value) == "":
		return "", errors.New("the file is empty")
	case strings.ContainsAny(value, "\r\n"):
		return "", errors.New("the file holds more than one line")
	}
	return value, nil
}

// pathless drops the path from an os error (the caller names it once).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// secretVars are the BEIANBOT_* names of the fields tagged secret.
func secretVars(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := prefix + "_" + strings.ToUpper(strings.Split(f.Tag.Get("yaml"), ",")[0])
		switch {
		case f.Type.Kind() == reflect.Struct:
			out = append(out, secretVars(f.Type, name)...)
		case f.Tag.Get("secret") == "true":
			out = append(out, name)
		}
	}
	return out
}

// applyEnv sets each field from BEIANBOT_<PATH> where that variable is set,
// PATH being the field's yaml keys joined by "_" and upper-cased. It records
// every name it knows in known, and returns one error per bad value.
func applyEnv(v reflect.Value, prefix string, env map[string]string, known map[string]bool) []error {
	var errs []error
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(key)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			errs = append(errs, applyEnv(fv, name, env, known)...)
			continue
		}
		known[name] = true
		raw := env[name]
		if raw == "" {
			continue
		}
		if err := setFromString(fv, raw); err != nil {
			if f.Tag.Get("secret") == "true" {
				errs = append(errs, fmt.Errorf("environment %s: invalid value", name))
				continue
			}
			errs = append(errs, fmt.Errorf("environment %s=%q: %w", name, raw, err))
		}
	}
	return errs
}

func setFromString(v reflect.Value, raw string) error {
	raw = strings.TrimSpace(raw)
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(time.Duration(0)):
		var ds []time.Duration
		for _, part := range strings.Split(raw, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		v.Set(reflect.ValueOf(ds))
	default:
		return fmt.Errorf("cannot set %s from the environment", v.Type())
	}
	return nil
}

// Validate checks values that would otherwise fail later and far from here.
func (c Config) Validate() error { return errors.Join(c.validate()...) }

func (c Config) validate() []error {
	var errs []error
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is neither text nor json", c.Log.Format))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	switch c.Telegram.Mode {
	case "polling", "webhook":
	default:
		errs = append(errs, fmt.Errorf("telegram.mode: %q is neither polling nor webhook", c.Telegram.Mode))
	}
	if c.Telegram.Mode == "webhook" && c.Telegram.Webhook.PublicURL == "" {
		errs = append(errs, errors.New("telegram.webhook.public_url: required in webhook mode"))
	}
	if c.LLM.Enabled && (c.LLM.BaseURL == "" || c.LLM.Model == "") {
		errs = append(errs, errors.New("llm: base_url and model are required when enabled"))
	}
	if c.LLM.Timeout <= 0 {
		errs = append(errs, errors.New("llm.timeout: must be positive"))
	}
	if c.Telegram.Workers < 1 {
		errs = append(errs, errors.New("telegram.workers: must be at least 1"))
	}
	if c.Telegram.InboxLimit < 1 {
		errs = append(errs, errors.New("telegram.inbox_limit: must be at least 1"))
	}
	if c.Telegram.SendDeadline < time.Second {
		errs = append(errs, errors.New("telegram.send_deadline: must be at least 1s"))
	}
	if c.QuestionLog.RetentionDays < 1 {
		errs = append(errs, errors.New("question_log.retention_days: must be at least 1"))
	}
	for _, d := range c.Reminders.Before {
		if d <= 0 || d >= 24*time.Hour {
			errs = append(errs, fmt.Errorf("reminders.before: %s is not between 0 and 24h", d))
		}
	}
	for _, t := range []struct {
		name string
		v    Text
	}{{"provider.name", c.Provider.Name}, {"provider.filing_system", c.Provider.FilingSystem}, {"provider.support", c.Provider.Support}} {
		if strings.TrimSpace(t.v.ZH) == "" || strings.TrimSpace(t.v.EN) == "" {
			errs = append(errs, fmt.Errorf("%s: both zh and en are required", t.name))
		}
	}
	return errs
}

func utf8Valid(b []byte) bool { return utf8.Valid(b) && !bytes.Contains(b, []byte{0}) }

// yaml.v3 says "line 3: field foo not found in type config.Telegram"; the
// support team wants the key and the line, not Go type names.
var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yaml.v3 says "line 2: cannot unmarshal !!str `high` into float64"; the
// reader wants to know which key, and what it takes.
var wrongType = regexp.MustCompile("^line (\\d+): cannot unmarshal !!\\w+ `(.*)` into (\\S+)$")

// wants names what a Go type of the config takes, in the reader's words.
var wants = map[string]string{
	"float64": "a number", "int": "a whole number", "int64": "a whole number", "bool": "true or false",
	"string": "text", "time.Duration": "a duration such as 30s or 5m",
}

func explainYAML(msg string, keys map[int]string) string {
	if m := wrongType.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		what, ok := wants[m[3]]
		if !ok && strings.HasPrefix(m[3], "[]") {
			what = "a list"
		} else if !ok {
			what = "another kind of value"
		}
		if key := keys[line]; key != "" {
			return fmt.Sprintf("line %d: %s: %q is not %s", line, key, m[2], what)
		}
		return fmt.Sprintf("line %d: %q is not %s", line, m[2], what)
	}
	return unknownField.ReplaceAllStringFunc(msg, func(m string) string {
		key := unknownField.FindStringSubmatch(m)[1]
		if now, ok := movedKeys[key]; ok {
			return fmt.Sprintf("unknown key %q (it is %s now)", key, now)
		}
		return fmt.Sprintf("unknown key %q", key)
	})
}

// keyLines maps the line of each value in a YAML file to its dotted key
// ("index.min_score"), for errors that give only the line.
func keyLines(data []byte) map[int]string {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nil
	}
	out := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if path != "" {
					key = path + "." + key
				}
				walk(n.Content[i+1], key)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		default:
			if path != "" {
				out[n.Line] = path
			}
		}
	}
	walk(&root, "")
	return out
}

// movedKeys are keys of earlier versions and where they went.
var movedKeys = map[string]string{"log_level": "log.level"}

// Secrets returns the configured values of the fields tagged secret (the
// bot token, the LLM key, the webhook secret, the question-log salt), for
// Scrub. Empty ones are left out.
func (c Config) Secrets() []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := v.Field(i)
			switch {
			case f.Kind() == reflect.Struct:
				walk(f)
			case t.Field(i).Tag.Get("secret") == "true" && f.Kind() == reflect.String && f.String() != "":
				out = append(out, f.String())
			}
		}
	}
	walk(reflect.ValueOf(c))
	return out
}

// minEcho is the shortest part of a secret that Scrub removes. Servers echo
// a key's first characters ("Incorrect API key provided: sk-test-se****"):
// a whole-key match misses that.
const minEcho = 6

// Scrub removes from s every stretch of minEcho or more characters that
// appears in one of the secrets, and every whole secret of four or more,
// replacing each with "[redacted]". It is for error texts and log lines
// that a server or library may have filled with a secret.
func Scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		switch {
		case len(secret) >= minEcho:
			s = scrubEchoes(s, secret)
		case len(secret) >= 4:
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func scrubEchoes(s, secret string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+minEcho <= len(s); {
		if !strings.Contains(secret, s[i:i+minEcho]) {
			i++
			continue
		}
		j := i + minEcho
		for j < len(s) && strings.Contains(secret, s[i:j+1]) {
			j++
		}
		b.WriteString(s[last:i])
		b.WriteString("[redacted]")
		last, i = j, j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// env turns a map into os.Environ's form.
func env(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "beianbot.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsWithoutFile(t *testing.T) {
	cfg, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.APIURL != "https://api.telegram.org" || cfg.LLM.Enabled || cfg.LLM.Timeout != 3*time.Second || cfg.Provider.Name.ZH != "青云" {
		t.Errorf("defaults: %+v", cfg)
	}
}

// The example file documents every key with its default: loading it must
// give exactly the defaults.
func TestExampleFileIsTheDefaults(t *testing.T) {
	cfg, err := Load("../config.example.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if got, want := strings.TrimSpace(fmtConfig(cfg)), strings.TrimSpace(fmtConfig(def)); got != want {
		t.Errorf("config.example.yaml differs from the defaults:\n%s\nwant\n%s", got, want)
	}
}

func fmtConfig(c Config) string { return fmt.Sprintf("%+v", c) }

func TestPrecedence(t *testing.T) {
	p := write(t, "telegram:\n  api_url: http://file.example\n  workers: 3\nllm:\n  timeout: 5s\n")
	cfg, err := Load(p, env(map[string]string{
		"BEIANBOT_TELEGRAM_API_URL": "http://env.example",
		"BEIANBOT_TELEGRAM_TOKEN":   "123:abc",
		"BEIANBOT_LLM_ENABLED":      "true",
		"BEIANBOT_REMINDERS_BEFORE": "6h, 1h",
		"BEIANBOT_DATA_DIR":         "/var/lib/beianbot",
		"BEIANBOT_PROVIDER_NAME_EN": "ExampleCloud",
		"OPENAI_API_KEY":            "sk-fallback",
	}))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.Telegram.APIURL != "http://env.example":
		t.Error("environment must win over the file")
	case cfg.Telegram.Workers != 3 || cfg.LLM.Timeout != 5*time.Second:
		t.Error("file must win over defaults")
	case cfg.Telegram.Token != "123:abc" || !cfg.LLM.Enabled || cfg.DataDir != "/var/lib/beianbot":
		t.Errorf("environment not applied: %+v", cfg)
	case len(cfg.Reminders.Before) != 2 || cfg.Reminders.Before[0] != 6*time.Hour:
		t.Errorf("duration list: %v", cfg.Reminders.Before)
	case cfg.Provider.Name.EN != "ExampleCloud" || cfg.Provider.Name.ZH != "青云":
		t.Errorf("nested provider name: %+v", cfg.Provider.Name)
	case cfg.LLM.APIKey != "sk-fallback":
		t.Error("OPENAI_API_KEY must fill llm.api_key when BEIANBOT_LLM_API_KEY is unset")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, body string
		env        map[string]string
		want       []string
	}{
		{"unknown key", "telegram:\n  mode: polling\n  colour: red\n", nil, []string{"line 3", `unknown key "colour"`}},
		{"bad type", "telegram:\n  workers: many\n", nil, []string{`line 2: telegram.workers: "many" is not a whole number`}},
		{"bad number", "index:\n  min_score: high\n", nil, []string{`line 2: index.min_score: "high" is not a number`}},
		{"syntax", "telegram: [\n", nil, []string{"beianbot.yaml"}},
		{"bad mode", "telegram:\n  mode: carrier-pigeon\n", nil, []string{"telegram.mode"}},
		{"webhook without url", "telegram:\n  mode: webhook\n", nil, []string{"public_url"}},
		{"bad duration", "llm:\n  timeout: soon\n", nil, []string{`line 2: llm.timeout: "soon" is not a duration`}},
		{"reminder past deadline", "reminders:\n  before: [30h]\n", nil, []string{"reminders.before"}},
		{"binary", "\x00\x01\x02", nil, []string{"not UTF-8"}},
		{"bad env", "", map[string]string{"BEIANBOT_TELEGRAM_WORKERS": "lots"}, []string{"BEIANBOT_TELEGRAM_WORKERS"}},
		{"unknown env", "", map[string]string{"BEIANBOT_TELEGRAM_TOKN": "x"}, []string{"BEIANBOT_TELEGRAM_TOKN", "unknown variable"}},
	}
	for _, tc := range tests {
		p := write(t, tc.body)
		_, err := Load(p, env(tc.env))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range append(tc.want, "beianbot.yaml") {
			if tc.env != nil && w == "beianbot.yaml" {
				continue
			}
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not name %q", tc.name, err, w)
			}
		}
	}
}

func TestSecretsAndScrub(t *testing.T) {
	cfg := Default()
	cfg.Telegram.Token = "123456789:AAEabcdefghijklmnop"
	cfg.LLM.APIKey = "sk-test-7f3a9c1e5b2d4f60"
	cfg.QuestionLog.Salt = "pepper"
	if got := cfg.Secrets(); len(got) != 3 {
		t.Fatalf("Secrets() = %q, want the token, the key and the salt", got)
	}
	tests := []struct{ in, want string }{
		{"error: Incorrect API key provided: sk-test-7f**********4f60.", "error: Incorrect API key provided: [redacted]**********4f60."},
		{"echo sk-test-se", "echo [redacted]se"},
		{"Bearer sk-test-7f3a9c1e5b2d4f60 rejected", "Bearer [redacted] rejected"},
		{"bot123456789:AAEabcdefghij/getMe: 401", "bot[redacted]/getMe: 401"},
		{"the middle 9c1e5b2d leaked", "the middle [redacted] leaked"},
		{"salt is pepper", "salt is [redacted]"},
		{"sk-t and 3a9c1 are too short to mean anything", "sk-t and 3a9c1 are too short to mean anything"},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in, cfg.Secrets()...); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Every problem on its own line: two unknown keys, an unknown variable, a
// bad value, each named.
func TestEachProblemOnItsOwnLine(t *testing.T) {
	p := write(t, "telegram:\n  colour: red\n  flavour: mint\nllm:\n  shape: round\n")
	_, err := Load(p, env(map[string]string{"BEIANBOT_LLM_TIMOUT": "2s", "BEIANBOT_TELEGRAM_WORKERS": "lots", "HOME": "/root"}))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{`line 2: unknown key "colour"`, `line 3: unknown key "flavour"`, `line 5: unknown key "shape"`,
		"BEIANBOT_TELEGRAM_WORKERS", "BEIANBOT_LLM_TIMOUT: unknown variable"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), err)
	}
	for _, w := range want {
		found := 0
		for _, l := range lines {
			if strings.Contains(l, w) {
				found++
			}
		}
		if found != 1 {
			t.Errorf("%q is on %d lines, want 1:\n%s", w, found, err)
		}
	}
	if ok, _ := Load("", env(map[string]string{"BEIANBOT_DATA_DIR": "/srv", "OPENAI_API_KEY": "k", "BEIANBOTX": "not ours"})); ok.DataDir != "/srv" {
		t.Error("a known variable was not applied")
	}
}

func TestLogSettings(t *testing.T) {
	cfg, err := Load(write(t, "log:\n  format: json\n  level: debug\n"), env(nil))
	if err != nil || cfg.Log.Format != "json" || cfg.Log.Level != "debug" {
		t.Fatalf("Load = %+v, %v", cfg.Log, err)
	}
	if cfg, err := Load("", env(map[string]string{"BEIANBOT_LOG_FORMAT": "json", "BEIANBOT_LOG_LEVEL": "warn"})); err != nil || cfg.Log != (Log{Format: "json", Level: "warn"}) {
		t.Errorf("from the environment: %+v, %v", cfg.Log, err)
	}
	tests := []struct{ body, want string }{
		{"log:\n  format: xml\n", `log.format: "xml" is neither text nor json`},
		{"log:\n  level: loud\n", `log.level: "loud" is not debug, info, warn or error`},
		{"log:\n  level: INFO\n", `log.level: "INFO"`},
		// The key of earlier versions names where it went.
		{"log_level: debug\n", `line 1: unknown key "log_level" (it is log.level now)`},
	}
	for _, tt := range tests {
		_, err := Load(write(t, tt.body), env(nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "beianbot.yaml") {
			t.Errorf("%q: error %v, want the file and %q", tt.body, err, tt.want)
		}
	}
}

// Each secret can come from a file (Docker secrets, systemd credentials).
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const token = "123456789:AAEsecretsecretsecretsecret"
	cfg, err := Load("", env(map[string]string{
		"BEIANBOT_TELEGRAM_TOKEN_FILE":                file("token", token+"\n"),
		"BEIANBOT_LLM_API_KEY_FILE":                   file("key", "sk-from-file\r\n"),
		"BEIANBOT_TELEGRAM_WEBHOOK_SECRET_TOKEN_FILE": file("hook", "hook-secret"),
		"BEIANBOT_QUESTION_LOG_SALT_FILE":             file("salt", "pepper and salt\n"),
		"OPENAI_API_KEY":                              "sk-not-this-one",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Token != token || cfg.LLM.APIKey != "sk-from-file" || cfg.Telegram.Webhook.SecretToken != "hook-secret" || cfg.QuestionLog.Salt != "pepper and salt" {
		t.Errorf("secrets from files: %q %q %q %q", cfg.Telegram.Token, cfg.LLM.APIKey, cfg.Telegram.Webhook.SecretToken, cfg.QuestionLog.Salt)
	}

	secret := "s3cr3t-value-never-echoed"
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"both set", map[string]string{"BEIANBOT_TELEGRAM_TOKEN": secret, "BEIANBOT_TELEGRAM_TOKEN_FILE": file("t2", secret)},
			[]string{"BEIANBOT_TELEGRAM_TOKEN and BEIANBOT_TELEGRAM_TOKEN_FILE are both set"}},
		{"missing", map[string]string{"BEIANBOT_LLM_API_KEY_FILE": filepath.Join(dir, "nope")},
			[]string{"BEIANBOT_LLM_API_KEY_FILE", filepath.Join(dir, "nope"), "no such file"}},
		{"empty", map[string]string{"BEIANBOT_QUESTION_LOG_SALT_FILE": file("empty", "\n")},
			[]string{"BEIANBOT_QUESTION_LOG_SALT_FILE", filepath.Join(dir, "empty"), "empty"}},
		{"a directory", map[string]string{"BEIANBOT_TELEGRAM_TOKEN_FILE": dir},
			[]string{"BEIANBOT_TELEGRAM_TOKEN_FILE", dir, "cannot read"}},
		{"two lines", map[string]string{"BEIANBOT_TELEGRAM_TOKEN_FILE": file("two", secret+"\n"+secret+"\n")},
			[]string{"BEIANBOT_TELEGRAM_TOKEN_FILE", "more than one line"}},
		{"huge", map[string]string{"BEIANBOT_LLM_API_KEY_FILE": file("huge", strings.Repeat(secret, 5000))},
			[]string{"BEIANBOT_LLM_API_KEY_FILE", "larger than 64 KiB"}},
		{"not a secret", map[string]string{"BEIANBOT_LLM_MODEL_FILE": file("model", "gpt")},
			[]string{"BEIANBOT_LLM_MODEL_FILE: unknown variable"}},
	}
	for _, tt := range tests {
		_, err := Load("", env(tt.env))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tt.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: error quotes the secret: %q", tt.name, err)
		}
	}
	if os.Geteuid() != 0 { // root reads any file
		unreadable := file("unreadable", secret)
		os.Chmod(unreadable, 0)
		if _, err := Load("", env(map[string]string{"BEIANBOT_TELEGRAM_TOKEN_FILE": unreadable})); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("unreadable file: %v", err)
		}
	}
}

// config.example.yaml documents every key: each field of Config is in it,
// at its place.
func TestExampleFileHasEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var check func(t reflect.Type, m map[string]any, path string)
	check = func(typ reflect.Type, m map[string]any, path string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			v, ok := m[key]
			if !ok {
				t.Errorf("config.example.yaml lacks %s%s", path, key)
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				sub, _ := v.(map[string]any)
				check(f.Type, sub, path+key+".")
			}
		}
	}
	check(reflect.TypeOf(Config{}), doc, "")
}

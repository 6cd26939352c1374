package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

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
		{"bad type", "telegram:\n  workers: many\n", nil, []string{"line 2", "many"}},
		{"syntax", "telegram: [\n", nil, []string{"beianbot.yaml"}},
		{"bad mode", "telegram:\n  mode: carrier-pigeon\n", nil, []string{"telegram.mode"}},
		{"webhook without url", "telegram:\n  mode: webhook\n", nil, []string{"public_url"}},
		{"bad duration", "llm:\n  timeout: soon\n", nil, []string{"soon"}},
		{"reminder past deadline", "reminders:\n  before: [30h]\n", nil, []string{"reminders.before"}},
		{"binary", "\x00\x01\x02", nil, []string{"not UTF-8"}},
		{"bad env", "", map[string]string{"BEIANBOT_TELEGRAM_WORKERS": "lots"}, []string{"BEIANBOT_TELEGRAM_WORKERS"}},
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

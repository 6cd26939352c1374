package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/config"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		name            string
		metrics, mode   string
		webhook, want   string
		wantErrContains string
	}{
		{"metrics listener", ":9090", "polling", ":8443", "http://127.0.0.1:9090/healthz", ""},
		{"metrics on all addresses", "0.0.0.0:9090", "webhook", ":8443", "http://127.0.0.1:9090/healthz", ""},
		{"metrics on IPv6 any", "[::]:9090", "polling", "", "http://127.0.0.1:9090/healthz", ""},
		{"metrics on one address", "10.0.0.5:9100", "polling", "", "http://10.0.0.5:9100/healthz", ""},
		{"webhook", "", "webhook", ":8443", "http://127.0.0.1:8443/healthz", ""},
		{"polling without metrics", "", "polling", ":8443", "", "no health endpoint"},
		{"malformed", "9090", "polling", "", "", "telegram.metrics_listen"},
	}
	for _, tt := range tests {
		got, err := healthURL(config.Telegram{MetricsListen: tt.metrics, Mode: tt.mode, Webhook: config.Webhook{Listen: tt.webhook}})
		if got != tt.want || (tt.wantErrContains == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErrContains) {
			t.Errorf("%s: %q, %v; want %q, error with %q", tt.name, got, err, tt.want, tt.wantErrContains)
		}
	}
}

func TestHealthCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	if code, out, errOut := runCLI(t, "", "health", "--url", srv.URL+"/healthz"); code != 0 || !strings.HasPrefix(out, "ok ") {
		t.Errorf("healthy: exit %d\n%s%s", code, out, errOut)
	}
	status = http.StatusServiceUnavailable
	if code, _, errOut := runCLI(t, "", "health", "--url", srv.URL+"/healthz"); code != 1 || !strings.Contains(errOut, "503") {
		t.Errorf("stopping: exit %d\n%s", code, errOut)
	}
	srv.Close()
	if code, _, errOut := runCLI(t, "", "health", "--url", srv.URL+"/healthz"); code != 1 || !strings.Contains(errOut, "unhealthy") {
		t.Errorf("not running: exit %d\n%s", code, errOut)
	}
	// From the configuration: the metrics listener.
	t.Setenv("BEIANBOT_TELEGRAM_METRICS_LISTEN", strings.TrimPrefix(srv.URL, "http://"))
	if code, _, errOut := runCLI(t, "", "health"); code != 1 || !strings.Contains(errOut, strings.TrimPrefix(srv.URL, "http://")) {
		t.Errorf("address from the config: exit %d\n%s", code, errOut)
	}
	t.Setenv("BEIANBOT_TELEGRAM_METRICS_LISTEN", "")
	if code, _, errOut := runCLI(t, "", "health"); code != 2 || !strings.Contains(errOut, "no health endpoint") {
		t.Errorf("no endpoint: exit %d\n%s", code, errOut)
	}
}

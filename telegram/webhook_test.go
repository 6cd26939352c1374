package telegram

import (
	"bytes"
	"encoding/json"

	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/config"
)

const testSecret = "s3cret-Token_for-tests"

func startWebhook(t *testing.T) *harness {
	return start(t, setup{engine: echo(t), cfg: func(c *config.Telegram) {
		c.Mode = "webhook"
		c.Webhook.Listen = "127.0.0.1:0"
		c.Webhook.PublicURL = "https://bot.example.test/tg/hook"
		c.Webhook.SecretToken = testSecret
		c.Webhook.MaxBodyBytes = 16 << 10
		c.MetricsListen = "127.0.0.1:0"
	}})
}

// post sends a webhook request as Telegram would, over real HTTP.
func post(t *testing.T, h *harness, secret string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.srv.webhookAddr+"/tg/hook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func updateJSON(t *testing.T, id int64, u map[string]any) []byte {
	u["update_id"] = id
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhook(t *testing.T) {
	h := startWebhook(t)
	set := h.api.callsOf("setWebhook", 0)
	if len(set) != 1 || set[0].Fields["url"] != "https://bot.example.test/tg/hook" || set[0].Fields["secret_token"] != testSecret ||
		!strings.Contains(set[0].Fields["allowed_updates"], "message") {
		t.Fatalf("setWebhook = %+v", set)
	}
	if n := len(h.api.callsOf("deleteWebhook", 0)) + len(h.api.callsOf("getUpdates", 0)); n != 0 {
		t.Errorf("webhook mode polled or deleted its webhook (%d calls)", n)
	}
	chat := privateChat(bob)
	update := updateJSON(t, 700, textUpdate(chat, bob, "hello"))

	tests := []struct {
		name   string
		secret string
		body   []byte
		status int
	}{
		{"right secret", testSecret, update, 200},
		{"duplicate update", testSecret, update, 200},
		{"wrong secret", "not-the-secret", updateJSON(t, 701, textUpdate(chat, bob, "intruder")), 401},
		{"no secret", "", updateJSON(t, 702, textUpdate(chat, bob, "intruder")), 401},
		{"secret with a different length", testSecret + "x", updateJSON(t, 703, textUpdate(chat, bob, "intruder")), 401},
		{"oversized body", testSecret, updateJSON(t, 704, textUpdate(chat, bob, strings.Repeat("长", 20<<10))), 413},
		{"malformed JSON", testSecret, []byte(`{"update_id": 705, "message": {`), 400},
		{"not an update", testSecret, []byte(`[1,2,3]`), 400},
		{"no update_id", testSecret, []byte(`{"message":{"text":"x"}}`), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(t, h, tt.secret, tt.body); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
		})
	}
	h.api.waitSent(t, chat.id, 1)
	// One more update: once it is answered, anything the rejected ones
	// could have caused would have happened.
	if got := post(t, h, testSecret, updateJSON(t, 706, textUpdate(chat, bob, "last"))); got != 200 {
		t.Fatalf("status %d", got)
	}
	sent := h.api.waitSent(t, chat.id, 2)
	h.waitHandled(t, 706)
	if len(h.api.sent(chat.id)) != 2 || sent[0].text() != "echo: hello" || sent[1].text() != "echo: last" {
		t.Errorf("sent:\n%s", h.api.dump())
	}

	resp, err := http.Get("http://" + h.srv.webhookAddr + "/tg/hook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on the hook: %d", resp.StatusCode)
	}
	for _, addr := range []string{h.srv.webhookAddr, h.srv.metricsAddr} {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("healthz on %s: %d", addr, resp.StatusCode)
		}
	}
	resp, err = http.Get("http://" + h.srv.metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`beianbot_telegram_updates_total{kind="duplicate"} 1`,
		`beianbot_telegram_updates_total{kind="message"} 2`,
		`beianbot_telegram_replies_total{lang="en",topic="echo"} 2`,
		`beianbot_telegram_webhook_rejected_total{reason="secret"} 3`,
		`beianbot_telegram_webhook_rejected_total{reason="too_large"} 1`,
		`beianbot_telegram_webhook_rejected_total{reason="malformed"} 3`,
		`beianbot_telegram_reply_seconds_count{route="frontend"} 2`, // the echo engine names no route
		"# TYPE beianbot_telegram_reply_seconds histogram",
		"# TYPE process_resident_memory_bytes gauge",
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	promtoolCheck(t, string(metrics))
	if strings.Contains(h.logs.String(), "intruder") || strings.Contains(h.logs.String(), "hello") {
		t.Error("customer text in the logs")
	}

}

func TestWebhookGeneratesASecretWhenNoneIsSet(t *testing.T) {
	h := start(t, setup{engine: echo(t), cfg: func(c *config.Telegram) {
		c.Mode = "webhook"
		c.Webhook.Listen = "127.0.0.1:0"
		c.Webhook.PublicURL = "https://bot.example.test/"
	}})
	secret := h.api.callsOf("setWebhook", 0)[0].Fields["secret_token"]
	if len(secret) < 32 || !secretPattern.MatchString(secret) {
		t.Fatalf("generated secret %q", secret)
	}
	chat := privateChat(bob)
	if got := postTo(t, "http://"+h.srv.webhookAddr+"/", "", updateJSON(t, 1, textUpdate(chat, bob, "x"))); got != 401 {
		t.Errorf("no secret: %d", got)
	}
	if got := postTo(t, "http://"+h.srv.webhookAddr+"/", secret, updateJSON(t, 2, textUpdate(chat, bob, "x"))); got != 200 {
		t.Errorf("generated secret: %d", got)
	}
	h.api.waitSent(t, chat.id, 1)
}

func postTo(t *testing.T, url, secret string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

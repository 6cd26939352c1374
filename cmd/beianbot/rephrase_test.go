package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestAskRephraseEndToEnd runs `ask --rephrase` against a fake
// OpenAI-compatible server on 127.0.0.1: FAQ answers come back reworded,
// table answers never reach the server, and a reworded answer that drops a
// fact is replaced by the original.
func TestAskRephraseEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var asked []string // the deterministic answers the server was sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer test-key" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		all := ""
		for _, m := range req.Messages {
			all += m.Content + "\n"
		}
		mu.Lock()
		asked = append(asked, all)
		mu.Unlock()
		// A polite rewording that keeps the whole answer for Chinese; for
		// English, one that drops the URL.
		reply := "没问题！" + extractAnswer(all)
		if strings.Contains(all, "didn't get") {
			reply = "Turn off spam blocking and ask MIIT to resend the code."
		}
		out, _ := json.Marshal(map[string]any{
			"id": "x", "object": "chat.completion", "model": "m",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]string{"role": "assistant", "content": reply}}},
		})
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	}))
	defer srv.Close()

	cfgPath := filepath.Join(t.TempDir(), "llm.yaml")
	os.WriteFile(cfgPath, []byte("llm:\n  enabled: true\n  base_url: "+srv.URL+"/v1\n  model: test-model\n  timeout: 5s\n"), 0o600)
	t.Setenv("BEIANBOT_LLM_API_KEY", "test-key")

	code, out, errOut := runCLI(t, "", "ask", "--config", cfgPath, "--rephrase", "--json",
		"收不到核验短信怎么办", "新增接入谁要核验", "I didn't get the verification SMS")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "test-key") {
		t.Error("the API key was logged")
	}
	type reply struct {
		Topic    string `json:"topic"`
		Answer   string `json:"answer"`
		Original string `json:"original"`
		Rephrase *struct {
			Accepted bool   `json:"accepted"`
			Verdict  string `json:"verdict"`
		} `json:"rephrase"`
	}
	var rs []reply
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var one reply
		if err := json.Unmarshal([]byte(line), &one); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, one)
	}
	if len(rs) != 3 {
		t.Fatalf("%d replies", len(rs))
	}
	if rs[0].Rephrase == nil || !rs[0].Rephrase.Accepted || !strings.HasPrefix(rs[0].Answer, "没问题！") || rs[0].Original == "" {
		t.Errorf("faithful rewording not used: %+v", rs[0])
	}
	if rs[1].Rephrase != nil || rs[1].Topic != "who-verifies" {
		t.Errorf("table answer went to the LLM: %+v", rs[1])
	}
	if rs[2].Rephrase == nil || rs[2].Rephrase.Accepted || !strings.Contains(rs[2].Answer, "beian.miit.gov.cn") {
		t.Errorf("a rewording that drops the URL must be rejected: %+v", rs[2])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 {
		t.Errorf("the server got %d requests, want 2 (none for the table answer)", len(asked))
	}
	for _, a := range asked {
		if strings.Contains(a, "新增接入谁要核验") {
			t.Error("the who-verifies question reached the LLM")
		}
	}
}

// extractAnswer finds the deterministic answer inside the prompt: the fake
// model "rewords" by prefixing it, which keeps every fact.
func extractAnswer(prompt string) string {
	_, rest, ok := strings.Cut(prompt, "ORIGINAL ANSWER (trusted, the only source of facts):\n")
	if !ok {
		return ""
	}
	answer, _, _ := strings.Cut(rest, "\n\nCUSTOMER QUESTION")
	return answer
}

func TestAskRephraseNeedsLLMEnabled(t *testing.T) {
	code, _, errOut := runCLI(t, "", "ask", "--rephrase", "hi")
	if code != 2 || !strings.Contains(errOut, "llm.enabled") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

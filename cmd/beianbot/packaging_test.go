package main

import (
	"bufio"
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/beianbot/beianbot/config"
)

// The packaging files (Dockerfile, deploy/beianbot.service) are checked
// here, since neither Docker nor systemd runs on the development machines:
// what they say must hold, the settings they pass must be ones beianbot
// knows, and the tools that can check them without running them do.

// requireTool finds a tool, or skips the test; with the environment
// variable set (CI sets it), a missing tool fails it.
func requireTool(t *testing.T, name, envVar, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(envVar) != "" {
			t.Fatalf("%s is not installed and %s is set (%s)", name, envVar, install)
		}
		t.Skipf("%s not installed (%s)", name, install)
	}
	return path
}

// unitSettings reads a systemd unit's Key=Value lines, in order.
func unitSettings(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	const unit = "../../deploy/beianbot.service"
	settings := unitSettings(t, unit)
	has := func(k, v string) bool { return slices.Contains(settings, [2]string{k, v}) }
	for _, kv := range [][2]string{
		{"DynamicUser", "yes"}, {"StateDirectory", "beianbot"}, {"ProtectSystem", "strict"}, {"NoNewPrivileges", "yes"},
		{"LoadCredential", "telegram_token:/etc/beianbot/telegram_token"},
		{"Environment", "BEIANBOT_TELEGRAM_TOKEN_FILE=%d/telegram_token"},
		{"Environment", "BEIANBOT_DATA_DIR=%S/beianbot"},
		{"RestartPreventExitStatus", "2"}, // serve's exit status for a configuration problem
		{"KillSignal", "SIGTERM"},
	} {
		if !has(kv[0], kv[1]) {
			t.Errorf("the unit lacks %s=%s", kv[0], kv[1])
		}
	}

	// Its environment is one beianbot accepts: the credential is read from
	// the file %d names, the data lives in the state directory.
	creds, state := t.TempDir(), t.TempDir()
	const token = "123456789:AAF3kq8Wm2Lx7Rv5Tz1Nc9Pb4Hd6Gy0Js"
	os.WriteFile(filepath.Join(creds, "telegram_token"), []byte(token+"\n"), 0o400)
	var environ []string
	for _, kv := range settings {
		if kv[0] == "Environment" {
			environ = append(environ, strings.NewReplacer("%d", creds, "%S", state).Replace(kv[1]))
		}
	}
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatalf("the unit's environment %q: %v", environ, err)
	}
	if cfg.Telegram.Token != token || cfg.DataDir != filepath.Join(state, "beianbot") {
		t.Errorf("from the unit's environment: token %q, data_dir %q", cfg.Telegram.Token, cfg.DataDir)
	}

	// systemd's own check, on a copy that starts an executable that exists
	// here (it checks ExecStart's program can be run).
	analyze := requireTool(t, "systemd-analyze", "TEST_REQUIRE_SYSTEMD", "apt-get install systemd")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(unit)
	copyPath := filepath.Join(t.TempDir(), "beianbot.service")
	os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(body), "ExecStart=/usr/local/bin/beianbot", "ExecStart="+self)), 0o644)
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Its hardening: systemd rates the exposure 0 (none) to 10; fail above 2.
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=20", copyPath).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0: %v\n%s", err, out)
	}
}

// dockerfile reads a Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T, path string) [][2]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	var cur string
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		op, args, _ := strings.Cut(cur, " ")
		out = append(out, [2]string{strings.ToUpper(op), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := dockerfile(t, "../../Dockerfile")
	var stages int
	var final [][2]string // the last stage's instructions
	var build string      // the RUN with go build
	for _, in := range ins {
		if in[0] == "FROM" {
			stages++
			final = nil
		}
		final = append(final, in)
		if in[0] == "RUN" && strings.Contains(in[1], "go build") {
			build = in[1]
		}
	}
	if stages < 2 {
		t.Errorf("%d stages, want a build stage and a run stage", stages)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "-X main.revision=${REVISION}", "./cmd/beianbot"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build lacks %s: %s", want, build)
		}
	}
	get := func(op string) []string {
		var out []string
		for _, in := range final {
			if in[0] == op {
				out = append(out, in[1])
			}
		}
		return out
	}
	if u := get("USER"); len(u) != 1 || u[0] == "root" || strings.HasPrefix(u[0], "0") {
		t.Errorf("USER %q: want a non-root user", u)
	}
	if v := get("VOLUME"); len(v) != 1 || v[0] != `["/data"]` {
		t.Errorf("VOLUME %q", v)
	}
	if h := get("HEALTHCHECK"); len(h) != 1 || !strings.Contains(h[0], `CMD ["/usr/local/bin/beianbot", "health"]`) {
		t.Errorf("HEALTHCHECK %q: want beianbot health", h)
	}
	// The image's settings are ones beianbot knows, and the health probe
	// finds the address that serve answers on.
	var environ []string
	for _, env := range get("ENV") {
		environ = append(environ, strings.Fields(env)...)
	}
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatalf("the image's ENV %q: %v", environ, err)
	}
	if cfg.DataDir != "/data" {
		t.Errorf("data_dir %q, want the volume", cfg.DataDir)
	}
	if u, err := healthURL(cfg.Telegram); err != nil || !strings.Contains(u, ":9090/") {
		t.Errorf("health in the image asks %q, %v", u, err)
	}
	if e := get("EXPOSE"); len(e) != 1 || e[0] != "8443 9090" {
		t.Errorf("EXPOSE %q", e)
	}
}

// The Dockerfile's build command, run as the build stage would (on the
// build context .dockerignore leaves), makes a static binary that prints the
// version it was stamped with. Docker itself does not run here.
func TestDockerBuildCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binary")
	}
	var build string
	for _, in := range dockerfile(t, "../../Dockerfile") {
		if in[0] == "RUN" && strings.Contains(in[1], "go build") {
			build = in[1]
		}
	}
	for _, part := range strings.Split(build, "&&") {
		if strings.Contains(part, "go build") {
			build = strings.TrimSpace(part)
		}
	}
	ctxDir := copyBuildContext(t, "../..")
	bin := filepath.Join(t.TempDir(), "beianbot")
	build = strings.NewReplacer("${VERSION}", "v1.2.3-docker", "${REVISION}", "0123456789abcdef0123", "/out/beianbot", bin).Replace(build)
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = ctxDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%s)", p.Type)
		}
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "beianbot v1.2.3-docker\nrevision: 0123456789abcdef0123\n") {
		t.Errorf("version of the image's binary: %v\n%s", err, out)
	}
}

// copyBuildContext copies the repository as `docker build` would send it:
// without what .dockerignore names (its patterns here are names and simple
// globs, matched against each path and each path's base name).
func copyBuildContext(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.TrimPrefix(line, "/"))
		}
	}
	ignored := func(rel string) bool {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, rel); ok {
				return true
			}
			if ok, _ := filepath.Match(p, filepath.Base(rel)); ok && !strings.Contains(p, "/") && strings.ContainsAny(p, "*?[") {
				return true
			}
		}
		return false
	}
	dst := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		if ignored(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{".git", "Dockerfile", "docs"} {
		if _, err := os.Stat(filepath.Join(dst, gone)); err == nil {
			t.Errorf("%s is in the build context", gone)
		}
	}
	return dst
}

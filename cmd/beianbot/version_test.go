package main

import (
	"bytes"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadBuildInfo(t *testing.T) {
	goLine := "go1.99.1 " + runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want buildInfo
	}{
		{"from a clone", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, true, buildInfo{"v1.4.0", "0123abcd", "2026-11-30T10:00:00Z", "true", goLine}},
		{"without VCS information", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}}, true,
			buildInfo{"(devel)", "unknown", "unknown", "unknown", goLine}},
		{"no build information at all", nil, false,
			buildInfo{"(devel)", "unknown", "unknown", "unknown", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}},
	}
	for _, tt := range tests {
		if got := readBuildInfo(tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	// -ldflags stamps win over what the toolchain recorded.
	version, revision = "v2.0.0", "feedface"
	defer func() { version, revision = "", "" }()
	got := readBuildInfo(tests[0].bi, true)
	if got.Version != "v2.0.0" || got.Revision != "feedface" || got.Time != "2026-11-30T10:00:00Z" {
		t.Errorf("stamped: %+v", got)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		// No configuration is read: a broken one does not matter.
		t.Setenv("BEIANBOT_TELEGRAM_TOKN", "typo")
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, "beianbot ") || !strings.Contains(out, "\nrevision: ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if code, out, _ := runCLI(t, "", "version", "--help"); code != 0 || !strings.HasPrefix(out, "Usage: beianbot version") {
		t.Errorf("version --help: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "", "version", "extra"); code != 2 {
		t.Errorf("version extra: exit %d, want 2", code)
	}
}

// A binary built with a version stamp (as the release build line does) prints the version it was
// stamped with and the revision Go recorded, which in a git clone (as in
// CI) is the commit checked out.
func TestVersionOfAReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "beianbot")
	build := exec.Command("go", "build", "-buildvcs=auto", "-ldflags", "-X main.version=v9.9.9-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := readBuildInfo(recorded, true)
	want.Version = "v9.9.9-test"
	var w bytes.Buffer
	want.write(&w)
	if string(out) != w.String() {
		t.Errorf("beianbot version:\n%s\nwant\n%s", out, w.String())
	}
	head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
	switch {
	case want.Revision != "unknown" && gitErr == nil && want.Revision != strings.TrimSpace(string(head)):
		t.Errorf("revision %s, but HEAD is %s", want.Revision, head)
	case want.Revision == "unknown" && os.Getenv("CI") != "":
		// A fresh clone, as CI has, always has it; a git worktree may not.
		t.Errorf("no VCS revision recorded in CI's clone:\n%s", out)
	}
}

package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Stamped by a release build, for builds that carry no module version or
// VCS information (a Docker build without .git, a source tarball):
//
//	go build -trimpath -ldflags "-X main.version=v1.2.0 -X main.revision=$(git rev-parse HEAD)" ./cmd/beianbot
var version, revision string

// buildInfo is what `beianbot version` prints.
type buildInfo struct {
	Version  string // the module's version, "(devel)" for an untagged local build
	Revision string // VCS revision, "unknown" without VCS information
	Time     string // the revision's commit time (RFC 3339), or "unknown"
	Modified string // "true" when the work tree had uncommitted changes, "false", or "unknown"
	Go       string // Go version, OS and architecture
}

// readBuildInfo reads what the Go toolchain recorded in the binary (ok
// false: nothing recorded), with -ldflags stamps taking precedence.
func readBuildInfo(bi *debug.BuildInfo, ok bool) buildInfo {
	info := buildInfo{Version: "(devel)", Revision: "unknown", Time: "unknown", Modified: "unknown",
		Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if ok && bi != nil {
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		if bi.GoVersion != "" {
			info.Go = bi.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value
			}
		}
	}
	if version != "" {
		info.Version = version
	}
	if revision != "" {
		info.Revision = revision
	}
	return info
}

func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "beianbot %s\nrevision: %s\ntime:     %s\nmodified: %s\ngo:       %s\n", b.Version, b.Revision, b.Time, b.Modified, b.Go)
}

// runVersion prints the version: `beianbot version` or `beianbot --version`.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintln(stdout, "Usage: beianbot version (or beianbot --version)\n\nPrints the version, VCS revision and time, and the Go version it was built with.")
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "beianbot version: unexpected argument %q\n", args[0])
		return 2
	}
	readBuildInfo(debug.ReadBuildInfo()).write(stdout)
	return 0
}

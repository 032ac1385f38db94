package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// buildInfo is what `unilogin version` prints, read from the build
// information the Go toolchain embeds (runtime/debug.ReadBuildInfo).
type buildInfo struct {
	Version   string // module version (v0.1.0, a pseudo-version) or "dev"
	Revision  string // VCS revision, when built from a checkout
	Time      string // commit time of that revision
	Modified  bool   // the checkout had uncommitted changes
	GoVersion string
	Platform  string
}

func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return makeBuildInfo(version, bi)
}

// makeBuildInfo: a version set with -ldflags "-X main.version=..." wins over
// the module version; "(devel)" (a plain go build in the checkout) is "dev".
func makeBuildInfo(ldVersion string, bi *debug.BuildInfo) buildInfo {
	out := buildInfo{Version: ldVersion, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return out
	}
	if out.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		out.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		out.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Revision = s.Value
		case "vcs.time":
			out.Time = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		}
	}
	return out
}

// String is one line: "v0.1.0 (revision 1a2b3c4d5e6f, 2026-11-28T10:00:00Z, modified) go1.26.8 linux/amd64".
func (b buildInfo) String() string {
	var vcs []string
	if b.Revision != "" {
		rev := b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		vcs = append(vcs, "revision "+rev)
	}
	if b.Time != "" {
		vcs = append(vcs, b.Time)
	}
	if b.Modified {
		vcs = append(vcs, "modified")
	}
	s := b.Version
	if len(vcs) > 0 {
		s += " (" + strings.Join(vcs, ", ") + ")"
	}
	return s + " " + b.GoVersion + " " + b.Platform
}

func buildVersion() string { return readBuildInfo().Version }

func cmdVersion(stdout io.Writer) int {
	fmt.Fprintln(stdout, "unilogin", readBuildInfo())
	return exitOK
}

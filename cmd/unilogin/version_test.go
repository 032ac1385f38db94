package main

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFlags(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-v"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{arg}, &out, &errb); code != exitOK {
			t.Fatalf("%s: exit %d, stderr %q", arg, code, errb.String())
		}
		if !strings.HasPrefix(out.String(), "unilogin ") || !strings.Contains(out.String(), runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("%s: %q", arg, out.String())
		}
	}
}

func TestBuildInfoFromReadBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/unilogin/unilogin", Version: "v0.1.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"},
			{Key: "vcs.time", Value: "2026-11-28T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	got := makeBuildInfo("dev", bi).String()
	want := "v0.1.0 (revision 1a2b3c4d5e6f, 2026-11-28T10:00:00Z, modified) go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// -ldflags -X main.version wins; a checkout build without VCS data is "(devel)" -> dev.
	if v := makeBuildInfo("v9.9.9", bi).Version; v != "v9.9.9" {
		t.Errorf("ldflags version: %q", v)
	}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	if got := makeBuildInfo("dev", devel).String(); !strings.HasPrefix(got, "dev "+runtime.Version()) {
		t.Errorf("devel build: %q", got)
	}
	if got := makeBuildInfo("dev", nil).Version; got != "dev" {
		t.Errorf("no build info: %q", got)
	}
}

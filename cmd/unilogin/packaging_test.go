package main

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/config"
)

// TestHealthcheck: `unilogin healthcheck` exits 0 against a live server
// and 1 when nothing answers; without --url it probes http.addr.
func TestHealthcheck(t *testing.T) {
	cfg := testConfig(t)
	base, stop := startServer(t, cfg)
	defer stop()
	if code, out, errOut := cli(t, "", "healthcheck", "--url", base+"/healthz"); code != exitOK || !strings.Contains(out, "ok") {
		t.Errorf("healthy: exit %d %q %q", code, out, errOut)
	}
	t.Setenv("UNILOGIN_CONFIG", "")
	t.Setenv("UNILOGIN_HTTP_ADDR", strings.TrimPrefix(base, "http://"))
	if code, out, errOut := cli(t, "", "healthcheck"); code != exitOK || !strings.Contains(out, base+"/healthz") {
		t.Errorf("from http.addr: exit %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, "", "healthcheck", "--url", "http://"+freeAddr(t)+"/healthz"); code != exitError || errOut == "" {
		t.Errorf("nothing listening: exit %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "healthcheck", "--url", base+"/no-such-path"); code != exitError || !strings.Contains(errOut, "404") {
		t.Errorf("404: exit %d %q", code, errOut)
	}
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		"[::]:9000":      "http://127.0.0.1:9000/healthz",
		"10.1.2.3:8443":  "https://10.1.2.3:8443/healthz",
		"localhost:8080": "http://localhost:8080/healthz",
	} {
		h := config.HTTP{Addr: addr}
		if strings.HasSuffix(addr, "8443") {
			h.TLS = config.TLS{CertFile: "c", KeyFile: "k"}
		}
		if got := healthzURL(h); got != want {
			t.Errorf("healthzURL(%s) = %s, want %s", addr, got, want)
		}
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on docs/unilogin.service,
// with ExecStart pointed at an executable that exists here.
func TestSystemdUnitVerifies(t *testing.T) {
	unit, err := os.ReadFile("../../docs/unilogin.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []string{"DynamicUser=yes", "StateDirectory=unilogin", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=",
		"SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "Environment=UNILOGIN_DATA_DIR=/var/lib/unilogin"} {
		if !bytes.Contains(unit, []byte(opt)) {
			t.Errorf("docs/unilogin.service lacks %q", opt)
		}
	}
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed on this machine: docs/unilogin.service not verified (install systemd to run this test)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(unit, []byte("ExecStart=/usr/local/bin/unilogin serve")) {
		t.Fatal("ExecStart is not /usr/local/bin/unilogin serve")
	}
	unit = bytes.ReplaceAll(unit, []byte("/usr/local/bin/unilogin"), []byte(self))
	path := filepath.Join(t.TempDir(), "unilogin.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDockerfile checks the image's contract against the program: the
// build line makes a static binary that reports the version passed in, the
// HEALTHCHECK is a real subcommand, the user is not root and the volume is
// the data directory. (Building the image itself needs a Docker daemon.)
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := strings.ReplaceAll(string(data), "\\\n", " ")
	line := func(re string) []string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + re).FindStringSubmatch(df)
		if m == nil {
			t.Fatalf("Dockerfile: no line matching %s", re)
		}
		return m
	}
	if u := line(`USER (\S+)`)[1]; u == "root" || strings.HasPrefix(u, "0:") || u == "0" {
		t.Errorf("USER %s", u)
	}
	dataDir := line(`ENV UNILOGIN_DATA_DIR=(\S+)`)[1]
	if v := line(`VOLUME \["([^"]+)"\]`)[1]; v != dataDir {
		t.Errorf("VOLUME %s, data dir %s", v, dataDir)
	}
	line(`COPY --from=build --chown=65532:65532 /out/data ` + regexp.QuoteMeta(dataDir))
	hc := line(`HEALTHCHECK .*CMD \["([^"]+)", "([^"]+)"\]`)
	entry := line(`ENTRYPOINT \["([^"]+)"\]`)[1]
	if hc[1] != entry || hc[2] != "healthcheck" {
		t.Errorf("HEALTHCHECK runs %s %s", hc[1], hc[2])
	}
	build := line(`RUN (CGO_ENABLED=0 go build -tags (\S+) .*-ldflags "([^"]+)" -o /out/unilogin \./cmd/unilogin)`)
	if !strings.Contains(build[1], "-trimpath") {
		t.Errorf("build line without -trimpath: %s", build[1])
	}
	// The image ships the build the Makefile tests and builds.
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^TAGS\s+\?=\s*(.*)$`).FindSubmatch(mk); m == nil || strings.Join(strings.Fields(string(m[1])), ",") != build[2] {
		t.Errorf("Dockerfile builds with -tags %s, the Makefile's TAGS are %q", build[2], m)
	}

	// Build as the Dockerfile does (without -trimpath, which would make
	// this test recompile every dependency) and run the result.
	bin := filepath.Join(t.TempDir(), "unilogin")
	ldflags := strings.ReplaceAll(build[3], "${VERSION}", "v0.1.0-test")
	cmd := exec.Command("go", "build", "-tags", build[2], "-ldflags", ldflags, "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "unilogin v0.1.0-test ") {
		t.Errorf("version: %v %q", err, out)
	}
	cfg := testConfig(t)
	base, stop := startServer(t, cfg)
	defer stop()
	if out, err := exec.Command(bin, "healthcheck", "--url", base+"/healthz").CombinedOutput(); err != nil {
		t.Errorf("healthcheck: %v %s", err, out)
	}
}

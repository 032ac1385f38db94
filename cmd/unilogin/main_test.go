package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/config"
)

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "unilogin ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run(context.Background(), nil, &out, &errb); code != exitUsage {
		t.Fatalf("no args: %d", code)
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != exitUsage {
		t.Fatalf("unknown command: %d", code)
	}
	out.Reset()
	if code := run(context.Background(), []string{"serve", "--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "-config") {
		t.Fatalf("serve --help: %d %q", code, out.String())
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("issuer: https://login.example.com\nclients:\n  - id: web\n    redirect_uris: [https://app.example.com/cb]\n"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("issuer: ftp://x\npasswords:\n  bcrypt_cost: 99\nclients:\n  - id: web\n    redirect_uris: []\n"), 0o600)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"config", "check", "--config", good}, &out, &errb); code != 0 {
		t.Fatalf("good config: %d %s", code, errb.String())
	}
	errb.Reset()
	code := run(context.Background(), []string{"config", "check", "--config", bad}, &out, &errb)
	if code != exitConfig {
		t.Fatalf("bad config: exit %d", code)
	}
	for _, path := range []string{"issuer", "passwords.bcrypt_cost", "clients[0].redirect_uris"} {
		if !strings.Contains(errb.String(), path) {
			t.Errorf("problem report lacks %s:\n%s", path, errb.String())
		}
	}
}

// startServer runs serve in the background and returns its base URL and a
// stop function that waits for the graceful shutdown.
func startServer(t *testing.T, cfg *config.Config) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	// Errors the server logs (a 500's cause) show in the test's output.
	lw := &testLogWriter{t: t}
	t.Cleanup(lw.close)
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelError}))
	go func() { done <- serve(ctx, cfg, log, ready) }()
	select {
	case addr := <-ready:
		return "http://" + addr, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	return "", nil
}

func testConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Passwords.BcryptCost = 4
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	return cfg
}

// TestRestartKeepsUsersAndRefreshTokens is the embedded store's promise:
// stop the server, start it again on the same data directory, and the
// user, the refresh token and the signing key are all still there.
func TestRestartKeepsUsersAndRefreshTokens(t *testing.T) {
	cfg := testConfig(t)
	base, stop := startServer(t, cfg)
	mustSignup(t, base, "zoe@example.com")
	tok := postForm(t, base+"/token", url.Values{"grant_type": {"password"}, "username": {"zoe@example.com"}, "password": {"correct horse battery"}})
	jwks1 := get(t, base+"/.well-known/jwks.json")
	stop()

	base, stop = startServer(t, cfg)
	defer stop()
	next := postForm(t, base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	getJSON(t, base+"/users/me", tok["access_token"].(string)) // a token from before the restart
	if next["access_token"] == "" || get(t, base+"/.well-known/jwks.json") != jwks1 {
		t.Fatal("the signing keys changed across the restart")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); err != nil {
		t.Fatal(err)
	}
}

func TestKeysRotateAndList(t *testing.T) {
	cfg := testConfig(t)
	t.Setenv("UNILOGIN_DATA_DIR", cfg.DataDir)
	t.Setenv("UNILOGIN_BCRYPT_COST", "4")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"keys", "list"}, &out, &errb); code != 0 {
		t.Fatalf("keys list: %d %s", code, errb.String())
	}
	if strings.Count(out.String(), "ES256") != 1 {
		t.Fatalf("keys list:\n%s", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"keys", "rotate"}, &out, &errb); code != 0 {
		t.Fatalf("keys rotate: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "published, not yet signing") || !strings.Contains(out.String(), "signing") || strings.Count(out.String(), "ES256") != 3 {
		t.Fatalf("keys rotate:\n%s", out.String())
	}
	// The rotation is in the audit log, with the operator as actor.
	cfg.DataDir = os.Getenv("UNILOGIN_DATA_DIR")
	c, err := server.Open(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	events, _, err := c.Admin.ListAudit(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != accounts.ActionKeyRotate || !strings.HasPrefix(events[0].Actor, "cli:") {
		t.Fatalf("audit log after keys rotate: %+v", events)
	}
}

// testLogWriter passes a server's log lines to t.Log until the test ends.
type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

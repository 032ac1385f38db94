package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// The app that signs its users in through unilogin.
const (
	appClientID = "demo"
	appRedirect = "https://app.example.com/callback"
	providerID  = "zitadel"
)

// unilogin is a unilogin server built from configuration only.
type unilogin struct {
	url string
	cfg *config.Config
}

// callbackURL is the redirect URI an operator registers at the provider.
func callbackURL(issuer string) string { return issuer + "/auth/" + providerID + "/callback" }

// configYAML is what an operator writes: our issuer, one public app
// client, and the provider under providers.oidc, nothing else of it.
func configYAML(issuer, dataDir, opIssuer string) string {
	key := make([]byte, 32)
	rand.Read(key)
	return fmt.Sprintf(`issuer: %s
data_dir: %s
passwords:
  bcrypt_cost: 4
keys:
  encryption_key: %s
log:
  level: debug
clients:
  - id: %s
    redirect_uris: [%s]
providers:
  oidc:
    - id: %s
      name: Zitadel example
      issuer: %s
      client_id: %s
      client_secret: %s
`, issuer, dataDir, base64.StdEncoding.EncodeToString(key), appClientID, appRedirect,
		providerID, opIssuer, opClientID, opClientSecret)
}

// startUnilogin serves an unstarted httptest server as unilogin, whose
// issuer is the server's URL. Like `unilogin serve`: load and validate the
// config, then the production assembly (api/server) builds everything
// from it: the SQLite store under data_dir, the services, the provider and
// the HTTP handler.
func startUnilogin(t *testing.T, srv *httptest.Server, opIssuer string) *unilogin {
	t.Helper()
	issuer := "http://" + srv.Listener.Addr().String()
	dir := t.TempDir()
	path := filepath.Join(dir, "unilogin.yaml")
	if err := os.WriteFile(path, []byte(configYAML(issuer, filepath.Join(dir, "data"), opIssuer)), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	cfg, err := config.Load(path, noEnv, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatalf("config check: %v", problems)
	}

	logs := &testkit.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("unilogin log:\n%s", logs.String())
		}
	})

	s, err := server.New(context.Background(), cfg, server.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &unilogin{url: issuer, cfg: cfg}
}

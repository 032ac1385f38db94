package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	accountssqlite "github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/oidc"
	"github.com/unilogin/unilogin/session"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
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
// config, open the SQLite store under data_dir, build the keyring, session
// manager, accounts service and providers, then the API. Every value comes
// from the loaded config (cmd/unilogin: app.go openCore, providers.go
// buildProviders, serve.go apiOptions).
func startUnilogin(t *testing.T, srv *httptest.Server, opIssuer string) *unilogin {
	t.Helper()
	ctx := context.Background()
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

	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("unilogin log:\n%s", logs.String())
		}
	})

	// openCore.
	kek, err := cfg.Keys.DecodeEncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := session.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sessionsqlite.OpenDB(filepath.Join(cfg.DataDir, "unilogin.db"), cfg.SQLite.Synchronous)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	as, err := accountssqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := sessionsqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := session.NewKeyring(ctx, ss, sealer, session.KeyringOptions{
		Algorithm:      cfg.Tokens.Algorithm,
		PrePublish:     cfg.Keys.PrePublish,
		RotationPeriod: cfg.Keys.RotationPeriod,
		TokenTTL:       cfg.Tokens.AccessTTL,
	})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := session.NewManager(ctx, ss, kr, sealer, session.Options{
		Issuer:             cfg.Issuer,
		Audience:           cfg.TokenAudience(),
		AccessTTL:          cfg.Tokens.AccessTTL,
		RefreshIdleTTL:     cfg.Tokens.RefreshIdleTTL,
		RefreshAbsoluteTTL: cfg.Tokens.RefreshAbsoluteTTL,
		ReuseGrace:         cfg.Tokens.RefreshReuseGrace,
		CodeTTL:            cfg.Tokens.CodeTTL,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.NewService(as, accounts.Options{
		BcryptCost:   cfg.Passwords.BcryptCost,
		DefaultRoles: cfg.DefaultRoles,
	})
	if err != nil {
		t.Fatal(err)
	}

	// buildProviders, generic OIDC entries (the only kind configured).
	var list []providers.Provider
	for _, p := range cfg.Providers.OIDC {
		if !p.Enabled() {
			continue
		}
		prov, err := oidc.New(ctx, oidc.Config{
			ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Scopes: p.Scopes, RedirectURL: cfg.CallbackURL(p.ID), InsecureSkipEmailVerified: p.InsecureSkipEmailVerified,
		})
		if err != nil {
			t.Fatalf("providers.oidc %s: %v", p.ID, err)
		}
		list = append(list, prov)
	}
	reg, err := providers.NewRegistry(list...)
	if err != nil {
		t.Fatal(err)
	}

	// apiOptions.
	var clients []api.Client
	for _, cl := range cfg.Clients {
		clients = append(clients, api.Client{ID: cl.ID, Secret: cl.Secret, RedirectURIs: cl.RedirectURIs})
	}
	var all []string
	for _, perms := range cfg.Roles {
		all = append(all, perms...)
	}
	s, err := api.New(ctx, api.Deps{Accounts: acc, Sessions: mgr, Providers: reg, Sealer: sealer}, api.Options{
		Issuer:         cfg.Issuer,
		Clients:        clients,
		PasswordGrant:  cfg.PasswordGrant.On(),
		Permissions:    cfg.Permissions,
		Roles:          slices.Sorted(maps.Keys(cfg.Roles)),
		AllPermissions: all,
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		TrustedProxies: cfg.HTTP.TrustedProxies,
		JWKSMaxAge:     cfg.Keys.JWKSMaxAge,
		LinkByEmail:    cfg.Linking.LinkByEmail(),
		Logger:         log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &unilogin{url: issuer, cfg: cfg}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

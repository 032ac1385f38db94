package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	accountssqlite "github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// backend opens a fresh pair of stores for one test.
type backend struct {
	name string
	open func(t testing.TB) (accounts.Store, session.Store)
}

func sqliteBackend() backend {
	return backend{"sqlite", func(t testing.TB) (accounts.Store, session.Store) {
		db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "unilogin.db"), "normal")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		as, err := accountssqlite.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := sessionsqlite.New(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return as, ss
	}}
}

// backends are the stores every API test runs against.
func backends() []backend { return []backend{sqliteBackend(), mongoBackend()} }

// env is the production assembly (api/server) over real stores, served by
// httptest (servertest): the same middleware, limits and hashing gate as
// unilogin serve.
type env struct {
	t        testing.TB
	url      string
	clock    *testkit.Clock
	cfg      *config.Config
	accounts *accounts.Service
	sessions *session.Manager
	store    accounts.Store // the raw store, for what the CLI does directly
	handler  http.Handler
	logs     *testkit.SyncBuffer
}

type envOptions struct {
	backend   backend
	clients   []config.Client
	providers []providers.Provider
	mutate    func(*config.Config)
	grace     time.Duration
	cost      int // bcrypt cost; default 4
	version   string
	gate      accounts.Gate // default: sized from the configuration
}

const testClientID, testClientSecret = "web", "web-secret-0123456789"
const publicClientID = "spa"
const appRedirect = "https://app.example.com/callback"

// testConfig is the configuration of every env before o.mutate:
// servertest's (the built-in defaults) with the test clients and roles,
// rate limits off (the rate-limit tests turn them on).
func testConfig(cfg *config.Config, o envOptions) {
	cfg.Keys.EncryptionKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	cfg.Passwords.BcryptCost = o.cost
	cfg.Tokens.RefreshReuseGrace = o.grace
	cfg.Clients = o.clients
	if cfg.Clients == nil {
		cfg.Clients = []config.Client{
			{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{appRedirect}},
			{ID: publicClientID, RedirectURIs: []string{appRedirect, "http://127.0.0.1:9999/cb"}, PostLogoutRedirectURIs: []string{postLogoutURI}},
		}
	}
	cfg.Roles = map[string][]string{"admin": {"users:admin"}, "member": {"profile:read"}}
	cfg.RateLimits.Enabled = new(false)
}

// withLimits turns on exactly the limits rl sets, then applies more.
func withLimits(rl config.RateLimits, more ...func(*config.Config)) func(*config.Config) {
	return func(c *config.Config) {
		rl.Enabled = nil
		c.RateLimits = rl
		for _, m := range more {
			m(c)
		}
	}
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	if o.backend.open == nil {
		o.backend = sqliteBackend()
	}
	if o.cost == 0 {
		o.cost = 4
	}
	if o.grace == 0 {
		o.grace = 10 * time.Second
	}
	as, ss := o.backend.open(t)
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	logs := &testkit.SyncBuffer{}
	var cfg *config.Config
	s := servertest.Start(t, func(c *config.Config) {
		testConfig(c, o)
		if o.mutate != nil {
			o.mutate(c)
		}
		cfg = c
	}, server.Options{
		Accounts: as, Sessions: ss,
		Providers: append([]providers.Provider{}, o.providers...),
		Now:       clk.Now,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:   o.version,
		Gate:      o.gate,
	})
	return &env{t: t, url: s.URL, clock: clk, cfg: cfg, accounts: s.Accounts, sessions: s.Sessions,
		store: as, handler: s.Handler(), logs: logs}
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %q", r.status, r.body)
	}
	return m
}

// errCode asserts the contract's error shape and returns the code.
func (r response) errCode(t testing.TB) string {
	t.Helper()
	m := r.json(t)
	code, _ := m["error"].(string)
	if code == "" {
		t.Fatalf("status %d: no error code in %s", r.status, r.body)
	}
	if _, ok := m["error_description"].(string); !ok {
		t.Fatalf("status %d: no error_description in %s", r.status, r.body)
	}
	return code
}

func (e *env) do(method, path, contentType string, body io.Reader, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirectClient().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func noRedirectClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func browserClient(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) postForm(path string, form url.Values, header ...string) response {
	e.t.Helper()
	return e.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header...)
}

func (e *env) postJSON(path string, v any, header ...string) response {
	e.t.Helper()
	b, _ := json.Marshal(v)
	return e.do("POST", path, "application/json", strings.NewReader(string(b)), header...)
}

func (e *env) get(path string, header ...string) response {
	e.t.Helper()
	return e.do("GET", path, "", nil, header...)
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// signup creates a password user and returns its id.
func (e *env) signup(email, password string) string {
	e.t.Helper()
	r := e.postJSON("/signup", map[string]string{"email": email, "password": password, "name": "Test User"})
	if r.status != http.StatusCreated {
		e.t.Fatalf("signup: %d %s", r.status, r.body)
	}
	return r.json(e.t)["id"].(string)
}

// tokens is a token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (e *env) mustTokens(r response) tokens {
	e.t.Helper()
	if r.status != http.StatusOK {
		e.t.Fatalf("token request: %d %s", r.status, r.body)
	}
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		e.t.Fatal(err)
	}
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" || tk.ExpiresIn <= 0 {
		e.t.Fatalf("incomplete token response: %s", r.body)
	}
	return tk
}

func (e *env) login(email, password string) tokens {
	e.t.Helper()
	return e.mustTokens(e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}))
}

func (e *env) refresh(rt string) response {
	e.t.Helper()
	return e.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// Package apitest is the HTTP-level test kit of the api and api/hosted
// tests: an Env serving the production assembly (servertest.Start) over
// real stores, its requests and decoded responses, the fake identity
// providers and the browser flow against them (flow.go), a
// cookie-keeping browser on the hosted pages (browser.go), and the second
// factor's codes and passkey device (mfa.go).
package apitest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	accountsmongo "github.com/unilogin/unilogin/accounts/mongostore"
	accountssqlite "github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
	sessionmongo "github.com/unilogin/unilogin/session/mongostore"
	"github.com/unilogin/unilogin/session/mongostore/mongotest"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// backend opens a fresh pair of stores for one test.
type Backend struct {
	Name string
	Open func(t testing.TB) (accounts.Store, session.Store)
}

func SQLiteBackend() Backend { return SQLiteBackendAt("") }

// SQLiteBackendAt is SQLiteBackend on the database file path, which a
// benchmark reads afterwards; "" is a new file in the test's temporary
// directory.
func SQLiteBackendAt(path string) Backend {
	return Backend{Name: "sqlite", Open: func(t testing.TB) (accounts.Store, session.Store) {
		p := path
		if p == "" {
			p = filepath.Join(t.TempDir(), "unilogin.db")
		}
		db, err := sqlitedb.Open(p, "normal")
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
func Backends() []Backend { return []Backend{SQLiteBackend(), MongoBackend()} }

// env is the production assembly (api/server) over real stores, served by
// httptest (servertest): the same middleware, limits and hashing gate as
// unilogin serve.
type Env struct {
	T        testing.TB
	URL      string
	Clock    *testkit.Clock
	Cfg      *config.Config
	Accounts *accounts.Service
	Sessions *session.Manager
	MFA      *mfa.Service
	Store    accounts.Store // the raw store, for what the CLI does directly
	Handler  http.Handler
	Logs     *testkit.SyncBuffer
}

type EnvOptions struct {
	Backend   Backend
	Clients   []config.Client
	Providers []providers.Provider
	Mutate    func(*config.Config)
	Grace     time.Duration
	Cost      int // bcrypt cost; default 4
	Version   string
	Gate      accounts.Gate // default: sized from the configuration
	// Localhost names the issuer (and URL) localhost rather than
	// 127.0.0.1: WebAuthn's RP ID must be a domain.
	Localhost bool
}

const TestClientID, TestClientSecret = "web", "web-secret-0123456789"
const PublicClientID = "spa"
const AppRedirect = "https://app.example.com/callback"

// PostLogoutURI is the public client's registered post-logout redirect URI.
const PostLogoutURI = "https://app.example.com/signed-out"

// testConfig is the configuration of every env before o.mutate:
// servertest's (the built-in defaults) with the test clients and roles,
// rate limits off (the rate-limit tests turn them on).
func testConfig(cfg *config.Config, o EnvOptions) {
	cfg.Keys.EncryptionKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	cfg.Passwords.BcryptCost = o.Cost
	cfg.Tokens.RefreshReuseGrace = o.Grace
	cfg.Clients = o.Clients
	if cfg.Clients == nil {
		cfg.Clients = []config.Client{
			{ID: TestClientID, Secret: TestClientSecret, RedirectURIs: []string{AppRedirect}},
			{ID: PublicClientID, RedirectURIs: []string{AppRedirect, "http://127.0.0.1:9999/cb"}, PostLogoutRedirectURIs: []string{PostLogoutURI}},
		}
	}
	cfg.Roles = map[string][]string{"admin": {"users:admin"}, "member": {"profile:read"}}
	cfg.RateLimits.Enabled = new(false)
}

// withLimits turns on exactly the limits rl sets, then applies more.
func WithLimits(rl config.RateLimits, more ...func(*config.Config)) func(*config.Config) {
	return func(c *config.Config) {
		rl.Enabled = nil
		c.RateLimits = rl
		for _, m := range more {
			m(c)
		}
	}
}

func NewEnv(t testing.TB, o EnvOptions) *Env {
	t.Helper()
	if o.Backend.Open == nil {
		o.Backend = SQLiteBackend()
	}
	if o.Cost == 0 {
		o.Cost = 4
	}
	if o.Grace == 0 {
		o.Grace = 10 * time.Second
	}
	as, ss := o.Backend.Open(t)
	clk := testkit.NewClock(time.Now().Truncate(time.Second))
	logs := &testkit.SyncBuffer{}
	var cfg *config.Config
	s := servertest.Start(t, func(c *config.Config) {
		testConfig(c, o)
		if o.Localhost {
			c.Issuer = strings.Replace(c.Issuer, "://127.0.0.1:", "://localhost:", 1)
		}
		if o.Mutate != nil {
			o.Mutate(c)
		}
		cfg = c
	}, server.Options{
		Accounts: as, Sessions: ss,
		Providers: append([]providers.Provider{}, o.Providers...),
		Now:       clk.Now,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:   o.Version,
		Gate:      o.Gate,
	})
	url := s.URL
	if o.Localhost {
		url = strings.Replace(url, "://127.0.0.1:", "://localhost:", 1)
	}
	return &Env{T: t, URL: url, Clock: clk, Cfg: cfg, Accounts: s.Accounts, Sessions: s.Sessions, MFA: s.MFA,
		Store: as, Handler: s.Handler(), Logs: logs}
}

// response is a decoded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %q", r.Status, r.Body)
	}
	return m
}

// errCode asserts the contract's error shape and returns the code.
func (r Response) ErrCode(t testing.TB) string {
	t.Helper()
	m := r.JSON(t)
	code, _ := m["error"].(string)
	if code == "" {
		t.Fatalf("status %d: no error code in %s", r.Status, r.Body)
	}
	if _, ok := m["error_description"].(string); !ok {
		t.Fatalf("status %d: no error_description in %s", r.Status, r.Body)
	}
	return code
}

func (e *Env) Do(method, path, contentType string, body io.Reader, header ...string) Response {
	e.T.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.T.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := NoRedirectClient().Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func NoRedirectClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func BrowserClient(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *Env) PostForm(path string, form url.Values, header ...string) Response {
	e.T.Helper()
	return e.Do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header...)
}

func (e *Env) PostJSON(path string, v any, header ...string) Response {
	e.T.Helper()
	b, _ := json.Marshal(v)
	return e.Do("POST", path, "application/json", strings.NewReader(string(b)), header...)
}

func (e *Env) Get(path string, header ...string) Response {
	e.T.Helper()
	return e.Do("GET", path, "", nil, header...)
}

func Bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// signup creates a password user and returns its id.
func (e *Env) Signup(email, password string) string {
	e.T.Helper()
	r := e.PostJSON("/signup", map[string]string{"email": email, "password": password, "name": "Test User"})
	if r.Status != http.StatusCreated {
		e.T.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	return r.JSON(e.T)["id"].(string)
}

// NewUser signs a password user up (with Password) and signs it in: its
// id and its first tokens.
func (e *Env) NewUser(email string) (string, Tokens) {
	e.T.Helper()
	id := e.Signup(email, Password)
	return id, e.Login(email, Password)
}

// tokens is a token response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (e *Env) MustTokens(r Response) Tokens {
	e.T.Helper()
	if r.Status != http.StatusOK {
		e.T.Fatalf("token request: %d %s", r.Status, r.Body)
	}
	var tk Tokens
	if err := json.Unmarshal(r.Body, &tk); err != nil {
		e.T.Fatal(err)
	}
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" || tk.ExpiresIn <= 0 {
		e.T.Fatalf("incomplete token response: %s", r.Body)
	}
	return tk
}

func (e *Env) Login(email, password string) Tokens {
	e.T.Helper()
	return e.MustTokens(e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}))
}

func (e *Env) Refresh(rt string) Response {
	e.T.Helper()
	return e.PostForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// WantEnded fails unless the session of tk is over: /token refuses its
// refresh token (invalid_grant) and /users/me its access token.
func (e *Env) WantEnded(what string, tk Tokens) {
	e.T.Helper()
	if r := e.Refresh(tk.RefreshToken); r.Status != http.StatusBadRequest || r.ErrCode(e.T) != "invalid_grant" {
		e.T.Fatalf("%s: refresh: %d %s, want 400 invalid_grant", what, r.Status, r.Body)
	}
	if r := e.Get("/users/me", Bearer(tk.AccessToken)...); r.Status != http.StatusUnauthorized {
		e.T.Fatalf("%s: /users/me: %d %s, want 401", what, r.Status, r.Body)
	}
}

// mongoBackend runs the API over the MongoDB stores on the embedded
// FerretDB (and on the real MongoDB of UNILOGIN_TEST_MONGODB_URI instead,
// when it is set, since that is the stronger check).
func MongoBackend() Backend {
	return Backend{Name: "mongodb", Open: func(t testing.TB) (accounts.Store, session.Store) {
		return MongoStores(t, MongoDB(t))
	}}
}

// MongoDB is a fresh database of its own for t, on the last of
// mongotest's servers (the real MongoDB when one is configured).
func MongoDB(t testing.TB) *mongo.Database {
	servers := mongotest.Servers(t)
	return mongotest.FreshDB(t, servers[len(servers)-1].Client)
}

// MongoStores opens both MongoDB stores on db.
func MongoStores(t testing.TB, db *mongo.Database) (accounts.Store, session.Store) {
	as, err := accountsmongo.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := sessionmongo.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return as, ss
}

// Password is the tests' password of choice: long enough for every
// password rule.
const Password = "correct horse battery staple"

// Main runs a test package's tests, then stops the embedded
// MongoDB-compatible server they share: the TestMain of every package
// that uses MongoBackend.
func Main(m *testing.M) {
	code := m.Run()
	mongotest.Stop()
	os.Exit(code)
}

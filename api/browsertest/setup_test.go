package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/providertest"
	"github.com/unilogin/unilogin/session"
)

const chromiumPath = "/usr/bin/chromium"

// world is one unilogin server with a fake GitHub, and the app whose
// redirect URI ends every sign-in.
type world struct {
	t        *testing.T
	url      string // unilogin
	app      *app
	github   *providertest.GitHubServer
	accounts *accounts.Service
	sessions *session.Manager
	mfa      *mfa.Service
}

func newWorld(t *testing.T) *world {
	t.Helper()
	gh := providertest.NewGitHub(t, providertest.WithClient("gh-client", "gh-secret"))
	var a *app
	var issuer string
	// The production configuration (rate limits, hashing gate, store
	// instrumentation: the defaults) with a fake GitHub as the provider.
	s := servertest.Start(t, func(cfg *config.Config) {
		// localhost, not 127.0.0.1: WebAuthn needs a domain as RP ID (and
		// Chromium treats http://localhost as a secure context).
		cfg.Issuer = strings.Replace(cfg.Issuer, "://127.0.0.1:", "://localhost:", 1)
		issuer = cfg.Issuer
		a = newApp(t, cfg.Issuer)
		cfg.Clients = []config.Client{{ID: "demo-app", RedirectURIs: []string{a.redirectURI()}}}
		cfg.Branding = config.Branding{ProductName: "Acme Login", AccentColor: "#0a7d5a"}
		cfg.Providers.GitHub = &config.Provider{ClientID: gh.ClientID, ClientSecret: gh.ClientSecret, BaseURL: gh.URL, APIURL: gh.APIURL}
		if p := cfg.Validate(); len(p) > 0 {
			t.Fatalf("configuration: %v", p)
		}
	}, server.Options{})
	return &world{t: t, url: issuer, app: a, github: gh, accounts: s.Accounts, sessions: s.Sessions, mfa: s.MFA}
}

// app is the relying party of the tests: its home page has a "Sign in"
// link to /authorize; its redirect URI shows the code, redeems it at
// /token with the PKCE verifier and shows who signed in.
type app struct {
	srv      *httptest.Server
	issuer   string
	verifier string
	state    string
}

func newApp(t *testing.T, issuer string) *app {
	a := &app{issuer: issuer, verifier: providers.NewPKCEVerifier(), state: "app-state-42"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		q := url.Values{"response_type": {"code"}, "client_id": {"demo-app"}, "redirect_uri": {a.redirectURI()},
			"state": {a.state}, "code_challenge": {session.S256(a.verifier)}, "code_challenge_method": {"S256"}}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Demo app</title><h1>Demo app</h1><p><a id="signin" href="%s">Sign in</a></p>`,
			html.EscapeString(issuer+"/authorize?"+q.Encode()))
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if e := q.Get("error"); e != "" {
			fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Demo app</title><p id="app-error">%s</p>`, html.EscapeString(e))
			return
		}
		who, err := a.redeem(q.Get("code"))
		if err != nil {
			who = "redeem failed: " + err.Error()
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Demo app</title><h1>Demo app</h1>
<p>Code: <code id="app-code">%s</code></p><p>State: <code id="app-state">%s</code></p><p id="app-user">%s</p>`,
			html.EscapeString(q.Get("code")), html.EscapeString(q.Get("state")), html.EscapeString(who))
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) redirectURI() string { return a.srv.URL + "/callback" }

// redeem is the app's one token request, then /users/me to say who it is.
func (a *app) redeem(code string) (string, error) {
	res, err := http.PostForm(a.issuer+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {a.redirectURI()}, "client_id": {"demo-app"}, "code_verifier": {a.verifier}})
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	if b, _ := io.ReadAll(res.Body); res.StatusCode != 200 || json.Unmarshal(b, &tk) != nil {
		return "", fmt.Errorf("token: %d %s", res.StatusCode, b)
	}
	req, _ := http.NewRequest(http.MethodGet, a.issuer+"/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res2.Body.Close()
	var me struct {
		Email *string `json:"email"`
		ID    string  `json:"id"`
	}
	if err := json.NewDecoder(res2.Body).Decode(&me); err != nil {
		return "", err
	}
	if me.Email != nil {
		return "Signed in as " + *me.Email, nil
	}
	return "Signed in as user " + me.ID, nil
}

// newChrome starts a fresh headless Chromium (own profile) for one test.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := "!!! BROWSER TESTS NOT RUN: " + chromiumPath + " is missing (apt-get install -y chromium) !!!"
		if os.Getenv("UNILOGIN_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + " (UNILOGIN_REQUIRE_BROWSER=1)")
		}
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs actions, failing the test with a screenshot on error.
func run(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		screenshot(t, ctx, strings.ReplaceAll(name, " ", "-")+"-failed")
		t.Fatalf("%s: %v", name, err)
	}
}

// screenshot saves the whole page as testdata/output/<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join("testdata", "output")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: api/browsertest/%s", p)
}

// evaluate evaluates a JavaScript expression (reading state only).
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text reads the text of the first node matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		screenshot(t, ctx, "read-failed")
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// landedAtApp waits for the app's callback page and checks the sign-in.
func (w *world) landedAtApp(t *testing.T, ctx context.Context, wantUser string) {
	t.Helper()
	run(t, ctx, "wait for the app", chromedp.WaitVisible(chromedp.CSS("#app-user")))
	if code := text(t, ctx, "#app-code"); code == "" {
		t.Fatal("the app got no code")
	}
	if st := text(t, ctx, "#app-state"); st != w.app.state {
		t.Fatalf("app state %q", st)
	}
	if who := text(t, ctx, "#app-user"); who != "Signed in as "+wantUser {
		t.Fatalf("app says %q, want signed in as %s", who, wantUser)
	}
}

// signup creates a password user directly in the service.
func (w *world) signup(email, password string) *accounts.User {
	w.t.Helper()
	u, err := w.accounts.Signup(context.Background(), accounts.SignupRequest{Email: email, Password: password, Name: "Test"})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

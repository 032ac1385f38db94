package hosted_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/accounts/mfa/mfatest"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/config"
)

// mfaEnv is one service with a test app, for the second-factor pages.
type mfaEnv struct {
	t   *testing.T
	srv *servertest.Instance
	url string
	app string // the app's redirect URI
}

const appRedirect = "http://127.0.0.1:1/callback"

func newMFAEnv(t *testing.T, configure func(*config.Config)) *mfaEnv {
	t.Helper()
	var issuer string
	s := servertest.Start(t, func(cfg *config.Config) {
		// A host name, not an address: WebAuthn's RP ID must be a domain.
		cfg.Issuer = strings.Replace(cfg.Issuer, "://127.0.0.1:", "://localhost:", 1)
		issuer = cfg.Issuer
		cfg.Clients = []config.Client{{ID: "demo-app", RedirectURIs: []string{appRedirect}, Secret: "demo-secret"}}
		if configure != nil {
			configure(cfg)
		}
	}, server.Options{})
	return &mfaEnv{t: t, srv: s, url: issuer, app: appRedirect}
}

func (e *mfaEnv) mfa() *mfa.Service { return e.srv.MFA }

// user makes a password user.
func (e *mfaEnv) user(email string) *accounts.User {
	e.t.Helper()
	u, err := e.srv.Accounts.Signup(context.Background(), accounts.SignupRequest{Email: email, Password: "a fine long password"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// enableTOTP switches TOTP on for u and returns the secret; the code of
// the current step is spent by the confirmation.
func (e *mfaEnv) enableTOTP(u *accounts.User) (secret string, recovery []string) {
	e.t.Helper()
	ctx := context.Background()
	enr, err := e.mfa().EnrollTOTP(ctx, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	codes, err := e.mfa().ConfirmTOTP(ctx, u.ID, code(e.t, enr.Secret, time.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return enr.Secret, codes
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authenticator is a software passkey device for this service's origin.
func (e *mfaEnv) authenticator() *mfatest.Authenticator {
	u, _ := url.Parse(e.url)
	return mfatest.New(e.t, e.url, u.Hostname())
}

// browser keeps cookies and never follows redirects.
type browser struct {
	t    *testing.T
	e    *mfaEnv
	c    *http.Client
	csrf string // the last page's CSRF token
}

type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

func (e *mfaEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return page{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.url+path, nil)
	return b.do(req)
}

// post sends a form with the last page's CSRF token.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// expect fails unless p has status and every text.
func expect(t *testing.T, what string, p page, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d:\n%s", what, p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("%s: the page lacks %q:\n%s", what, s, p.body)
		}
	}
}

// expectRedirect fails unless p is a redirect to a URL starting with prefix.
func expectRedirect(t *testing.T, what string, p page, prefix string) {
	t.Helper()
	if p.status/100 != 3 || !strings.HasPrefix(p.location(), prefix) {
		t.Fatalf("%s: %d to %q, want a redirect to %s…:\n%s", what, p.status, p.location(), prefix, p.body)
	}
}

// passwordSignin posts the password form (to the account page).
func (b *browser) passwordSignin(email string) page {
	b.t.Helper()
	b.get("/signin")
	return b.post("/signin", url.Values{"email": {email}, "password": {"a fine long password"}})
}

// signIn signs in with the password (no second factor) and opens the
// account page, whose CSRF token the next forms carry.
func (b *browser) signIn(email string) {
	b.t.Helper()
	expectRedirect(b.t, "password sign-in", b.passwordSignin(email), "/account")
	expect(b.t, "account page", b.get("/account"), http.StatusOK)
}

// signedIn reports whether the browser's page session shows the account page.
func (b *browser) signedIn() bool {
	b.t.Helper()
	return b.get("/account").status == http.StatusOK
}

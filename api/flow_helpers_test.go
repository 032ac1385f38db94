package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/github"
	"github.com/unilogin/unilogin/providers/google"
	"github.com/unilogin/unilogin/providers/oidc"
	"github.com/unilogin/unilogin/providers/providertest"
	"github.com/unilogin/unilogin/session"
)

// flowEnv is an env whose google, github and corp (generic OIDC) providers
// point at fake upstreams.
type flowEnv struct {
	*env
	google *providertest.OIDCServer
	github *providertest.GitHubServer
	corp   *providertest.OIDCServer
}

type flowEnvOptions struct {
	backend backend
	mutate  func(*config.Config)
	rs256   bool // the Google fake signs with RS256, as Google does
}

// flowCorpUser is who signs in at the corp fake unless a test says otherwise.
var flowCorpUser = providertest.OIDCUser{
	Subject: "corp-0042", Email: "carl@corp.example.com", EmailVerified: new(true), Name: "Carl Corp",
}

// flowPlaceholder stands in for the issuer in the providers' configured
// RedirectURL: the api passes the real callback URL with every request, so
// a flow that reached the placeholder would fail.
const flowPlaceholder = "http://placeholder.invalid"

func newFlowEnv(t testing.TB, o flowEnvOptions) *flowEnv {
	t.Helper()
	ctx := context.Background()
	var gopts []providertest.Option
	if o.rs256 {
		gopts = append(gopts, providertest.WithRS256())
	}
	gfake := providertest.NewOIDC(t, gopts...)
	hfake := providertest.NewGitHub(t, providertest.WithClient("gh-client", "gh-secret"))
	cfake := providertest.NewOIDC(t, providertest.WithClient("corp-client", "corp-secret"))
	cfake.SetUser(flowCorpUser)

	g, err := google.New(ctx, google.Config{
		ClientID: gfake.ClientID, ClientSecret: gfake.ClientSecret, Issuer: gfake.URL,
		RedirectURL: flowPlaceholder + "/auth/google/callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := github.New(github.Config{
		ClientID: hfake.ClientID, ClientSecret: hfake.ClientSecret, BaseURL: hfake.URL, APIURL: hfake.APIURL,
		RedirectURL: flowPlaceholder + "/auth/github/callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := oidc.New(ctx, oidc.Config{
		ID: "corp", Name: "Corp SSO", Issuer: cfake.URL, ClientID: cfake.ClientID, ClientSecret: cfake.ClientSecret,
		RedirectURL: flowPlaceholder + "/auth/corp/callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{backend: o.backend, providers: []providers.Provider{g, h, c}, mutate: o.mutate})
	return &flowEnv{env: e, google: gfake, github: hfake, corp: cfake}
}

// at returns fe reporting to t, for subtests sharing one env.
func (fe *flowEnv) at(t *testing.T) *flowEnv {
	e := *fe.env
	e.t = t
	c := *fe
	c.env = &e
	return &c
}

// flowApp is the app side of one browser login: what it sends to
// /auth/{provider}/login and what it keeps to redeem the code.
type flowApp struct {
	clientID    string
	secret      string // basic auth at /token (confidential client)
	redirectURI string
	state       string
	verifier    string // PKCE verifier; "" sends no challenge
}

// publicApp is the public client, with PKCE.
func publicApp() flowApp {
	return flowApp{clientID: publicClientID, redirectURI: appRedirect, state: "app-" + providers.RandomString()[:12],
		verifier: providers.NewPKCEVerifier()}
}

// confidentialApp is the confidential client, without PKCE.
func confidentialApp() flowApp {
	return flowApp{clientID: testClientID, secret: testClientSecret, redirectURI: appRedirect,
		state: "app-" + providers.RandomString()[:12]}
}

// flowS256 is RFC 7636 §4.2, computed here rather than with the product's helper.
func flowS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (a flowApp) challenge() string { return flowS256(a.verifier) }

func (a flowApp) loginQuery() url.Values {
	q := url.Values{"client_id": {a.clientID}, "redirect_uri": {a.redirectURI}}
	if a.state != "" {
		q.Set("state", a.state)
	}
	if a.verifier != "" {
		q.Set("code_challenge", a.challenge())
		q.Set("code_challenge_method", "S256")
	}
	return q
}

func (fe *flowEnv) loginURL(provider string, a flowApp) string {
	return fe.url + "/auth/" + provider + "/login?" + a.loginQuery().Encode()
}

func (fe *flowEnv) callbackURL(provider string) string {
	return fe.url + "/auth/" + provider + "/callback"
}

// fetch GETs rawURL with the browser c (which never follows redirects),
// adding cookies by hand when given.
func (fe *flowEnv) fetch(c *http.Client, rawURL string, cookies ...*http.Cookie) response {
	fe.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		fe.t.Fatal(err)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	res, err := c.Do(req)
	if err != nil {
		fe.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// location returns the Location of a 302, failing the test otherwise.
func (fe *flowEnv) location(r response) *url.URL {
	fe.t.Helper()
	if r.status != http.StatusFound {
		fe.t.Fatalf("want 302, got %d: %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.header.Get("Location") == "" {
		fe.t.Fatalf("302 without a usable Location: %q", r.header.Get("Location"))
	}
	return u
}

// setCookies parses the Set-Cookie headers of r.
func setCookies(t testing.TB, r response) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range r.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		out = append(out, ck)
	}
	return out
}

// begin is the first step of the walk: the browser GETs our login URL and
// is sent to the provider. It returns the provider's authorization URL and
// the flow cookie that was set.
func (fe *flowEnv) begin(c *http.Client, loginURL string) (*url.URL, *http.Cookie) {
	fe.t.Helper()
	r := fe.fetch(c, loginURL)
	auth := fe.location(r)
	if strings.HasPrefix(auth.String(), fe.url) {
		fe.t.Fatalf("login redirected to unilogin itself (%s), not to the provider", auth)
	}
	cookies := setCookies(fe.t, r)
	if len(cookies) != 1 {
		fe.t.Fatalf("login set %d cookies, want one flow cookie", len(cookies))
	}
	return auth, cookies[0]
}

// authorize is the second step: the provider's consenting user. It returns
// the URL the provider sends the browser back to (our callback).
func (fe *flowEnv) authorize(auth *url.URL) *url.URL {
	fe.t.Helper()
	cb := providertest.Authorize(fe.t, auth.String())
	if !strings.HasPrefix(cb.String(), fe.url+"/auth/") {
		fe.t.Fatalf("the provider sent the browser to %s, not to our callback", cb)
	}
	return cb
}

// runFlow walks the whole browser flow from loginURL in the browser c and
// returns where our callback finally redirects (the app's redirect URI
// with code or error).
func (fe *flowEnv) runFlow(c *http.Client, loginURL string) *url.URL {
	fe.t.Helper()
	auth, _ := fe.begin(c, loginURL)
	cb := fe.authorize(auth)
	return fe.location(fe.fetch(c, cb.String()))
}

// appQuery checks that u is a's redirect URI carrying a's state and returns
// its query.
func (fe *flowEnv) appQuery(u *url.URL, a flowApp) url.Values {
	fe.t.Helper()
	base := *u
	base.RawQuery = ""
	if base.String() != a.redirectURI {
		fe.t.Fatalf("redirected to %s, want the app's %s", u, a.redirectURI)
	}
	q := u.Query()
	if q.Get("state") != a.state {
		fe.t.Fatalf("app state = %q, want %q (%s)", q.Get("state"), a.state, u)
	}
	return q
}

// appCode returns the code of a successful redirect to the app.
func (fe *flowEnv) appCode(u *url.URL, a flowApp) string {
	fe.t.Helper()
	q := fe.appQuery(u, a)
	if q.Get("error") != "" || q.Get("code") == "" {
		fe.t.Fatalf("want a code, got %s", u)
	}
	return q.Get("code")
}

// appError returns the error of a failed redirect to the app.
func (fe *flowEnv) appError(u *url.URL, a flowApp) string {
	fe.t.Helper()
	q := fe.appQuery(u, a)
	if q.Get("code") != "" {
		fe.t.Fatalf("want an error, got a code: %s", u)
	}
	return q.Get("error")
}

// redeem is POST /token grant_type=authorization_code as a sends it.
func (fe *flowEnv) redeem(a flowApp, code string) response {
	fe.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {a.clientID}}
	if a.redirectURI != "" {
		form.Set("redirect_uri", a.redirectURI)
	}
	if a.verifier != "" {
		form.Set("code_verifier", a.verifier)
	}
	var hdr []string
	if a.secret != "" {
		hdr = []string{"Authorization", basicAuthHeader(a.clientID, a.secret)}
	}
	return fe.postForm("/token", form, hdr...)
}

// signIn runs a whole sign-in with provider for a and returns the pair.
func (fe *flowEnv) signIn(provider string, a flowApp) tokens {
	fe.t.Helper()
	u := fe.runFlow(browserClient(fe.t), fe.loginURL(provider, a))
	return fe.mustTokens(fe.redeem(a, fe.appCode(u, a)))
}

// signInError runs a sign-in with provider that must end with an error
// redirect to the app, and returns the error code.
func (fe *flowEnv) signInError(provider string, a flowApp) string {
	fe.t.Helper()
	return fe.appError(fe.runFlow(browserClient(fe.t), fe.loginURL(provider, a)), a)
}

func (fe *flowEnv) claims(tk tokens) *session.AccessClaims {
	fe.t.Helper()
	c, err := fe.sessions.ParseAccess(context.Background(), tk.AccessToken)
	if err != nil {
		fe.t.Fatalf("access token: %v", err)
	}
	return c
}

// flowMe is GET /users/me.
type flowMe struct {
	ID            string  `json:"id"`
	Email         *string `json:"email"`
	EmailVerified bool    `json:"email_verified"`
	HasPassword   bool    `json:"has_password"`
	Identities    []struct {
		Provider string `json:"provider"`
		Subject  string `json:"subject"`
		Email    string `json:"email"`
		LinkedAt string `json:"linked_at"`
	} `json:"identities"`
}

func (m flowMe) providerIDs() []string {
	out := []string{}
	for _, id := range m.Identities {
		out = append(out, id.Provider)
	}
	return out
}

func (fe *flowEnv) me(token string) flowMe {
	fe.t.Helper()
	r := fe.get("/users/me", bearer(token)...)
	if r.status != http.StatusOK {
		fe.t.Fatalf("/users/me: %d %s", r.status, r.body)
	}
	var m flowMe
	if err := json.Unmarshal(r.body, &m); err != nil {
		fe.t.Fatal(err)
	}
	return m
}

// users counts the users in the store.
func (fe *flowEnv) users() int {
	fe.t.Helper()
	us, err := fe.store.ListUsers(context.Background(), "", 100, "")
	if err != nil {
		fe.t.Fatal(err)
	}
	return len(us)
}

// identitiesOf lists the providers of a user's identities, from the store.
func (fe *flowEnv) identitiesOf(userID string) []string {
	fe.t.Helper()
	ids, err := fe.store.ListIdentities(context.Background(), userID)
	if err != nil {
		fe.t.Fatal(err)
	}
	out := []string{}
	for _, id := range ids {
		out = append(out, id.Provider+":"+id.Subject)
	}
	return out
}

// startLink is POST /users/me/identities/{provider}; it returns the
// authorization_url after checking it is on unilogin. It confirms with
// the test password pw (ignored for users without a password).
func (fe *flowEnv) startLink(token, provider string, a flowApp) string {
	fe.t.Helper()
	r := fe.postJSON("/users/me/identities/"+provider, map[string]string{
		"client_id": a.clientID, "redirect_uri": a.redirectURI, "state": a.state,
		"code_challenge": a.challenge(), "code_challenge_method": "S256", "current_password": pw,
	}, bearer(token)...)
	if r.status != http.StatusOK {
		fe.t.Fatalf("start link: %d %s", r.status, r.body)
	}
	u, _ := r.json(fe.t)["authorization_url"].(string)
	if !strings.HasPrefix(u, fe.url+"/auth/"+provider+"/login?") {
		fe.t.Fatalf("authorization_url %q is not unilogin's login URL for %s", u, provider)
	}
	return u
}

// githubUser is a GitHub account with one primary email.
func githubUser(id int64, login, email string, verified bool) providertest.GitHubUser {
	u := providertest.GitHubUser{ID: id, Login: login, Name: login}
	if email != "" {
		u.Emails = []providertest.GitHubEmail{{Email: email, Primary: true, Verified: verified}}
	}
	return u
}

// basicAuthHeader is RFC 6749 §2.3.1 client authentication: the id and
// secret form-encoded, then HTTP Basic.
func basicAuthHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

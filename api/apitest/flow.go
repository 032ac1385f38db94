package apitest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
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
type FlowEnv struct {
	*Env
	Google *providertest.OIDCServer
	GitHub *providertest.GitHubServer
	Corp   *providertest.OIDCServer
}

type FlowEnvOptions struct {
	Backend Backend
	Mutate  func(*config.Config)
	RS256   bool // the Google fake signs with RS256, as Google does
}

// flowCorpUser is who signs in at the corp fake unless a test says otherwise.
var FlowCorpUser = providertest.OIDCUser{
	Subject: "corp-0042", Email: "carl@corp.example.com", EmailVerified: new(true), Name: "Carl Corp",
}

// flowPlaceholder stands in for the issuer in the providers' configured
// RedirectURL: the api passes the real callback URL with every request, so
// a flow that reached the placeholder would fail.
const flowPlaceholder = "http://placeholder.invalid"

func NewFlowEnv(t testing.TB, o FlowEnvOptions) *FlowEnv {
	t.Helper()
	ctx := context.Background()
	var gopts []providertest.Option
	if o.RS256 {
		gopts = append(gopts, providertest.WithRS256())
	}
	gfake := providertest.NewOIDC(t, gopts...)
	hfake := providertest.NewGitHub(t, providertest.WithClient("gh-client", "gh-secret"))
	cfake := providertest.NewOIDC(t, providertest.WithClient("corp-client", "corp-secret"))
	cfake.SetUser(FlowCorpUser)

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
	e := NewEnv(t, EnvOptions{Backend: o.Backend, Providers: []providers.Provider{g, h, c}, Mutate: o.Mutate})
	return &FlowEnv{Env: e, Google: gfake, GitHub: hfake, Corp: cfake}
}

// at returns fe reporting to t, for subtests sharing one env.
func (fe *FlowEnv) At(t *testing.T) *FlowEnv {
	e := *fe.Env
	e.T = t
	c := *fe
	c.Env = &e
	return &c
}

// flowApp is the app side of one browser login: what it sends to
// /auth/{provider}/login and what it keeps to redeem the code.
type FlowApp struct {
	ClientID    string
	Secret      string // basic auth at /token (confidential client)
	RedirectURI string
	State       string
	Verifier    string // PKCE verifier; "" sends no challenge
}

// publicApp is the public client, with PKCE.
func PublicApp() FlowApp {
	return FlowApp{ClientID: PublicClientID, RedirectURI: AppRedirect, State: "app-" + providers.RandomString()[:12],
		Verifier: providers.NewPKCEVerifier()}
}

// confidentialApp is the confidential client, without PKCE.
func ConfidentialApp() FlowApp {
	return FlowApp{ClientID: TestClientID, Secret: TestClientSecret, RedirectURI: AppRedirect,
		State: "app-" + providers.RandomString()[:12]}
}

// flowS256 is RFC 7636 §4.2, computed here rather than with the product's helper.
func FlowS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (a FlowApp) Challenge() string { return FlowS256(a.Verifier) }

func (a FlowApp) LoginQuery() url.Values {
	q := url.Values{"client_id": {a.ClientID}, "redirect_uri": {a.RedirectURI}}
	if a.State != "" {
		q.Set("state", a.State)
	}
	if a.Verifier != "" {
		q.Set("code_challenge", a.Challenge())
		q.Set("code_challenge_method", "S256")
	}
	return q
}

func (fe *FlowEnv) LoginURL(provider string, a FlowApp) string {
	return fe.URL + "/auth/" + provider + "/login?" + a.LoginQuery().Encode()
}

func (fe *FlowEnv) CallbackURL(provider string) string {
	return fe.URL + "/auth/" + provider + "/callback"
}

// fetch GETs rawURL with the browser c (which never follows redirects),
// adding cookies by hand when given.
func (fe *FlowEnv) Fetch(c *http.Client, rawURL string, cookies ...*http.Cookie) Response {
	fe.T.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		fe.T.Fatal(err)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	res, err := c.Do(req)
	if err != nil {
		fe.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// location returns the Location of a 302, failing the test otherwise.
func (fe *FlowEnv) Location(r Response) *url.URL {
	fe.T.Helper()
	if r.Status != http.StatusFound {
		fe.T.Fatalf("want 302, got %d: %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil || r.Header.Get("Location") == "" {
		fe.T.Fatalf("302 without a usable Location: %q", r.Header.Get("Location"))
	}
	return u
}

// setCookies parses the Set-Cookie headers of r.
func SetCookies(t testing.TB, r Response) []*http.Cookie {
	t.Helper()
	var out []*http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
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
func (fe *FlowEnv) Begin(c *http.Client, loginURL string) (*url.URL, *http.Cookie) {
	fe.T.Helper()
	r := fe.Fetch(c, loginURL)
	auth := fe.Location(r)
	if strings.HasPrefix(auth.String(), fe.URL) {
		fe.T.Fatalf("login redirected to unilogin itself (%s), not to the provider", auth)
	}
	cookies := SetCookies(fe.T, r)
	if len(cookies) != 1 {
		fe.T.Fatalf("login set %d cookies, want one flow cookie", len(cookies))
	}
	return auth, cookies[0]
}

// authorize is the second step: the provider's consenting user. It returns
// the URL the provider sends the browser back to (our callback).
func (fe *FlowEnv) Authorize(auth *url.URL) *url.URL {
	fe.T.Helper()
	cb := providertest.Authorize(fe.T, auth.String())
	if !strings.HasPrefix(cb.String(), fe.URL+"/auth/") {
		fe.T.Fatalf("the provider sent the browser to %s, not to our callback", cb)
	}
	return cb
}

// runFlow walks the whole browser flow from loginURL in the browser c and
// returns where our callback finally redirects (the app's redirect URI
// with code or error).
func (fe *FlowEnv) RunFlow(c *http.Client, loginURL string) *url.URL {
	fe.T.Helper()
	auth, _ := fe.Begin(c, loginURL)
	cb := fe.Authorize(auth)
	return fe.Location(fe.Fetch(c, cb.String()))
}

// appQuery checks that u is a's redirect URI carrying a's state and returns
// its query.
func (e *Env) AppQuery(u *url.URL, a FlowApp) url.Values {
	e.T.Helper()
	base := *u
	base.RawQuery = ""
	if base.String() != a.RedirectURI {
		e.T.Fatalf("redirected to %s, want the app's %s", u, a.RedirectURI)
	}
	q := u.Query()
	if q.Get("state") != a.State {
		e.T.Fatalf("app state = %q, want %q (%s)", q.Get("state"), a.State, u)
	}
	return q
}

// appCode returns the code of a successful redirect to the app.
func (e *Env) AppCode(u *url.URL, a FlowApp) string {
	e.T.Helper()
	q := e.AppQuery(u, a)
	if q.Get("error") != "" || q.Get("code") == "" {
		e.T.Fatalf("want a code, got %s", u)
	}
	return q.Get("code")
}

// appError returns the error of a failed redirect to the app.
func (e *Env) AppError(u *url.URL, a FlowApp) string {
	e.T.Helper()
	q := e.AppQuery(u, a)
	if q.Get("code") != "" {
		e.T.Fatalf("want an error, got a code: %s", u)
	}
	return q.Get("error")
}

// redeem is POST /token grant_type=authorization_code as a sends it.
func (e *Env) Redeem(a FlowApp, code string) Response {
	e.T.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {a.ClientID}}
	if a.RedirectURI != "" {
		form.Set("redirect_uri", a.RedirectURI)
	}
	if a.Verifier != "" {
		form.Set("code_verifier", a.Verifier)
	}
	var hdr []string
	if a.Secret != "" {
		hdr = []string{"Authorization", BasicAuthHeader(a.ClientID, a.Secret)}
	}
	return e.PostForm("/token", form, hdr...)
}

// signIn runs a whole sign-in with provider for a and returns the pair.
func (fe *FlowEnv) SignIn(provider string, a FlowApp) Tokens {
	fe.T.Helper()
	u := fe.RunFlow(BrowserClient(fe.T), fe.LoginURL(provider, a))
	return fe.MustTokens(fe.Redeem(a, fe.AppCode(u, a)))
}

// signInError runs a sign-in with provider that must end with an error
// redirect to the app, and returns the error code.
func (fe *FlowEnv) SignInError(provider string, a FlowApp) string {
	fe.T.Helper()
	return fe.AppError(fe.RunFlow(BrowserClient(fe.T), fe.LoginURL(provider, a)), a)
}

func (fe *FlowEnv) Claims(tk Tokens) *session.AccessClaims {
	fe.T.Helper()
	c, err := fe.Sessions.ParseAccess(context.Background(), tk.AccessToken)
	if err != nil {
		fe.T.Fatalf("access token: %v", err)
	}
	return c
}

// FlowMe is the answer of GET /users/me.
type FlowMe struct {
	ID            string  `json:"id"`
	Email         *string `json:"email"`
	EmailVerified bool    `json:"email_verified"`
	Name          string  `json:"name"`
	HasPassword   bool    `json:"has_password"`
	Identities    []struct {
		Provider string `json:"provider"`
		Subject  string `json:"subject"`
		Email    string `json:"email"`
		LinkedAt string `json:"linked_at"`
	} `json:"identities"`
}

func (m FlowMe) ProviderIDs() []string {
	out := []string{}
	for _, id := range m.Identities {
		out = append(out, id.Provider)
	}
	return out
}

func (fe *FlowEnv) Me(token string) FlowMe {
	fe.T.Helper()
	r := fe.Get("/users/me", Bearer(token)...)
	if r.Status != http.StatusOK {
		fe.T.Fatalf("/users/me: %d %s", r.Status, r.Body)
	}
	var m FlowMe
	if err := json.Unmarshal(r.Body, &m); err != nil {
		fe.T.Fatal(err)
	}
	return m
}

// users counts the users in the store.
func (fe *FlowEnv) Users() int {
	fe.T.Helper()
	us, err := fe.Store.ListUsers(context.Background(), "", 100, "")
	if err != nil {
		fe.T.Fatal(err)
	}
	return len(us)
}

// identitiesOf lists the providers of a user's identities, from the store.
func (fe *FlowEnv) IdentitiesOf(userID string) []string {
	fe.T.Helper()
	ids, err := fe.Store.ListIdentities(context.Background(), userID)
	if err != nil {
		fe.T.Fatal(err)
	}
	out := []string{}
	for _, id := range ids {
		out = append(out, id.Provider+":"+id.Subject)
	}
	return out
}

// RunLink runs the link flow of provider for the signed-in token, in a
// fresh browser, and returns where it sent the browser back to a.
func (fe *FlowEnv) RunLink(token, provider string, a FlowApp) *url.URL {
	fe.T.Helper()
	return fe.RunFlow(BrowserClient(fe.T), fe.StartLink(token, provider, a))
}

// WantIdentities fails the test (and goes on) unless the identities of
// userID are exactly want ("provider:subject", in IdentitiesOf's order).
func (fe *FlowEnv) WantIdentities(what, userID string, want ...string) {
	fe.T.Helper()
	if ids := fe.IdentitiesOf(userID); !slices.Equal(ids, want) && (len(ids) > 0 || len(want) > 0) {
		fe.T.Errorf("%s: identities %v, want %v", what, ids, want)
	}
}

// startLink is POST /users/me/identities/{provider}; it returns the
// authorization_url after checking it is on unilogin. It confirms with
// the test password pw (ignored for users without a password).
func (fe *FlowEnv) StartLink(token, provider string, a FlowApp) string {
	fe.T.Helper()
	r := fe.PostJSON("/users/me/identities/"+provider, map[string]string{
		"client_id": a.ClientID, "redirect_uri": a.RedirectURI, "state": a.State,
		"code_challenge": a.Challenge(), "code_challenge_method": "S256", "current_password": Password,
	}, Bearer(token)...)
	if r.Status != http.StatusOK {
		fe.T.Fatalf("start link: %d %s", r.Status, r.Body)
	}
	u, _ := r.JSON(fe.T)["authorization_url"].(string)
	if !strings.HasPrefix(u, fe.URL+"/auth/"+provider+"/login?") {
		fe.T.Fatalf("authorization_url %q is not unilogin's login URL for %s", u, provider)
	}
	return u
}

// githubUser is a GitHub account with one primary email.
func NewGitHubUser(id int64, login, email string, verified bool) providertest.GitHubUser {
	u := providertest.GitHubUser{ID: id, Login: login, Name: login}
	if email != "" {
		u.Emails = []providertest.GitHubEmail{{Email: email, Primary: true, Verified: verified}}
	}
	return u
}

// basicAuthHeader is RFC 6749 §2.3.1 client authentication: the id and
// secret form-encoded, then HTTP Basic.
func BasicAuthHeader(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

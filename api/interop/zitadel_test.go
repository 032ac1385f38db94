package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/session/verifier"
)

// interopEnv is the example OP and a unilogin configured to use it.
type interopEnv struct {
	op       *exampleOP
	uni      *unilogin
	verifier *verifier.Verifier
	// authorizationEndpoint is from the OP's discovery document.
	authorizationEndpoint string
}

func newInteropEnv(t *testing.T, o opOptions) *interopEnv {
	t.Helper()
	uniSrv := httptest.NewUnstartedServer(nil)
	uniIssuer := "http://" + uniSrv.Listener.Addr().String()
	op := startOP(t, callbackURL(uniIssuer), o)
	uni := startUnilogin(t, uniSrv, op.issuer)

	var disco struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
	}
	getJSON(t, op.issuer+"/.well-known/openid-configuration", "", &disco)
	if disco.Issuer != op.issuer || disco.AuthorizationEndpoint == "" {
		t.Fatalf("OP discovery: issuer %q (want %q), authorization_endpoint %q", disco.Issuer, op.issuer, disco.AuthorizationEndpoint)
	}
	v, err := verifier.New(context.Background(), uni.url, uni.cfg.TokenAudience())
	if err != nil {
		t.Fatal(err)
	}
	return &interopEnv{op: op, uni: uni, verifier: v, authorizationEndpoint: disco.AuthorizationEndpoint}
}

// TestZitadelExampleOP signs in through the zitadel example OP, configured
// to put the user's profile and e-mail in its ID tokens.
func TestZitadelExampleOP(t *testing.T) {
	e := newInteropEnv(t, opOptions{userinfoInIDToken: true})

	// First sign-in: a new unilogin user with the OP's identity.
	tk := e.signIn(t, newBrowser(t))
	claims := e.verifyAccess(t, tk.AccessToken)
	me := e.me(t, tk.AccessToken)
	if claims.Subject != me.ID {
		t.Errorf("access token sub %q, /users/me id %q", claims.Subject, me.ID)
	}
	if len(me.Identities) != 1 {
		t.Fatalf("identities: %+v", me.Identities)
	}
	if id := me.Identities[0]; id.Provider != providerID || id.Subject != opUserSubject || id.Email != opUserEmail {
		t.Errorf("identity = %+v, want provider %q subject %q email %q", id, providerID, opUserSubject, opUserEmail)
	}
	if me.Email == nil || *me.Email != opUserEmail || !me.EmailVerified || me.Name != opUserName || me.HasPassword {
		t.Errorf("user = %+v, want the OP's verified e-mail %q and name %q, no password", me, opUserEmail, opUserName)
	}
	if claims.Email != opUserEmail || !claims.EmailVerified {
		t.Errorf("access token email %q verified %v", claims.Email, claims.EmailVerified)
	}

	// Second sign-in, from another browser: the same user.
	tk2 := e.signIn(t, newBrowser(t))
	if c2 := e.verifyAccess(t, tk2.AccessToken); c2.Subject != claims.Subject {
		t.Errorf("second sign-in: user %q, first %q", c2.Subject, claims.Subject)
	}
	if me2 := e.me(t, tk2.AccessToken); me2.ID != me.ID || len(me2.Identities) != 1 {
		t.Errorf("second sign-in: /users/me %+v", me2)
	}

	// A tampered state on the callback is refused, and burns nothing: the
	// untouched callback still completes.
	b := newBrowser(t)
	p := newPKCE()
	cb := e.toCallback(t, b, "app-state", p.challenge)
	q := cb.Query()
	id, secret, ok := strings.Cut(q.Get("state"), ".")
	if !ok || secret == "" {
		t.Fatalf("upstream state %q is not <flow id>.<secret>", q.Get("state"))
	}
	for _, bad := range []string{id + "." + flip(secret), id + ".", id} {
		tampered := *cb
		tq := cb.Query()
		tq.Set("state", bad)
		tampered.RawQuery = tq.Encode()
		h := b.get(t, tampered.String())
		if h.status != http.StatusBadRequest || h.errorCode(t) != "invalid_request" {
			t.Errorf("callback with state %q: %d %s", bad, h.status, h.body)
		}
	}
	tk3 := e.finish(t, b, cb, p)
	if c3 := e.verifyAccess(t, tk3.AccessToken); c3.Subject != claims.Subject {
		t.Errorf("after the refused callback: user %q, want %q", c3.Subject, claims.Subject)
	}
}

// TestZitadelExampleOPUserInfoOnly signs in through the example OP as it
// ships: it follows OpenID Connect Core §5.4, so with an access token
// issued, the e-mail and profile claims come from the UserInfo endpoint
// only, never in the ID token.
func TestZitadelExampleOPUserInfoOnly(t *testing.T) {
	e := newInteropEnv(t, opOptions{})
	tk := e.signIn(t, newBrowser(t))
	claims := e.verifyAccess(t, tk.AccessToken)
	me := e.me(t, tk.AccessToken)
	if claims.Subject != me.ID || len(me.Identities) != 1 {
		t.Fatalf("sub %q, /users/me %+v", claims.Subject, me)
	}
	id := me.Identities[0]
	if id.Provider != providerID || id.Subject != opUserSubject {
		t.Errorf("identity = %+v, want provider %q subject %q", id, providerID, opUserSubject)
	}
	if id.Email != opUserEmail || me.Email == nil || *me.Email != opUserEmail || !me.EmailVerified || me.Name != opUserName {
		t.Errorf("identity %+v, user %+v: want the OP's verified e-mail %q and name %q", id, me, opUserEmail, opUserName)
	}
}

// signIn runs a whole browser sign-in for app "demo" and redeems the code.
func (e *interopEnv) signIn(t *testing.T, b *browser) apitest.Tokens {
	t.Helper()
	p := newPKCE()
	return e.finish(t, b, e.toCallback(t, b, "app-state", p.challenge), p)
}

// toCallback drives the browser from unilogin's login URL through the
// OP's authorization endpoint and login form, and returns the URL of
// unilogin's callback that the OP redirects to (not yet followed).
func (e *interopEnv) toCallback(t *testing.T, b *browser, appState, challenge string) *url.URL {
	t.Helper()
	start := e.uni.url + "/auth/" + providerID + "/login?" + url.Values{
		"client_id":             {appClientID},
		"redirect_uri":          {appRedirect},
		"state":                 {appState},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}.Encode()

	// unilogin -> the OP's authorization endpoint.
	h := b.get(t, start)
	authz := h.redirect(t)
	if got := authz.Scheme + "://" + authz.Host + authz.Path; got != e.authorizationEndpoint {
		t.Fatalf("login redirects to %s, want the OP's authorization endpoint %s", authz, e.authorizationEndpoint)
	}
	aq := authz.Query()
	for k, want := range map[string]string{
		"client_id": opClientID, "redirect_uri": callbackURL(e.uni.url), "response_type": "code", "code_challenge_method": "S256",
	} {
		if aq.Get(k) != want {
			t.Errorf("authorization request %s = %q, want %q", k, aq.Get(k), want)
		}
	}
	if aq.Get("state") == "" || aq.Get("nonce") == "" || aq.Get("code_challenge") == "" ||
		!slices.Contains(strings.Fields(aq.Get("scope")), "openid") {
		t.Errorf("authorization request lacks state, nonce, code_challenge or scope openid: %s", authz.RawQuery)
	}

	// The OP's authorization endpoint -> its login page.
	loginPage := b.get(t, authz.String()).redirect(t)
	if loginPage.Host != authz.Host {
		t.Fatalf("authorization endpoint redirects off the OP: %s", loginPage)
	}
	page := b.get(t, loginPage.String())
	if page.status != http.StatusOK {
		t.Fatalf("login page: %d %s", page.status, page.body)
	}
	action, requestID := loginForm(t, page)

	// Submit the form -> the OP's authorization callback -> unilogin.
	done := b.postForm(t, action.String(), url.Values{
		"id": {requestID}, "username": {e.op.username}, "password": {opUserPassword},
	}).redirect(t)
	cb := b.get(t, done.String()).redirect(t)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != callbackURL(e.uni.url) {
		t.Fatalf("OP redirects to %s, want unilogin's callback", cb)
	}
	if cq := cb.Query(); cq.Get("code") == "" || cq.Get("state") != aq.Get("state") || cq.Get("error") != "" {
		t.Fatalf("OP callback %s: want a code and state %q", cb.RawQuery, aq.Get("state"))
	}
	return cb
}

// finish follows the OP's redirect to unilogin's callback, checks the
// redirect to the app, and redeems the code at /token as the app would.
func (e *interopEnv) finish(t *testing.T, b *browser, cb *url.URL, p pkce) apitest.Tokens {
	t.Helper()
	app := b.get(t, cb.String()).redirect(t)
	if got := app.Scheme + "://" + app.Host + app.Path; got != appRedirect {
		t.Fatalf("callback redirects to %s, want the app's %s", app, appRedirect)
	}
	q := app.Query()
	if q.Get("error") != "" || q.Get("code") == "" || q.Get("state") != "app-state" {
		t.Fatalf("app redirect %s: want a code and state=app-state", app.RawQuery)
	}
	h := b.postForm(t, e.uni.url+"/token", url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {q.Get("code")},
		"redirect_uri":  {appRedirect},
		"client_id":     {appClientID},
		"code_verifier": {p.verifier},
	})
	if h.status != http.StatusOK {
		t.Fatalf("token: %d %s", h.status, h.body)
	}
	var tk apitest.Tokens
	if err := json.Unmarshal(h.body, &tk); err != nil {
		t.Fatal(err)
	}
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "Bearer" || tk.ExpiresIn <= 0 {
		t.Fatalf("incomplete token response: %s", h.body)
	}
	return tk
}

// verifyAccess checks the access token as an app would, offline against
// unilogin's published keys, and that it tells it came from the OP.
func (e *interopEnv) verifyAccess(t *testing.T, token string) *verifier.Claims {
	t.Helper()
	c, err := e.verifier.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	if want := []string{"oidc:" + providerID}; !slices.Equal(c.AMR, want) {
		t.Errorf("amr = %q, want %q", c.AMR, want)
	}
	if c.ClientID != appClientID {
		t.Errorf("client_id = %q, want %q", c.ClientID, appClientID)
	}
	return c
}

func (e *interopEnv) me(t *testing.T, token string) apitest.FlowMe {
	t.Helper()
	var me apitest.FlowMe
	getJSON(t, e.uni.url+"/users/me", token, &me)
	return me
}

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	return pkce{verifier: v, challenge: apitest.FlowS256(v)}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// flip changes the last character of s.
func flip(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*\saction="([^"]+)"`)
	requestIDRE  = regexp.MustCompile(`<input[^>]*\sname="id"[^>]*\svalue="([^"]*)"`)
)

// loginForm reads the OP's login form: where it posts and the hidden auth
// request id.
func loginForm(t *testing.T, page hop) (*url.URL, string) {
	t.Helper()
	am, im := formActionRE.FindSubmatch(page.body), requestIDRE.FindSubmatch(page.body)
	if am == nil || im == nil {
		t.Fatalf("no login form with a hidden id on the OP's page:\n%s", page.body)
	}
	action, err := page.url.Parse(html.UnescapeString(string(am[1])))
	if err != nil {
		t.Fatal(err)
	}
	return action, html.UnescapeString(string(im[1]))
}

// browser is a user agent with cookies that does not follow redirects, so
// that every hop is seen.
type browser struct{ c *http.Client }

func newBrowser(t *testing.T) *browser {
	c := apitest.BrowserClient(t)
	c.Timeout = 10 * time.Second
	return &browser{c: c}
}

// hop is one HTTP answer.
type hop struct {
	url    *url.URL // requested
	status int
	header http.Header
	body   []byte
}

func (b *browser) do(t *testing.T, req *http.Request) hop {
	t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hop{url: req.URL, status: res.StatusCode, header: res.Header, body: body}
}

func (b *browser) get(t *testing.T, u string) hop {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, req)
}

func (b *browser) postForm(t *testing.T, u string, form url.Values) hop {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

// redirect asserts a 302 or 303 and returns its Location, resolved.
func (h hop) redirect(t *testing.T) *url.URL {
	t.Helper()
	if h.status != http.StatusFound && h.status != http.StatusSeeOther {
		t.Fatalf("%s: %d, want a redirect: %s", h.url, h.status, h.body)
	}
	loc, err := h.url.Parse(h.header.Get("Location"))
	if err != nil || h.header.Get("Location") == "" {
		t.Fatalf("%s: bad Location %q", h.url, h.header.Get("Location"))
	}
	return loc
}

// errorCode is the error of a unilogin error body.
func (h hop) errorCode(t *testing.T) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(h.body, &body); err != nil {
		t.Fatalf("%s: %d: not JSON: %s", h.url, h.status, h.body)
	}
	return body.Error
}

// getJSON GETs u, with a bearer token when one is given, and decodes a 200.
func getJSON(t *testing.T, u, token string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	h := (&browser{c: &http.Client{Timeout: 10 * time.Second}}).do(t, req)
	if h.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, h.status, h.body)
	}
	if err := json.Unmarshal(h.body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, h.body)
	}
}

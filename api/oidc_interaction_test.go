package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
)

// The third-party app of the consent tests, and where apps return after
// an RP-initiated logout.
const (
	thirdClientID, thirdSecret = "docs", "docs-secret-0123456789"
	thirdName                  = "Docs Viewer"
	postLogoutURI              = "https://app.example.com/signed-out"
)

// oidcEnv has the usual clients (the confidential one with a post-logout
// URI) and a third-party app.
func oidcEnv(t *testing.T) *env {
	return newEnv(t, envOptions{clients: []config.Client{
		{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{appRedirect}, PostLogoutRedirectURIs: []string{postLogoutURI}},
		{ID: publicClientID, RedirectURIs: []string{appRedirect}},
		{ID: thirdClientID, Name: thirdName, Secret: thirdSecret, RedirectURIs: []string{appRedirect}, Consent: true,
			PostLogoutRedirectURIs: []string{postLogoutURI}},
	}})
}

// oidcApp is an app's authorization request.
type oidcApp struct {
	e             *env
	clientID, sec string
	scope, nonce  string
	state         string
	extra         url.Values // prompt, max_age, login_hint, ...
}

func (a oidcApp) authorizeURL() string {
	q := url.Values{"response_type": {"code"}, "client_id": {a.clientID}, "redirect_uri": {appRedirect},
		"state": {a.state}, "scope": {a.scope}, "nonce": {a.nonce}}
	for k, v := range a.extra {
		q[k] = v
	}
	return "/authorize?" + q.Encode()
}

// with returns a copy of the request with more parameters.
func (a oidcApp) with(kv ...string) oidcApp {
	a.extra = url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		a.extra.Set(kv[i], kv[i+1])
	}
	return a
}

// redeem exchanges a code as the (confidential) app.
func (a oidcApp) redeem(t *testing.T, code string) map[string]any {
	t.Helper()
	r := a.e.postForm("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}},
		"Authorization", basicAuthHeader(a.clientID, a.sec))
	if r.status != http.StatusOK {
		t.Fatalf("redeem: %d %s", r.status, r.body)
	}
	return r.json(t)
}

// appAnswer asserts a redirect to the app with state and iss and returns
// its query.
func appAnswer(t *testing.T, e *env, r response, state string) url.Values {
	t.Helper()
	u, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil || !strings.HasPrefix(u.String(), appRedirect+"?") {
		t.Fatalf("want a redirect to the app: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	q := u.Query()
	if q.Get("state") != state || q.Get("iss") != e.url {
		t.Fatalf("answer without state %q and iss: %v", state, q)
	}
	return q
}

// signInOn submits the sign-in page r as the user.
func signInOn(t *testing.T, b *browser, r response, email, password string) response {
	t.Helper()
	isPage(t, r, http.StatusOK, `id="password"`)
	form := formFields(r.body)
	form.Set("email", email)
	form.Set("password", password)
	return b.post("/signin", form)
}

// decide presses a button of the consent page r.
func decide(b *browser, r response, decision string) response {
	form := formFields(r.body)
	form.Set("decision", decision)
	return b.post("/consent", form)
}

// idClaims decodes an ID token's claims (its signature is checked by the
// stock-library tests).
func idClaims(t *testing.T, raw any) map[string]any {
	t.Helper()
	s, _ := raw.(string)
	var m map[string]any
	if err := json.Unmarshal(jwtPayload(t, s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOIDCConsent(t *testing.T) {
	e := oidcEnv(t)
	e.signup("cs@example.com", "correct horse battery")
	b := newBrowser(t, e)
	app := oidcApp{e: e, clientID: thirdClientID, sec: thirdSecret, scope: "openid email", nonce: "n1", state: "s1"}

	// The sign-in page names the app; after it, the consent page names it
	// and what it asks for.
	r := b.get(app.authorizeURL())
	isPage(t, r, http.StatusOK, "to continue to", thirdName)
	r = signInOn(t, b, r, "cs@example.com", "correct horse battery")
	isPage(t, r, http.StatusOK, thirdName, "to continue to", "See your email address", "Know who you are",
		`name="decision" value="allow"`, `name="decision" value="deny"`)
	if strings.Contains(string(r.body), "See your name") {
		t.Fatal("the consent page lists a scope the app did not ask for")
	}
	// Deny: access_denied, and nothing is remembered.
	if q := appAnswer(t, e, decide(b, r, "deny"), "s1"); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}
	consentPage := b.get(app.authorizeURL())
	isPage(t, consentPage, http.StatusOK, `value="allow"`)
	// A forged form and a missing decision are refused.
	forged := formFields(consentPage.body)
	forged.Set("decision", "allow")
	forged.Set("csrf", "forged")
	if r := b.post("/consent", forged); r.status != http.StatusForbidden {
		t.Fatalf("forged consent form: %d", r.status)
	}
	if r := decide(b, consentPage, ""); r.status != http.StatusBadRequest {
		t.Fatalf("no decision: %d", r.status)
	}
	// Allow: a code; a third-party app without offline_access gets no
	// refresh token.
	q := appAnswer(t, e, decide(b, consentPage, "allow"), "s1")
	tok := app.redeem(t, q.Get("code"))
	if tok["id_token"] == nil || tok["refresh_token"] != nil {
		t.Fatalf("third-party token response without offline_access: %v", tok)
	}
	if c := idClaims(t, tok["id_token"]); c["nonce"] != "n1" || c["aud"].([]any)[0] != thirdClientID || c["email"] != "cs@example.com" {
		t.Fatalf("ID token %v", c)
	}

	// Remembered: no page, for the same scopes, also with prompt=none.
	for _, a := range []oidcApp{app, app.with("prompt", "none")} {
		if q := appAnswer(t, e, b.get(a.authorizeURL()), "s1"); q.Get("code") == "" {
			t.Fatalf("remembered consent: %v", q)
		}
	}
	// prompt=consent asks again.
	isPage(t, b.get(app.with("prompt", "consent").authorizeURL()), http.StatusOK, `value="allow"`)
	// More than was allowed asks again; prompt=none cannot.
	more := app
	more.scope = "openid email offline_access"
	if q := appAnswer(t, e, b.get(more.with("prompt", "none").authorizeURL()), "s1"); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none with consent missing: %v", q)
	}
	r = b.get(more.authorizeURL())
	isPage(t, r, http.StatusOK, "Keep access while you are not using it")
	tok = more.redeem(t, appAnswer(t, e, decide(b, r, "allow"), "s1").Get("code"))
	refresh, _ := tok["refresh_token"].(string)
	if refresh == "" {
		t.Fatalf("offline_access allowed, no refresh token: %v", tok)
	}

	// The account page lists the app; removing its access ends its
	// sessions and the next request asks again.
	isPage(t, b.get("/account"), http.StatusOK, "Apps with access", thirdName, "See your email address")
	r = b.post("/account/apps/revoke", url.Values{"client_id": {thirdClientID}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account?done=app_revoked" {
		t.Fatalf("revoke app: %d %s", r.status, r.header.Get("Location"))
	}
	isPage(t, b.get("/account"), http.StatusOK, "No app has access to your account.")
	if r := e.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}},
		"Authorization", basicAuthHeader(thirdClientID, thirdSecret)); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
		t.Fatalf("refresh after the access was removed: %d %s", r.status, r.body)
	}
	if q := appAnswer(t, e, b.get(app.with("prompt", "none").authorizeURL()), "s1"); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none after revocation: %v", q)
	}
	if r := b.post("/account/apps/revoke", url.Values{"client_id": {thirdClientID}}); r.header.Get("Location") != "/account?error=app_not_found" {
		t.Fatalf("revoke twice: %d %s", r.status, r.header.Get("Location"))
	}

	// A first-party app never shows the page.
	first := oidcApp{e: e, clientID: testClientID, sec: testClientSecret, scope: "openid", nonce: "n", state: "f"}
	if q := appAnswer(t, e, b.get(first.authorizeURL()), "f"); q.Get("code") == "" {
		t.Fatalf("first-party app: %v", q)
	}
}

// A provider sign-in to a third-party app goes through the consent page
// too: the provider flow signs the browser in and continues at /authorize.
func TestOIDCConsentAfterProviderSignIn(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{mutate: func(c *config.Config) {
		c.Clients = append(c.Clients, config.Client{ID: thirdClientID, Name: thirdName, Secret: thirdSecret,
			RedirectURIs: []string{appRedirect}, Consent: true})
	}})
	b := newBrowser(t, fe.env)
	app := oidcApp{e: fe.env, clientID: thirdClientID, sec: thirdSecret, scope: "openid", nonce: "pn", state: "ps"}
	// providerSignIn runs the Google sign-in for the app's request up to
	// where unilogin sends the browser next.
	providerSignIn := func(extra url.Values) response {
		t.Helper()
		q := url.Values{"client_id": {thirdClientID}, "redirect_uri": {appRedirect}, "state": {"ps"}, "scope": {"openid"}, "nonce": {"pn"}}
		for k, v := range extra {
			q[k] = v
		}
		r := b.get("/auth/google/login?" + q.Encode())
		for i := 0; i < 4 && r.status == http.StatusFound; i++ {
			loc := mustParse(t, r.header.Get("Location"))
			switch {
			case !loc.IsAbs() && loc.Path == "/authorize":
				return r
			case strings.HasPrefix(loc.String(), fe.env.url):
				r = b.get(loc.String())
			default:
				r = b.get(providertest.Authorize(t, loc.String()).String())
			}
		}
		return r
	}
	r := providerSignIn(nil)
	loc := mustParse(t, r.header.Get("Location"))
	if r.status != http.StatusFound || loc.IsAbs() || loc.Path != "/authorize" || loc.Query().Get("client_id") != thirdClientID {
		t.Fatalf("provider sign-in to a third-party app: %d %s", r.status, loc)
	}
	r = b.get(loc.String())
	isPage(t, r, http.StatusOK, thirdName, `value="allow"`)
	tok := app.redeem(t, appAnswer(t, fe.env, decide(b, r, "allow"), "ps").Get("code"))
	if c := idClaims(t, tok["id_token"]); c["nonce"] != "pn" || c["amr"].([]any)[0] != "google" {
		t.Fatalf("ID token after a provider sign-in and consent: %v", c)
	}
	// Remembered now: the next provider sign-in answers at once, unless
	// the app asks with prompt=consent.
	if q := appAnswer(t, fe.env, b.get(mustParse(t, providerSignIn(nil).header.Get("Location")).String()), "ps"); q.Get("code") == "" {
		t.Fatalf("remembered consent after a provider sign-in: %v", q)
	}
	loc = mustParse(t, providerSignIn(url.Values{"prompt": {"consent"}}).header.Get("Location"))
	if loc.Query().Get("prompt") != "consent" {
		t.Fatalf("prompt=consent lost in the provider flow: %s", loc)
	}
	isPage(t, b.get(loc.String()), http.StatusOK, `value="allow"`)
}

func TestOIDCSelectAccountAndLoginHint(t *testing.T) {
	e := oidcEnv(t)
	e.signup("sa@example.com", "correct horse battery")
	b := newBrowser(t, e)
	app := oidcApp{e: e, clientID: testClientID, sec: testClientSecret, scope: "openid", nonce: "n", state: "sa"}

	// login_hint pre-fills the e-mail field; a hint that is no address is ignored.
	isPage(t, b.get(app.with("login_hint", "sa@example.com").authorizeURL()), http.StatusOK, `value="sa@example.com"`)
	r := b.get(app.with("login_hint", `"><script>`).authorizeURL())
	isPage(t, r, http.StatusOK, `id="email"`)
	if strings.Contains(string(r.body), "script&gt;") || strings.Contains(string(r.body), "<script>") {
		t.Fatal("a non-address login_hint was shown")
	}
	// Without a session, select_account is the sign-in form.
	r = signInOn(t, b, b.get(app.with("prompt", "select_account").authorizeURL()), "sa@example.com", "correct horse battery")
	appAnswer(t, e, r, "sa")

	// Signed in: "continue as" or "use another account".
	r = b.get(app.with("prompt", "select_account").authorizeURL())
	isPage(t, r, http.StatusOK, "Continue as Test User", "Use another account", `id="continue-as"`)
	if q := appAnswer(t, e, b.post("/select-account", formFields(r.body)), "sa"); q.Get("code") == "" {
		t.Fatalf("continue as: %v", q)
	}
	another := anchorHref(t, r.body, "use-another-account")
	if !strings.Contains(another, "prompt=login") {
		t.Fatalf("use another account links to %s", another)
	}
	isPage(t, b.get(another), http.StatusOK, `id="password"`)
	// Without a page session the account choice's form leads to the sign-in form.
	other := newBrowser(t, e)
	other.get("/signin")
	isPage(t, other.post("/select-account", formFields(r.body)), http.StatusOK, `id="password"`)
	// prompt=none with select_account is invalid.
	if q := appAnswer(t, e, b.get(app.with("prompt", "none select_account").authorizeURL()), "sa"); q.Get("error") != "invalid_request" {
		t.Fatalf("prompt=none select_account: %v", q)
	}
}

// prompt=login and max_age=0 show the form with a session, and the new
// sign-in gives a newer auth_time.
func TestOIDCReauthenticationNewerAuthTime(t *testing.T) {
	e := oidcEnv(t)
	e.signup("at@example.com", "correct horse battery")
	b := newBrowser(t, e)
	app := oidcApp{e: e, clientID: testClientID, sec: testClientSecret, scope: "openid", nonce: "n", state: "at"}
	authTime := func(r response) float64 {
		t.Helper()
		tok := app.redeem(t, appAnswer(t, e, r, "at").Get("code"))
		return idClaims(t, tok["id_token"])["auth_time"].(float64)
	}
	last := authTime(signInOn(t, b, b.get(app.authorizeURL()), "at@example.com", "correct horse battery"))
	for _, a := range []oidcApp{app.with("prompt", "login"), app.with("max_age", "0")} {
		e.clock.Advance(10 * time.Second)
		// The session alone would answer at once (same auth_time) ...
		if got := authTime(b.get(app.authorizeURL())); got != last {
			t.Fatalf("auth_time of the existing session %v, want %v", got, last)
		}
		// ... but this request shows the form.
		got := authTime(signInOn(t, b, b.get(a.authorizeURL()), "at@example.com", "correct horse battery"))
		if got <= last {
			t.Fatalf("%v: auth_time %v not newer than %v", a.extra, got, last)
		}
		last = got
	}
}

// anchorHref is the href of the link with the given id, unescaped.
func anchorHref(t *testing.T, body []byte, id string) string {
	t.Helper()
	s := string(body)
	i := strings.Index(s, `id="`+id+`"`)
	j := strings.LastIndex(s[:max(i, 0)], `href="`)
	if i < 0 || j < 0 {
		t.Fatalf("no link %q:\n%s", id, body)
	}
	href := s[j+len(`href="`):]
	href = href[:strings.Index(href, `"`)]
	return strings.ReplaceAll(href, "&amp;", "&")
}

// Request objects are refused as unsupported (OIDC Core §6); other
// parameters this provider does not act on are ignored (§3.1.2.1).
func TestOIDCRequestObjectsRefused(t *testing.T) {
	e := oidcEnv(t)
	app := oidcApp{e: e, clientID: testClientID, sec: testClientSecret, scope: "openid", nonce: "n", state: "ro"}
	for param, want := range map[string]string{"request": "request_not_supported", "request_uri": "request_uri_not_supported",
		"registration": "registration_not_supported"} {
		if q := appAnswer(t, e, e.get(app.with(param, "x").authorizeURL()), "ro"); q.Get("error") != want {
			t.Errorf("%s: %v, want %s", param, q, want)
		}
	}
	ignored := app.with("display", "popup", "claims_locales", "de", "acr_values", "urn:x", "id_token_hint", "junk",
		"claims", `{"id_token":{"email":{"essential":true}}}`, "ui_locales", "xx", "unknown_parameter", "1")
	isPage(t, e.get(ignored.authorizeURL()), http.StatusOK, `id="password"`)
}

// POST /authorize takes the request as a form (OIDC Core §3.1.2.1).
func TestOIDCAuthorizeByPost(t *testing.T) {
	e := oidcEnv(t)
	e.signup("po@example.com", "correct horse battery")
	b := newBrowser(t, e)
	app := oidcApp{e: e, clientID: testClientID, sec: testClientSecret, scope: "openid email", nonce: "pn", state: "po"}
	form := mustParse(t, app.authorizeURL()).Query()
	form.Set("csrf", "-")
	r := b.post("/authorize", form)
	isPage(t, r, http.StatusOK, `id="password"`, `value="pn"`)
	tok := app.redeem(t, appAnswer(t, e, signInOn(t, b, r, "po@example.com", "correct horse battery"), "po").Get("code"))
	if c := idClaims(t, tok["id_token"]); c["nonce"] != "pn" || c["email"] != "po@example.com" {
		t.Fatalf("ID token after POST /authorize: %v", c)
	}
	// Signed in: a code at once; a malformed body is the error page.
	if q := appAnswer(t, e, b.post("/authorize", form), "po"); q.Get("code") == "" {
		t.Fatalf("POST /authorize with a session: %v", q)
	}
	isPage(t, e.do("POST", "/authorize", "application/json", strings.NewReader(`{}`)), http.StatusBadRequest)
}

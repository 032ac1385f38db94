package hosted_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers/providertest"
)

// The third-party app of the consent tests, and where apps return after
// an RP-initiated logout.
const (
	thirdClientID, thirdSecret = "docs", "docs-secret-0123456789"
	thirdName                  = "Docs Viewer"
	postLogoutURI              = apitest.PostLogoutURI
)

// oidcEnv has the usual clients (the confidential one with a post-logout
// URI) and a third-party app.
func oidcEnv(t *testing.T) *apitest.Env {
	return apitest.NewEnv(t, apitest.EnvOptions{Clients: []config.Client{
		{ID: apitest.TestClientID, Secret: apitest.TestClientSecret, RedirectURIs: []string{apitest.AppRedirect}, PostLogoutRedirectURIs: []string{postLogoutURI}},
		{ID: apitest.PublicClientID, RedirectURIs: []string{apitest.AppRedirect}},
		{ID: thirdClientID, Name: thirdName, Secret: thirdSecret, RedirectURIs: []string{apitest.AppRedirect}, Consent: true,
			PostLogoutRedirectURIs: []string{postLogoutURI}},
	}})
}

// oidcUser is an oidcEnv with the password user email and a browser.
func oidcUser(t *testing.T, email string) (*apitest.Env, *apitest.Browser) {
	t.Helper()
	e := oidcEnv(t)
	e.Signup(email, "correct horse battery")
	return e, apitest.NewBrowser(t, e)
}

// webApp is the confidential client's request for scope.
func webApp(e *apitest.Env, scope, nonce, state string) oidcApp {
	return oidcApp{E: e, ClientID: apitest.TestClientID, sec: apitest.TestClientSecret, scope: scope, nonce: nonce, State: state}
}

// oidcApp is an app's authorization request.
type oidcApp struct {
	E             *apitest.Env
	ClientID, sec string
	scope, nonce  string
	State         string
	extra         url.Values // prompt, max_age, login_hint, ...
}

func (a oidcApp) authorizeURL() string {
	q := url.Values{"response_type": {"code"}, "client_id": {a.ClientID}, "redirect_uri": {apitest.AppRedirect},
		"state": {a.State}, "scope": {a.scope}, "nonce": {a.nonce}}
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
func (a oidcApp) Redeem(t *testing.T, code string) map[string]any {
	t.Helper()
	r := a.E.PostForm("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {apitest.AppRedirect}},
		"Authorization", apitest.BasicAuthHeader(a.ClientID, a.sec))
	if r.Status != http.StatusOK {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

// appAnswer asserts a redirect to the app with state and iss and returns
// its query.
func appAnswer(t *testing.T, e *apitest.Env, r apitest.Response, state string) url.Values {
	t.Helper()
	u, err := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusFound || err != nil || !strings.HasPrefix(u.String(), apitest.AppRedirect+"?") {
		t.Fatalf("want a redirect to the app: %d %s %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	q := u.Query()
	if q.Get("state") != state || q.Get("iss") != e.URL {
		t.Fatalf("answer without state %q and iss: %v", state, q)
	}
	return q
}

// signInOn submits the sign-in page r as the user.
func signInOn(t *testing.T, b *apitest.Browser, r apitest.Response, email, password string) apitest.Response {
	t.Helper()
	apitest.IsPage(t, r, http.StatusOK, `id="password"`)
	form := apitest.FormFields(r.Body)
	form.Set("email", email)
	form.Set("password", password)
	return b.Post("/signin", form)
}

// decide presses a button of the consent page r.
func decide(b *apitest.Browser, r apitest.Response, decision string) apitest.Response {
	form := apitest.FormFields(r.Body)
	form.Set("decision", decision)
	return b.Post("/consent", form)
}

// idClaims decodes an ID token's claims (its signature is checked by the
// stock-library tests).
func idClaims(t *testing.T, raw any) map[string]any {
	t.Helper()
	s, _ := raw.(string)
	var m map[string]any
	if err := json.Unmarshal(apitest.JWTPayload(t, s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOIDCConsent(t *testing.T) {
	e, b := oidcUser(t, "cs@example.com")
	app := oidcApp{E: e, ClientID: thirdClientID, sec: thirdSecret, scope: "openid email", nonce: "n1", State: "s1"}

	// The sign-in page names the app; after it, the consent page names it
	// and what it asks for.
	r := b.Get(app.authorizeURL())
	apitest.IsPage(t, r, http.StatusOK, "to continue to", thirdName)
	r = signInOn(t, b, r, "cs@example.com", "correct horse battery")
	apitest.IsPage(t, r, http.StatusOK, thirdName, "to continue to", "See your email address", "Know who you are",
		`name="decision" value="allow"`, `name="decision" value="deny"`)
	if strings.Contains(string(r.Body), "See your name") {
		t.Fatal("the consent page lists a scope the app did not ask for")
	}
	// Deny: access_denied, and nothing is remembered.
	if q := appAnswer(t, e, decide(b, r, "deny"), "s1"); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}
	consentPage := b.Get(app.authorizeURL())
	apitest.IsPage(t, consentPage, http.StatusOK, `value="allow"`)
	// A forged form and a missing decision are refused.
	forged := apitest.FormFields(consentPage.Body)
	forged.Set("decision", "allow")
	forged.Set("csrf", "forged")
	if r := b.Post("/consent", forged); r.Status != http.StatusForbidden {
		t.Fatalf("forged consent form: %d", r.Status)
	}
	if r := decide(b, consentPage, ""); r.Status != http.StatusBadRequest {
		t.Fatalf("no decision: %d", r.Status)
	}
	// Allow: a code; a third-party app without offline_access gets no
	// refresh token.
	q := appAnswer(t, e, decide(b, consentPage, "allow"), "s1")
	tok := app.Redeem(t, q.Get("code"))
	if tok["id_token"] == nil || tok["refresh_token"] != nil {
		t.Fatalf("third-party token response without offline_access: %v", tok)
	}
	if c := idClaims(t, tok["id_token"]); c["nonce"] != "n1" || c["aud"].([]any)[0] != thirdClientID || c["email"] != "cs@example.com" {
		t.Fatalf("ID token %v", c)
	}

	// Remembered: no page, for the same scopes, also with prompt=none.
	for _, a := range []oidcApp{app, app.with("prompt", "none")} {
		if q := appAnswer(t, e, b.Get(a.authorizeURL()), "s1"); q.Get("code") == "" {
			t.Fatalf("remembered consent: %v", q)
		}
	}
	// prompt=consent asks again.
	apitest.IsPage(t, b.Get(app.with("prompt", "consent").authorizeURL()), http.StatusOK, `value="allow"`)
	// More than was allowed asks again; prompt=none cannot.
	more := app
	more.scope = "openid email offline_access"
	if q := appAnswer(t, e, b.Get(more.with("prompt", "none").authorizeURL()), "s1"); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none with consent missing: %v", q)
	}
	r = b.Get(more.authorizeURL())
	apitest.IsPage(t, r, http.StatusOK, "Keep access while you are not using it")
	tok = more.Redeem(t, appAnswer(t, e, decide(b, r, "allow"), "s1").Get("code"))
	refresh, _ := tok["refresh_token"].(string)
	if refresh == "" {
		t.Fatalf("offline_access allowed, no refresh token: %v", tok)
	}

	// The account page lists the app; removing its access ends its
	// sessions and the next request asks again.
	apitest.IsPage(t, b.Get("/account"), http.StatusOK, "Apps with access", thirdName, "See your email address")
	r = b.Post("/account/apps/revoke", url.Values{"client_id": {thirdClientID}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account?done=app_revoked" {
		t.Fatalf("revoke app: %d %s", r.Status, r.Header.Get("Location"))
	}
	apitest.IsPage(t, b.Get("/account"), http.StatusOK, "No app has access to your account.")
	if r := e.PostForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}},
		"Authorization", apitest.BasicAuthHeader(thirdClientID, thirdSecret)); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
		t.Fatalf("refresh after the access was removed: %d %s", r.Status, r.Body)
	}
	if q := appAnswer(t, e, b.Get(app.with("prompt", "none").authorizeURL()), "s1"); q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none after revocation: %v", q)
	}
	if r := b.Post("/account/apps/revoke", url.Values{"client_id": {thirdClientID}}); r.Header.Get("Location") != "/account?error=app_not_found" {
		t.Fatalf("revoke twice: %d %s", r.Status, r.Header.Get("Location"))
	}

	// A first-party app never shows the page.
	first := webApp(e, "openid", "n", "f")
	if q := appAnswer(t, e, b.Get(first.authorizeURL()), "f"); q.Get("code") == "" {
		t.Fatalf("first-party app: %v", q)
	}
}

// A provider sign-in to a third-party app goes through the consent page
// too: the provider flow signs the browser in and continues at /authorize.
func TestOIDCConsentAfterProviderSignIn(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Mutate: func(c *config.Config) {
		c.Clients = append(c.Clients, config.Client{ID: thirdClientID, Name: thirdName, Secret: thirdSecret,
			RedirectURIs: []string{apitest.AppRedirect}, Consent: true})
	}})
	b := apitest.NewBrowser(t, fe.Env)
	app := oidcApp{E: fe.Env, ClientID: thirdClientID, sec: thirdSecret, scope: "openid", nonce: "pn", State: "ps"}
	// providerSignIn runs the Google sign-in for the app's request up to
	// where unilogin sends the browser next.
	providerSignIn := func(extra url.Values) apitest.Response {
		t.Helper()
		q := url.Values{"client_id": {thirdClientID}, "redirect_uri": {apitest.AppRedirect}, "state": {"ps"}, "scope": {"openid"}, "nonce": {"pn"}}
		for k, v := range extra {
			q[k] = v
		}
		r := b.Get("/auth/google/login?" + q.Encode())
		for i := 0; i < 4 && r.Status == http.StatusFound; i++ {
			loc := apitest.MustParse(t, r.Header.Get("Location"))
			switch {
			case !loc.IsAbs() && loc.Path == "/authorize":
				return r
			case strings.HasPrefix(loc.String(), fe.Env.URL):
				r = b.Get(loc.String())
			default:
				r = b.Get(providertest.Authorize(t, loc.String()).String())
			}
		}
		return r
	}
	r := providerSignIn(nil)
	loc := apitest.MustParse(t, r.Header.Get("Location"))
	if r.Status != http.StatusFound || loc.IsAbs() || loc.Path != "/authorize" || loc.Query().Get("client_id") != thirdClientID {
		t.Fatalf("provider sign-in to a third-party app: %d %s", r.Status, loc)
	}
	r = b.Get(loc.String())
	apitest.IsPage(t, r, http.StatusOK, thirdName, `value="allow"`)
	tok := app.Redeem(t, appAnswer(t, fe.Env, decide(b, r, "allow"), "ps").Get("code"))
	if c := idClaims(t, tok["id_token"]); c["nonce"] != "pn" || c["amr"].([]any)[0] != "google" {
		t.Fatalf("ID token after a provider sign-in and consent: %v", c)
	}
	// Remembered now: the next provider sign-in answers at once, unless
	// the app asks with prompt=consent.
	if q := appAnswer(t, fe.Env, b.Get(apitest.MustParse(t, providerSignIn(nil).Header.Get("Location")).String()), "ps"); q.Get("code") == "" {
		t.Fatalf("remembered consent after a provider sign-in: %v", q)
	}
	loc = apitest.MustParse(t, providerSignIn(url.Values{"prompt": {"consent"}}).Header.Get("Location"))
	if loc.Query().Get("prompt") != "consent" {
		t.Fatalf("prompt=consent lost in the provider flow: %s", loc)
	}
	apitest.IsPage(t, b.Get(loc.String()), http.StatusOK, `value="allow"`)
}

func TestOIDCSelectAccountAndLoginHint(t *testing.T) {
	e, b := oidcUser(t, "sa@example.com")
	app := webApp(e, "openid", "n", "sa")

	// login_hint pre-fills the e-mail field; a hint that is no address is ignored.
	apitest.IsPage(t, b.Get(app.with("login_hint", "sa@example.com").authorizeURL()), http.StatusOK, `value="sa@example.com"`)
	r := b.Get(app.with("login_hint", `"><script>`).authorizeURL())
	apitest.IsPage(t, r, http.StatusOK, `id="email"`)
	if strings.Contains(string(r.Body), "script&gt;") || strings.Contains(string(r.Body), "<script>") {
		t.Fatal("a non-address login_hint was shown")
	}
	// Without a session, select_account is the sign-in form.
	r = signInOn(t, b, b.Get(app.with("prompt", "select_account").authorizeURL()), "sa@example.com", "correct horse battery")
	appAnswer(t, e, r, "sa")

	// Signed in: "continue as" or "use another account".
	r = b.Get(app.with("prompt", "select_account").authorizeURL())
	apitest.IsPage(t, r, http.StatusOK, "Continue as Test User", "Use another account", `id="continue-as"`)
	if q := appAnswer(t, e, b.Post("/select-account", apitest.FormFields(r.Body)), "sa"); q.Get("code") == "" {
		t.Fatalf("continue as: %v", q)
	}
	another := anchorHref(t, r.Body, "use-another-account")
	if !strings.Contains(another, "prompt=login") {
		t.Fatalf("use another account links to %s", another)
	}
	apitest.IsPage(t, b.Get(another), http.StatusOK, `id="password"`)
	// Without a page session the account choice's form leads to the sign-in form.
	other := apitest.NewBrowser(t, e)
	other.Get("/signin")
	apitest.IsPage(t, other.Post("/select-account", apitest.FormFields(r.Body)), http.StatusOK, `id="password"`)
	// prompt=none with select_account is invalid.
	if q := appAnswer(t, e, b.Get(app.with("prompt", "none select_account").authorizeURL()), "sa"); q.Get("error") != "invalid_request" {
		t.Fatalf("prompt=none select_account: %v", q)
	}
}

// prompt=login and max_age=0 show the form with a session, and the new
// sign-in gives a newer auth_time.
func TestOIDCReauthenticationNewerAuthTime(t *testing.T) {
	e, b := oidcUser(t, "at@example.com")
	app := webApp(e, "openid", "n", "at")
	authTime := func(r apitest.Response) float64 {
		t.Helper()
		tok := app.Redeem(t, appAnswer(t, e, r, "at").Get("code"))
		return idClaims(t, tok["id_token"])["auth_time"].(float64)
	}
	last := authTime(signInOn(t, b, b.Get(app.authorizeURL()), "at@example.com", "correct horse battery"))
	for _, a := range []oidcApp{app.with("prompt", "login"), app.with("max_age", "0")} {
		e.Clock.Advance(10 * time.Second)
		// The session alone would answer at once (same auth_time) ...
		if got := authTime(b.Get(app.authorizeURL())); got != last {
			t.Fatalf("auth_time of the existing session %v, want %v", got, last)
		}
		// ... but this request shows the form.
		got := authTime(signInOn(t, b, b.Get(a.authorizeURL()), "at@example.com", "correct horse battery"))
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
	app := webApp(e, "openid", "n", "ro")
	for param, want := range map[string]string{"request": "request_not_supported", "request_uri": "request_uri_not_supported",
		"registration": "registration_not_supported"} {
		if q := appAnswer(t, e, e.Get(app.with(param, "x").authorizeURL()), "ro"); q.Get("error") != want {
			t.Errorf("%s: %v, want %s", param, q, want)
		}
	}
	ignored := app.with("display", "popup", "claims_locales", "de", "acr_values", "urn:x", "id_token_hint", "junk",
		"claims", `{"id_token":{"email":{"essential":true}}}`, "ui_locales", "xx", "unknown_parameter", "1")
	apitest.IsPage(t, e.Get(ignored.authorizeURL()), http.StatusOK, `id="password"`)
}

// POST /authorize takes the request as a form (OIDC Core §3.1.2.1).
func TestOIDCAuthorizeByPost(t *testing.T) {
	e, b := oidcUser(t, "po@example.com")
	app := webApp(e, "openid email", "pn", "po")
	form := apitest.MustParse(t, app.authorizeURL()).Query()
	form.Set("csrf", "-")
	r := b.Post("/authorize", form)
	apitest.IsPage(t, r, http.StatusOK, `id="password"`, `value="pn"`)
	tok := app.Redeem(t, appAnswer(t, e, signInOn(t, b, r, "po@example.com", "correct horse battery"), "po").Get("code"))
	if c := idClaims(t, tok["id_token"]); c["nonce"] != "pn" || c["email"] != "po@example.com" {
		t.Fatalf("ID token after POST /authorize: %v", c)
	}
	// Signed in: a code at once; a malformed body is the error page.
	if q := appAnswer(t, e, b.Post("/authorize", form), "po"); q.Get("code") == "" {
		t.Fatalf("POST /authorize with a session: %v", q)
	}
	apitest.IsPage(t, e.Do("POST", "/authorize", "application/json", strings.NewReader(`{}`)), http.StatusBadRequest)
}

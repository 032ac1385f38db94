package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rpSession signs the browser in for the confidential app and returns the
// token response.
func rpSession(t *testing.T, e *env, b *browser, email string) map[string]any {
	t.Helper()
	app := oidcApp{e: e, clientID: testClientID, sec: testClientSecret, scope: "openid", nonce: "n", state: "lo"}
	r := b.get(app.authorizeURL())
	if r.status == http.StatusOK {
		r = signInOn(t, b, r, email, "correct horse battery")
	}
	return app.redeem(t, appAnswer(t, e, r, "lo").Get("code"))
}

func TestRPInitiatedLogout(t *testing.T) {
	e := oidcEnv(t)
	e.signup("lo@example.com", "correct horse battery")
	web := []string{"Authorization", basicAuthHeader(testClientID, testClientSecret)}
	ended := func(tok map[string]any) bool {
		t.Helper()
		r := e.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, web...)
		in := e.postForm("/introspect", url.Values{"token": {tok["access_token"].(string)}}, web...).json(t)
		return r.status == http.StatusBadRequest && in["active"] == false
	}
	signedIn := func(b *browser) bool {
		t.Helper()
		return b.get("/account").status == http.StatusOK
	}
	logout := func(b *browser, v url.Values) response { return b.get("/logout?" + v.Encode()) }

	// A valid hint and a registered URI: both sessions end, back to the app with state.
	b := newBrowser(t, e)
	tok := rpSession(t, e, b, "lo@example.com")
	r := logout(b, url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"bye-1"}})
	if r.status != http.StatusFound || r.header.Get("Location") != postLogoutURI+"?state=bye-1" {
		t.Fatalf("RP logout: %d %q", r.status, r.header.Get("Location"))
	}
	if !ended(tok) || signedIn(b) {
		t.Fatal("RP logout left the token's session or the hosted-page session live")
	}

	// An unregistered URI is never redirected to; the session still ends.
	b = newBrowser(t, e)
	tok = rpSession(t, e, b, "lo@example.com")
	for _, uri := range []string{"https://evil.example/bye", postLogoutURI + "/x", ""} {
		r = logout(b, url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {uri}, "state": {"s"}})
		isPage(t, r, http.StatusOK, "You are signed out")
		if r.header.Get("Location") != "" {
			t.Fatalf("redirected to %q", r.header.Get("Location"))
		}
	}
	if !ended(tok) || signedIn(b) {
		t.Fatal("the session outlived a logout to an unregistered URI")
	}

	// An expired hint still names its session (RP-Initiated Logout §2);
	// POST works like GET; the app's client_id must match the hint.
	b = newBrowser(t, e)
	tok = rpSession(t, e, b, "lo@example.com")
	e.clock.Advance(2 * time.Hour)
	hint := tok["id_token"].(string)
	if r := logout(b, url.Values{"id_token_hint": {hint}, "client_id": {publicClientID}}); r.status != http.StatusBadRequest {
		t.Fatalf("client_id other than the hint's audience: %d", r.status)
	}
	r = b.post("/logout", url.Values{"csrf": {"-"}, "id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}, "client_id": {testClientID}})
	if r.status != http.StatusFound || r.header.Get("Location") != postLogoutURI {
		t.Fatalf("POST RP logout with an expired hint: %d %q", r.status, r.header.Get("Location"))
	}
	if signedIn(b) {
		t.Fatal("still signed in after an expired hint")
	}
	// POST with the parameters in the query and no body works too.
	tok = rpSession(t, e, b, "lo@example.com")
	q := url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"q"}}
	if r := e.do("POST", "/logout?"+q.Encode(), "", nil); r.status != http.StatusFound || r.header.Get("Location") != postLogoutURI+"?state=q" {
		t.Fatalf("POST /logout with query parameters: %d %q", r.status, r.header.Get("Location"))
	}
	if !ended(tok) {
		t.Fatal("POST /logout with query parameters left the session live")
	}

	// A hint that is not ours, or altered, is refused without redirecting.
	parts := strings.Split(hint, ".")
	for _, bad := range []string{"junk", parts[0] + "." + parts[1] + ".AAAA", tok["access_token"].(string)} {
		r := logout(b, url.Values{"id_token_hint": {bad}, "post_logout_redirect_uri": {postLogoutURI}})
		isPage(t, r, http.StatusBadRequest)
		if r.header.Get("Location") != "" {
			t.Fatal("an invalid hint was redirected")
		}
	}
	isPage(t, logout(b, url.Values{"state": {"a", "b"}}), http.StatusBadRequest)
}

// Without a hint the person confirms first; the confirmation is
// CSRF-protected, and the bearer logout is unchanged.
func TestLogoutConfirmation(t *testing.T) {
	e := oidcEnv(t)
	e.signup("cf@example.com", "correct horse battery")
	b := newBrowser(t, e)
	tok := rpSession(t, e, b, "cf@example.com")

	r := b.get("/logout?post_logout_redirect_uri=" + url.QueryEscape(postLogoutURI))
	isPage(t, r, http.StatusOK, "Sign out?", `id="confirm-signout"`, `name="csrf"`)
	if r := b.post("/logout", url.Values{"csrf": {"forged"}, "decision": {"signout"}}); r.status != http.StatusForbidden {
		t.Fatalf("forged confirmation: %d", r.status)
	}
	// A POST without a hint or CSRF token shows the confirmation too.
	isPage(t, b.post("/logout", url.Values{"csrf": {"-"}}), http.StatusOK, `id="confirm-signout"`)
	isPage(t, b.post("/logout", url.Values{"decision": {"signout"}}), http.StatusOK, "You are signed out")
	if b.get("/account").status == http.StatusOK {
		t.Fatal("still signed in after the confirmed logout")
	}
	// Not signed in: the signed-out page at once.
	isPage(t, b.get("/logout"), http.StatusOK, "You are signed out")

	// The app's own session is untouched by the hosted sign-out; the
	// bearer logout still answers 204, and a bad bearer token 401.
	if r := e.do("POST", "/logout", "", nil, "Authorization", "Bearer junk"); r.status != http.StatusUnauthorized {
		t.Fatalf("POST /logout with a bad bearer token: %d", r.status)
	}
	if r := e.do("POST", "/logout", "", nil, bearer(tok["access_token"].(string))...); r.status != http.StatusNoContent {
		t.Fatalf("bearer logout: %d %s", r.status, r.body)
	}
}

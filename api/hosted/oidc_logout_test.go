package hosted_test

import (
	"github.com/unilogin/unilogin/api/apitest"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rpSession signs the browser in for the confidential app and returns the
// token response.
func rpSession(t *testing.T, e *apitest.Env, b *apitest.Browser, email string) map[string]any {
	t.Helper()
	app := webApp(e, "openid", "n", "lo")
	r := b.Get(app.authorizeURL())
	if r.Status == http.StatusOK {
		r = signInOn(t, b, r, email, "correct horse battery")
	}
	return app.Redeem(t, appAnswer(t, e, r, "lo").Get("code"))
}

func TestRPInitiatedLogout(t *testing.T) {
	e := oidcEnv(t)
	e.Signup("lo@example.com", "correct horse battery")
	web := []string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)}
	ended := func(tok map[string]any) bool {
		t.Helper()
		r := e.PostForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}, web...)
		in := e.PostForm("/introspect", url.Values{"token": {tok["access_token"].(string)}}, web...).JSON(t)
		return r.Status == http.StatusBadRequest && in["active"] == false
	}
	signedIn := func(b *apitest.Browser) bool {
		t.Helper()
		return b.Get("/account").Status == http.StatusOK
	}
	logout := func(b *apitest.Browser, v url.Values) apitest.Response { return b.Get("/logout?" + v.Encode()) }

	// A valid hint and a registered URI: both sessions end, back to the app with state.
	b := apitest.NewBrowser(t, e)
	tok := rpSession(t, e, b, "lo@example.com")
	r := logout(b, url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"bye-1"}})
	if r.Status != http.StatusFound || r.Header.Get("Location") != postLogoutURI+"?state=bye-1" {
		t.Fatalf("RP logout: %d %q", r.Status, r.Header.Get("Location"))
	}
	if !ended(tok) || signedIn(b) {
		t.Fatal("RP logout left the token's session or the hosted-page session live")
	}

	// An unregistered URI is never redirected to; the session still ends.
	b = apitest.NewBrowser(t, e)
	tok = rpSession(t, e, b, "lo@example.com")
	for _, uri := range []string{"https://evil.example/bye", postLogoutURI + "/x", ""} {
		r = logout(b, url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {uri}, "state": {"s"}})
		apitest.IsPage(t, r, http.StatusOK, "You are signed out")
		if r.Header.Get("Location") != "" {
			t.Fatalf("redirected to %q", r.Header.Get("Location"))
		}
	}
	if !ended(tok) || signedIn(b) {
		t.Fatal("the session outlived a logout to an unregistered URI")
	}

	// An expired hint still names its session (RP-Initiated Logout §2);
	// POST works like GET; the app's client_id must match the hint.
	b = apitest.NewBrowser(t, e)
	tok = rpSession(t, e, b, "lo@example.com")
	e.Clock.Advance(2 * time.Hour)
	hint := tok["id_token"].(string)
	if r := logout(b, url.Values{"id_token_hint": {hint}, "client_id": {apitest.PublicClientID}}); r.Status != http.StatusBadRequest {
		t.Fatalf("client_id other than the hint's audience: %d", r.Status)
	}
	r = b.Post("/logout", url.Values{"csrf": {"-"}, "id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}, "client_id": {apitest.TestClientID}})
	if r.Status != http.StatusFound || r.Header.Get("Location") != postLogoutURI {
		t.Fatalf("POST RP logout with an expired hint: %d %q", r.Status, r.Header.Get("Location"))
	}
	if signedIn(b) {
		t.Fatal("still signed in after an expired hint")
	}
	// POST with the parameters in the query and no body works too.
	tok = rpSession(t, e, b, "lo@example.com")
	q := url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"q"}}
	if r := e.Do("POST", "/logout?"+q.Encode(), "", nil); r.Status != http.StatusFound || r.Header.Get("Location") != postLogoutURI+"?state=q" {
		t.Fatalf("POST /logout with query parameters: %d %q", r.Status, r.Header.Get("Location"))
	}
	if !ended(tok) {
		t.Fatal("POST /logout with query parameters left the session live")
	}

	// A hint that is not ours, or altered, is refused without redirecting.
	parts := strings.Split(hint, ".")
	for _, bad := range []string{"junk", parts[0] + "." + parts[1] + ".AAAA", tok["access_token"].(string)} {
		r := logout(b, url.Values{"id_token_hint": {bad}, "post_logout_redirect_uri": {postLogoutURI}})
		apitest.IsPage(t, r, http.StatusBadRequest)
		if r.Header.Get("Location") != "" {
			t.Fatal("an invalid hint was redirected")
		}
	}
	apitest.IsPage(t, logout(b, url.Values{"state": {"a", "b"}}), http.StatusBadRequest)
}

// Without a hint the person confirms first; the confirmation is
// CSRF-protected, and the bearer logout is unchanged.
func TestLogoutConfirmation(t *testing.T) {
	e, b := oidcUser(t, "cf@example.com")
	tok := rpSession(t, e, b, "cf@example.com")

	r := b.Get("/logout?post_logout_redirect_uri=" + url.QueryEscape(postLogoutURI))
	apitest.IsPage(t, r, http.StatusOK, "Sign out?", `id="confirm-signout"`, `name="csrf"`)
	if r := b.Post("/logout", url.Values{"csrf": {"forged"}, "decision": {"signout"}}); r.Status != http.StatusForbidden {
		t.Fatalf("forged confirmation: %d", r.Status)
	}
	// A POST without a hint or CSRF token shows the confirmation too.
	apitest.IsPage(t, b.Post("/logout", url.Values{"csrf": {"-"}}), http.StatusOK, `id="confirm-signout"`)
	apitest.IsPage(t, b.Post("/logout", url.Values{"decision": {"signout"}}), http.StatusOK, "You are signed out")
	if b.Get("/account").Status == http.StatusOK {
		t.Fatal("still signed in after the confirmed logout")
	}
	// Not signed in: the signed-out page at once.
	apitest.IsPage(t, b.Get("/logout"), http.StatusOK, "You are signed out")

	// The app's own session is untouched by the hosted sign-out; the
	// bearer logout still answers 204, and a bad bearer token 401.
	if r := e.Do("POST", "/logout", "", nil, "Authorization", "Bearer junk"); r.Status != http.StatusUnauthorized {
		t.Fatalf("POST /logout with a bad bearer token: %d", r.Status)
	}
	if r := e.Do("POST", "/logout", "", nil, apitest.Bearer(tok["access_token"].(string))...); r.Status != http.StatusNoContent {
		t.Fatalf("bearer logout: %d %s", r.Status, r.Body)
	}
}

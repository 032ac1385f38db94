package api_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/config"
)

func linkBody(a flowApp, current string) map[string]string {
	m := map[string]string{"client_id": a.clientID, "redirect_uri": a.redirectURI, "state": a.state,
		"code_challenge": a.challenge(), "code_challenge_method": "S256"}
	if current != "" {
		m["current_password"] = current
	}
	return m
}

// TestReauthWithPassword: a password user's access token alone neither
// links a sign-in method nor changes the password; the current password
// does, and a wrong one is invalid_grant (issue 11, item 2).
func TestReauthWithPassword(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	fe.signup("ria@example.com", pw)
	tk := fe.login("ria@example.com", pw).AccessToken
	a := publicApp()
	for _, tc := range []struct {
		name, current string
		status        int
		code          string
	}{
		{"no current_password", "", 403, "reauthentication_required"},
		{"wrong current_password", "not the password", 400, "invalid_grant"},
		{"right current_password", pw, 200, ""},
	} {
		r := fe.postJSON("/users/me/identities/github", linkBody(a, tc.current), bearer(tk)...)
		if r.status != tc.status || (tc.code != "" && r.errCode(t) != tc.code) {
			t.Errorf("link, %s: %d %s", tc.name, r.status, r.body)
		}
	}
	const next = "another fine passphrase"
	if r := fe.postJSON("/users/me/password", map[string]string{"current_password": "", "new_password": next}, bearer(tk)...); r.status != 403 || r.errCode(t) != "reauthentication_required" {
		t.Errorf("password change with an empty current_password: %d %s", r.status, r.body)
	}
	if r := fe.postJSON("/users/me/password", map[string]string{"current_password": "nope nope", "new_password": next}, bearer(tk)...); r.status != 400 || r.errCode(t) != "invalid_grant" {
		t.Errorf("password change with a wrong current_password: %d %s", r.status, r.body)
	}
}

// TestReauthWithoutPassword: an account without a password proves itself
// by a sign-in less than 5 minutes old (auth_time), which a refresh does
// not renew.
func TestReauthWithoutPassword(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	fe.github.SetUser(githubUser(7001, "pia", "", false))
	tk := fe.signIn("github", publicApp())
	signedIn := fe.claims(tk).AuthTime
	if signedIn == nil || !signedIn.Time.Equal(fe.clock.Now().Truncate(time.Second)) {
		t.Fatalf("auth_time %v, want the sign-in time %v", signedIn, fe.clock.Now())
	}
	fe.clock.Advance(5*time.Minute + time.Second)
	fresh := fe.mustTokens(fe.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}, "client_id": {publicClientID}}))
	if at := fe.claims(fresh).AuthTime; at == nil || !at.Equal(signedIn.Time) {
		t.Fatalf("auth_time after refresh %v, want the original %v", at, signedIn)
	}
	// The stolen-token attack of the issue: both refused.
	if r := fe.postJSON("/users/me/identities/corp", linkBody(publicApp(), ""), bearer(fresh.AccessToken)...); r.status != http.StatusForbidden || r.errCode(t) != "reauthentication_required" {
		t.Fatalf("link with an old sign-in: %d %s", r.status, r.body)
	}
	if r := fe.postJSON("/users/me/password", map[string]string{"new_password": "a first passphrase"}, bearer(fresh.AccessToken)...); r.status != http.StatusForbidden || r.errCode(t) != "reauthentication_required" {
		t.Fatalf("first password with an old sign-in: %d %s", r.status, r.body)
	}
	// A new sign-in is fresh again.
	again := fe.signIn("github", publicApp())
	if r := fe.postJSON("/users/me/identities/corp", linkBody(publicApp(), ""), bearer(again.AccessToken)...); r.status != http.StatusOK {
		t.Fatalf("link after a fresh sign-in: %d %s", r.status, r.body)
	}
	if r := fe.postJSON("/users/me/password", map[string]string{"new_password": "a first passphrase"}, bearer(again.AccessToken)...); r.status != http.StatusNoContent {
		t.Fatalf("first password after a fresh sign-in: %d %s", r.status, r.body)
	}
}

// TestCurrentPasswordThrottled: wrong current_password guesses count like
// failed sign-ins (same counters), so they are refused with 429 once the
// limit is reached (issue 11, item 7).
func TestCurrentPasswordThrottled(t *testing.T) {
	e := newEnv(t, envOptions{mutate: withLimits(config.Default().RateLimits)})
	e.signup("tia@example.com", pw)
	tk := e.login("tia@example.com", pw).AccessToken
	for i := range 10 {
		r := e.postJSON("/users/me/password", map[string]string{"current_password": "guess guess", "new_password": "another fine passphrase"}, bearer(tk)...)
		if r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
			t.Fatalf("guess %d: %d %s", i+1, r.status, r.body)
		}
	}
	want429(t, e.postJSON("/users/me/password", map[string]string{"current_password": pw, "new_password": "another fine passphrase"}, bearer(tk)...), 10, 15*time.Minute)
	// The same counters as sign-in: the password grant is refused here too.
	want429(t, e.passwordGrant("tia@example.com", pw), 10, 15*time.Minute)
}

// TestHostedReauth: on the account page, an account without a password
// whose sign-in is more than 5 minutes old is asked, in place, to sign in
// again before it sets a password or links a provider; after that it may.
// A password account is asked for its current password.
func TestHostedReauth(t *testing.T) {
	fe := newFlowEnv(t, flowEnvOptions{})
	e := fe.env
	fe.github.SetUser(githubUser(4343, "hal", "hal@example.com", true))
	b := newBrowser(t, e)
	b.get("/signin")
	isPage(t, walkProvider(t, b, b.get("/account/signin/github")), 200, `id="identity-github"`)

	e.clock.Advance(6 * time.Minute)
	b.get("/account")
	isPage(t, b.post("/account/password", url.Values{"new_password": {"hal's first passphrase"}}), 403,
		"sign in again", `href="/account/signin/github"`)
	b.get("/account")
	isPage(t, b.post("/account/link/corp", nil), 403, `href="/account/signin/github"`)
	u, err := e.store.GetUserByEmail(t.Context(), "hal@example.com")
	if err != nil || u.HasPassword() {
		t.Fatalf("a password was set without a fresh sign-in (%v)", err)
	}

	// Signing in again makes it fresh.
	isPage(t, walkProvider(t, b, b.get("/account/signin/github")), 200, `id="identity-github"`)
	if r := b.post("/account/password", url.Values{"new_password": {"hal's first passphrase"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set a password after signing in again: %d %s", r.status, r.body)
	}
	// Now a password account: changing it needs the current one.
	b.get("/account")
	isPage(t, b.post("/account/password", url.Values{"new_password": {"hal's second passphrase"}}), 403, `id="current-error"`)
}

package api_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

func linkBody(a apitest.FlowApp, current string) map[string]string {
	m := map[string]string{"client_id": a.ClientID, "redirect_uri": a.RedirectURI, "state": a.State,
		"code_challenge": a.Challenge(), "code_challenge_method": "S256"}
	if current != "" {
		m["current_password"] = current
	}
	return m
}

// TestReauthWithPassword: a password user's access token alone neither
// links a sign-in method nor changes the password; the current password
// does, and a wrong one is invalid_grant (issue 11, item 2).
func TestReauthWithPassword(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	fe.Signup("ria@example.com", apitest.Password)
	tk := fe.Login("ria@example.com", apitest.Password).AccessToken
	a := apitest.PublicApp()
	for _, tc := range []struct {
		Name, current string
		Status        int
		code          string
	}{
		{"no current_password", "", 403, "reauthentication_required"},
		{"wrong current_password", "not the password", 400, "invalid_grant"},
		{"right current_password", apitest.Password, 200, ""},
	} {
		r := fe.PostJSON("/users/me/identities/github", linkBody(a, tc.current), apitest.Bearer(tk)...)
		if r.Status != tc.Status || (tc.code != "" && r.ErrCode(t) != tc.code) {
			t.Errorf("link, %s: %d %s", tc.Name, r.Status, r.Body)
		}
	}
	const next = "another fine passphrase"
	if r := fe.PostJSON("/users/me/password", map[string]string{"current_password": "", "new_password": next}, apitest.Bearer(tk)...); r.Status != 403 || r.ErrCode(t) != "reauthentication_required" {
		t.Errorf("password change with an empty current_password: %d %s", r.Status, r.Body)
	}
	if r := fe.PostJSON("/users/me/password", map[string]string{"current_password": "nope nope", "new_password": next}, apitest.Bearer(tk)...); r.Status != 400 || r.ErrCode(t) != "invalid_grant" {
		t.Errorf("password change with a wrong current_password: %d %s", r.Status, r.Body)
	}
}

// TestReauthWithoutPassword: an account without a password proves itself
// by a sign-in less than 5 minutes old (auth_time), which a refresh does
// not renew.
func TestReauthWithoutPassword(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	fe.GitHub.SetUser(apitest.NewGitHubUser(7001, "pia", "", false))
	tk := fe.SignIn("github", apitest.PublicApp())
	signedIn := fe.Claims(tk).AuthTime
	if signedIn == nil || !signedIn.Time.Equal(fe.Clock.Now().Truncate(time.Second)) {
		t.Fatalf("auth_time %v, want the sign-in time %v", signedIn, fe.Clock.Now())
	}
	fe.Clock.Advance(5*time.Minute + time.Second)
	fresh := fe.MustTokens(fe.PostForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}, "client_id": {apitest.PublicClientID}}))
	if at := fe.Claims(fresh).AuthTime; at == nil || !at.Equal(signedIn.Time) {
		t.Fatalf("auth_time after refresh %v, want the original %v", at, signedIn)
	}
	// The stolen-token attack of the issue: both refused.
	if r := fe.PostJSON("/users/me/identities/corp", linkBody(apitest.PublicApp(), ""), apitest.Bearer(fresh.AccessToken)...); r.Status != http.StatusForbidden || r.ErrCode(t) != "reauthentication_required" {
		t.Fatalf("link with an old sign-in: %d %s", r.Status, r.Body)
	}
	if r := fe.PostJSON("/users/me/password", map[string]string{"new_password": "a first passphrase"}, apitest.Bearer(fresh.AccessToken)...); r.Status != http.StatusForbidden || r.ErrCode(t) != "reauthentication_required" {
		t.Fatalf("first password with an old sign-in: %d %s", r.Status, r.Body)
	}
	// A new sign-in is fresh again.
	again := fe.SignIn("github", apitest.PublicApp())
	if r := fe.PostJSON("/users/me/identities/corp", linkBody(apitest.PublicApp(), ""), apitest.Bearer(again.AccessToken)...); r.Status != http.StatusOK {
		t.Fatalf("link after a fresh sign-in: %d %s", r.Status, r.Body)
	}
	if r := fe.PostJSON("/users/me/password", map[string]string{"new_password": "a first passphrase"}, apitest.Bearer(again.AccessToken)...); r.Status != http.StatusNoContent {
		t.Fatalf("first password after a fresh sign-in: %d %s", r.Status, r.Body)
	}
}

// TestCurrentPasswordThrottled: wrong current_password guesses count like
// failed sign-ins (same counters), so they are refused with 429 once the
// limit is reached (issue 11, item 7).
func TestCurrentPasswordThrottled(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.Default().RateLimits)})
	e.Signup("tia@example.com", apitest.Password)
	tk := e.Login("tia@example.com", apitest.Password).AccessToken
	for i := range 10 {
		r := e.PostJSON("/users/me/password", map[string]string{"current_password": "guess guess", "new_password": "another fine passphrase"}, apitest.Bearer(tk)...)
		if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
			t.Fatalf("guess %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	want429(t, e.PostJSON("/users/me/password", map[string]string{"current_password": apitest.Password, "new_password": "another fine passphrase"}, apitest.Bearer(tk)...), 10, 15*time.Minute)
	// The same counters as sign-in: the password grant is refused here too.
	want429(t, passwordGrant(e, "tia@example.com", apitest.Password), 10, 15*time.Minute)
}

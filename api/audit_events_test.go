package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
)

// TestSecurityEventsAreAudited drives sign-ins, failures, a link, an unlink,
// a password change, revocations and a refresh reuse through the router,
// then reads the audit log: each left one event with its actor, target and
// client address, and no secret.
func TestSecurityEventsAreAudited(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
			id := fe.Signup("audit@example.com", apitest.Password)
			fe.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"audit@example.com"}, "password": {"wrong password!"}})
			tk := fe.Login("audit@example.com", apitest.Password)

			// Link GitHub through the browser flow, then unlink it.
			a := apitest.PublicApp()
			code := fe.AppCode(fe.RunLink(tk.AccessToken, "github", a), a)
			fe.MustTokens(fe.Redeem(a, code))
			if r := fe.Do("DELETE", "/users/me/identities/github", "", nil, apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusNoContent {
				t.Fatalf("unlink: %d %s", r.Status, r.Body)
			}
			// Password change, revocation of another session, logout.
			other := fe.Login("audit@example.com", apitest.Password)
			const next = "another long passphrase"
			if r := fe.PostJSON("/users/me/password", map[string]string{"current_password": apitest.Password, "new_password": next}, apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusNoContent {
				t.Fatalf("password change: %d %s", r.Status, r.Body)
			}
			third := fe.Login("audit@example.com", next)
			fe.PostForm("/revoke", url.Values{"token": {third.RefreshToken}})
			// Refresh reuse after the grace window.
			t1 := fe.MustTokens(fe.Refresh(tk.RefreshToken))
			fe.Clock.Advance(11 * time.Second)
			fe.Refresh(tk.RefreshToken)
			_ = t1
			_ = other

			events, err := fe.Store.ListAudit(context.Background(), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, e := range events {
				count[e.Action]++
				if e.Target != "" && e.Target != id {
					t.Errorf("%s: target %q, want %q", e.Action, e.Target, id)
				}
				if e.IP == "" {
					t.Errorf("%s: no client address", e.Action)
				}
				for k, v := range e.Details {
					for _, secret := range []string{apitest.Password, next, tk.AccessToken, tk.RefreshToken, code, third.RefreshToken} {
						if v == secret {
							t.Errorf("%s: detail %s holds a secret", e.Action, k)
						}
					}
				}
			}
			want := map[string]int{
				accounts.ActionSignInFailed:   1,
				accounts.ActionSignIn:         4, // three password logins and the redemption of the link code
				accounts.ActionIdentityLink:   1,
				accounts.ActionIdentityUnlink: 1,
				accounts.ActionPasswordChange: 1,
				accounts.ActionSessionRevoke:  1,
				accounts.ActionRefreshReuse:   1,
			}
			for action, n := range want {
				if count[action] != n {
					t.Errorf("%d %s events, want %d (all: %v)", count[action], action, n, count)
				}
			}
		})
	}
}

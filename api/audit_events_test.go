package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// TestSecurityEventsAreAudited drives sign-ins, failures, a link, an unlink,
// a password change, revocations and a refresh reuse through the router,
// then reads the audit log: each left one event with its actor, target and
// client address, and no secret.
func TestSecurityEventsAreAudited(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fe := newFlowEnv(t, flowEnvOptions{backend: b})
			id := fe.signup("audit@example.com", pw)
			fe.postForm("/token", url.Values{"grant_type": {"password"}, "username": {"audit@example.com"}, "password": {"wrong password!"}})
			tk := fe.login("audit@example.com", pw)

			// Link GitHub through the browser flow, then unlink it.
			a := publicApp()
			code := fe.appCode(fe.runFlow(browserClient(t), fe.startLink(tk.AccessToken, "github", a)), a)
			fe.mustTokens(fe.redeem(a, code))
			if r := fe.do("DELETE", "/users/me/identities/github", "", nil, bearer(tk.AccessToken)...); r.status != http.StatusNoContent {
				t.Fatalf("unlink: %d %s", r.status, r.body)
			}
			// Password change, revocation of another session, logout.
			other := fe.login("audit@example.com", pw)
			const next = "another long passphrase"
			if r := fe.postJSON("/users/me/password", map[string]string{"current_password": pw, "new_password": next}, bearer(tk.AccessToken)...); r.status != http.StatusNoContent {
				t.Fatalf("password change: %d %s", r.status, r.body)
			}
			third := fe.login("audit@example.com", next)
			fe.postForm("/revoke", url.Values{"token": {third.RefreshToken}})
			// Refresh reuse after the grace window.
			t1 := fe.mustTokens(fe.refresh(tk.RefreshToken))
			fe.clock.Advance(11 * time.Second)
			fe.refresh(tk.RefreshToken)
			_ = t1
			_ = other

			events, err := fe.store.ListAudit(context.Background(), "", 100)
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
					for _, secret := range []string{pw, next, tk.AccessToken, tk.RefreshToken, code, third.RefreshToken} {
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

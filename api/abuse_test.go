package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

// TestAllPasswordChecksLimited: successful password checks are bounded
// too, per address (every check) and per account (successes), so one
// account's holder cannot keep the hashing gate busy by signing in
// correctly in a loop (issue 11, item 1).
func TestAllPasswordChecksLimited(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rl := config.Default().RateLimits
			rl.PasswordChecksPerIP = config.Rate{Limit: 8, Window: 5 * time.Minute}
			rl.PasswordSignInsPerAccount = config.Rate{Limit: 5, Window: 5 * time.Minute}
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b, Mutate: apitest.WithLimits(rl, behindProxy)})
			e.Signup("own@example.com", apitest.Password)
			e.Signup("other@example.com", apitest.Password)
			e.Signup("victim@example.com", apitest.Password)
			attacker := "203.0.113.7"

			// Five correct sign-ins to one account, then that account is
			// refused from every address, unlike other accounts.
			for i := range 5 {
				if r := passwordGrant(e, "own@example.com", apitest.Password, from(attacker)...); r.Status != http.StatusOK {
					t.Fatalf("sign-in %d: %d %s", i+1, r.Status, r.Body)
				}
			}
			want429(t, passwordGrant(e, "own@example.com", apitest.Password, from(attacker)...), 5, 5*time.Minute)
			want429(t, passwordGrant(e, "own@example.com", apitest.Password, from("192.0.2.9")...), 5, 5*time.Minute)

			// Every check counts per address, successes included: three more
			// (one correct, two wrong) and the address is at its bound.
			e.MustTokens(passwordGrant(e, "other@example.com", apitest.Password, from(attacker)...))
			for range 2 {
				if r := passwordGrant(e, "other@example.com", "wrong password", from(attacker)...); r.Status != http.StatusBadRequest {
					t.Fatalf("wrong password: %d %s", r.Status, r.Body)
				}
			}
			want429(t, passwordGrant(e, "victim@example.com", apitest.Password, from(attacker)...), 8, 5*time.Minute)

			// The victim, from another address, is not affected.
			e.MustTokens(passwordGrant(e, "victim@example.com", apitest.Password, from("198.51.100.20")...))

			// The windows end.
			e.Clock.Advance(5 * time.Minute)
			e.MustTokens(passwordGrant(e, "own@example.com", apitest.Password, from(attacker)...))
		})
	}
}

// TestNoLockoutByDistributedGuessing: failures from many addresses fill
// the per-account ceiling, but the owner's correct password from an
// address that has not failed still gets in (after the slowdown), at
// /token and at the hosted sign-in; the guessing addresses stay refused
// (issue 11, item 5).
func TestNoLockoutByDistributedGuessing(t *testing.T) {
	rl := config.Default().RateLimits
	rl.PasswordPerAccount = config.Rate{Limit: 11, Window: 15 * time.Minute}
	rl.PasswordSlowdown = time.Millisecond
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(rl, behindProxy)})
	e.Signup("kim@example.com", apitest.Password)
	for i := range 11 {
		if r := passwordGrant(e, "kim@example.com", "wrong password", from(fmt.Sprintf("203.0.113.%d", i+1))...); r.Status != http.StatusBadRequest {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	// A guessing address: refused, even with the right password.
	want429(t, passwordGrant(e, "kim@example.com", apitest.Password, from("203.0.113.1")...), 11, 15*time.Minute)
	// The owner from a fresh address: through.
	e.MustTokens(passwordGrant(e, "kim@example.com", apitest.Password, from("198.51.100.20")...))
	// Hosted sign-in alike.
	b := apitest.NewBrowser(t, e)
	b.Hdr = from("198.51.100.21")
	b.Get("/signin")
	if r := b.Post("/signin", url.Values{"email": {"kim@example.com"}, "password": {apitest.Password}}); r.Status != http.StatusSeeOther {
		t.Fatalf("hosted sign-in from a clean address: %d %s", r.Status, r.Body)
	}
	b = apitest.NewBrowser(t, e)
	b.Hdr = from("203.0.113.2")
	b.Get("/signin")
	apitest.IsPage(t, b.Post("/signin", url.Values{"email": {"kim@example.com"}, "password": {apitest.Password}}), http.StatusTooManyRequests)
	// A fresh address guessing wrong gets its one guess, then is refused.
	if r := passwordGrant(e, "kim@example.com", "wrong password", from("192.0.2.77")...); r.Status != http.StatusBadRequest {
		t.Fatalf("fresh guess: %d %s", r.Status, r.Body)
	}
	want429(t, passwordGrant(e, "kim@example.com", apitest.Password, from("192.0.2.77")...), 11, 15*time.Minute)
}

// TestRevokeConfidentialNeedsClientAuth: a confidential client's refresh
// or access token is revoked only with that client's authentication (RFC
// 7009 §2.1); the answer is 200 either way (issue 11, item 12).
func TestRevokeConfidentialNeedsClientAuth(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	fe.GitHub.SetUser(apitest.NewGitHubUser(8101, "cid", "", false))
	a := apitest.ConfidentialApp()
	auth := []string{"Authorization", apitest.BasicAuthHeader(a.ClientID, a.Secret)}
	live := func(tk apitest.Tokens) bool {
		return fe.Get("/users/me", apitest.Bearer(tk.AccessToken)...).Status == http.StatusOK
	}
	for _, kind := range []string{"refresh", "access"} {
		tk := fe.SignIn("github", a)
		tok := tk.RefreshToken
		if kind == "access" {
			tok = tk.AccessToken
		}
		if r := fe.PostForm("/revoke", url.Values{"token": {tok}}); r.Status != http.StatusOK {
			t.Fatalf("%s, no client authentication: %d %s", kind, r.Status, r.Body)
		}
		if !live(tk) {
			t.Fatalf("%s token revoked without the client's authentication", kind)
		}
		if r := fe.PostForm("/revoke", url.Values{"token": {tok}}, auth...); r.Status != http.StatusOK {
			t.Fatalf("%s, with client authentication: %d %s", kind, r.Status, r.Body)
		}
		if live(tk) {
			t.Fatalf("%s token not revoked with the client's authentication", kind)
		}
	}
	// A public client's token: possession still suffices.
	tk := fe.SignIn("github", apitest.PublicApp())
	fe.PostForm("/revoke", url.Values{"token": {tk.RefreshToken}})
	if live(tk) {
		t.Fatal("a public client's token was not revoked")
	}
}

// TestFailedSigninAuditKeepsNoTypedSecret: a failed sign-in whose user
// name is not an address (a password typed into the wrong field) leaves
// no trace of that text in the audit log; an address is kept (issue 11,
// item 13).
func TestFailedSigninAuditKeepsNoTypedSecret(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	const typed = "My Secret Passphrase 42"
	passwordGrant(e, typed, "whatever it is")
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	b.Post("/signin", url.Values{"email": {typed + "!"}, "password": {"whatever it is"}})
	passwordGrant(e, "Known@Example.com", "whatever it is")
	events, err := e.Store.ListAudit(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var failed, withAddr int
	for _, ev := range events {
		if ev.Action != accounts.ActionSignInFailed {
			continue
		}
		failed++
		u := ev.Details["username"]
		if strings.Contains(strings.ToLower(u), "secret passphrase") {
			t.Errorf("audit event holds the typed text: %q", u)
		}
		if u == "known@example.com" {
			withAddr++
		}
	}
	if failed != 3 || withAddr != 1 {
		t.Fatalf("%d failed sign-ins (%d with the address), want 3 (1)", failed, withAddr)
	}
}

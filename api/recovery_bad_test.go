package api_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

// countingGate runs every hashing job at once and counts them: each
// bcrypt comparison or hash is one.
type countingGate struct{ n atomic.Int64 }

func (g *countingGate) Run(_ context.Context, work func(), _ ...string) error {
	g.n.Add(1)
	work()
	return nil
}

// An address change and a deletion compare current_password once per
// request, right or wrong.
func TestCurrentPasswordComparedOnce(t *testing.T) {
	g := &countingGate{}
	e := apitest.NewEnv(t, apitest.EnvOptions{Gate: g})
	e.Signup("once@example.com", apitest.Password)
	me := apitest.Bearer(e.Login("once@example.com", apitest.Password).AccessToken)
	for _, tc := range []struct {
		what   string
		send   func(current string) apitest.Response
		Status int
	}{
		{"address change", func(cur string) apitest.Response {
			return e.PostJSON("/users/me/email", map[string]string{"email": "twice@example.com", "current_password": cur}, me...)
		}, http.StatusAccepted},
		{"deletion", func(cur string) apitest.Response {
			return deleteJSON(e, "/users/me", map[string]string{"current_password": cur}, me...)
		}, http.StatusNoContent},
	} {
		before := g.n.Load()
		apitest.WantError(t, tc.what+", wrong password", tc.send("not the password"), http.StatusBadRequest, "invalid_grant")
		apitest.WantStatus(t, tc.what, tc.send(apitest.Password), tc.Status)
		if n := g.n.Load() - before; n != 2 {
			t.Errorf("%s: %d password comparisons for two requests, want 2", tc.what, n)
		}
	}
}

// Wrong current_password guesses at the address change and the deletion
// share the sign-in counters: 429 once the limit is reached.
func TestRecoveryCurrentPasswordThrottled(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.Default().RateLimits)})
	e.Signup("guessed@example.com", apitest.Password)
	me := apitest.Bearer(e.Login("guessed@example.com", apitest.Password).AccessToken)
	for i := range 10 {
		var r apitest.Response
		if i%2 == 0 {
			r = e.PostJSON("/users/me/email", map[string]string{"email": "new@example.com", "current_password": "guess guess"}, me...)
		} else {
			r = deleteJSON(e, "/users/me", map[string]string{"current_password": "guess guess"}, me...)
		}
		apitest.WantError(t, "guess", r, http.StatusBadRequest, "invalid_grant")
	}
	want429(t, deleteJSON(e, "/users/me", map[string]string{"current_password": apitest.Password}, me...), 10, 15*time.Minute)
	e.Get("/users/me", me...) // still there
	evs, _ := e.Store.ListAudit(context.Background(), "", 50)
	failed := 0
	for _, ev := range evs {
		if ev.Action == accounts.ActionSignInFailed && ev.Details["reason"] == "wrong_current_password" {
			failed++
		}
	}
	if failed != 10 {
		t.Errorf("%d wrong current_password events, want 10", failed)
	}
}

// Expired links at each endpoint, a link used at another endpoint, and an
// address outside the allowed domains at the change.
func TestRecoveryLinksBadPaths(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.AllowedEmailDomains = []string{"example.com"} }})
	box := e.Outbox()
	const addr = "late@example.com"
	e.Signup(addr, apitest.Password)
	me := apitest.Bearer(e.Login(addr, apitest.Password).AccessToken)
	verify := box.Link(addr, "/verify-email")
	apitest.WantStatus(t, "forgot", e.PostJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
	reset := box.Link(addr, "/reset-password")
	apitest.WantStatus(t, "change", e.PostJSON("/users/me/email", map[string]string{"email": "moved@example.com", "current_password": apitest.Password}, me...), http.StatusAccepted)
	change := box.Link("moved@example.com", "/confirm-email")

	// Each link only at its own endpoint; a try elsewhere spends nothing.
	for _, tc := range []struct{ path, token string }{
		{"/verify-email", reset}, {"/verify-email", change},
		{"/confirm-email", verify}, {"/confirm-email", reset},
	} {
		apitest.WantError(t, tc.path+" with another link", e.PostJSON(tc.path, map[string]string{"token": tc.token}), http.StatusBadRequest, "invalid_grant")
	}
	apitest.WantError(t, "reset with a verification link", e.PostJSON("/password/reset", map[string]string{"token": verify, "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")
	// The token is checked before the new password.
	apitest.WantError(t, "bad token and weak password", e.PostJSON("/password/reset", map[string]string{"token": verify, "new_password": "x"}),
		http.StatusBadRequest, "invalid_grant")
	apitest.WantError(t, "change outside the allowed domains", e.PostJSON("/users/me/email",
		map[string]string{"email": "moved@example.org", "current_password": apitest.Password}, me...), http.StatusBadRequest, "invalid_request")
	apitest.WantError(t, "change without an address", e.PostJSON("/users/me/email", map[string]string{"current_password": apitest.Password}, me...),
		http.StatusBadRequest, "invalid_request")

	e.Clock.Advance(24*time.Hour + time.Second)
	for _, tc := range []struct{ path, token string }{{"/verify-email", verify}, {"/confirm-email", change}} {
		apitest.WantError(t, tc.path+" expired", e.PostJSON(tc.path, map[string]string{"token": tc.token}), http.StatusBadRequest, "invalid_grant")
	}
	apitest.WantError(t, "reset expired", e.PostJSON("/password/reset", map[string]string{"token": reset, "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")
	for _, path := range []string{"/verify-email", "/confirm-email", "/password/reset"} {
		apitest.WantError(t, path+" without a token", e.PostJSON(path, map[string]string{}), http.StatusBadRequest, "invalid_request")
	}
	e.Login(addr, apitest.Password) // nothing changed
}

// The verification resend is limited per client address like forgot, and
// both count together.
func TestResendRateLimitPerIP(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{
		EmailPerAddress: config.Rate{Limit: 5, Window: time.Hour},
		EmailPerIP:      config.Rate{Limit: 3, Window: time.Hour},
	})})
	apitest.WantStatus(t, "forgot", e.PostJSON("/password/forgot", map[string]string{"email": "a@example.com"}), http.StatusAccepted)
	apitest.WantStatus(t, "resend", e.PostJSON("/verify-email/resend", map[string]string{"email": "b@example.com"}), http.StatusAccepted)
	apitest.WantStatus(t, "resend", e.PostJSON("/verify-email/resend", map[string]string{"email": "c@example.com"}), http.StatusAccepted)
	r := e.PostJSON("/verify-email/resend", map[string]string{"email": "d@example.com"})
	apitest.WantError(t, "fourth from one address", r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	e.Clock.Advance(time.Hour)
	apitest.WantStatus(t, "after the window", e.PostJSON("/verify-email/resend", map[string]string{"email": "d@example.com"}), http.StatusAccepted)
}

// The signed-in sending endpoints are limited per address too: the
// user's own (verification) and the new one (address change).
func TestSignedInSendingLimited(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{
		EmailPerAddress: config.Rate{Limit: 2, Window: time.Hour},
		EmailPerIP:      config.Rate{Limit: 30, Window: time.Hour},
	})})
	e.Signup("loud@example.com", apitest.Password)
	me := apitest.Bearer(e.Login("loud@example.com", apitest.Password).AccessToken)
	for range 2 {
		apitest.WantStatus(t, "request verification", e.Do("POST", "/users/me/verify-email", "", nil, me...), http.StatusAccepted)
	}
	apitest.WantError(t, "third verification", e.Do("POST", "/users/me/verify-email", "", nil, me...), http.StatusTooManyRequests, "rate_limited")
	change := func() apitest.Response {
		return e.PostJSON("/users/me/email", map[string]string{"email": "target@example.com", "current_password": apitest.Password}, me...)
	}
	for range 2 {
		apitest.WantStatus(t, "address change", change(), http.StatusAccepted)
	}
	apitest.WantError(t, "third change to one address", change(), http.StatusTooManyRequests, "rate_limited")
}

// email.verification off: a sign-up mails nothing by itself; asking still
// sends a link.
func TestVerificationSwitchOff(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Email.Verification = new(false) }})
	box := e.Outbox()
	e.Signup("quiet@example.com", apitest.Password)
	me := apitest.Bearer(e.Login("quiet@example.com", apitest.Password).AccessToken)
	apitest.WantStatus(t, "request verification", e.Do("POST", "/users/me/verify-email", "", nil, me...), http.StatusAccepted)
	box.Link("quiet@example.com", "/verify-email")
	if n := box.Count("quiet@example.com"); n != 1 {
		t.Errorf("%d messages, want only the one asked for", n)
	}
}

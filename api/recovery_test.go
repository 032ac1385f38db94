package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

func meJSON(e *apitest.Env, access string) map[string]any {
	e.T.Helper()
	r := e.Get("/users/me", apitest.Bearer(access)...)
	if r.Status != http.StatusOK {
		e.T.Fatalf("GET /users/me: %d %s", r.Status, r.Body)
	}
	return r.JSON(e.T)
}

func deleteJSON(e *apitest.Env, path string, v any, header ...string) apitest.Response {
	e.T.Helper()
	b, _ := json.Marshal(v)
	return e.Do("DELETE", path, "application/json", bytes.NewReader(b), header...)
}

// The whole walk: sign up, verify, forget, reset, sign in with the new
// password; the old sessions are dead and the links single use.
func TestRecoveryWalk(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testRecoveryWalk(t, b) })
	}
}

func testRecoveryWalk(t *testing.T, b apitest.Backend) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
	box := e.Outbox()
	const addr = "walk@example.com"
	e.Signup(addr, "old-password-1")
	old := e.Login(addr, "old-password-1")
	if v, _ := meJSON(e, old.AccessToken)["email_verified"].(bool); v {
		t.Fatal("email_verified before verification")
	}

	vt := box.Link(addr, "/verify-email")
	apitest.WantStatus(t, "verify", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	if v, _ := meJSON(e, old.AccessToken)["email_verified"].(bool); !v {
		t.Fatal("email_verified still false after verification")
	}
	apitest.WantError(t, "verify again", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusBadRequest, "invalid_grant")

	r := e.PostJSON("/password/forgot", map[string]string{"email": addr})
	apitest.WantStatus(t, "forgot", r, http.StatusAccepted)
	if string(bytes.TrimSpace(r.Body)) != "{}" {
		t.Fatalf("forgot body %q, want {}", r.Body)
	}
	rt := box.Link(addr, "/reset-password")

	// A weak password leaves the token usable.
	apitest.WantError(t, "weak reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "short"}),
		http.StatusBadRequest, "invalid_request")
	// A tampered token is refused.
	tampered := []byte(rt)
	if tampered[0] == 'A' {
		tampered[0] = 'B'
	} else {
		tampered[0] = 'A'
	}
	apitest.WantError(t, "tampered reset", e.PostJSON("/password/reset", map[string]string{"token": string(tampered), "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")

	apitest.WantStatus(t, "reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-1"}), http.StatusNoContent)
	apitest.WantError(t, "reset again", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-2"}),
		http.StatusBadRequest, "invalid_grant")

	// Every old session is dead: the access token and the refresh token.
	e.WantEnded("old session after reset", old)
	if r := passwordGrant(e, addr, "old-password-1"); r.Status != http.StatusBadRequest {
		t.Fatalf("old password after reset: %d %s", r.Status, r.Body)
	}
	fresh := e.Login(addr, "new-password-1")
	apitest.WantStatus(t, "me with the new session", e.Get("/users/me", apitest.Bearer(fresh.AccessToken)...), http.StatusOK)
	// The reset also sent a notice.
	box.WaitCount(addr, 3) // the verification, the reset link and the notice
}

func TestForgotUnknownAddressAnswersAlike(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("known@example.com", "password-123")
	known := e.PostJSON("/password/forgot", map[string]string{"email": "known@example.com"})
	unknown := e.PostJSON("/password/forgot", map[string]string{"email": "nobody@example.com"})
	apitest.WantStatus(t, "forgot known", known, http.StatusAccepted)
	apitest.WantStatus(t, "forgot unknown", unknown, http.StatusAccepted)
	if !bytes.Equal(known.Body, unknown.Body) {
		t.Fatalf("bodies differ: %q vs %q", known.Body, unknown.Body)
	}
	resend := e.PostJSON("/verify-email/resend", map[string]string{"email": "nobody@example.com"})
	apitest.WantStatus(t, "resend unknown", resend, http.StatusAccepted)
	if !bytes.Equal(resend.Body, unknown.Body) {
		t.Fatalf("resend body %q, want %q", resend.Body, unknown.Body)
	}
	e.Outbox().Link("known@example.com", "/reset-password") // the known one got its link
	if n := e.Outbox().Count("nobody@example.com"); n != 0 {
		t.Fatalf("%d messages to an unknown address", n)
	}
	apitest.WantError(t, "forgot without email", e.PostJSON("/password/forgot", map[string]string{}), http.StatusBadRequest, "invalid_request")
}

func TestResetLinkExpires(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	const addr = "late@example.com"
	e.Signup(addr, "password-123")
	apitest.WantStatus(t, "forgot", e.PostJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
	rt := e.Outbox().Link(addr, "/reset-password")
	e.Clock.Advance(31 * time.Minute)
	apitest.WantError(t, "expired reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")
	apitest.WantError(t, "garbage token", e.PostJSON("/verify-email", map[string]string{"token": "not-a-token"}),
		http.StatusBadRequest, "invalid_grant")
}

// Forgot and resend are limited per address, unknown addresses counting
// like known ones, and per client address.
func TestForgotRateLimits(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{
		EmailPerAddress: config.Rate{Limit: 5, Window: time.Hour},
		EmailPerIP:      config.Rate{Limit: 12, Window: time.Hour},
	})})
	e.Signup("limited@example.com", "password-123")
	for _, addr := range []string{"limited@example.com", "ghost@example.com"} {
		for i := 0; i < 5; i++ {
			apitest.WantStatus(t, "forgot "+addr, e.PostJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
		}
		r := e.PostJSON("/verify-email/resend", map[string]string{"email": strings.ToUpper(addr)})
		apitest.WantError(t, "sixth request for "+addr, r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After")
		}
	}
	// 12 requests so far from this address: the per-IP limit is spent too.
	apitest.WantError(t, "per-IP limit", e.PostJSON("/password/forgot", map[string]string{"email": "third@example.com"}),
		http.StatusTooManyRequests, "rate_limited")
}

func TestVerificationResendAndMe(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := e.Outbox()
	const addr = "again@example.com"
	e.Signup(addr, "password-123")
	tk := e.Login(addr, "password-123")
	first := box.Link(addr, "/verify-email")
	r := e.Do("POST", "/users/me/verify-email", "", nil, apitest.Bearer(tk.AccessToken)...)
	apitest.WantStatus(t, "request verification", r, http.StatusAccepted)
	second := box.Link(addr, "/verify-email")
	apitest.WantStatus(t, "resend", e.PostJSON("/verify-email/resend", map[string]string{"email": addr}), http.StatusAccepted)
	third := box.Link(addr, "/verify-email")
	apitest.WantStatus(t, "verify with the second", e.PostJSON("/verify-email", map[string]string{"token": second}), http.StatusNoContent)
	// Verified: the other links are moot.
	for _, tok := range []string{first, third} {
		apitest.WantError(t, "other verification link", e.PostJSON("/verify-email", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_grant")
	}
	if r := e.Do("POST", "/users/me/verify-email", "", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without a bearer: %d", r.Status)
	}
}

func TestEmailChangeAndDeletion(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := e.Outbox()
	e.Signup("before@example.com", "password-123")
	e.Signup("taken@example.com", "password-123")
	oldVerify := box.Link("before@example.com", "/verify-email")
	tk := e.Login("before@example.com", "password-123")
	me := apitest.Bearer(tk.AccessToken)

	apitest.WantError(t, "change without password", e.PostJSON("/users/me/email", map[string]string{"email": "after@example.com"}, me...),
		http.StatusForbidden, "reauthentication_required")
	apitest.WantError(t, "change with a wrong password", e.PostJSON("/users/me/email",
		map[string]string{"email": "after@example.com", "current_password": "wrong-password"}, me...), http.StatusBadRequest, "invalid_grant")
	apitest.WantError(t, "change to a taken address", e.PostJSON("/users/me/email",
		map[string]string{"email": "taken@example.com", "current_password": "password-123"}, me...), http.StatusConflict, "email_taken")
	apitest.WantStatus(t, "change", e.PostJSON("/users/me/email",
		map[string]string{"email": "after@example.com", "current_password": "password-123"}, me...), http.StatusAccepted)
	ct := box.Link("after@example.com", "/confirm-email")
	apitest.WantStatus(t, "confirm", e.PostJSON("/confirm-email", map[string]string{"token": ct}), http.StatusNoContent)
	apitest.WantError(t, "confirm again", e.PostJSON("/confirm-email", map[string]string{"token": ct}), http.StatusBadRequest, "invalid_grant")
	// The verification link sent to the old address died with it.
	apitest.WantError(t, "old address's link", e.PostJSON("/verify-email", map[string]string{"token": oldVerify}), http.StatusBadRequest, "invalid_grant")
	got := meJSON(e, tk.AccessToken) // other sessions stay
	if got["email"] != "after@example.com" || got["email_verified"] != true {
		t.Fatalf("after the change: %v", got)
	}

	apitest.WantError(t, "delete without password", deleteJSON(e, "/users/me", map[string]string{}, me...),
		http.StatusForbidden, "reauthentication_required")
	apitest.WantStatus(t, "delete", deleteJSON(e, "/users/me", map[string]string{"current_password": "password-123"}, me...), http.StatusNoContent)
	if r := e.Get("/users/me", me...); r.Status != http.StatusUnauthorized {
		t.Fatalf("after deletion: %d %s", r.Status, r.Body)
	}
	apitest.WantError(t, "refresh after deletion", e.Refresh(tk.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if r := passwordGrant(e, "after@example.com", "password-123"); r.Status != http.StatusBadRequest {
		t.Fatalf("sign-in after deletion: %d %s", r.Status, r.Body)
	}
}

func TestSignupControl(t *testing.T) {
	off := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.Enabled = new(false) }})
	apitest.WantError(t, "signup disabled", off.PostJSON("/signup", map[string]string{"email": "a@example.com", "password": "password-123"}),
		http.StatusForbidden, "signup_disabled")

	dom := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.AllowedEmailDomains = []string{"corp.example"} }})
	apitest.WantError(t, "domain not allowed", dom.PostJSON("/signup", map[string]string{"email": "a@example.com", "password": "password-123"}),
		http.StatusBadRequest, "invalid_request")
	dom.Signup("a@corp.example", "password-123")
}

func TestRequireVerifiedEmail(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.RequireVerifiedEmail = new(true) }})
	const addr = "strict@example.com"
	e.Signup(addr, "password-123")
	apitest.WantError(t, "unverified sign-in", passwordGrant(e, addr, "password-123"), http.StatusBadRequest, "email_not_verified")
	apitest.WantError(t, "wrong password", passwordGrant(e, addr, "wrong-password"), http.StatusBadRequest, "invalid_grant")
	vt := e.Outbox().Link(addr, "/verify-email")
	apitest.WantStatus(t, "verify", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	e.Login(addr, "password-123")
}

// The address is checked again at confirmation; a reset verifies the
// address it was sent to.
func TestConfirmEmailTakenMeanwhileAndResetVerifies(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := e.Outbox()
	e.Signup("mover@example.com", "password-123")
	tk := e.Login("mover@example.com", "password-123")
	apitest.WantStatus(t, "change", e.PostJSON("/users/me/email",
		map[string]string{"email": "wanted@example.com", "current_password": "password-123"}, apitest.Bearer(tk.AccessToken)...), http.StatusAccepted)
	ct := box.Link("wanted@example.com", "/confirm-email")
	e.Signup("wanted@example.com", "password-456")
	apitest.WantError(t, "confirm a taken address", e.PostJSON("/confirm-email", map[string]string{"token": ct}), http.StatusConflict, "email_taken")
	if got := meJSON(e, tk.AccessToken)["email"]; got != "mover@example.com" {
		t.Fatalf("address after a refused confirmation: %v", got)
	}

	apitest.WantStatus(t, "forgot", e.PostJSON("/password/forgot", map[string]string{"email": "mover@example.com"}), http.StatusAccepted)
	rt := box.Link("mover@example.com", "/reset-password")
	apitest.WantStatus(t, "reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "password-789"}), http.StatusNoContent)
	fresh := e.Login("mover@example.com", "password-789")
	if v, _ := meJSON(e, fresh.AccessToken)["email_verified"].(bool); !v {
		t.Fatal("a reset did not verify the address")
	}
}

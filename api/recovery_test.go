package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts/mail/mailtest"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

// outbox reads the messages the service wrote to <data_dir>/outbox.
type outbox struct {
	E   *apitest.Env
	box *mailtest.Outbox
}

func newOutbox(e *apitest.Env) *outbox {
	return &outbox{E: e, box: mailtest.NewOutbox(filepath.Join(e.Cfg.DataDir, "outbox"))}
}

// link waits for the next unread message to `to` with a <issuer><path>
// link and returns its token.
func (o *outbox) link(to, path string) string {
	o.E.T.Helper()
	return o.box.Link(o.E.T, to, o.E.URL+path)
}

// count is how many messages to `to` are in the outbox now.
func (o *outbox) count(to string) int { return o.box.Count(to) }

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

func wantStatus(t testing.TB, what string, r apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

func wantError(t testing.TB, what string, r apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
	if got := r.ErrCode(t); got != code {
		t.Fatalf("%s: error %q, want %q", what, got, code)
	}
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
	box := newOutbox(e)
	const addr = "walk@example.com"
	e.Signup(addr, "old-password-1")
	old := e.Login(addr, "old-password-1")
	if v, _ := meJSON(e, old.AccessToken)["email_verified"].(bool); v {
		t.Fatal("email_verified before verification")
	}

	vt := box.link(addr, "/verify-email")
	wantStatus(t, "verify", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	if v, _ := meJSON(e, old.AccessToken)["email_verified"].(bool); !v {
		t.Fatal("email_verified still false after verification")
	}
	wantError(t, "verify again", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusBadRequest, "invalid_grant")

	r := e.PostJSON("/password/forgot", map[string]string{"email": addr})
	wantStatus(t, "forgot", r, http.StatusAccepted)
	if string(bytes.TrimSpace(r.Body)) != "{}" {
		t.Fatalf("forgot body %q, want {}", r.Body)
	}
	rt := box.link(addr, "/reset-password")

	// A weak password leaves the token usable.
	wantError(t, "weak reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "short"}),
		http.StatusBadRequest, "invalid_request")
	// A tampered token is refused.
	tampered := []byte(rt)
	if tampered[0] == 'A' {
		tampered[0] = 'B'
	} else {
		tampered[0] = 'A'
	}
	wantError(t, "tampered reset", e.PostJSON("/password/reset", map[string]string{"token": string(tampered), "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")

	wantStatus(t, "reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-1"}), http.StatusNoContent)
	wantError(t, "reset again", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-2"}),
		http.StatusBadRequest, "invalid_grant")

	// Every old session is dead: the access token and the refresh token.
	if r := e.Get("/users/me", apitest.Bearer(old.AccessToken)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("old access token after reset: %d %s", r.Status, r.Body)
	}
	wantError(t, "old refresh after reset", e.Refresh(old.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if r := passwordGrant(e, addr, "old-password-1"); r.Status != http.StatusBadRequest {
		t.Fatalf("old password after reset: %d %s", r.Status, r.Body)
	}
	fresh := e.Login(addr, "new-password-1")
	wantStatus(t, "me with the new session", e.Get("/users/me", apitest.Bearer(fresh.AccessToken)...), http.StatusOK)
	// The reset also sent a notice.
	box.box.WaitCount(t, addr, 3) // the verification, the reset link and the notice
}

func TestForgotUnknownAddressAnswersAlike(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("known@example.com", "password-123")
	known := e.PostJSON("/password/forgot", map[string]string{"email": "known@example.com"})
	unknown := e.PostJSON("/password/forgot", map[string]string{"email": "nobody@example.com"})
	wantStatus(t, "forgot known", known, http.StatusAccepted)
	wantStatus(t, "forgot unknown", unknown, http.StatusAccepted)
	if !bytes.Equal(known.Body, unknown.Body) {
		t.Fatalf("bodies differ: %q vs %q", known.Body, unknown.Body)
	}
	resend := e.PostJSON("/verify-email/resend", map[string]string{"email": "nobody@example.com"})
	wantStatus(t, "resend unknown", resend, http.StatusAccepted)
	if !bytes.Equal(resend.Body, unknown.Body) {
		t.Fatalf("resend body %q, want %q", resend.Body, unknown.Body)
	}
	newOutbox(e).link("known@example.com", "/reset-password") // the known one got its link
	if n := newOutbox(e).count("nobody@example.com"); n != 0 {
		t.Fatalf("%d messages to an unknown address", n)
	}
	wantError(t, "forgot without email", e.PostJSON("/password/forgot", map[string]string{}), http.StatusBadRequest, "invalid_request")
}

func TestResetLinkExpires(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	const addr = "late@example.com"
	e.Signup(addr, "password-123")
	wantStatus(t, "forgot", e.PostJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
	rt := newOutbox(e).link(addr, "/reset-password")
	e.Clock.Advance(31 * time.Minute)
	wantError(t, "expired reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")
	wantError(t, "garbage token", e.PostJSON("/verify-email", map[string]string{"token": "not-a-token"}),
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
			wantStatus(t, "forgot "+addr, e.PostJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
		}
		r := e.PostJSON("/verify-email/resend", map[string]string{"email": strings.ToUpper(addr)})
		wantError(t, "sixth request for "+addr, r, http.StatusTooManyRequests, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After")
		}
	}
	// 12 requests so far from this address: the per-IP limit is spent too.
	wantError(t, "per-IP limit", e.PostJSON("/password/forgot", map[string]string{"email": "third@example.com"}),
		http.StatusTooManyRequests, "rate_limited")
}

func TestVerificationResendAndMe(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := newOutbox(e)
	const addr = "again@example.com"
	e.Signup(addr, "password-123")
	tk := e.Login(addr, "password-123")
	first := box.link(addr, "/verify-email")
	r := e.Do("POST", "/users/me/verify-email", "", nil, apitest.Bearer(tk.AccessToken)...)
	wantStatus(t, "request verification", r, http.StatusAccepted)
	second := box.link(addr, "/verify-email")
	wantStatus(t, "resend", e.PostJSON("/verify-email/resend", map[string]string{"email": addr}), http.StatusAccepted)
	third := box.link(addr, "/verify-email")
	wantStatus(t, "verify with the second", e.PostJSON("/verify-email", map[string]string{"token": second}), http.StatusNoContent)
	// Verified: the other links are moot.
	for _, tok := range []string{first, third} {
		wantError(t, "other verification link", e.PostJSON("/verify-email", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_grant")
	}
	if r := e.Do("POST", "/users/me/verify-email", "", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without a bearer: %d", r.Status)
	}
}

func TestEmailChangeAndDeletion(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := newOutbox(e)
	e.Signup("before@example.com", "password-123")
	e.Signup("taken@example.com", "password-123")
	oldVerify := box.link("before@example.com", "/verify-email")
	tk := e.Login("before@example.com", "password-123")
	me := apitest.Bearer(tk.AccessToken)

	wantError(t, "change without password", e.PostJSON("/users/me/email", map[string]string{"email": "after@example.com"}, me...),
		http.StatusForbidden, "reauthentication_required")
	wantError(t, "change with a wrong password", e.PostJSON("/users/me/email",
		map[string]string{"email": "after@example.com", "current_password": "wrong-password"}, me...), http.StatusBadRequest, "invalid_grant")
	wantError(t, "change to a taken address", e.PostJSON("/users/me/email",
		map[string]string{"email": "taken@example.com", "current_password": "password-123"}, me...), http.StatusConflict, "email_taken")
	wantStatus(t, "change", e.PostJSON("/users/me/email",
		map[string]string{"email": "after@example.com", "current_password": "password-123"}, me...), http.StatusAccepted)
	ct := box.link("after@example.com", "/confirm-email")
	wantStatus(t, "confirm", e.PostJSON("/confirm-email", map[string]string{"token": ct}), http.StatusNoContent)
	wantError(t, "confirm again", e.PostJSON("/confirm-email", map[string]string{"token": ct}), http.StatusBadRequest, "invalid_grant")
	// The verification link sent to the old address died with it.
	wantError(t, "old address's link", e.PostJSON("/verify-email", map[string]string{"token": oldVerify}), http.StatusBadRequest, "invalid_grant")
	got := meJSON(e, tk.AccessToken) // other sessions stay
	if got["email"] != "after@example.com" || got["email_verified"] != true {
		t.Fatalf("after the change: %v", got)
	}

	wantError(t, "delete without password", deleteJSON(e, "/users/me", map[string]string{}, me...),
		http.StatusForbidden, "reauthentication_required")
	wantStatus(t, "delete", deleteJSON(e, "/users/me", map[string]string{"current_password": "password-123"}, me...), http.StatusNoContent)
	if r := e.Get("/users/me", me...); r.Status != http.StatusUnauthorized {
		t.Fatalf("after deletion: %d %s", r.Status, r.Body)
	}
	wantError(t, "refresh after deletion", e.Refresh(tk.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if r := passwordGrant(e, "after@example.com", "password-123"); r.Status != http.StatusBadRequest {
		t.Fatalf("sign-in after deletion: %d %s", r.Status, r.Body)
	}
}

func TestSignupControl(t *testing.T) {
	off := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.Enabled = new(false) }})
	wantError(t, "signup disabled", off.PostJSON("/signup", map[string]string{"email": "a@example.com", "password": "password-123"}),
		http.StatusForbidden, "signup_disabled")

	dom := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.AllowedEmailDomains = []string{"corp.example"} }})
	wantError(t, "domain not allowed", dom.PostJSON("/signup", map[string]string{"email": "a@example.com", "password": "password-123"}),
		http.StatusBadRequest, "invalid_request")
	dom.Signup("a@corp.example", "password-123")
}

func TestRequireVerifiedEmail(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.RequireVerifiedEmail = new(true) }})
	const addr = "strict@example.com"
	e.Signup(addr, "password-123")
	wantError(t, "unverified sign-in", passwordGrant(e, addr, "password-123"), http.StatusBadRequest, "email_not_verified")
	wantError(t, "wrong password", passwordGrant(e, addr, "wrong-password"), http.StatusBadRequest, "invalid_grant")
	vt := newOutbox(e).link(addr, "/verify-email")
	wantStatus(t, "verify", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	e.Login(addr, "password-123")
}

// The address is checked again at confirmation; a reset verifies the
// address it was sent to.
func TestConfirmEmailTakenMeanwhileAndResetVerifies(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := newOutbox(e)
	e.Signup("mover@example.com", "password-123")
	tk := e.Login("mover@example.com", "password-123")
	wantStatus(t, "change", e.PostJSON("/users/me/email",
		map[string]string{"email": "wanted@example.com", "current_password": "password-123"}, apitest.Bearer(tk.AccessToken)...), http.StatusAccepted)
	ct := box.link("wanted@example.com", "/confirm-email")
	e.Signup("wanted@example.com", "password-456")
	wantError(t, "confirm a taken address", e.PostJSON("/confirm-email", map[string]string{"token": ct}), http.StatusConflict, "email_taken")
	if got := meJSON(e, tk.AccessToken)["email"]; got != "mover@example.com" {
		t.Fatalf("address after a refused confirmation: %v", got)
	}

	wantStatus(t, "forgot", e.PostJSON("/password/forgot", map[string]string{"email": "mover@example.com"}), http.StatusAccepted)
	rt := box.link("mover@example.com", "/reset-password")
	wantStatus(t, "reset", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "password-789"}), http.StatusNoContent)
	fresh := e.Login("mover@example.com", "password-789")
	if v, _ := meJSON(e, fresh.AccessToken)["email_verified"].(bool); !v {
		t.Fatal("a reset did not verify the address")
	}
}

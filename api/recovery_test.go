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
	"github.com/unilogin/unilogin/config"
)

// outbox reads the messages the service wrote to <data_dir>/outbox.
type outbox struct {
	e   *env
	box *mailtest.Outbox
}

func (e *env) outbox() *outbox {
	return &outbox{e: e, box: mailtest.NewOutbox(filepath.Join(e.cfg.DataDir, "outbox"))}
}

// link waits for the next unread message to `to` with a <issuer><path>
// link and returns its token.
func (o *outbox) link(to, path string) string {
	o.e.t.Helper()
	return o.box.Link(o.e.t, to, o.e.url+path)
}

// count is how many messages to `to` are in the outbox now.
func (o *outbox) count(to string) int { return o.box.Count(to) }

func (e *env) meJSON(access string) map[string]any {
	e.t.Helper()
	r := e.get("/users/me", bearer(access)...)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /users/me: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) deleteJSON(path string, v any, header ...string) response {
	e.t.Helper()
	b, _ := json.Marshal(v)
	return e.do("DELETE", path, "application/json", bytes.NewReader(b), header...)
}

func wantStatus(t testing.TB, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.status, r.body, status)
	}
}

func wantError(t testing.TB, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
	}
	if got := r.errCode(t); got != code {
		t.Fatalf("%s: error %q, want %q", what, got, code)
	}
}

// The whole walk: sign up, verify, forget, reset, sign in with the new
// password; the old sessions are dead and the links single use.
func TestRecoveryWalk(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { testRecoveryWalk(t, b) })
	}
}

func testRecoveryWalk(t *testing.T, b backend) {
	e := newEnv(t, envOptions{backend: b})
	box := e.outbox()
	const addr = "walk@example.com"
	e.signup(addr, "old-password-1")
	old := e.login(addr, "old-password-1")
	if v, _ := e.meJSON(old.AccessToken)["email_verified"].(bool); v {
		t.Fatal("email_verified before verification")
	}

	vt := box.link(addr, "/verify-email")
	wantStatus(t, "verify", e.postJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	if v, _ := e.meJSON(old.AccessToken)["email_verified"].(bool); !v {
		t.Fatal("email_verified still false after verification")
	}
	wantError(t, "verify again", e.postJSON("/verify-email", map[string]string{"token": vt}), http.StatusBadRequest, "invalid_grant")

	r := e.postJSON("/password/forgot", map[string]string{"email": addr})
	wantStatus(t, "forgot", r, http.StatusAccepted)
	if string(bytes.TrimSpace(r.body)) != "{}" {
		t.Fatalf("forgot body %q, want {}", r.body)
	}
	rt := box.link(addr, "/reset-password")

	// A weak password leaves the token usable.
	wantError(t, "weak reset", e.postJSON("/password/reset", map[string]string{"token": rt, "new_password": "short"}),
		http.StatusBadRequest, "invalid_request")
	// A tampered token is refused.
	tampered := []byte(rt)
	if tampered[0] == 'A' {
		tampered[0] = 'B'
	} else {
		tampered[0] = 'A'
	}
	wantError(t, "tampered reset", e.postJSON("/password/reset", map[string]string{"token": string(tampered), "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")

	wantStatus(t, "reset", e.postJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-1"}), http.StatusNoContent)
	wantError(t, "reset again", e.postJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-2"}),
		http.StatusBadRequest, "invalid_grant")

	// Every old session is dead: the access token and the refresh token.
	if r := e.get("/users/me", bearer(old.AccessToken)...); r.status != http.StatusUnauthorized {
		t.Fatalf("old access token after reset: %d %s", r.status, r.body)
	}
	wantError(t, "old refresh after reset", e.refresh(old.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if r := e.passwordGrant(addr, "old-password-1"); r.status != http.StatusBadRequest {
		t.Fatalf("old password after reset: %d %s", r.status, r.body)
	}
	fresh := e.login(addr, "new-password-1")
	wantStatus(t, "me with the new session", e.get("/users/me", bearer(fresh.AccessToken)...), http.StatusOK)
	// The reset also sent a notice.
	box.box.WaitCount(t, addr, 3) // the verification, the reset link and the notice
}

func TestForgotUnknownAddressAnswersAlike(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signup("known@example.com", "password-123")
	known := e.postJSON("/password/forgot", map[string]string{"email": "known@example.com"})
	unknown := e.postJSON("/password/forgot", map[string]string{"email": "nobody@example.com"})
	wantStatus(t, "forgot known", known, http.StatusAccepted)
	wantStatus(t, "forgot unknown", unknown, http.StatusAccepted)
	if !bytes.Equal(known.body, unknown.body) {
		t.Fatalf("bodies differ: %q vs %q", known.body, unknown.body)
	}
	resend := e.postJSON("/verify-email/resend", map[string]string{"email": "nobody@example.com"})
	wantStatus(t, "resend unknown", resend, http.StatusAccepted)
	if !bytes.Equal(resend.body, unknown.body) {
		t.Fatalf("resend body %q, want %q", resend.body, unknown.body)
	}
	e.outbox().link("known@example.com", "/reset-password") // the known one got its link
	if n := e.outbox().count("nobody@example.com"); n != 0 {
		t.Fatalf("%d messages to an unknown address", n)
	}
	wantError(t, "forgot without email", e.postJSON("/password/forgot", map[string]string{}), http.StatusBadRequest, "invalid_request")
}

func TestResetLinkExpires(t *testing.T) {
	e := newEnv(t, envOptions{})
	const addr = "late@example.com"
	e.signup(addr, "password-123")
	wantStatus(t, "forgot", e.postJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
	rt := e.outbox().link(addr, "/reset-password")
	e.clock.Advance(31 * time.Minute)
	wantError(t, "expired reset", e.postJSON("/password/reset", map[string]string{"token": rt, "new_password": "new-password-1"}),
		http.StatusBadRequest, "invalid_grant")
	wantError(t, "garbage token", e.postJSON("/verify-email", map[string]string{"token": "not-a-token"}),
		http.StatusBadRequest, "invalid_grant")
}

// Forgot and resend are limited per address, unknown addresses counting
// like known ones, and per client address.
func TestForgotRateLimits(t *testing.T) {
	e := newEnv(t, envOptions{mutate: withLimits(config.RateLimits{
		EmailPerAddress: config.Rate{Limit: 5, Window: time.Hour},
		EmailPerIP:      config.Rate{Limit: 12, Window: time.Hour},
	})})
	e.signup("limited@example.com", "password-123")
	for _, addr := range []string{"limited@example.com", "ghost@example.com"} {
		for i := 0; i < 5; i++ {
			wantStatus(t, "forgot "+addr, e.postJSON("/password/forgot", map[string]string{"email": addr}), http.StatusAccepted)
		}
		r := e.postJSON("/verify-email/resend", map[string]string{"email": strings.ToUpper(addr)})
		wantError(t, "sixth request for "+addr, r, http.StatusTooManyRequests, "rate_limited")
		if r.header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After")
		}
	}
	// 12 requests so far from this address: the per-IP limit is spent too.
	wantError(t, "per-IP limit", e.postJSON("/password/forgot", map[string]string{"email": "third@example.com"}),
		http.StatusTooManyRequests, "rate_limited")
}

func TestVerificationResendAndMe(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.outbox()
	const addr = "again@example.com"
	e.signup(addr, "password-123")
	tk := e.login(addr, "password-123")
	first := box.link(addr, "/verify-email")
	r := e.do("POST", "/users/me/verify-email", "", nil, bearer(tk.AccessToken)...)
	wantStatus(t, "request verification", r, http.StatusAccepted)
	second := box.link(addr, "/verify-email")
	wantStatus(t, "resend", e.postJSON("/verify-email/resend", map[string]string{"email": addr}), http.StatusAccepted)
	third := box.link(addr, "/verify-email")
	wantStatus(t, "verify with the second", e.postJSON("/verify-email", map[string]string{"token": second}), http.StatusNoContent)
	// Verified: the other links are moot.
	for _, tok := range []string{first, third} {
		wantError(t, "other verification link", e.postJSON("/verify-email", map[string]string{"token": tok}), http.StatusBadRequest, "invalid_grant")
	}
	if r := e.do("POST", "/users/me/verify-email", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("without a bearer: %d", r.status)
	}
}

func TestEmailChangeAndDeletion(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.outbox()
	e.signup("before@example.com", "password-123")
	e.signup("taken@example.com", "password-123")
	oldVerify := box.link("before@example.com", "/verify-email")
	tk := e.login("before@example.com", "password-123")
	me := bearer(tk.AccessToken)

	wantError(t, "change without password", e.postJSON("/users/me/email", map[string]string{"email": "after@example.com"}, me...),
		http.StatusForbidden, "reauthentication_required")
	wantError(t, "change with a wrong password", e.postJSON("/users/me/email",
		map[string]string{"email": "after@example.com", "current_password": "wrong-password"}, me...), http.StatusBadRequest, "invalid_grant")
	wantError(t, "change to a taken address", e.postJSON("/users/me/email",
		map[string]string{"email": "taken@example.com", "current_password": "password-123"}, me...), http.StatusConflict, "email_taken")
	wantStatus(t, "change", e.postJSON("/users/me/email",
		map[string]string{"email": "after@example.com", "current_password": "password-123"}, me...), http.StatusAccepted)
	ct := box.link("after@example.com", "/confirm-email")
	wantStatus(t, "confirm", e.postJSON("/confirm-email", map[string]string{"token": ct}), http.StatusNoContent)
	wantError(t, "confirm again", e.postJSON("/confirm-email", map[string]string{"token": ct}), http.StatusBadRequest, "invalid_grant")
	// The verification link sent to the old address died with it.
	wantError(t, "old address's link", e.postJSON("/verify-email", map[string]string{"token": oldVerify}), http.StatusBadRequest, "invalid_grant")
	got := e.meJSON(tk.AccessToken) // other sessions stay
	if got["email"] != "after@example.com" || got["email_verified"] != true {
		t.Fatalf("after the change: %v", got)
	}

	wantError(t, "delete without password", e.deleteJSON("/users/me", map[string]string{}, me...),
		http.StatusForbidden, "reauthentication_required")
	wantStatus(t, "delete", e.deleteJSON("/users/me", map[string]string{"current_password": "password-123"}, me...), http.StatusNoContent)
	if r := e.get("/users/me", me...); r.status != http.StatusUnauthorized {
		t.Fatalf("after deletion: %d %s", r.status, r.body)
	}
	wantError(t, "refresh after deletion", e.refresh(tk.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if r := e.passwordGrant("after@example.com", "password-123"); r.status != http.StatusBadRequest {
		t.Fatalf("sign-in after deletion: %d %s", r.status, r.body)
	}
}

func TestSignupControl(t *testing.T) {
	off := newEnv(t, envOptions{mutate: func(c *config.Config) { c.Signup.Enabled = new(false) }})
	wantError(t, "signup disabled", off.postJSON("/signup", map[string]string{"email": "a@example.com", "password": "password-123"}),
		http.StatusForbidden, "signup_disabled")

	dom := newEnv(t, envOptions{mutate: func(c *config.Config) { c.Signup.AllowedEmailDomains = []string{"corp.example"} }})
	wantError(t, "domain not allowed", dom.postJSON("/signup", map[string]string{"email": "a@example.com", "password": "password-123"}),
		http.StatusBadRequest, "invalid_request")
	dom.signup("a@corp.example", "password-123")
}

func TestRequireVerifiedEmail(t *testing.T) {
	e := newEnv(t, envOptions{mutate: func(c *config.Config) { c.Signup.RequireVerifiedEmail = new(true) }})
	const addr = "strict@example.com"
	e.signup(addr, "password-123")
	wantError(t, "unverified sign-in", e.passwordGrant(addr, "password-123"), http.StatusBadRequest, "email_not_verified")
	wantError(t, "wrong password", e.passwordGrant(addr, "wrong-password"), http.StatusBadRequest, "invalid_grant")
	vt := e.outbox().link(addr, "/verify-email")
	wantStatus(t, "verify", e.postJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	e.login(addr, "password-123")
}

// The address is checked again at confirmation; a reset verifies the
// address it was sent to.
func TestConfirmEmailTakenMeanwhileAndResetVerifies(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.outbox()
	e.signup("mover@example.com", "password-123")
	tk := e.login("mover@example.com", "password-123")
	wantStatus(t, "change", e.postJSON("/users/me/email",
		map[string]string{"email": "wanted@example.com", "current_password": "password-123"}, bearer(tk.AccessToken)...), http.StatusAccepted)
	ct := box.link("wanted@example.com", "/confirm-email")
	e.signup("wanted@example.com", "password-456")
	wantError(t, "confirm a taken address", e.postJSON("/confirm-email", map[string]string{"token": ct}), http.StatusConflict, "email_taken")
	if got := e.meJSON(tk.AccessToken)["email"]; got != "mover@example.com" {
		t.Fatalf("address after a refused confirmation: %v", got)
	}

	wantStatus(t, "forgot", e.postJSON("/password/forgot", map[string]string{"email": "mover@example.com"}), http.StatusAccepted)
	rt := box.link("mover@example.com", "/reset-password")
	wantStatus(t, "reset", e.postJSON("/password/reset", map[string]string{"token": rt, "new_password": "password-789"}), http.StatusNoContent)
	fresh := e.login("mover@example.com", "password-789")
	if v, _ := e.meJSON(fresh.AccessToken)["email_verified"].(bool); !v {
		t.Fatal("a reset did not verify the address")
	}
}

package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/config"
)

// The link pages: a GET only shows the form, the post needs the CSRF
// token, bad and used links get the dead-link page, a weak password keeps
// the reset link usable, and JSON posts to the same paths still reach the
// API.
func TestHostedLinkPages(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.outbox()
	const addr = "pages@example.com"
	e.signup(addr, pw)
	vt := box.link(addr, "/verify-email")
	b := newBrowser(t, e)

	for i := 0; i < 2; i++ { // a link scanner's GETs spend nothing
		isPage(t, b.get("/verify-email?token="+vt), 200, `name="token" value="`+vt+`"`, `action="/verify-email"`)
	}
	if v, _ := e.meJSON(e.login(addr, pw).AccessToken)["email_verified"].(bool); v {
		t.Fatal("GET of the link verified the address")
	}
	isPage(t, b.post("/verify-email", url.Values{"token": {vt}, "csrf": {"-"}}), 403)
	isPage(t, b.post("/verify-email", url.Values{"token": {"tampered" + vt[8:]}}), 400, "invalid, has already been used or has expired")
	isPage(t, b.post("/verify-email", url.Values{"token": {vt}}), 200, "is verified")
	isPage(t, b.post("/verify-email", url.Values{"token": {vt}}), 400, "has already been used")
	isPage(t, b.get("/verify-email"), 400, "This link does not work")
	// The JSON endpoint on the same path is the API's.
	wantError(t, "JSON verify", e.postJSON("/verify-email", map[string]string{"token": vt}), http.StatusBadRequest, "invalid_grant")

	// Forgot: the same page for every address, a link only to the account.
	b.get("/forgot")
	known := b.post("/forgot", url.Values{"email": {addr}})
	unknown := b.post("/forgot", url.Values{"email": {"nobody@example.com"}})
	isPage(t, known, 200, "Check your email")
	isPage(t, unknown, 200, "Check your email")
	if strings.ReplaceAll(string(known.body), addr, "X") != strings.ReplaceAll(string(unknown.body), "nobody@example.com", "X") {
		t.Error("the forgot pages of a known and an unknown address differ")
	}
	isPage(t, b.post("/forgot", url.Values{"email": {""}}), 400, `id="email-error"`)
	rt := box.link(addr, "/reset-password")
	isPage(t, b.get("/reset-password?token="+rt), 200, `id="new_password"`)
	weak := b.post("/reset-password", url.Values{"token": {rt}, "new_password": {"short"}})
	isPage(t, weak, 400, `id="new-error"`, "The password must")
	isPage(t, b.post("/reset-password", url.Values{"token": {rt}, "new_password": {"a new fine passphrase"}}), 200, "Password changed")
	isPage(t, b.post("/reset-password", url.Values{"token": {rt}, "new_password": {"another passphrase"}}), 400, `href="/forgot"`)
	e.login(addr, "a new fine passphrase")
	if n := box.count("nobody@example.com"); n != 0 {
		t.Errorf("%d messages to an unknown address", n)
	}
}

// The account page: the verification state and resend, an address
// change asking for the password, and a deletion.
func TestHostedAccountEmail(t *testing.T) {
	e := newEnv(t, envOptions{})
	box := e.outbox()
	const addr = "acct@example.com"
	e.signup(addr, pw)
	box.link(addr, "/verify-email")
	e.signup("taken@example.com", pw)
	b := newBrowser(t, e)
	b.get("/signin")
	b.post("/signin", url.Values{"email": {addr}, "password": {pw}})
	isPage(t, b.get("/account"), 200, "is not verified yet", `id="resend-verification"`, `id="delete-account"`)
	if r := b.post("/account/verify-email", nil); r.status != http.StatusSeeOther {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	box.link(addr, "/verify-email")

	b.get("/account")
	isPage(t, b.post("/account/email", url.Values{"new_email": {"new@example.com"}}), 403, `id="email-current-error"`)
	isPage(t, b.post("/account/email", url.Values{"new_email": {"new@example.com"}, "email_current_password": {"wrong one"}}), 400, "incorrect")
	isPage(t, b.post("/account/email", url.Values{"new_email": {"taken@example.com"}, "email_current_password": {pw}}), 409, `id="new-email-error"`)
	isPage(t, b.post("/account/email", url.Values{"new_email": {"not an address"}, "email_current_password": {pw}}), 400, "The email address")
	isPage(t, b.post("/account/email", url.Values{"new_email": {"new@example.com"}, "email_current_password": {pw}}), 200, "We sent a link to new@example.com")
	ct := box.link("new@example.com", "/confirm-email")
	isPage(t, b.get("/confirm-email?token="+ct), 200, `action="/confirm-email"`)
	isPage(t, b.post("/confirm-email", url.Values{"token": {ct}}), 200, "now new@example.com")

	b.get("/account")
	isPage(t, b.post("/account/delete", url.Values{}), 403, `id="delete-current-error"`)
	isPage(t, b.post("/account/delete", url.Values{"delete_current_password": {pw}}), 200, "Account deleted")
	if r := b.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("account page after deletion: %d", r.status)
	}
	if r := e.passwordGrant("new@example.com", pw); r.status != http.StatusBadRequest {
		t.Fatalf("sign-in after deletion: %d", r.status)
	}
}

// Sign-up switched off: no sign-up link, and /register says so.
func TestHostedSignupDisabled(t *testing.T) {
	e := newEnv(t, envOptions{mutate: func(c *config.Config) { c.Signup.Enabled = new(false) }})
	b := newBrowser(t, e)
	r := b.get("/signin")
	isPage(t, r, 200, `id="forgot-link"`)
	if strings.Contains(string(r.body), `id="signup-link"`) {
		t.Error("the sign-in page links to sign-up while it is disabled")
	}
	isPage(t, b.get("/register"), 403, "Sign-up is closed")
}

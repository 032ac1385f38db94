package hosted_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

// The link pages: a GET only shows the form, the post needs the CSRF
// token, bad and used links get the dead-link page, a weak password keeps
// the reset link usable, and JSON posts to the same paths still reach the
// API.
func TestHostedLinkPages(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := e.Outbox()
	const addr = "pages@example.com"
	e.Signup(addr, apitest.Password)
	vt := box.Link(addr, "/verify-email")
	b := apitest.NewBrowser(t, e)

	for i := 0; i < 2; i++ { // a link scanner's GETs spend nothing
		apitest.IsPage(t, b.Get("/verify-email?token="+vt), 200, `name="token" value="`+vt+`"`, `action="/verify-email"`)
	}
	if emailVerified(t, e, addr) {
		t.Fatal("GET of the link verified the address")
	}
	apitest.IsPage(t, b.Post("/verify-email", url.Values{"token": {vt}, "csrf": {"-"}}), 403)
	apitest.IsPage(t, b.Post("/verify-email", url.Values{"token": {"tampered" + vt[8:]}}), 400, "invalid, has already been used or has expired")
	apitest.IsPage(t, b.Post("/verify-email", url.Values{"token": {vt}}), 200, "is verified")
	apitest.IsPage(t, b.Post("/verify-email", url.Values{"token": {vt}}), 400, "has already been used")
	apitest.IsPage(t, b.Get("/verify-email"), 400, "This link does not work")
	// The JSON endpoint on the same path is the API's.
	apitest.WantError(t, "JSON verify", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusBadRequest, "invalid_grant")

	// Forgot: the same page for every address, a link only to the account.
	b.Get("/forgot")
	known := b.Post("/forgot", url.Values{"email": {addr}})
	unknown := b.Post("/forgot", url.Values{"email": {"nobody@example.com"}})
	apitest.IsPage(t, known, 200, "Check your email")
	apitest.IsPage(t, unknown, 200, "Check your email")
	if strings.ReplaceAll(string(known.Body), addr, "X") != strings.ReplaceAll(string(unknown.Body), "nobody@example.com", "X") {
		t.Error("the forgot pages of a known and an unknown address differ")
	}
	apitest.IsPage(t, b.Post("/forgot", url.Values{"email": {""}}), 400, `id="email-error"`)
	rt := box.Link(addr, "/reset-password")
	apitest.IsPage(t, b.Get("/reset-password?token="+rt), 200, `id="new_password"`)
	weak := b.Post("/reset-password", url.Values{"token": {rt}, "new_password": {"short"}})
	apitest.IsPage(t, weak, 400, `id="new-error"`, "The password must")
	apitest.IsPage(t, b.Post("/reset-password", url.Values{"token": {rt}, "new_password": {"a new fine passphrase"}}), 200, "Password changed")
	apitest.IsPage(t, b.Post("/reset-password", url.Values{"token": {rt}, "new_password": {"another passphrase"}}), 400, `href="/forgot"`)
	e.Login(addr, "a new fine passphrase")
	if n := box.Count("nobody@example.com"); n != 0 {
		t.Errorf("%d messages to an unknown address", n)
	}
}

// The account page: the verification state and resend, an address
// change asking for the password, and a deletion.
func TestHostedAccountEmail(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	box := e.Outbox()
	const addr = "acct@example.com"
	e.Signup(addr, apitest.Password)
	box.Link(addr, "/verify-email")
	e.Signup("taken@example.com", apitest.Password)
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	b.Post("/signin", url.Values{"email": {addr}, "password": {apitest.Password}})
	apitest.IsPage(t, b.Get("/account"), 200, "is not verified yet", `id="resend-verification"`, `id="delete-account"`)
	if r := b.Post("/account/verify-email", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	box.Link(addr, "/verify-email")

	b.Get("/account")
	apitest.IsPage(t, b.Post("/account/email", url.Values{"new_email": {"new@example.com"}}), 403, `id="email-current-error"`)
	apitest.IsPage(t, b.Post("/account/email", url.Values{"new_email": {"new@example.com"}, "email_current_password": {"wrong one"}}), 400, "incorrect")
	apitest.IsPage(t, b.Post("/account/email", url.Values{"new_email": {"taken@example.com"}, "email_current_password": {apitest.Password}}), 409, `id="new-email-error"`)
	apitest.IsPage(t, b.Post("/account/email", url.Values{"new_email": {"not an address"}, "email_current_password": {apitest.Password}}), 400, "The email address")
	apitest.IsPage(t, b.Post("/account/email", url.Values{"new_email": {"new@example.com"}, "email_current_password": {apitest.Password}}), 200, "We sent a link to new@example.com")
	ct := box.Link("new@example.com", "/confirm-email")
	apitest.IsPage(t, b.Get("/confirm-email?token="+ct), 200, `action="/confirm-email"`)
	apitest.IsPage(t, b.Post("/confirm-email", url.Values{"token": {ct}}), 200, "now new@example.com")

	b.Get("/account")
	apitest.IsPage(t, b.Post("/account/delete", url.Values{}), 403, `id="delete-current-error"`)
	apitest.IsPage(t, b.Post("/account/delete", url.Values{"delete_current_password": {apitest.Password}}), 200, "Account deleted")
	if r := b.Get("/account"); r.Status != http.StatusSeeOther {
		t.Fatalf("account page after deletion: %d", r.Status)
	}
	if r := passwordGrant(e, "new@example.com", apitest.Password); r.Status != http.StatusBadRequest {
		t.Fatalf("sign-in after deletion: %d", r.Status)
	}
}

// Sign-up switched off: no sign-up link, and /register says so.
func TestHostedSignupDisabled(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Signup.Enabled = new(false) }})
	b := apitest.NewBrowser(t, e)
	r := b.Get("/signin")
	apitest.IsPage(t, r, 200, `id="forgot-link"`)
	if strings.Contains(string(r.Body), `id="signup-link"`) {
		t.Error("the sign-in page links to sign-up while it is disabled")
	}
	apitest.IsPage(t, b.Get("/register"), 403, "Sign-up is closed")
}

// emailVerified signs in as addr and reads email_verified.
func emailVerified(t *testing.T, e *apitest.Env, addr string) bool {
	t.Helper()
	r := e.Get("/users/me", apitest.Bearer(e.Login(addr, apitest.Password).AccessToken)...)
	v, _ := r.JSON(t)["email_verified"].(bool)
	return v
}

// passwordGrant is a password sign-in at /token.
func passwordGrant(e *apitest.Env, user, password string) apitest.Response {
	return e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
}

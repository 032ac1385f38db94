package hosted_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

// newMFAEnv is the service for the second-factor pages: on localhost, as
// passkeys need.
func newMFAEnv(t *testing.T, configure func(*config.Config)) *apitest.Env {
	t.Helper()
	return apitest.NewEnv(t, apitest.EnvOptions{Localhost: true, Mutate: configure})
}

// nextCode is the TOTP code of the step after the env clock's: the
// current step's is spent by EnableTOTP, and the next is still accepted.
func nextCode(e *apitest.Env, secret string) string {
	e.T.Helper()
	return apitest.TOTPCode(e.T, secret, e.Clock.Now().Add(30*time.Second))
}

// browser is apitest's browser with the second-factor pages' steps.
type browser struct{ *apitest.Browser }

func newBrowser(t *testing.T, e *apitest.Env) browser { return browser{apitest.NewBrowser(t, e)} }

// expect fails unless p has status and every text.
func expect(t *testing.T, what string, p apitest.Response, status int, texts ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d:\n%s", what, p.Status, status, p.Body)
	}
	for _, s := range texts {
		if !strings.Contains(string(p.Body), s) {
			t.Fatalf("%s: the page lacks %q:\n%s", what, s, p.Body)
		}
	}
}

// expectRedirect fails unless p is a redirect to a URL starting with prefix.
func expectRedirect(t *testing.T, what string, p apitest.Response, prefix string) {
	t.Helper()
	loc := p.Header.Get("Location")
	if p.Status/100 != 3 || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s: %d to %q, want a redirect to %s…:\n%s", what, p.Status, loc, prefix, p.Body)
	}
}

// passwordSignin posts the password form (to the account page).
func (b browser) passwordSignin(email string) apitest.Response {
	b.T.Helper()
	b.Get("/signin")
	return b.Post("/signin", url.Values{"email": {email}, "password": {apitest.Password}})
}

// signIn signs in with the password (no second factor) and opens the
// account page, whose CSRF token the next forms carry.
func (b browser) signIn(email string) {
	b.T.Helper()
	expectRedirect(b.T, "password sign-in", b.passwordSignin(email), "/account")
	expect(b.T, "account page", b.Get("/account"), http.StatusOK)
}

// signedIn reports whether the browser's page session shows the account page.
func (b browser) signedIn() bool {
	b.T.Helper()
	return b.Get("/account").Status == http.StatusOK
}

// codeStep answers the sign-in's code step with the next step's code.
func (b browser) codeStep(secret string) apitest.Response {
	b.T.Helper()
	b.Get("/signin/mfa")
	return b.Post("/signin/mfa", url.Values{"code": {nextCode(b.E, secret)}})
}

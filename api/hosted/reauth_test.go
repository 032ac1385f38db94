package hosted_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
)

// TestHostedReauth: on the account page, an account without a password
// whose sign-in is more than 5 minutes old is asked, in place, to sign in
// again before it sets a password or links a provider; after that it may.
// A password account is asked for its current password.
func TestHostedReauth(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env
	fe.GitHub.SetUser(apitest.NewGitHubUser(4343, "hal", "hal@example.com", true))
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	apitest.IsPage(t, apitest.WalkProvider(t, b, b.Get("/account/signin/github")), 200, `id="identity-github"`)

	e.Clock.Advance(6 * time.Minute)
	b.Get("/account")
	apitest.IsPage(t, b.Post("/account/password", url.Values{"new_password": {"hal's first passphrase"}}), 403,
		"sign in again", `href="/account/signin/github"`)
	b.Get("/account")
	apitest.IsPage(t, b.Post("/account/link/corp", nil), 403, `href="/account/signin/github"`)
	u, err := e.Store.GetUserByEmail(t.Context(), "hal@example.com")
	if err != nil || u.HasPassword() {
		t.Fatalf("a password was set without a fresh sign-in (%v)", err)
	}

	// Signing in again makes it fresh.
	apitest.IsPage(t, apitest.WalkProvider(t, b, b.Get("/account/signin/github")), 200, `id="identity-github"`)
	if r := b.Post("/account/password", url.Values{"new_password": {"hal's first passphrase"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("set a password after signing in again: %d %s", r.Status, r.Body)
	}
	// Now a password account: changing it needs the current one.
	b.Get("/account")
	apitest.IsPage(t, b.Post("/account/password", url.Values{"new_password": {"hal's second passphrase"}}), 403, `id="current-error"`)
}

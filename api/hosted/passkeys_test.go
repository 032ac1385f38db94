package hosted_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/accounts/mfa/mfatest"
	"github.com/unilogin/unilogin/api/apitest"
)

// options posts to a passkey options URL as passkey.js does.
func (b browser) options(path string) []byte {
	b.T.Helper()
	p := b.Post(path, nil)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		b.T.Fatalf("%s: %d %s", path, p.Status, p.Body)
	}
	return p.Body
}

// confirmPassword gives the current password to the confirm form of action.
func (b browser) confirmPassword(action string, form url.Values) apitest.Response {
	b.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("reauth_password", apitest.Password)
	return b.Post(action, form)
}

// addPasskey registers a passkey of a through the account page; the
// browser is signed in and has a fresh proof.
func (b browser) addPasskey(a *mfatest.Authenticator, name string) (credID []byte, p apitest.Response) {
	b.T.Helper()
	expect(b.T, "add passkey", b.Post("/account/passkeys/add", nil), 200, `data-passkey="create"`)
	id, resp := a.Create(b.options("/account/passkeys/options"))
	return id, b.Post("/account/passkeys/register", url.Values{"name": {name}, "credential": {string(resp)}})
}

// passkeySignin signs in with a's credential cred (handle: the user handle
// to return, nil for the registered one).
func (b browser) passkeySignin(a *mfatest.Authenticator, cred, handle []byte) apitest.Response {
	b.T.Helper()
	b.Get("/signin")
	opts := b.options("/signin/passkey/options")
	return b.Post("/signin/passkey", url.Values{"credential": {string(a.Get(opts, cred, handle))}})
}

// TestPasskeyPages: register on the account page after the password,
// sign in with it (amr hwk user), list and remove it.
func TestPasskeyPages(t *testing.T) {
	e := newMFAEnv(t, nil)
	id := e.Signup("pia@example.com", apitest.Password)
	b := newBrowser(t, e)
	b.signIn("pia@example.com")
	expect(t, "account page", b.Get("/account"), 200, `id="passkey-add"`, `<script src="/static/passkey.js" defer></script>`)
	// Adding needs a proof: the confirm form first.
	expect(t, "add without proof", b.Post("/account/passkeys/add", nil), 403, `name="reauth_password"`)
	if p := b.Post("/account/passkeys/options", nil); p.Status != http.StatusForbidden || !strings.Contains(string(p.Body), "reauthentication_required") {
		t.Fatalf("options without proof: %d %s", p.Status, p.Body)
	}
	expect(t, "wrong password", b.Post("/account/passkeys/add", url.Values{"reauth_password": {"not it at all"}}), 400, "The password is incorrect.")
	expect(t, "right password", b.confirmPassword("/account/passkeys/add", nil), 200, `data-passkey="create"`)
	a := e.Authenticator()
	cred, p := b.addPasskey(a, "Laptop")
	expectRedirect(t, "register", p, "/account?done=passkey_added")
	expect(t, "listed", b.Get("/account"), 200, "Laptop", "passkey-"+mfa.PasskeyID(cred))

	b2 := newBrowser(t, e)
	expectRedirect(t, "passkey sign-in", b2.passkeySignin(a, cred, nil), "/account")
	if amrs := sessionAMRs(t, e, id); !strings.Contains(strings.Join(amrs, ","), "hwk user") {
		t.Fatalf("session amrs %q, want one hwk user", amrs)
	}
	// Removal needs a proof too: the password or a passkey (the user has a
	// password, so a recent sign-in is not enough).
	expect(t, "account page", b2.Get("/account"), 200, "Laptop")
	expect(t, "remove without proof", b2.Post("/account/passkeys/remove", url.Values{"id": {mfa.PasskeyID(cred)}}), 403, "Remove a passkey")
	expectRedirect(t, "remove", b2.confirmPassword("/account/passkeys/remove", url.Values{"id": {mfa.PasskeyID(cred)}}), "/account?done=passkey_removed")
	if keys, _ := e.MFA.ListPasskeys(context.Background(), id); len(keys) != 0 {
		t.Fatalf("%d passkeys left, want 0", len(keys))
	}
	expect(t, "removed passkey", newBrowser(t, e).passkeySignin(a, cred, nil), 400, "not accepted")
}

// TestPasskeyBadAssertions: wrong origin, wrong RP ID, another user's
// handle, and another user's passkey to confirm it is you.
func TestPasskeyBadAssertions(t *testing.T) {
	e := newMFAEnv(t, nil)
	e.Signup("ann@example.com", apitest.Password)
	benID := e.Signup("ben@example.com", apitest.Password)
	a := e.Authenticator()
	ann, ben := newBrowser(t, e), newBrowser(t, e)
	ann.signIn("ann@example.com")
	ann.confirmPassword("/account/passkeys/add", nil)
	annKey, p := ann.addPasskey(a, "Ann's")
	expectRedirect(t, "ann registers", p, "/account?done=passkey_added")
	ben.signIn("ben@example.com")
	ben.confirmPassword("/account/passkeys/add", nil)
	benKey, p := ben.addPasskey(a, "Ben's")
	expectRedirect(t, "ben registers", p, "/account?done=passkey_added")

	evil := *a
	evil.Origin = "https://evil.test"
	expect(t, "wrong origin", newBrowser(t, e).passkeySignin(&evil, annKey, nil), 400, "not accepted")
	otherRP := *a
	otherRP.RPID = "example.com"
	expect(t, "wrong RP ID", newBrowser(t, e).passkeySignin(&otherRP, annKey, nil), 400, "not accepted")
	// Ann's credential with Ben's user handle.
	expect(t, "another user's handle", newBrowser(t, e).passkeySignin(a, annKey, []byte(benID)), 400, "not accepted")

	// Registration answered from a wrong origin is refused.
	ann.confirmPassword("/account/passkeys/add", nil)
	ann.Post("/account/passkeys/add", nil)
	_, resp := evil.Create(ann.options("/account/passkeys/options"))
	expect(t, "register from a wrong origin", ann.Post("/account/passkeys/register", url.Values{"credential": {string(resp)}}), 400, "could not be registered")

	// Ben's passkey does not confirm that Ann is Ann.
	opts := ann.options("/account/reauth/passkey/options")
	expect(t, "another user's passkey as proof", ann.Post("/account/reauth/passkey", url.Values{"credential": {string(a.Get(opts, benKey, nil))}}), 403, "not accepted")
	opts = ann.options("/account/reauth/passkey/options")
	expectRedirect(t, "own passkey as proof", ann.Post("/account/reauth/passkey", url.Values{"credential": {string(a.Get(opts, annKey, nil))}}), "/account?done=confirmed")

	// A ceremony's options are bound to the browser that asked for them.
	asker, other := newBrowser(t, e), newBrowser(t, e)
	asker.Get("/signin")
	opts = asker.options("/signin/passkey/options")
	other.Get("/signin")
	expect(t, "another browser's ceremony", other.Post("/signin/passkey", url.Values{"credential": {string(a.Get(opts, annKey, nil))}}), 400, "took too long")
}

package hosted_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/accounts/mfa/mfatest"
)

// options posts to a passkey options URL as passkey.js does.
func (b *browser) options(path string) []byte {
	b.t.Helper()
	p := b.post(path, nil)
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
		b.t.Fatalf("%s: %d %s", path, p.status, p.body)
	}
	return []byte(p.body)
}

// confirmPassword gives the current password to the confirm form of action.
func (b *browser) confirmPassword(action string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("reauth_password", "a fine long password")
	return b.post(action, form)
}

// addPasskey registers a passkey of a through the account page; the
// browser is signed in and has a fresh proof.
func (b *browser) addPasskey(a *mfatest.Authenticator, name string) (credID []byte, p page) {
	b.t.Helper()
	expect(b.t, "add passkey", b.post("/account/passkeys/add", nil), 200, `data-passkey="create"`)
	id, resp := a.Create(b.options("/account/passkeys/options"))
	return id, b.post("/account/passkeys/register", url.Values{"name": {name}, "credential": {string(resp)}})
}

// passkeySignin signs in with a's credential cred (handle: the user handle
// to return, nil for the registered one).
func (b *browser) passkeySignin(a *mfatest.Authenticator, cred, handle []byte) page {
	b.t.Helper()
	b.get("/signin")
	opts := b.options("/signin/passkey/options")
	return b.post("/signin/passkey", url.Values{"credential": {string(a.Get(opts, cred, handle))}})
}

// TestPasskeyPages: register on the account page after the password,
// sign in with it (amr hwk user), list and remove it.
func TestPasskeyPages(t *testing.T) {
	e := newMFAEnv(t, nil)
	u := e.user("pia@example.com")
	b := e.browser()
	b.signIn("pia@example.com")
	expect(t, "account page", b.get("/account"), 200, `id="passkey-add"`, `<script src="/static/passkey.js" defer></script>`)
	// Adding needs a proof: the confirm form first.
	expect(t, "add without proof", b.post("/account/passkeys/add", nil), 403, `name="reauth_password"`)
	if p := b.post("/account/passkeys/options", nil); p.status != http.StatusForbidden || !strings.Contains(p.body, "reauthentication_required") {
		t.Fatalf("options without proof: %d %s", p.status, p.body)
	}
	expect(t, "wrong password", b.post("/account/passkeys/add", url.Values{"reauth_password": {"not it at all"}}), 400, "The password is incorrect.")
	expect(t, "right password", b.confirmPassword("/account/passkeys/add", nil), 200, `data-passkey="create"`)
	a := e.authenticator()
	cred, p := b.addPasskey(a, "Laptop")
	expectRedirect(t, "register", p, "/account?done=passkey_added")
	expect(t, "listed", b.get("/account"), 200, "Laptop", "passkey-"+mfa.PasskeyID(cred))

	b2 := e.browser()
	expectRedirect(t, "passkey sign-in", b2.passkeySignin(a, cred, nil), "/account")
	list, _ := e.srv.Sessions.List(context.Background(), u.ID)
	amrs := []string{}
	for _, s := range list {
		amrs = append(amrs, strings.Join(s.AMR, " "))
	}
	if !strings.Contains(strings.Join(amrs, ","), "hwk user") {
		t.Fatalf("session amrs %q, want one hwk user", amrs)
	}
	// Removal needs a proof too: the password or a passkey (the user has a
	// password, so a recent sign-in is not enough).
	expect(t, "account page", b2.get("/account"), 200, "Laptop")
	expect(t, "remove without proof", b2.post("/account/passkeys/remove", url.Values{"id": {mfa.PasskeyID(cred)}}), 403, "Remove a passkey")
	expectRedirect(t, "remove", b2.confirmPassword("/account/passkeys/remove", url.Values{"id": {mfa.PasskeyID(cred)}}), "/account?done=passkey_removed")
	if keys, _ := e.mfa().ListPasskeys(context.Background(), u.ID); len(keys) != 0 {
		t.Fatalf("%d passkeys left, want 0", len(keys))
	}
	expect(t, "removed passkey", e.browser().passkeySignin(a, cred, nil), 400, "not accepted")
}

// TestPasskeyBadAssertions: wrong origin, wrong RP ID, another user's
// handle, and another user's passkey to confirm it is you.
func TestPasskeyBadAssertions(t *testing.T) {
	e := newMFAEnv(t, nil)
	e.user("ann@example.com")
	e.user("ben@example.com")
	a := e.authenticator()
	ann, ben := e.browser(), e.browser()
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
	expect(t, "wrong origin", e.browser().passkeySignin(&evil, annKey, nil), 400, "not accepted")
	otherRP := *a
	otherRP.RPID = "example.com"
	expect(t, "wrong RP ID", e.browser().passkeySignin(&otherRP, annKey, nil), 400, "not accepted")
	// Ann's credential with Ben's user handle.
	expect(t, "another user's handle", e.browser().passkeySignin(a, annKey, []byte(ben.e.userID(t, "ben@example.com"))), 400, "not accepted")

	// Registration answered from a wrong origin is refused.
	ann.confirmPassword("/account/passkeys/add", nil)
	ann.post("/account/passkeys/add", nil)
	_, resp := evil.Create(ann.options("/account/passkeys/options"))
	expect(t, "register from a wrong origin", ann.post("/account/passkeys/register", url.Values{"credential": {string(resp)}}), 400, "could not be registered")

	// Ben's passkey does not confirm that Ann is Ann.
	opts := ann.options("/account/reauth/passkey/options")
	expect(t, "another user's passkey as proof", ann.post("/account/reauth/passkey", url.Values{"credential": {string(a.Get(opts, benKey, nil))}}), 403, "not accepted")
	opts = ann.options("/account/reauth/passkey/options")
	expectRedirect(t, "own passkey as proof", ann.post("/account/reauth/passkey", url.Values{"credential": {string(a.Get(opts, annKey, nil))}}), "/account?done=confirmed")

	// A ceremony's options are bound to the browser that asked for them.
	asker, other := e.browser(), e.browser()
	asker.get("/signin")
	opts = asker.options("/signin/passkey/options")
	other.get("/signin")
	expect(t, "another browser's ceremony", other.post("/signin/passkey", url.Values{"credential": {string(a.Get(opts, annKey, nil))}}), 400, "took too long")
}

func (e *mfaEnv) userID(t *testing.T, email string) string {
	t.Helper()
	u, err := e.srv.Accounts.GetByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

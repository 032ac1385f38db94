package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

// The administrator resends a verification link, starts a reset and
// vouches for an address; the links work, and each call is audited.
func TestAdminRecovery(t *testing.T) {
	e := newAdminEnv(t, backends()[0])
	box := e.outbox()
	adminID, admin := e.makeAdmin("root@example.com")
	const addr = "helpme@example.com"
	id := e.signup(addr, pw)
	box.link(addr, "/verify-email") // the sign-up's own link

	r := e.adminCall("POST", "/admin/users/"+id+"/verify-email", admin.AccessToken, nil)
	wantStatus(t, "admin resend", r, http.StatusAccepted)
	if r.json(t)["sent"] != true {
		t.Fatalf("admin resend: %s, want sent: true", r.body)
	}
	vt := box.link(addr, "/verify-email")
	wantStatus(t, "verify the admin's link", e.postJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	r = e.adminCall("POST", "/admin/users/"+id+"/verify-email", admin.AccessToken, nil)
	if r.status != http.StatusAccepted || r.json(t)["sent"] != false {
		t.Fatalf("admin resend to a verified address: %d %s, want 202 sent: false", r.status, r.body)
	}

	wantStatus(t, "admin reset", e.adminCall("POST", "/admin/users/"+id+"/password-reset", admin.AccessToken, nil), http.StatusAccepted)
	rt := box.link(addr, "/reset-password")
	wantStatus(t, "reset from the admin's link", e.postJSON("/password/reset", map[string]string{"token": rt, "new_password": "chosen-anew-1"}), http.StatusNoContent)
	e.login(addr, "chosen-anew-1")

	other := e.signup("vouched@example.com", pw)
	r = e.adminCall("POST", "/admin/users/"+other+"/email-verified", admin.AccessToken, nil)
	if r.status != http.StatusOK || r.json(t)["email_verified"] != true {
		t.Fatalf("mark verified: %d %s", r.status, r.body)
	}

	want := map[string]string{accounts.ActionVerificationResend: id, accounts.ActionPasswordResetStart: id, accounts.ActionEmailMarkVerified: other}
	evs, err := e.store.ListAudit(context.Background(), "", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if target, ok := want[ev.Action]; ok && ev.Actor == adminID && ev.Target == target {
			delete(want, ev.Action)
		}
	}
	if len(want) != 0 {
		t.Errorf("not audited with the admin as actor: %v", want)
	}
}

// A user without an address, or a disabled one, gets no mail: 400.
func TestAdminRecoveryRefusals(t *testing.T) {
	e := newAdminEnv(t, backends()[0])
	_, admin := e.makeAdmin("root@example.com")
	ctx := context.Background()
	bare, _, err := e.accounts.SignInExternal(ctx, accounts.ExternalIdentity{Provider: "github", Subject: "no-mail"}, accounts.LinkPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	off := e.signup("off@example.com", pw)
	box := e.outbox()
	box.link("off@example.com", "/verify-email") // the sign-up's link, delivered
	wantStatus(t, "disable", e.adminCall("POST", "/admin/users/"+off+"/disable", admin.AccessToken, nil), http.StatusOK)
	for _, path := range []string{"/verify-email", "/password-reset", "/email-verified"} {
		wantError(t, "no address "+path, e.adminCall("POST", "/admin/users/"+bare.ID+path, admin.AccessToken, nil),
			http.StatusBadRequest, "invalid_request")
	}
	for _, path := range []string{"/verify-email", "/password-reset"} {
		wantError(t, "disabled "+path, e.adminCall("POST", "/admin/users/"+off+path, admin.AccessToken, nil),
			http.StatusBadRequest, "invalid_request")
	}
	if n := box.count("off@example.com"); n != 1 { // only the sign-up's link
		t.Errorf("%d messages to the disabled user, want 1", n)
	}
}

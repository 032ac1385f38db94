package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
)

// The administrator resends a verification link, starts a reset and
// vouches for an address; the links work, and each call is audited.
func TestAdminRecovery(t *testing.T) {
	e := newAdminEnv(t, apitest.Backends()[0])
	box := e.Outbox()
	adminID, admin := makeAdmin(e, "root@example.com")
	const addr = "helpme@example.com"
	id := e.Signup(addr, apitest.Password)
	box.Link(addr, "/verify-email") // the sign-up's own link

	r := adminCall(e, "POST", "/admin/users/"+id+"/verify-email", admin.AccessToken, nil)
	apitest.WantStatus(t, "admin resend", r, http.StatusAccepted)
	if r.JSON(t)["sent"] != true {
		t.Fatalf("admin resend: %s, want sent: true", r.Body)
	}
	vt := box.Link(addr, "/verify-email")
	apitest.WantStatus(t, "verify the admin's link", e.PostJSON("/verify-email", map[string]string{"token": vt}), http.StatusNoContent)
	r = adminCall(e, "POST", "/admin/users/"+id+"/verify-email", admin.AccessToken, nil)
	if r.Status != http.StatusAccepted || r.JSON(t)["sent"] != false {
		t.Fatalf("admin resend to a verified address: %d %s, want 202 sent: false", r.Status, r.Body)
	}

	apitest.WantStatus(t, "admin reset", adminCall(e, "POST", "/admin/users/"+id+"/password-reset", admin.AccessToken, nil), http.StatusAccepted)
	rt := box.Link(addr, "/reset-password")
	apitest.WantStatus(t, "reset from the admin's link", e.PostJSON("/password/reset", map[string]string{"token": rt, "new_password": "chosen-anew-1"}), http.StatusNoContent)
	e.Login(addr, "chosen-anew-1")

	other := e.Signup("vouched@example.com", apitest.Password)
	r = adminCall(e, "POST", "/admin/users/"+other+"/email-verified", admin.AccessToken, nil)
	if r.Status != http.StatusOK || r.JSON(t)["email_verified"] != true {
		t.Fatalf("mark verified: %d %s", r.Status, r.Body)
	}

	want := map[string]string{accounts.ActionVerificationResend: id, accounts.ActionPasswordResetStart: id, accounts.ActionEmailMarkVerified: other}
	evs, err := e.Store.ListAudit(context.Background(), "", 50)
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
	e := newAdminEnv(t, apitest.Backends()[0])
	_, admin := makeAdmin(e, "root@example.com")
	ctx := context.Background()
	bare, _, err := e.Accounts.SignInExternal(ctx, accounts.ExternalIdentity{Provider: "github", Subject: "no-mail"}, accounts.LinkPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	off := e.Signup("off@example.com", apitest.Password)
	box := e.Outbox()
	box.Link("off@example.com", "/verify-email") // the sign-up's link, delivered
	apitest.WantStatus(t, "disable", adminCall(e, "POST", "/admin/users/"+off+"/disable", admin.AccessToken, nil), http.StatusOK)
	for _, path := range []string{"/verify-email", "/password-reset", "/email-verified"} {
		apitest.WantError(t, "no address "+path, adminCall(e, "POST", "/admin/users/"+bare.ID+path, admin.AccessToken, nil),
			http.StatusBadRequest, "invalid_request")
	}
	for _, path := range []string{"/verify-email", "/password-reset"} {
		apitest.WantError(t, "disabled "+path, adminCall(e, "POST", "/admin/users/"+off+path, admin.AccessToken, nil),
			http.StatusBadRequest, "invalid_request")
	}
	if n := box.Count("off@example.com"); n != 1 { // only the sign-up's link
		t.Errorf("%d messages to the disabled user, want 1", n)
	}
}

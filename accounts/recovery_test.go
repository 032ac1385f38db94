package accounts_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

const (
	pw1 = "first pass phrase 4711"
	pw2 = "second pass phrase 0815"
)

func wantErrIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func TestVerifyEmail(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	u := f.signup(t, "Ann@Example.com", pw1)
	sent, err := f.rec.RequestVerification(ctx, u.ID)
	if err != nil || !sent {
		t.Fatalf("RequestVerification = %v, %v; want sent", sent, err)
	}
	tok := f.oneMail(t, "Ann@Example.com", "/verify-email")
	if len(tok) != 43 {
		t.Errorf("token %q has %d characters, want 43 (base64url of 32 bytes)", tok, len(tok))
	}
	got, err := f.rec.VerifyEmail(ctx, tok)
	if err != nil || !got.EmailVerified {
		t.Fatalf("VerifyEmail = %+v, %v; want verified", got, err)
	}
	if !f.user(t, u.ID).EmailVerified {
		t.Error("the stored user is not verified")
	}
	_, err = f.rec.VerifyEmail(ctx, tok)
	wantErrIs(t, "VerifyEmail(used token)", err, accounts.ErrInvalidEmailToken)
	sent, err = f.rec.RequestVerification(ctx, u.ID)
	if err != nil || sent {
		t.Errorf("RequestVerification(verified) = %v, %v; want nothing sent", sent, err)
	}
	f.noMail(t, "RequestVerification of a verified address")

	noEmail := &accounts.User{ID: accounts.NewID(), Name: "x"}
	if err := f.store.CreateUser(ctx, noEmail); err != nil {
		t.Fatal(err)
	}
	var ve *accounts.ValidationError
	if _, err := f.rec.RequestVerification(ctx, noEmail.ID); !errors.As(err, &ve) {
		t.Errorf("RequestVerification(no address): err = %v, want a ValidationError", err)
	}
}

func TestVerifyEmailBadTokens(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	u := f.signup(t, "bob@example.com", pw1)
	request := func() string {
		t.Helper()
		if _, err := f.rec.RequestVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		return f.oneMail(t, "bob@example.com", "/verify-email")
	}
	good := request()
	for _, bad := range []string{"", "abc", testkit.Tamper(good, 5), good + "A", strings.ToUpper(good), good[:42] + "=", "!" + good[1:]} {
		_, err := f.rec.VerifyEmail(ctx, bad)
		wantErrIs(t, "VerifyEmail(malformed or tampered "+bad+")", err, accounts.ErrInvalidEmailToken)
	}
	// Another purpose: a reset link does not verify, and survives the try.
	if err := f.rec.ForgotPassword(ctx, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	reset := f.oneMail(t, "bob@example.com", "/reset-password")
	_, err := f.rec.VerifyEmail(ctx, reset)
	wantErrIs(t, "VerifyEmail(reset token)", err, accounts.ErrInvalidEmailToken)
	if _, err := f.rec.ResetPassword(ctx, reset, pw2); err != nil {
		t.Errorf("ResetPassword after the reset token was tried as a verify token: %v", err)
	}
	f.oneMail(t, "bob@example.com", "") // the password-changed notice
	// The reset verified the address; make it unverified again.
	if err := f.store.SetEmail(ctx, u.ID, "bob@example.com", "bob@example.com", false); err != nil {
		t.Fatal(err)
	}
	// Expired.
	f.clock.Advance(24*time.Hour + time.Millisecond)
	_, err = f.rec.VerifyEmail(ctx, good)
	wantErrIs(t, "VerifyEmail(expired)", err, accounts.ErrInvalidEmailToken)
	// Another address: the link went to the old one.
	if err := f.store.SetEmail(ctx, u.ID, "bob@example.com", "bob@example.org", false); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetEmail(ctx, u.ID, "bob@example.org", "bob@example.com", false); err != nil {
		t.Fatal(err)
	}
	old := request()
	if err := f.store.SetEmail(ctx, u.ID, "bob@example.com", "bob@example.org", false); err != nil {
		t.Fatal(err)
	}
	_, err = f.rec.VerifyEmail(ctx, old)
	wantErrIs(t, "VerifyEmail(other address)", err, accounts.ErrInvalidEmailToken)
	if f.user(t, u.ID).EmailVerified {
		t.Error("a link to the old address verified the new one")
	}
	// A deleted user's link.
	if err := f.store.SetEmail(ctx, u.ID, "bob@example.org", "bob@example.com", false); err != nil {
		t.Fatal(err)
	}
	last := request()
	if err := f.store.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.rec.VerifyEmail(ctx, last)
	wantErrIs(t, "VerifyEmail(deleted user)", err, accounts.ErrInvalidEmailToken)
}

func TestForgotPasswordUnknownAndIneligible(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	disabled := f.signup(t, "off@example.com", pw1)
	if err := f.store.SetDisabled(ctx, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"nobody@example.com", "off@example.com", "", "not an address", strings.Repeat("x", 300) + "@example.com"} {
		if err := f.rec.ForgotPassword(ctx, email); err != nil {
			t.Errorf("ForgotPassword(%q) = %v, want nil", email, err)
		}
		if err := f.rec.ResendVerification(ctx, email); err != nil {
			t.Errorf("ResendVerification(%q) = %v, want nil", email, err)
		}
	}
	f.noMail(t, "unknown and disabled addresses")
	f.signup(t, "Known@Example.com", pw1)
	if err := f.rec.ForgotPassword(ctx, "known@EXAMPLE.com"); err != nil {
		t.Fatal(err)
	}
	f.oneMail(t, "Known@Example.com", "/reset-password")
	if err := f.rec.ResendVerification(ctx, "known@example.com"); err != nil {
		t.Fatal(err)
	}
	f.oneMail(t, "Known@Example.com", "/verify-email")
}

func TestResetPassword(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	u := f.signup(t, "carol@example.com", pw1)
	first, second, third := f.forgot(t, "carol@example.com"), f.forgot(t, "carol@example.com"), f.forgot(t, "carol@example.com") // a new request does not end older links

	// A weak password is refused after the token check, and the token
	// stays usable.
	var ve *accounts.ValidationError
	if _, err := f.rec.ResetPassword(ctx, second, "password"); !errors.As(err, &ve) || ve.Field != "new_password" {
		t.Fatalf("ResetPassword(weak) = %v, want a new_password ValidationError", err)
	}
	_, err := f.rec.ResetPassword(ctx, testkit.Tamper(second, 5), "password")
	wantErrIs(t, "ResetPassword(bad token, weak password): the token is checked first", err, accounts.ErrInvalidEmailToken)

	res, err := f.rec.ResetPassword(ctx, second, pw2)
	if err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	if !res.EndAllSessions || res.User.ID != u.ID || !res.User.EmailVerified {
		t.Errorf("ResetPassword = %+v, want the verified user and EndAllSessions", res)
	}
	if _, err := f.svc.Authenticate(ctx, "carol@example.com", pw2); err != nil {
		t.Errorf("Authenticate(new password): %v", err)
	}
	_, err = f.svc.Authenticate(ctx, "carol@example.com", pw1)
	wantErrIs(t, "Authenticate(old password)", err, accounts.ErrInvalidCredentials)
	f.oneMail(t, "carol@example.com", "") // the notice
	for name, tok := range map[string]string{"used": second, "older": first, "newer": third} {
		_, err := f.rec.ResetPassword(ctx, tok, pw1)
		wantErrIs(t, "ResetPassword("+name+" link after a completed reset)", err, accounts.ErrInvalidEmailToken)
	}
	evs, err := f.store.ListAudit(ctx, "", 10)
	if err != nil || len(evs) != 1 || evs[0].Action != accounts.ActionPasswordReset || evs[0].Target != u.ID {
		t.Errorf("audit = %v, %v; want one %s event", evs, err, accounts.ActionPasswordReset)
	}
}

func TestResetPasswordBadTokens(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	u := f.signup(t, "dave@example.com", pw1)
	expiring := f.forgot(t, "dave@example.com")
	f.clock.Advance(30*time.Minute + time.Millisecond)
	_, err := f.rec.ResetPassword(ctx, expiring, pw2)
	wantErrIs(t, "ResetPassword(expired)", err, accounts.ErrInvalidEmailToken)

	if _, err := f.rec.RequestVerification(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	verify := f.oneMail(t, "dave@example.com", "/verify-email")
	_, err = f.rec.ResetPassword(ctx, verify, pw2)
	wantErrIs(t, "ResetPassword(verify token)", err, accounts.ErrInvalidEmailToken)

	moved := f.forgot(t, "dave@example.com")
	if err := f.store.SetEmail(ctx, u.ID, "dave@example.com", "dave@example.org", false); err != nil {
		t.Fatal(err)
	}
	_, err = f.rec.ResetPassword(ctx, moved, pw2)
	wantErrIs(t, "ResetPassword(other address)", err, accounts.ErrInvalidEmailToken)
	if _, err := f.svc.Authenticate(ctx, "dave@example.org", pw1); err != nil {
		t.Errorf("the password changed through a refused reset: %v", err)
	}
	f.noMail(t, "refused resets")
}

func TestEmailChange(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{AllowedDomains: []string{"example.com", "example.org"}})
	ctx := t.Context()
	u := f.signup(t, "frank@example.com", pw1)
	other := f.signup(t, "taken@example.org", pw1)
	if _, err := f.rec.RequestVerification(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	oldVerify := f.oneMail(t, "frank@example.com", "/verify-email")
	ok := accounts.Reauth{CurrentPassword: pw1}
	var ve *accounts.ValidationError
	for _, tc := range []struct {
		name, email string
		re          accounts.Reauth
		want        error
	}{
		{"wrong password", "frank@example.org", accounts.Reauth{CurrentPassword: pw2}, accounts.ErrInvalidCredentials},
		{"no password", "frank@example.org", accounts.Reauth{RecentSignIn: true}, accounts.ErrReauthenticationRequired},
		{"taken", "TAKEN@example.org", ok, accounts.ErrEmailTaken},
		{"invalid", "not an address", ok, accounts.ErrInvalidEmail},
		{"the current address", "Frank@Example.com", ok, accounts.ErrInvalidInput},
		{"outside the allowed domains", "frank@example.net", ok, accounts.ErrDomainNotAllowed},
	} {
		err := f.rec.RequestEmailChange(ctx, u.ID, tc.email, tc.re)
		wantErrIs(t, "RequestEmailChange("+tc.name+")", err, tc.want)
		if errors.Is(tc.want, accounts.ErrInvalidInput) || errors.Is(tc.want, accounts.ErrInvalidEmail) || errors.Is(tc.want, accounts.ErrDomainNotAllowed) {
			if !errors.As(err, &ve) {
				t.Errorf("RequestEmailChange(%s) = %v, want a ValidationError", tc.name, err)
			}
		}
	}
	f.noMail(t, "refused address changes")

	if err := f.rec.RequestEmailChange(ctx, u.ID, "Frank@Example.org", ok); err != nil {
		t.Fatalf("RequestEmailChange: %v", err)
	}
	ms := f.mails(t)
	if len(ms) == 2 && ms[1].Path != "" { // queued together: in no particular order
		ms[0], ms[1] = ms[1], ms[0]
	}
	if len(ms) != 2 || ms[0].To != "Frank@Example.org" || ms[0].Path != "/confirm-email" || ms[1].To != "frank@example.com" || ms[1].Path != "" {
		t.Fatalf("queued %v; want a link to the new address and a notice to the old", summary(ms))
	}
	if strings.Contains(ms[1].Raw, "Frank@Example.org") {
		t.Error("the notice to the old address names the new one")
	}
	change := ms[0].Token
	if f.user(t, u.ID).Email != "frank@example.com" {
		t.Fatal("the address changed before the confirmation")
	}
	_, err := f.rec.VerifyEmail(ctx, change)
	wantErrIs(t, "VerifyEmail(change token)", err, accounts.ErrInvalidEmailToken)
	_, err = f.rec.ConfirmEmailChange(ctx, testkit.Tamper(change, 5))
	wantErrIs(t, "ConfirmEmailChange(tampered)", err, accounts.ErrInvalidEmailToken)
	got, err := f.rec.ConfirmEmailChange(ctx, change)
	if err != nil || got.Email != "Frank@Example.org" || !got.EmailVerified {
		t.Fatalf("ConfirmEmailChange = %+v, %v; want the new address, verified", got, err)
	}
	_, err = f.rec.ConfirmEmailChange(ctx, change)
	wantErrIs(t, "ConfirmEmailChange(used)", err, accounts.ErrInvalidEmailToken)
	_, err = f.rec.VerifyEmail(ctx, oldVerify)
	wantErrIs(t, "VerifyEmail(link to the old address)", err, accounts.ErrInvalidEmailToken)
	if _, err := f.svc.Authenticate(ctx, "frank@example.org", pw1); err != nil {
		t.Errorf("sign-in with the new address: %v", err)
	}

	// Taken between request and confirmation.
	if err := f.rec.RequestEmailChange(ctx, u.ID, "late@example.com", ok); err != nil {
		t.Fatal(err)
	}
	late := linkTo(t, f.mails(t), "late@example.com")
	f.signup(t, "late@example.com", pw1)
	_, err = f.rec.ConfirmEmailChange(ctx, late)
	wantErrIs(t, "ConfirmEmailChange(taken meanwhile)", err, accounts.ErrEmailTaken)

	// A change link dies when the address it was requested from changed.
	if err := f.rec.RequestEmailChange(ctx, other.ID, "moved@example.com", ok); err != nil {
		t.Fatal(err)
	}
	stale := linkTo(t, f.mails(t), "moved@example.com")
	if err := f.store.SetEmail(ctx, other.ID, "taken@example.org", "elsewhere@example.org", true); err != nil {
		t.Fatal(err)
	}
	_, err = f.rec.ConfirmEmailChange(ctx, stale)
	wantErrIs(t, "ConfirmEmailChange(address changed since the request)", err, accounts.ErrInvalidEmailToken)
	f.clock.Advance(24*time.Hour + time.Millisecond)
	if err := f.rec.RequestEmailChange(ctx, other.ID, "moved@example.com", ok); err != nil {
		t.Fatal(err)
	}
	expired := linkTo(t, f.mails(t), "moved@example.com")
	f.clock.Advance(24*time.Hour + time.Millisecond)
	_, err = f.rec.ConfirmEmailChange(ctx, expired)
	wantErrIs(t, "ConfirmEmailChange(expired)", err, accounts.ErrInvalidEmailToken)
}

func TestEmailChangeWithoutPassword(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	u, _, err := f.svc.SignInExternal(ctx, accounts.ExternalIdentity{Provider: "github", Subject: "1", Email: "gh@example.com", EmailVerified: true}, accounts.LinkPolicy{ByVerifiedEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	err = f.rec.RequestEmailChange(ctx, u.ID, "new@example.com", accounts.Reauth{CurrentPassword: "anything"})
	wantErrIs(t, "RequestEmailChange(old sign-in)", err, accounts.ErrReauthenticationRequired)
	if err := f.rec.RequestEmailChange(ctx, u.ID, "new@example.com", accounts.Reauth{RecentSignIn: true}); err != nil {
		t.Fatalf("RequestEmailChange(recent sign-in): %v", err)
	}
	if n := len(f.mails(t)); n != 2 {
		t.Errorf("%d messages queued, want 2", n)
	}
}

func TestDeleteAccount(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := accounts.WithClientAddress(t.Context(), "192.0.2.7")
	u := f.signup(t, "gina@example.com", pw1)
	if err := f.store.LinkIdentity(ctx, &accounts.Identity{Provider: "github", Subject: "g", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "DeleteAccount(no password)", f.rec.DeleteAccount(ctx, u.ID, accounts.Reauth{RecentSignIn: true}), accounts.ErrReauthenticationRequired)
	wantErrIs(t, "DeleteAccount(wrong password)", f.rec.DeleteAccount(ctx, u.ID, accounts.Reauth{CurrentPassword: pw2}), accounts.ErrInvalidCredentials)
	f.user(t, u.ID)
	if err := f.rec.ForgotPassword(ctx, "gina@example.com"); err != nil {
		t.Fatal(err)
	}
	reset := f.oneMail(t, "gina@example.com", "/reset-password")
	if err := f.rec.DeleteAccount(ctx, u.ID, accounts.Reauth{CurrentPassword: pw1}); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if _, err := f.store.GetUser(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser after deletion: %v", err)
	}
	if _, err := f.store.GetIdentity(ctx, "github", "g"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetIdentity after deletion: %v", err)
	}
	_, err := f.rec.ResetPassword(ctx, reset, pw2)
	wantErrIs(t, "ResetPassword(deleted account)", err, accounts.ErrInvalidEmailToken)
	evs, err := f.store.ListAudit(ctx, "", 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("audit = %v, %v; want one event", evs, err)
	}
	e := evs[0]
	if e.Action != accounts.ActionUserDelete || e.Actor != u.ID || e.Target != u.ID || e.IP != "192.0.2.7" ||
		e.Details["via"] != "self" || e.Details["email"] != "gina@example.com" {
		t.Errorf("audit event = %+v", e)
	}
	// Without a password a recent sign-in is enough.
	p, _, err := f.svc.SignInExternal(ctx, accounts.ExternalIdentity{Provider: "google", Subject: "p"}, accounts.LinkPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "DeleteAccount(old sign-in)", f.rec.DeleteAccount(ctx, p.ID, accounts.Reauth{}), accounts.ErrReauthenticationRequired)
	if err := f.rec.DeleteAccount(ctx, p.ID, accounts.Reauth{RecentSignIn: true}); err != nil {
		t.Errorf("DeleteAccount(recent sign-in): %v", err)
	}
}

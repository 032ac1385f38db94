package accounts_test

import (
	"errors"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

func TestSignupDisabled(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{Disabled: true})
	ctx := t.Context()
	_, err := f.svc.Signup(ctx, accounts.SignupRequest{Email: "a@example.com", Password: pw1})
	wantErrIs(t, "Signup(disabled)", err, accounts.ErrSignupDisabled)

	// Provider sign-in: no new user, but an existing verified password
	// account links by its verified address.
	ext := accounts.ExternalIdentity{Provider: "google", Subject: "g-1", Email: "new@example.com", EmailVerified: true}
	_, d, err := f.svc.SignInExternal(ctx, ext, accounts.LinkPolicy{ByVerifiedEmail: true})
	wantErrIs(t, "SignInExternal(new user, sign-up disabled)", err, accounts.ErrSignupRefused)
	if d.Kind != accounts.RefuseSignup {
		t.Errorf("decision = %v, want %v", d.Kind, accounts.RefuseSignup)
	}
	if users, _ := f.store.ListUsers(ctx, "", 10, ""); len(users) != 0 {
		t.Errorf("%d users exist after refused sign-ups, want 0", len(users))
	}
	owner := &accounts.User{ID: accounts.NewID(), Email: "owner@example.com", PasswordHash: "$2a$04$x"}
	if err := f.store.CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	ext = accounts.ExternalIdentity{Provider: "google", Subject: "g-2", Email: "owner@example.com", EmailVerified: true}
	_, _, err = f.svc.SignInExternal(ctx, ext, accounts.LinkPolicy{ByVerifiedEmail: true})
	wantErrIs(t, "SignInExternal(unverified password account)", err, accounts.ErrAccountExists)
	if err := f.store.MarkEmailVerified(ctx, owner.ID, owner.Email); err != nil {
		t.Fatal(err)
	}
	u, d, err := f.svc.SignInExternal(ctx, ext, accounts.LinkPolicy{ByVerifiedEmail: true})
	if err != nil || u.ID != owner.ID || d.Kind != accounts.LinkToExisting {
		t.Fatalf("SignInExternal(verified password account) = %v, %v, %v; want a link", u, d.Kind, err)
	}
	u, d, err = f.svc.SignInExternal(ctx, ext, accounts.LinkPolicy{})
	if err != nil || u.ID != owner.ID || d.Kind != accounts.SignIn {
		t.Errorf("SignInExternal(known identity) = %v, %v, %v; want a sign-in", u, d.Kind, err)
	}
}

func TestSignupAllowedDomains(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{AllowedDomains: []string{"Example.com", "b\u00fccher.example"}})
	ctx := t.Context()
	for _, email := range []string{"a@example.com", "b@EXAMPLE.COM", "c@xn--bcher-kva.example"} {
		if _, err := f.svc.Signup(ctx, accounts.SignupRequest{Email: email, Password: pw1}); err != nil {
			t.Errorf("Signup(%s): %v", email, err)
		}
	}
	for _, email := range []string{"a@example.org", "a@sub.example.com", "a@example.com.evil.test"} {
		_, err := f.svc.Signup(ctx, accounts.SignupRequest{Email: email, Password: pw1})
		var ve *accounts.ValidationError
		if !errors.As(err, &ve) || ve.Field != "email" || !errors.Is(err, accounts.ErrDomainNotAllowed) {
			t.Errorf("Signup(%s) = %v, want an email ValidationError wrapping ErrDomainNotAllowed", email, err)
		}
	}
	for _, tc := range []struct {
		ext  accounts.ExternalIdentity
		want error
	}{
		{accounts.ExternalIdentity{Provider: "github", Subject: "1", Email: "gh@example.com", EmailVerified: true}, nil},
		{accounts.ExternalIdentity{Provider: "github", Subject: "2", Email: "gh2@example.com"}, accounts.ErrSignupRefused},
		{accounts.ExternalIdentity{Provider: "github", Subject: "3", Email: "gh@example.org", EmailVerified: true}, accounts.ErrSignupRefused},
		{accounts.ExternalIdentity{Provider: "github", Subject: "4"}, accounts.ErrSignupRefused},
	} {
		_, _, err := f.svc.SignInExternal(ctx, tc.ext, accounts.LinkPolicy{ByVerifiedEmail: true})
		if !errors.Is(err, tc.want) {
			t.Errorf("SignInExternal(%+v): err = %v, want %v", tc.ext, err, tc.want)
		}
	}
}

func TestRequireVerifiedEmail(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{RequireVerifiedEmail: true})
	ctx := t.Context()
	u := f.signup(t, "hal@example.com", pw1)
	_, err := f.svc.Authenticate(ctx, "hal@example.com", pw2)
	wantErrIs(t, "Authenticate(wrong password, unverified)", err, accounts.ErrInvalidCredentials)
	_, err = f.svc.Authenticate(ctx, "nobody@example.com", pw1)
	wantErrIs(t, "Authenticate(unknown user)", err, accounts.ErrInvalidCredentials)
	_, err = f.svc.Authenticate(ctx, "hal@example.com", pw1)
	wantErrIs(t, "Authenticate(right password, unverified)", err, accounts.ErrEmailNotVerified)
	if _, err := f.rec.RequestVerification(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rec.VerifyEmail(ctx, f.oneMail(t, "hal@example.com", "/verify-email")); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.Authenticate(ctx, "hal@example.com", pw1); err != nil || got.ID != u.ID {
		t.Errorf("Authenticate(verified) = %v, %v", got, err)
	}
}

func TestAdminRecovery(t *testing.T) {
	f := newRecFixture(t, accounts.SignupPolicy{})
	ctx := t.Context()
	u := f.signup(t, "ivy@example.com", pw1)
	sent, err := f.admin.ResendVerification(ctx, operator, u.ID)
	if err != nil || !sent {
		t.Fatalf("ResendVerification = %v, %v", sent, err)
	}
	f.oneMail(t, "ivy@example.com", "/verify-email")
	got, err := f.admin.MarkVerified(ctx, operator, u.ID)
	if err != nil || !got.EmailVerified {
		t.Fatalf("MarkVerified = %+v, %v", got, err)
	}
	if sent, err := f.admin.ResendVerification(ctx, operator, u.ID); err != nil || sent {
		t.Errorf("ResendVerification(verified) = %v, %v; want nothing sent", sent, err)
	}
	f.noMail(t, "resend to a verified address")
	if err := f.admin.StartReset(ctx, operator, u.ID); err != nil {
		t.Fatal(err)
	}
	tok := f.oneMail(t, "ivy@example.com", "/reset-password")
	if _, err := f.rec.ResetPassword(ctx, tok, pw2); err != nil {
		t.Errorf("ResetPassword(admin-started link): %v", err)
	}
	_, err = f.admin.MarkVerified(ctx, operator, accounts.NewID())
	wantErrIs(t, "MarkVerified(unknown)", err, accounts.ErrNotFound)
	wantErrIs(t, "StartReset(unknown)", f.admin.StartReset(ctx, operator, accounts.NewID()), accounts.ErrNotFound)
	if err := f.store.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	wantErrIs(t, "StartReset(disabled)", f.admin.StartReset(ctx, operator, u.ID), accounts.ErrDisabled)
	if err := f.admin.StartReset(ctx, accounts.Actor{}, u.ID); err == nil {
		t.Error("StartReset without an actor succeeded")
	}

	evs, err := f.store.ListAudit(ctx, "", 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Actor == operator.ID && evs[i].Target == u.ID {
			actions = append(actions, evs[i].Action+":"+evs[i].Details["sent"])
		}
	}
	want := []string{accounts.ActionVerificationResend + ":true", accounts.ActionEmailMarkVerified + ":",
		accounts.ActionVerificationResend + ":false", accounts.ActionPasswordResetStart + ":"}
	if len(actions) != len(want) {
		t.Fatalf("admin audit events = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Errorf("admin audit event %d = %s, want %s", i, actions[i], want[i])
		}
	}

	bare, err := accounts.NewAdmin(f.svc, accounts.AdminOptions{Audit: f.store, Sessions: &fakeSessions{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.StartReset(ctx, operator, u.ID); err == nil {
		t.Error("StartReset without Recovery succeeded")
	}
}

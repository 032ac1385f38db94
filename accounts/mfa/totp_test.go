package mfa_test

import (
	"bytes"
	"errors"
	"image/png"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
)

func TestTOTPLifecycle(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	u := e.user(t, "ada@example.com", true)

	first, err := e.svc.EnrollTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	enr, err := e.svc.EnrollTOTP(ctx, u.ID) // replaces the pending secret
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(enr.Secret) || enr.Secret == first.Secret {
		t.Fatalf("secret %q: want 32 base32 characters without padding, new on every enrolment", enr.Secret)
	}
	uri, err := url.Parse(enr.OTPAuthURI)
	if err != nil {
		t.Fatal(err)
	}
	q := uri.Query()
	if uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Path != "/Example Login:ada@example.com" ||
		q.Get("secret") != enr.Secret || q.Get("issuer") != "Example Login" || q.Get("digits") != "6" ||
		q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("otpauth URI = %s", enr.OTPAuthURI)
	}
	if got, err := e.svc.PendingOTPAuthURI(ctx, u.ID); err != nil || got != enr.OTPAuthURI {
		t.Errorf("PendingOTPAuthURI = %q, %v; want %q", got, err, enr.OTPAuthURI)
	}

	now := e.clock.Now()
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, code(t, first.Secret, now)); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("confirm with the replaced secret's code: %v, want ErrInvalidCode", err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, "12345x"); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("confirm with a malformed code: %v, want ErrInvalidCode", err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, u.ID, code(t, enr.Secret, now))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || !regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`).MatchString(codes[0]) {
		t.Fatalf("recovery codes = %q", codes)
	}
	if st, err := e.svc.Status(ctx, u.ID); err != nil || st != (mfa.Status{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if _, err := e.svc.EnrollTOTP(ctx, u.ID); !errors.Is(err, accounts.ErrTOTPEnabled) {
		t.Errorf("enrol while on: %v, want ErrTOTPEnabled", err)
	}

	// The confirming code's step is spent, and so is every earlier one.
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: code(t, enr.Secret, now)}); !errors.Is(err, accounts.ErrCodeReplayed) || !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("replay of the confirming code: %v, want ErrInvalidCode and ErrCodeReplayed", err)
	}
	e.clock.Advance(30 * time.Second)
	if m, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: code(t, enr.Secret, e.clock.Now())}); err != nil || m != mfa.MethodOTP {
		t.Fatalf("next step's code: %q, %v", m, err)
	}
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: code(t, enr.Secret, now)}); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("an earlier step's code: %v, want ErrInvalidCode", err)
	}
	// Drift of one step ahead is accepted, two are not.
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: code(t, enr.Secret, e.clock.Now().Add(60*time.Second))}); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("a code two steps ahead: %v, want ErrInvalidCode", err)
	}
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: code(t, enr.Secret, e.clock.Now().Add(30*time.Second))}); err != nil {
		t.Errorf("a code one step ahead: %v", err)
	}

	// Recovery codes: single use, case and dashes don't matter.
	if m, err := e.svc.Verify(ctx, u.ID, mfa.Proof{RecoveryCode: strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))}); err != nil || m != mfa.MethodRecovery {
		t.Fatalf("recovery code: %q, %v", m, err)
	}
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{RecoveryCode: codes[0]}); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("recovery code again: %v, want ErrInvalidCode", err)
	}
	if st, _ := e.svc.Status(ctx, u.ID); st.RecoveryCodesLeft != 9 {
		t.Errorf("recovery_codes_left = %d, want 9", st.RecoveryCodesLeft)
	}

	e.clock.Advance(90 * time.Second)
	fresh, err := e.svc.RegenerateRecoveryCodes(ctx, u.ID, code(t, enr.Secret, e.clock.Now()))
	if err != nil || len(fresh) != 10 {
		t.Fatalf("RegenerateRecoveryCodes = %d codes, %v", len(fresh), err)
	}
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{RecoveryCode: codes[1]}); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("an old recovery code after regeneration: %v, want ErrInvalidCode", err)
	}
	if err := e.svc.RemoveTOTP(ctx, u.ID, mfa.Proof{RecoveryCode: "aaaa-bbbb-cccc"}); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("remove with a wrong recovery code: %v", err)
	}
	if err := e.svc.RemoveTOTP(ctx, u.ID, mfa.Proof{RecoveryCode: fresh[0]}); err != nil {
		t.Fatalf("remove with a recovery code: %v", err)
	}
	if st, err := e.svc.Status(ctx, u.ID); err != nil || st != (mfa.Status{}) {
		t.Errorf("Status after removal = %+v, %v", st, err)
	}
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: "123456"}); !errors.Is(err, accounts.ErrTOTPNotEnabled) {
		t.Errorf("verify with TOTP off: %v, want ErrTOTPNotEnabled", err)
	}
	want := []string{accounts.ActionMFAFailed, accounts.ActionMFAFailed, accounts.ActionTOTPEnable, accounts.ActionMFAFailed,
		accounts.ActionMFAFailed, accounts.ActionMFAFailed, accounts.ActionRecoveryCodeUse, accounts.ActionMFAFailed,
		accounts.ActionRecoveryCodesRegenerate, accounts.ActionMFAFailed, accounts.ActionMFAFailed, accounts.ActionRecoveryCodeUse, accounts.ActionTOTPRemove}
	if got := e.actions(t, u.ID); !slices.Equal(got, want) {
		t.Errorf("audit trail:\n got %q\nwant %q", got, want)
	}
}

func TestTOTPRemovalWithCode(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	u, secret := e.totpUser(t, "bob@example.com")
	if err := e.svc.RemoveTOTP(ctx, u.ID, mfa.Proof{Code: code(t, secret, e.clock.Now())}); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("remove with a spent code: %v, want ErrInvalidCode", err)
	}
	e.clock.Advance(30 * time.Second)
	if err := e.svc.RemoveTOTP(ctx, u.ID, mfa.Proof{Code: code(t, secret, e.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, "000000"); !errors.Is(err, accounts.ErrTOTPNotEnabled) {
		t.Errorf("confirm without a pending secret: %v, want ErrTOTPNotEnabled", err)
	}
}

// Failed codes per account are limited: past the limit even the right
// code is refused until the window ends.
func TestTOTPRateLimit(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, func(o *mfa.Options) { o.MaxFailures = 3; o.FailureWindow = 10 * time.Minute })
	u, secret := e.totpUser(t, "eve@example.com")
	e.clock.Advance(30 * time.Second)
	good := code(t, secret, e.clock.Now())
	bad := "000000"
	if bad == good {
		bad = "111111"
	}
	for i := range 3 {
		if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: bad}); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	_, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: good})
	var rl *mfa.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, mfa.ErrRateLimited) || !rl.RetryAt.After(e.clock.Now()) {
		t.Fatalf("right code past the limit: %v, want a RateLimitError", err)
	}
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{RecoveryCode: "aaaa-bbbb-cccc"}); !errors.Is(err, mfa.ErrRateLimited) {
		t.Errorf("recovery code past the limit: %v, want ErrRateLimited", err)
	}
	// Another account is not affected.
	other := e.user(t, "", true)
	if _, err := e.svc.EnrollTOTP(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	if _, err := e.svc.Verify(ctx, u.ID, mfa.Proof{Code: code(t, secret, e.clock.Now())}); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	u := e.user(t, "kim@example.com", true)
	enr, _ := e.svc.EnrollTOTP(ctx, u.ID)
	p, err := e.store.GetPendingTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Sealed, []byte(enr.Secret)) {
		t.Error("the pending secret is stored in the clear")
	}
	// A blob moved to another user does not open.
	other := e.user(t, "lee@example.com", true)
	p.UserID = other.ID
	if err := e.store.PutPendingTOTP(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, other.ID, code(t, enr.Secret, e.clock.Now())); err == nil || errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("confirm with a secret sealed for another user: %v, want a sealing error", err)
	}
}

func TestResetFactors(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	u, _ := e.totpUser(t, "rex@example.com")
	if err := e.store.CreatePasskey(ctx, &accounts.Passkey{ID: []byte("k1"), UserID: u.ID, UserHandle: []byte(u.ID),
		PublicKey: []byte("pk"), Data: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	admin := accounts.Actor{ID: "cli:root"}
	if err := e.svc.Reset(ctx, admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := e.svc.Status(ctx, u.ID); err != nil || st != (mfa.Status{}) {
		t.Errorf("Status after reset = %+v, %v", st, err)
	}
	if err := e.svc.Reset(ctx, admin, u.ID); err != nil {
		t.Errorf("reset without factors: %v, want nil", err)
	}
	if err := e.svc.Reset(ctx, admin, accounts.NewID()); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("reset of an unknown user: %v, want ErrNotFound", err)
	}
	evs, _ := e.store.ListAudit(ctx, "", 10)
	if evs[0].Action != accounts.ActionMFAReset || evs[0].Actor != "cli:root" || evs[0].Details["passkeys"] != "0" ||
		evs[1].Action != accounts.ActionMFAReset || evs[1].Details["totp"] != "true" || evs[1].Details["passkeys"] != "1" {
		t.Errorf("audit = %+v, %+v", evs[0], evs[1])
	}
}

func TestAMR(t *testing.T) {
	if got := mfa.AMR([]string{"pwd"}, mfa.MethodOTP); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("AMR(otp) = %q", got)
	}
	if got := mfa.AMR([]string{"pwd"}, mfa.MethodRecovery); !slices.Equal(got, []string{"pwd", "mfa"}) {
		t.Errorf("AMR(recovery) = %q", got)
	}
}

func TestQRCodePNG(t *testing.T) {
	uri := "otpauth://totp/Example:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example"
	b, err := mfa.QRCodePNG(uri, 0)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 256 || r.Dy() != 256 {
		t.Errorf("size %v, want 256x256", r)
	}
	for _, bad := range []struct {
		uri  string
		size int
	}{{"https://example.com", 256}, {uri, 64}, {uri, 4096}} {
		if _, err := mfa.QRCodePNG(bad.uri, bad.size); err == nil {
			t.Errorf("QRCodePNG(%q, %d) = nil error", bad.uri, bad.size)
		}
	}
}

func TestRelyingParty(t *testing.T) {
	rp, err := mfa.RelyingParty("https://Login.Example.com:8443/base", "Example")
	if err != nil || rp.RPID != "login.example.com" || !slices.Equal(rp.Origins, []string{"https://login.example.com:8443"}) || rp.RPDisplayName != "Example" {
		t.Errorf("RelyingParty = %+v, %v", rp, err)
	}
	for _, bad := range []string{"", "login.example.com", "ftp://login.example.com", "https://"} {
		if _, err := mfa.RelyingParty(bad, "x"); err == nil {
			t.Errorf("RelyingParty(%q): no error", bad)
		}
	}
}

package hosted_test

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
)

var secretRE = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7 ]+)</code>`)
var recoveryRE = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)

// TestAccountTOTPPages: set up after the password (QR image from this
// origin, the secret as text), a wrong first code, the right one and the
// recovery codes shown once, regenerate, and remove; each bad path leaves
// TOTP as it was.
func TestAccountTOTPPages(t *testing.T) {
	e := newMFAEnv(t, nil)
	id := e.Signup("ola@example.com", apitest.Password)
	b := newBrowser(t, e)
	b.signIn("ola@example.com")
	expect(t, "account", b.Get("/account"), 200, `id="totp-start"`)
	expect(t, "set up without proof", b.Post("/account/mfa/totp", nil), 403, `name="reauth_password"`)
	if p := b.Get("/account/mfa/totp/qr.png"); p.Status != 403 {
		t.Fatalf("QR code without proof: %d", p.Status)
	}
	p := b.confirmPassword("/account/mfa/totp", nil)
	expect(t, "setup", p, 200, `src="/account/mfa/totp/qr.png"`, `id="totp-secret"`)
	m := secretRE.FindStringSubmatch(string(p.Body))
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", p.Body)
	}
	secret := regexp.MustCompile(` `).ReplaceAllString(m[1], "")
	qr := b.Get("/account/mfa/totp/qr.png")
	if qr.Status != 200 || qr.Header.Get("Content-Type") != "image/png" || qr.Header.Get("Cache-Control") != "no-store" || len(qr.Body) < 100 {
		t.Fatalf("QR code: %d %v", qr.Status, qr.Header)
	}
	expect(t, "wrong first code", b.Post("/account/mfa/totp/confirm", url.Values{"code": {"000000"}}), 400, "not right", m[1])
	p = b.Post("/account/mfa/totp/confirm", url.Values{"code": {apitest.TOTPCode(t, secret, e.Clock.Now())}})
	expect(t, "confirm", p, 200, "Your recovery codes")
	if n := len(recoveryRE.FindAllString(string(p.Body), -1)); n != 10 {
		t.Fatalf("%d recovery codes shown, want 10", n)
	}
	acct := b.Get("/account")
	expect(t, "account with TOTP", acct, 200, `id="totp-status"`, "10 recovery codes left")
	if recoveryRE.Match(acct.Body) {
		t.Fatal("the recovery codes are shown again")
	}
	if on, _ := e.MFA.HasTOTP(context.Background(), id); !on {
		t.Fatal("TOTP is not on")
	}
	// Regenerate with the next step's code; the same code again is a replay.
	first := recoveryRE.FindAllStringSubmatch(string(p.Body), -1)
	next := nextCode(e, secret)
	p = b.Post("/account/mfa/recovery-codes", url.Values{"code": {next}})
	expect(t, "regenerate", p, 200, "Your recovery codes")
	second := recoveryRE.FindAllStringSubmatch(string(p.Body), -1)
	if len(second) != 10 || second[0][1] == first[0][1] {
		t.Fatalf("regenerated codes %q", second)
	}
	expect(t, "regenerate with a replayed code", b.Post("/account/mfa/recovery-codes", url.Values{"code": {next}}), 400, "not right")
	// Removal: a wrong code, a replayed one and an old recovery code leave TOTP on.
	expect(t, "remove with a wrong code", b.Post("/account/mfa/totp/remove", url.Values{"code": {"999999"}}), 400, "not right")
	expect(t, "remove with a replayed code", b.Post("/account/mfa/totp/remove", url.Values{"code": {next}}), 400, "not right")
	expect(t, "remove with an old recovery code", b.Post("/account/mfa/totp/remove", url.Values{"code": {first[0][1]}}), 400, "not right")
	expect(t, "remove with nothing", b.Post("/account/mfa/totp/remove", url.Values{"code": {""}}), 400)
	if on, _ := e.MFA.HasTOTP(context.Background(), id); !on {
		t.Fatal("TOTP went off without a right code")
	}
	expectRedirect(t, "remove", b.Post("/account/mfa/totp/remove", url.Values{"code": {second[0][1]}}), "/account?done=totp_removed")
	if on, _ := e.MFA.HasTOTP(context.Background(), id); on {
		t.Fatal("TOTP still on")
	}
}

// TestAccountTOTPRemoveWithRecoveryCode: a recovery code removes TOTP.
func TestAccountTOTPRemoveWithRecoveryCode(t *testing.T) {
	e := newMFAEnv(t, nil)
	id := e.Signup("rey@example.com", apitest.Password)
	b := newBrowser(t, e)
	b.signIn("rey@example.com") // before TOTP: no code step
	_, codes := e.EnableTOTP(id)
	expectRedirect(t, "remove", b.Post("/account/mfa/totp/remove", url.Values{"code": {codes[3]}}), "/account?done=totp_removed")
	if on, _ := e.MFA.HasTOTP(context.Background(), id); on {
		t.Fatal("TOTP still on")
	}
}

package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unilogin/unilogin/api/apitest"
)

// confirmWithPassword answers the account page's "confirm that it is you"
// form with the password.
func confirmWithPassword(t *testing.T, ctx context.Context, password string) {
	t.Helper()
	run(t, ctx, "confirm that it is you",
		chromedp.WaitVisible(css("#reauth_password")),
		chromedp.SendKeys(css("#reauth_password"), password),
		chromedp.Click(css("#confirm-submit")),
	)
}

// TestTOTPEnrolSignInAndRemove: set up an authenticator app on /account
// (QR code shown, the secret read from the page, codes computed as an app
// would), sign in at the app with password and code, sign in with a
// recovery code in another browser, and remove TOTP with a recovery code.
func TestTOTPEnrolSignInAndRemove(t *testing.T) {
	w := newWorld(t)
	u := w.signup("tom@example.com", "correct horse battery")
	ctx := newChrome(t)
	signInToAccount(t, ctx, w, "tom@example.com", "correct horse battery")
	run(t, ctx, "start setup", chromedp.Click(css("#totp-start")))
	confirmWithPassword(t, ctx, "correct horse battery")
	run(t, ctx, "setup shown", chromedp.WaitVisible(css("#totp-qr")))
	if wd := evaluate[int](t, ctx, `document.getElementById("totp-qr").naturalWidth`); wd < 128 {
		t.Fatalf("the QR code image did not load (natural width %d)", wd)
	}
	screenshot(t, ctx, "totp-setup")
	secret := strings.ReplaceAll(text(t, ctx, "#totp-secret"), " ", "")
	run(t, ctx, "first code",
		chromedp.SendKeys(css("#totp_code"), apitest.TOTPCode(t, secret, time.Now())),
		chromedp.Click(css("#totp-confirm")),
		chromedp.WaitVisible(css("#recovery-codes")),
	)
	codes := evaluate[[]string](t, ctx, `Array.from(document.querySelectorAll("#recovery-codes code")).map(e => e.textContent)`)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	screenshot(t, ctx, "totp-recovery-codes")
	if on, _ := w.mfa.HasTOTP(context.Background(), u.ID); !on {
		t.Fatal("TOTP is not on after the first code")
	}

	// Sign in at the app: password, then the code of the next time step
	// (the first code's step is spent).
	signOut(t, ctx)
	run(t, ctx, "app sign-in", passwordForm(w.fromApp(), "tom@example.com", "correct horse battery", "#code")...)
	if got := evaluate[string](t, ctx, `document.activeElement.id`); got != "code" {
		t.Fatalf("focus on the code page: %q, want the code field", got)
	}
	screenshot(t, ctx, "totp-signin")
	run(t, ctx, "wrong code",
		chromedp.SendKeys(css("#code"), "000000"),
		chromedp.Click(css("#mfa-submit")),
		chromedp.WaitVisible(css("#code-error")),
	)
	run(t, ctx, "code",
		chromedp.SendKeys(css("#code"), apitest.TOTPCode(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(css("#mfa-submit")),
	)
	w.landedAtApp(t, ctx, "tom@example.com")

	// Another browser, the phone lost: a recovery code.
	ctx2 := newChrome(t)
	signInUntil(t, ctx2, w, "tom@example.com", "correct horse battery", "#code")
	run(t, ctx2, "recovery code",
		chromedp.Click(css("details.recovery summary")),
		chromedp.WaitVisible(css("#recovery_code")),
		chromedp.SendKeys(css("#recovery_code"), codes[0]),
		chromedp.Click(css("#recovery-submit")),
		chromedp.WaitVisible(css("#sessions")),
	)
	screenshot(t, ctx2, "totp-recovery-signin")
	// Remove TOTP with another recovery code.
	run(t, ctx2, "remove TOTP",
		chromedp.SendKeys(css("#remove_code"), codes[1]),
		chromedp.Click(css("#totp-remove")),
		chromedp.WaitVisible(css("#totp-start")),
	)
	if on, _ := w.mfa.HasTOTP(context.Background(), u.ID); on {
		t.Fatal("TOTP is still on after removal")
	}
}

// signOut presses Sign out on the account page and waits for the
// signed-out page.
func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "sign out", chromedp.Click(css("#signout")), chromedp.WaitVisible(css(`p[role="status"]`)))
}

// TestPasskeyRegisterSignInAndRemove: Chromium's virtual authenticator
// creates a discoverable passkey from /account, signs in with it at the
// app without an e-mail typed, and the passkey is removed again.
func TestPasskeyRegisterSignInAndRemove(t *testing.T) {
	w := newWorld(t)
	u := w.signup("kim@example.com", "correct horse battery")
	ctx := newChrome(t)
	auth := addAuthenticator(t, ctx)
	signInToAccount(t, ctx, w, "kim@example.com", "correct horse battery")
	run(t, ctx, "add a passkey", chromedp.Click(css("#passkey-add")))
	confirmWithPassword(t, ctx, "correct horse battery")
	run(t, ctx, "create",
		chromedp.WaitVisible(css("#passkey-create-button")),
		chromedp.SendKeys(css("#passkey_name"), "Test laptop"),
		chromedp.Click(css("#passkey-create-button")),
		chromedp.WaitVisible(css("#passkey-list li")),
	)
	screenshot(t, ctx, "passkey-registered")
	creds := authenticatorCredentials(t, ctx, auth)
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("authenticator holds %+v, want one discoverable credential", creds)
	}
	keys, _ := w.mfa.ListPasskeys(context.Background(), u.ID)
	if len(keys) != 1 || keys[0].Name != "Test laptop" {
		t.Fatalf("stored passkeys %+v", keys)
	}

	signOut(t, ctx)
	run(t, ctx, "passkey sign-in at the app",
		chromedp.Navigate(w.app.srv.URL),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#passkey-signin-button")),
	)
	screenshot(t, ctx, "passkey-signin-page")
	run(t, ctx, "passkey", chromedp.Click(css("#passkey-signin-button")))
	w.landedAtApp(t, ctx, "kim@example.com")
	sessions, _ := w.sessions.List(context.Background(), u.ID)
	found := false
	for _, s := range sessions {
		found = found || strings.Join(s.AMR, " ") == "hwk user"
	}
	if !found {
		t.Fatalf("no session with amr hwk user: %+v", sessions)
	}

	// The passkey sign-in made a page session too: remove the passkey.
	run(t, ctx, "account", chromedp.Navigate(w.url+"/account"), chromedp.WaitVisible(css("#passkey-list li button")))
	run(t, ctx, "remove", chromedp.Click(css("#passkey-list li button")))
	confirmWithPassword(t, ctx, "correct horse battery")
	run(t, ctx, "removed", chromedp.WaitVisible(css(".notice")))
	if n := text(t, ctx, ".notice"); !strings.Contains(n, "passkey was removed") {
		t.Fatalf("notice %q", n)
	}
	if keys, _ := w.mfa.ListPasskeys(context.Background(), u.ID); len(keys) != 0 {
		t.Fatalf("passkeys left: %+v", keys)
	}
	screenshot(t, ctx, "passkey-removed")
}

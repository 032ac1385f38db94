package browsertest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/unilogin/unilogin/providers/providertest"
	"github.com/unilogin/unilogin/session"
)

type css = chromedp.CSS

// TestSignUpLandsOnApp: app -> sign-in page -> "Create an account" -> the
// form -> back at the app with a code that redeems.
func TestSignUpLandsOnApp(t *testing.T) {
	w := newWorld(t)
	ctx := newChrome(t)
	run(t, ctx, "open sign-up",
		chromedp.Navigate(w.app.srv.URL),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#signup-link")),
		chromedp.Click(css("#signup-link")),
		chromedp.WaitVisible(css("#name")),
	)
	// A common password first: the error is tied to the field.
	run(t, ctx, "weak password",
		chromedp.SendKeys(css("#name"), "Ann Example"),
		chromedp.SendKeys(css("#email"), "ann@example.com"),
		chromedp.SendKeys(css("#password"), "password"),
		chromedp.Submit(css("#password")),
		chromedp.WaitVisible(css("#password-error")),
	)
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(css("#password"), "aria-describedby"))
	if err != nil || !strings.Contains(attr.Value, "password-error") {
		t.Fatalf("aria-describedby = %q, %v", attr.Value, err)
	}
	screenshot(t, ctx, "signup-error")
	run(t, ctx, "good password",
		chromedp.SendKeys(css("#password"), "a long and fine passphrase"),
		chromedp.Submit(css("#password")),
	)
	w.landedAtApp(t, ctx, "ann@example.com")
	screenshot(t, ctx, "signup-app")
}

// TestSignInWrongThenRightPassword: one generic message, then success.
func TestSignInWrongThenRightPassword(t *testing.T) {
	w := newWorld(t)
	w.signup("bob@example.com", "correct horse battery")
	ctx := newChrome(t)
	run(t, ctx, "wrong password", passwordForm(w.fromApp(), "bob@example.com", "not my password", "#form-error")...)
	if msg := text(t, ctx, "#form-error"); msg != "The email address or password is incorrect." {
		t.Fatalf("error message %q", msg)
	}
	screenshot(t, ctx, "signin-wrong-password")
	run(t, ctx, "right password",
		chromedp.SendKeys(css("#password"), "correct horse battery"),
		chromedp.Click(css("button.primary")),
	)
	w.landedAtApp(t, ctx, "bob@example.com")
	screenshot(t, ctx, "signin-app")
}

// TestSignInWithGitHub: the provider button, through the fake GitHub.
func TestSignInWithGitHub(t *testing.T) {
	w := newWorld(t)
	w.github.SetUser(providertest.GitHubUser{ID: 777, Login: "octo", Name: "Octo Cat",
		Emails: []providertest.GitHubEmail{{Email: "octo@example.com", Primary: true, Verified: true}}})
	ctx := newChrome(t)
	run(t, ctx, "sign-in page",
		chromedp.Navigate(w.app.srv.URL),
		chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css("#provider-github")),
	)
	screenshot(t, ctx, "signin-page")
	// On a phone: the viewport meta makes the page fit, no sideways scrolling.
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	if w := evaluate[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Fatalf("the sign-in page is %dpx wide on a 390px phone", w)
	}
	screenshot(t, ctx, "signin-phone")
	run(t, ctx, "desktop", chromedp.EmulateReset())
	run(t, ctx, "github", chromedp.Click(css("#provider-github")))
	w.landedAtApp(t, ctx, "octo@example.com")
	screenshot(t, ctx, "github-app")
}

// signInToAccount signs the browser in at /signin with a password.
func signInToAccount(t *testing.T, ctx context.Context, w *world, email, password string) {
	t.Helper()
	signInUntil(t, ctx, w, email, password, "#sessions")
}

// signInUntil fills the password form of /account's sign-in page and
// waits for the element sel of the page it leads to.
func signInUntil(t *testing.T, ctx context.Context, w *world, email, password, sel string) {
	t.Helper()
	run(t, ctx, "sign in until "+sel, passwordForm(chromedp.Navigate(w.url+"/account"), email, password, sel)...)
}

// passwordForm opens the sign-in page with open, fills and sends the
// password form, and waits for the element sel of the next page.
func passwordForm(open chromedp.Action[chromedp.Void], email, password, sel string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{open,
		chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), email),
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css("button.primary")),
		chromedp.WaitVisible(css(sel)),
	}
}

// fromApp opens the sign-in page from the app's "Sign in" link.
func (w *world) fromApp() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Navigate(w.app.srv.URL), chromedp.Click(css("#signin")))
}

// TestLinkAndUnlinkGitHub: from the account page, through GitHub and back.
func TestLinkAndUnlinkGitHub(t *testing.T) {
	w := newWorld(t)
	u := w.signup("cleo@example.com", "correct horse battery")
	w.github.SetUser(providertest.GitHubUser{ID: 4242, Login: "cleo", Name: "Cleo",
		Emails: []providertest.GitHubEmail{{Email: "cleo@elsewhere.example", Primary: true, Verified: true}}})
	ctx := newChrome(t)
	signInToAccount(t, ctx, w, "cleo@example.com", "correct horse battery")
	// Linking asks for the current password in place (re-authentication).
	run(t, ctx, "link",
		chromedp.Click(css("#link-github")),
		chromedp.WaitVisible(css("#link_current_password")),
		chromedp.SendKeys(css("#link_current_password"), "correct horse battery"),
		chromedp.Click(css("#confirm-link-github")),
		chromedp.WaitVisible(css("#identity-github")),
	)
	if n := text(t, ctx, ".notice"); !strings.Contains(n, "linked") {
		t.Fatalf("notice %q", n)
	}
	ids, _ := w.accounts.Identities(context.Background(), u.ID)
	if len(ids) != 1 || ids[0].Subject != "4242" {
		t.Fatalf("identities after linking: %v", ids)
	}
	screenshot(t, ctx, "account-linked")
	run(t, ctx, "unlink",
		chromedp.Click(css("#unlink-github")),
		chromedp.WaitVisible(css("#link-github")),
	)
	if n := text(t, ctx, ".notice"); !strings.Contains(n, "unlinked") {
		t.Fatalf("notice %q", n)
	}
	ids, _ = w.accounts.Identities(context.Background(), u.ID)
	if len(ids) != 0 {
		t.Fatalf("identities after unlinking: %v", ids)
	}
	screenshot(t, ctx, "account-unlinked")
}

// TestRevokeAnotherSession: a session of another device disappears.
func TestRevokeAnotherSession(t *testing.T) {
	w := newWorld(t)
	u := w.signup("dora@example.com", "correct horse battery")
	other, err := w.sessions.Start(context.Background(), session.Grant{
		Subject: session.Subject{UserID: u.ID, Email: u.Email}, ClientID: "demo-app", AMR: []string{"pwd"}, UserAgent: "Firefox on Android",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newChrome(t)
	signInToAccount(t, ctx, w, "dora@example.com", "correct horse battery")
	sel := "#session-" + other.SessionID
	run(t, ctx, "other session listed", chromedp.WaitVisible(css(sel)))
	screenshot(t, ctx, "account-sessions")
	run(t, ctx, "revoke",
		chromedp.Click(css(sel+" button")),
		chromedp.WaitVisible(css(".notice")),
	)
	n := evaluate[int](t, ctx, `document.querySelectorAll("#sessions li").length`)
	if n != 1 {
		t.Fatalf("%d sessions listed after revoking, want 1 (this browser)", n)
	}
	if _, err := w.sessions.Session(context.Background(), other.SessionID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the revoked session is still there: %v", err)
	}
	screenshot(t, ctx, "account-revoked")
}

// TestKeyboardOnlySignIn: Tab and Enter only, from the app to the app.
func TestKeyboardOnlySignIn(t *testing.T) {
	w := newWorld(t)
	w.signup("eve@example.com", "correct horse battery")
	ctx := newChrome(t)
	active := func() string {
		return evaluate[string](t, ctx, `document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ""`)
	}
	run(t, ctx, "app", chromedp.Navigate(w.app.srv.URL), chromedp.WaitVisible(css("#signin")), chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "signin" {
		t.Fatalf("Tab on the app focused %q", got)
	}
	run(t, ctx, "open the sign-in page", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#email")))
	if got := active(); got != "email" { // autofocus; else one Tab
		run(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
		if got := active(); got != "email" {
			t.Fatalf("first focus on the sign-in page: %q", got)
		}
	}
	run(t, ctx, "type", chromedp.KeyEvent("eve@example.com"), chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "password" {
		t.Fatalf("Tab after the email focused %q", got)
	}
	run(t, ctx, "type", chromedp.KeyEvent("correct horse battery"), chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "BUTTON" {
		t.Fatalf("Tab after the password focused %q", got)
	}
	screenshot(t, ctx, "keyboard-focus")
	run(t, ctx, "submit", chromedp.KeyEvent(kb.Enter))
	w.landedAtApp(t, ctx, "eve@example.com")
	screenshot(t, ctx, "keyboard-app")
}

package browsertest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/unilogin/unilogin/accounts/mail/mailtest"
)

// mailLink waits for the next mail to `to` with a <issuer><path> link in
// the server's outbox and returns the whole link, as a person clicks it.
func (w *world) mailLink(box *mailtest.Outbox, to, path string) string {
	w.t.Helper()
	return w.url + path + "?token=" + box.Link(w.t, to, w.url+path)
}

// TestRecoveryWalk is the walk of the README: sign up, verify from the
// mail, forget the password, reset it from the mail, change the address
// and delete the account, all on the hosted pages.
func TestRecoveryWalk(t *testing.T) {
	w := newWorld(t)
	box := mailtest.NewOutbox(filepath.Join(w.dataDir, "outbox"))
	ctx := newChrome(t)
	const addr, pw1, pw2 = "walker@example.com", "a first fine passphrase", "a second fine passphrase"

	run(t, ctx, "sign up",
		chromedp.Navigate(w.url+"/register"),
		chromedp.WaitVisible(css("#name")),
	)
	wantFocus(t, ctx, "sign-up page", "name")
	run(t, ctx, "weak password",
		chromedp.SendKeys(css("#email"), addr),
		chromedp.SendKeys(css("#password"), "short"),
		chromedp.Submit(css("#password")),
		chromedp.WaitVisible(css("#password-error")),
	)
	wantFocus(t, ctx, "after the error", "password")
	if msg := text(t, ctx, "#password-error"); !strings.HasPrefix(msg, "The password ") || !strings.HasSuffix(msg, ".") {
		t.Errorf("weak-password message %q is not a sentence", msg)
	}
	run(t, ctx, "sign up for real",
		chromedp.SendKeys(css("#password"), pw1),
		chromedp.Submit(css("#password")),
		chromedp.WaitVisible(css("#email-state")),
	)
	if st := text(t, ctx, "#email-state"); !strings.Contains(st, "not verified") {
		t.Errorf("email state after sign-up: %q", st)
	}
	if dev := text(t, ctx, "#sessions"); strings.Contains(dev, "pwd") || !strings.Contains(dev, "Password") {
		t.Errorf("sessions list says %q: want the method named Password", dev)
	}

	run(t, ctx, "verify from the mail",
		chromedp.Navigate(w.mailLink(box, addr, "/verify-email")),
		chromedp.WaitVisible(css("#confirm-link")),
	)
	if u, _ := w.accounts.GetByEmail(t.Context(), addr); u.EmailVerified {
		t.Fatal("opening the link verified the address: only the button may")
	}
	run(t, ctx, "press the button", confirmLink("#email-state")...)
	if st := text(t, ctx, "#email-state"); !strings.Contains(st, "is verified") {
		t.Errorf("email state after verification: %q", st)
	}

	run(t, ctx, "forget the password",
		chromedp.Click(css("#signout")),
		chromedp.WaitVisible(css(".switch a")),
		chromedp.Navigate(w.url+"/signin"),
		chromedp.WaitVisible(css("#forgot-link")),
		chromedp.Click(css("#forgot-link")),
		chromedp.WaitVisible(css("#send-reset")),
		chromedp.SendKeys(css("#email"), addr),
		chromedp.Click(css("#send-reset")),
		chromedp.WaitVisible(css("#next")),
	)
	run(t, ctx, "reset from the mail",
		chromedp.Navigate(w.mailLink(box, addr, "/reset-password")),
		chromedp.WaitVisible(css("#new_password")),
		chromedp.SendKeys(css("#new_password"), pw2),
		chromedp.Click(css("#confirm-link")),
		chromedp.WaitVisible(css("#next")),
	)
	screenshot(t, ctx, "recovery-reset-done")
	signInToAccount(t, ctx, w, addr, pw2)

	const moved = "walker@example.org"
	run(t, ctx, "change the address",
		chromedp.SendKeys(css("#new_email"), moved),
		chromedp.SendKeys(css("#email_current_password"), pw2),
		chromedp.Click(css("#change-email-button")),
		chromedp.WaitVisible(css(".notice")),
	)
	run(t, ctx, "confirm from the mail",
		chromedp.Navigate(w.mailLink(box, moved, "/confirm-email")),
		chromedp.WaitVisible(css("#confirm-link")),
	)
	run(t, ctx, "press the confirm button", confirmLink("#profile-email")...)
	if got := text(t, ctx, "#profile-email"); !strings.HasPrefix(got, moved) {
		t.Errorf("address after the change: %q", got)
	}

	run(t, ctx, "delete with a wrong password",
		chromedp.SendKeys(css("#delete_current_password"), "not my password"),
		chromedp.Click(css("#delete-account-button")),
		chromedp.WaitVisible(css("#delete-current-error")),
	)
	wantFocus(t, ctx, "after the error", "delete_current_password")
	run(t, ctx, "delete the account",
		chromedp.SendKeys(css("#delete_current_password"), pw2),
		chromedp.Click(css("#delete-account-button")),
		chromedp.WaitVisible(css("#next")),
	)
	screenshot(t, ctx, "recovery-deleted")
	if _, err := w.accounts.GetByEmail(t.Context(), moved); err == nil {
		t.Fatal("the account still exists")
	}
}

// confirmLink presses the button of a mailed link's page, then the
// message page's link on, and waits for the element sel.
func confirmLink(sel string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Click(css("#confirm-link")),
		chromedp.WaitVisible(css("#next")),
		chromedp.Click(css("#next")),
		chromedp.WaitVisible(css(sel)),
	}
}

// wantFocus reports an error unless the element with id has the focus.
func wantFocus(t *testing.T, ctx context.Context, what, id string) {
	t.Helper()
	if f := evaluate[string](t, ctx, "document.activeElement.id"); f != id {
		t.Errorf("%s: focus on %q, want #%s", what, f, id)
	}
}

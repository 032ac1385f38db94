package mail_test

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mail"
)

func TestFlows(t *testing.T) {
	store := queueStore(t)
	_, q, err := mail.New(mail.Config{From: "no-reply@login.example.com", OutboxDir: t.TempDir(), PerRecipientLimit: 3}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, issuer := range []string{"", "login.example.com", "ftp://login.example.com", "https://"} {
		if _, err := mail.NewFlows(q, issuer); err == nil {
			t.Errorf("NewFlows(%q) succeeded", issuer)
		}
	}
	f, err := mail.NewFlows(q, "https://login.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := accounts.NewEmailToken()
	for _, tc := range []struct {
		kind    accounts.MailKind
		to      string
		link    string
		subject string
	}{
		{accounts.MailVerifyEmail, "a@example.com", "https://login.example.com/verify-email?token=" + tok, "Verify your e-mail address"},
		{accounts.MailResetPassword, "b@example.com", "https://login.example.com/reset-password?token=" + tok, "Reset your unilogin password"},
		{accounts.MailConfirmEmailChange, "c@example.com", "https://login.example.com/confirm-email?token=" + tok, "Confirm your new e-mail address"},
		{accounts.MailEmailChangeNotice, "d@example.com", "", "e-mail address is being changed"},
		{accounts.MailPasswordChanged, "e@example.com", "", "password was changed"},
	} {
		if err := f.Send(t.Context(), accounts.AccountMail{Kind: tc.kind, To: tc.to, Token: tok, TTL: time.Hour}); err != nil {
			t.Fatalf("Send(kind %d): %v", tc.kind, err)
		}
		due, err := store.DueMail(t.Context(), time.Now().Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		var raw string
		for _, m := range due {
			if m.To == tc.to {
				raw = string(m.Raw)
			}
		}
		if !strings.Contains(raw, tc.subject) {
			t.Errorf("kind %d: no message to %s with subject %q", tc.kind, tc.to, tc.subject)
		}
		if tc.link != "" && !strings.Contains(raw, "\r\n"+tc.link+"\r\n") {
			t.Errorf("kind %d: the link %s is not alone on a line", tc.kind, tc.link)
		}
		if tc.link == "" && strings.Contains(raw, tok) {
			t.Errorf("kind %d: a notice carries the token", tc.kind)
		}
	}
	// A message is written in the language its context carries (that of
	// the request that asked for it): subject, both parts, lang.
	de := i18n.WithLocale(t.Context(), i18n.For(language.German))
	if err := f.Send(de, accounts.AccountMail{Kind: accounts.MailResetPassword, To: "de@example.com", Token: tok, TTL: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	due, err := store.DueMail(t.Context(), time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range due {
		if m.To != "de@example.com" {
			continue
		}
		found = true
		subject, text, html := decodeParts(t, m.Raw)
		const want = "Der Link funktioniert einmal und läuft in 30 Minuten ab."
		if subject != "Setzen Sie Ihr unilogin-Passwort zurück" || !strings.Contains(text, want) || !strings.Contains(html, want) ||
			!strings.Contains(html, `<html lang="de">`) {
			t.Errorf("the German message: subject %q\n%s\n%s", subject, text, html)
		}
	}
	if !found {
		t.Error("no message to de@example.com queued")
	}
	if err := f.Send(t.Context(), accounts.AccountMail{Kind: 99, To: "a@example.com"}); err == nil {
		t.Error("Send(unknown kind) succeeded")
	}
	// Over the per-recipient bound the message is dropped, and Send still
	// answers as if it had been sent.
	for i := range 5 {
		if err := f.Send(t.Context(), accounts.AccountMail{Kind: accounts.MailPasswordChanged, To: "flood@example.com"}); err != nil {
			t.Fatalf("Send #%d to a flooded address: %v", i, err)
		}
	}
	if s := q.Stats(); s.Rejected != 2 {
		t.Errorf("Stats().Rejected = %d, want 2", s.Rejected)
	}
}

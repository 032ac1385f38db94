package accountstest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// captureMailer records what the flows send.
type captureMailer struct {
	mu    sync.Mutex
	mails []accounts.AccountMail
}

func (m *captureMailer) Send(_ context.Context, am accounts.AccountMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mails = append(m.mails, am)
	return nil
}

// last returns the token of the last message of kind.
func (m *captureMailer) last(t *testing.T, kind accounts.MailKind) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.mails) - 1; i >= 0; i-- {
		if m.mails[i].Kind == kind {
			return m.mails[i].Token
		}
	}
	t.Fatalf("no message of kind %d was sent", kind)
	return ""
}

func newRecovery(t *testing.T, s accounts.Store) (*accounts.Service, *accounts.Recovery, *captureMailer) {
	t.Helper()
	svc, err := accounts.NewService(s, accounts.Options{BcryptCost: 4})
	must(t, "NewService", err)
	m := &captureMailer{}
	rec, err := accounts.NewRecovery(svc, accounts.RecoveryOptions{Mailer: m, Audit: s})
	must(t, "NewRecovery", err)
	t.Cleanup(rec.Wait)
	return svc, rec, m
}

// Twenty requests redeem one reset link at once, through the service as
// the API does: exactly one sets the password.
func testRecoveryConcurrentReset(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	svc, rec, m := newRecovery(t, s)
	_, err := svc.Signup(ctx, accounts.SignupRequest{Email: "race@example.com", Password: "first pass phrase 4711"})
	must(t, "Signup", err)
	must(t, "ForgotPassword", rec.ForgotPassword(ctx, "race@example.com"))
	rec.Wait()
	tok := m.last(t, accounts.MailResetPassword)
	errs := testkit.Race(racers, func(i int) error {
		_, err := rec.ResetPassword(ctx, tok, fmt.Sprint("new pass phrase ", i))
		return err
	})
	winner := testkit.OneWinner(t, "ResetPassword(one link)", errs, accounts.ErrInvalidEmailToken)
	if _, err := svc.Authenticate(ctx, "race@example.com", fmt.Sprint("new pass phrase ", winner)); err != nil {
		t.Errorf("the winner's password does not work: %v", err)
	}
}

// Concurrent confirmations of one address-change link: exactly one moves
// the account; and two users' links to one address: one gets it.
func testRecoveryConcurrentEmailChange(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	svc, rec, m := newRecovery(t, s)
	const pw = "first pass phrase 4711"
	a, err := svc.Signup(ctx, accounts.SignupRequest{Email: "a@example.com", Password: pw})
	must(t, "Signup", err)
	b, err := svc.Signup(ctx, accounts.SignupRequest{Email: "b@example.com", Password: pw})
	must(t, "Signup", err)
	must(t, "RequestEmailChange", rec.RequestEmailChange(ctx, a.ID, "wanted@example.com", accounts.Reauth{CurrentPassword: pw}))
	ta := m.last(t, accounts.MailConfirmEmailChange)
	must(t, "RequestEmailChange", rec.RequestEmailChange(ctx, b.ID, "wanted@example.com", accounts.Reauth{CurrentPassword: pw}))
	tb := m.last(t, accounts.MailConfirmEmailChange)
	errs := testkit.Race(racers, func(i int) error {
		tok := ta
		if i%2 == 1 {
			tok = tb
		}
		_, err := rec.ConfirmEmailChange(ctx, tok)
		return err
	})
	testkit.OneWinner(t, "ConfirmEmailChange", errs, accounts.ErrInvalidEmailToken, accounts.ErrEmailTaken)
	owner, err := s.GetUserByEmail(ctx, "wanted@example.com")
	must(t, "GetUserByEmail(wanted)", err)
	if owner.ID != a.ID && owner.ID != b.ID || !owner.EmailVerified {
		t.Errorf("the address belongs to %+v", owner)
	}
}

package accounts_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/accounts/sqlitestore/sqlitetest"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// recFixture is the service, the e-mail flows and the admin over a real
// SQLite store, with a real mail queue on the same store (nothing is
// delivered: the tests read the queue).
type recFixture struct {
	store *sqlitestore.Store
	svc   *accounts.Service
	rec   *accounts.Recovery
	admin *accounts.Admin
	clock *testkit.Clock
	seen  map[string]bool
}

// sentMail is one queued message as a recipient would see it.
type sentMail struct {
	To    string
	Path  string // the link's path ("" for a notice)
	Token string
	Raw   string
}

func newRecFixture(t *testing.T, policy accounts.SignupPolicy) *recFixture {
	t.Helper()
	st := sqlitetest.New(t)
	clock := testkit.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	svc, err := accounts.NewService(st, accounts.Options{BcryptCost: 4, DefaultRoles: []string{"member"}, Now: clock.Now, Signup: policy})
	if err != nil {
		t.Fatal(err)
	}
	_, q, err := mail.New(mail.Config{From: "no-reply@login.example.com", OutboxDir: t.TempDir()}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	flows, err := mail.NewFlows(q, "https://login.example.com")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := accounts.NewRecovery(svc, accounts.RecoveryOptions{Mailer: flows, Audit: st})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := accounts.NewAdmin(svc, accounts.AdminOptions{Audit: st, Sessions: &fakeSessions{}, Roles: []string{"member"}, Recovery: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Wait)
	return &recFixture{store: st, svc: svc, rec: rec, admin: adm, clock: clock, seen: map[string]bool{}}
}

var (
	linkRE = regexp.MustCompile(`(?m)^https://login\.example\.com(/[a-z-]+)\?token=([A-Za-z0-9_-]+)\r?$`)
	toRE   = regexp.MustCompile(`(?m)^To: <([^>]+)>\r?$`)
)

// mails returns the messages queued since the last call, after the
// background deliveries have finished.
func (f *recFixture) mails(t *testing.T) []sentMail {
	t.Helper()
	f.rec.Wait()
	due, err := f.store.DueMail(context.Background(), time.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []sentMail
	for _, m := range due {
		if f.seen[m.ID] {
			continue
		}
		f.seen[m.ID] = true
		raw := string(m.Raw)
		s := sentMail{To: m.To, Raw: raw}
		if to := toRE.FindStringSubmatch(raw); to == nil || to[1] != m.To {
			t.Errorf("message to %s has header To %v", m.To, to)
		}
		if l := linkRE.FindStringSubmatch(raw); l != nil {
			s.Path, s.Token = l[1], l[2]
		}
		out = append(out, s)
	}
	return out
}

// oneMail expects exactly one new message, to `to` with a link at path
// ("" for a notice), and returns its token.
func (f *recFixture) oneMail(t *testing.T, to, path string) string {
	t.Helper()
	ms := f.mails(t)
	if len(ms) != 1 || ms[0].To != to || ms[0].Path != path {
		t.Fatalf("queued %d messages %+v; want one to %s with link path %q", len(ms), summary(ms), to, path)
	}
	return ms[0].Token
}

// linkTo returns the token of the one message among ms that went to `to`
// with a link: a change of address also queues a notice to the old
// address, in no particular order.
func linkTo(t *testing.T, ms []sentMail, to string) string {
	t.Helper()
	var tokens []string
	for _, m := range ms {
		if m.To == to && m.Token != "" {
			tokens = append(tokens, m.Token)
		}
	}
	if len(tokens) != 1 {
		t.Fatalf("queued %v; want one link to %s", summary(ms), to)
	}
	return tokens[0]
}

func summary(ms []sentMail) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.To+" "+m.Path)
	}
	return s
}

func (f *recFixture) noMail(t *testing.T, what string) {
	t.Helper()
	if ms := f.mails(t); len(ms) != 0 {
		t.Errorf("%s: queued %v, want nothing", what, summary(ms))
	}
}

// forgot asks for a password reset of email and returns the token of the
// one link it sends there.
func (f *recFixture) forgot(t *testing.T, email string) string {
	t.Helper()
	if err := f.rec.ForgotPassword(t.Context(), email); err != nil {
		t.Fatalf("ForgotPassword(%s): %v", email, err)
	}
	return f.oneMail(t, email, "/reset-password")
}

// signup creates a password user.
func (f *recFixture) signup(t *testing.T, email, password string) *accounts.User {
	t.Helper()
	u, err := f.svc.Signup(t.Context(), accounts.SignupRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("Signup(%s): %v", email, err)
	}
	return u
}

func (f *recFixture) user(t *testing.T, id string) *accounts.User {
	t.Helper()
	u, err := f.store.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

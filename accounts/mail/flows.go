package mail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
)

var _ accounts.Mailer = (*Flows)(nil)

// Flows is the accounts.Mailer of the account flows: it turns an
// accounts.AccountMail into one of this package's messages, with its link
// under the issuer (<issuer>/verify-email?token=..., /reset-password,
// /confirm-email), and queues it. A message dropped by the per-recipient
// bound counts as sent, so callers answer alike. A message is written in
// the language its context carries (i18n.WithLocale), English by default.
type Flows struct {
	q      *Queue
	issuer string
	now    func() time.Time
}

// NewFlows returns the Mailer queuing on q with links under issuer (an
// absolute http(s) URL).
func NewFlows(q *Queue, issuer string) (*Flows, error) {
	u, err := url.Parse(issuer)
	if q == nil || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("mail: NewFlows needs a queue and an absolute http(s) issuer URL")
	}
	return &Flows{q: q, issuer: strings.TrimRight(issuer, "/"), now: time.Now}, nil
}

// Send composes m and queues it.
func (f *Flows) Send(ctx context.Context, m accounts.AccountMail) error {
	link := func(path string) string { return f.issuer + path + "?token=" + url.QueryEscape(m.Token) }
	b := f.q.Branding()
	l := i18n.FromContext(ctx) // the language of the request that asked for the mail
	var (
		msg Message
		err error
	)
	switch m.Kind {
	case accounts.MailVerifyEmail:
		msg, err = VerifyEmail(l, b, m.To, link("/verify-email"), m.TTL, f.now())
	case accounts.MailResetPassword:
		msg, err = ResetPassword(l, b, m.To, link("/reset-password"), m.TTL, f.now())
	case accounts.MailConfirmEmailChange:
		msg, err = ConfirmEmailChange(l, b, m.To, link("/confirm-email"), m.TTL, f.now())
	case accounts.MailEmailChangeNotice:
		msg, err = EmailChangeNotice(l, b, m.To)
	case accounts.MailPasswordChanged:
		msg, err = PasswordChangedNotice(l, b, m.To)
	default:
		return fmt.Errorf("mail: unknown account message kind %d", m.Kind)
	}
	if err != nil {
		return err
	}
	if err := f.q.Enqueue(ctx, msg); err != nil && !errors.Is(err, ErrRecipientLimit) {
		return err
	}
	return nil
}

package mail

import (
	"context"
	"errors"
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
	b := f.q.Branding()
	l := i18n.FromContext(ctx) // the language of the request that asked for the mail
	link := ""
	if w, ok := accountMessages[m.Kind]; ok && w.path != "" {
		link = f.issuer + w.path + "?token=" + url.QueryEscape(m.Token)
	}
	msg, err := AccountMessage(l, b, m.To, m.Kind, link, m.TTL, f.now())
	if err != nil {
		return err
	}
	if err := f.q.Enqueue(ctx, msg); err != nil && !errors.Is(err, ErrRecipientLimit) {
		return err
	}
	return nil
}

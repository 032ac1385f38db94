package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Pass-through of accounts.ConsentStore, timed like the other methods.

func (t *timedAccounts) GrantConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) (err error) {
	ctx, done := t.time(ctx, "GrantConsent")
	defer func() { err = done(err) }()
	return t.s.GrantConsent(ctx, userID, clientID, scopes, at)
}

func (t *timedAccounts) GetConsent(ctx context.Context, userID, clientID string) (_ *accounts.Consent, err error) {
	ctx, done := t.time(ctx, "GetConsent")
	defer func() { err = done(err) }()
	return t.s.GetConsent(ctx, userID, clientID)
}

func (t *timedAccounts) ListConsents(ctx context.Context, userID string) (_ []*accounts.Consent, err error) {
	ctx, done := t.time(ctx, "ListConsents")
	defer func() { err = done(err) }()
	return t.s.ListConsents(ctx, userID)
}

func (t *timedAccounts) RevokeConsent(ctx context.Context, userID, clientID string) (err error) {
	ctx, done := t.time(ctx, "RevokeConsent")
	defer func() { err = done(err) }()
	return t.s.RevokeConsent(ctx, userID, clientID)
}

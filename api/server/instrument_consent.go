package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Pass-through of accounts.ConsentStore, timed like the other methods.

func (t *timedAccounts) GrantConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error {
	return do(t.d, ctx, "GrantConsent", func(ctx context.Context) error { return t.s.GrantConsent(ctx, userID, clientID, scopes, at) })
}

func (t *timedAccounts) GetConsent(ctx context.Context, userID, clientID string) (*accounts.Consent, error) {
	return timed(t.d, ctx, "GetConsent", func(ctx context.Context) (*accounts.Consent, error) { return t.s.GetConsent(ctx, userID, clientID) })
}

func (t *timedAccounts) ListConsents(ctx context.Context, userID string) ([]*accounts.Consent, error) {
	return timed(t.d, ctx, "ListConsents", func(ctx context.Context) ([]*accounts.Consent, error) { return t.s.ListConsents(ctx, userID) })
}

func (t *timedAccounts) RevokeConsent(ctx context.Context, userID, clientID string) error {
	return do(t.d, ctx, "RevokeConsent", func(ctx context.Context) error { return t.s.RevokeConsent(ctx, userID, clientID) })
}

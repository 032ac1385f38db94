package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Pass-through of accounts.EmailTokenStore (timed like the other methods).

func (t *timedAccounts) CreateEmailToken(ctx context.Context, et *accounts.EmailToken) error {
	return do(t.d, ctx, "CreateEmailToken", func(ctx context.Context) error { return t.s.CreateEmailToken(ctx, et) })
}

func (t *timedAccounts) GetEmailToken(ctx context.Context, hash []byte, p accounts.TokenPurpose, now time.Time) (*accounts.EmailToken, error) {
	return timed(t.d, ctx, "GetEmailToken", func(ctx context.Context) (*accounts.EmailToken, error) { return t.s.GetEmailToken(ctx, hash, p, now) })
}

func (t *timedAccounts) ConsumeEmailToken(ctx context.Context, hash []byte, p accounts.TokenPurpose, now time.Time) (*accounts.EmailToken, error) {
	return timed(t.d, ctx, "ConsumeEmailToken", func(ctx context.Context) (*accounts.EmailToken, error) {
		return t.s.ConsumeEmailToken(ctx, hash, p, now)
	})
}

func (t *timedAccounts) DeleteEmailTokens(ctx context.Context, userID string, p accounts.TokenPurpose) (int, error) {
	return timed(t.d, ctx, "DeleteEmailTokens", func(ctx context.Context) (int, error) { return t.s.DeleteEmailTokens(ctx, userID, p) })
}

func (t *timedAccounts) SweepEmailTokens(ctx context.Context, now time.Time) (int, error) {
	return timed(t.d, ctx, "SweepEmailTokens", func(ctx context.Context) (int, error) { return t.s.SweepEmailTokens(ctx, now) })
}

func (t *timedAccounts) SetEmail(ctx context.Context, id, current, email string, verified bool) error {
	return do(t.d, ctx, "SetEmail", func(ctx context.Context) error { return t.s.SetEmail(ctx, id, current, email, verified) })
}

func (t *timedAccounts) MarkEmailVerified(ctx context.Context, id, email string) error {
	return do(t.d, ctx, "MarkEmailVerified", func(ctx context.Context) error { return t.s.MarkEmailVerified(ctx, id, email) })
}

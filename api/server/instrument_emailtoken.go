package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Pass-through of accounts.EmailTokenStore (timed like the other methods).

func (t *timedAccounts) CreateEmailToken(ctx context.Context, et *accounts.EmailToken) (err error) {
	ctx, done := t.time(ctx, "CreateEmailToken")
	defer func() { err = done(err) }()
	return t.s.CreateEmailToken(ctx, et)
}

func (t *timedAccounts) GetEmailToken(ctx context.Context, hash []byte, p accounts.TokenPurpose, now time.Time) (_ *accounts.EmailToken, err error) {
	ctx, done := t.time(ctx, "GetEmailToken")
	defer func() { err = done(err) }()
	return t.s.GetEmailToken(ctx, hash, p, now)
}

func (t *timedAccounts) ConsumeEmailToken(ctx context.Context, hash []byte, p accounts.TokenPurpose, now time.Time) (_ *accounts.EmailToken, err error) {
	ctx, done := t.time(ctx, "ConsumeEmailToken")
	defer func() { err = done(err) }()
	return t.s.ConsumeEmailToken(ctx, hash, p, now)
}

func (t *timedAccounts) DeleteEmailTokens(ctx context.Context, userID string, p accounts.TokenPurpose) (_ int, err error) {
	ctx, done := t.time(ctx, "DeleteEmailTokens")
	defer func() { err = done(err) }()
	return t.s.DeleteEmailTokens(ctx, userID, p)
}

func (t *timedAccounts) SweepEmailTokens(ctx context.Context, now time.Time) (_ int, err error) {
	ctx, done := t.time(ctx, "SweepEmailTokens")
	defer func() { err = done(err) }()
	return t.s.SweepEmailTokens(ctx, now)
}

func (t *timedAccounts) SetEmail(ctx context.Context, id, current, email string, verified bool) (err error) {
	ctx, done := t.time(ctx, "SetEmail")
	defer func() { err = done(err) }()
	return t.s.SetEmail(ctx, id, current, email, verified)
}

func (t *timedAccounts) MarkEmailVerified(ctx context.Context, id, email string) (err error) {
	ctx, done := t.time(ctx, "MarkEmailVerified")
	defer func() { err = done(err) }()
	return t.s.MarkEmailVerified(ctx, id, email)
}

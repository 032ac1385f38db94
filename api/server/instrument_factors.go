package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Pass-through of accounts.FactorStore, timed like the other methods.

func (t *timedAccounts) PutPendingTOTP(ctx context.Context, s *accounts.TOTPSecret) (err error) {
	ctx, done := t.time(ctx, "PutPendingTOTP")
	defer func() { err = done(err) }()
	return t.s.PutPendingTOTP(ctx, s)
}

func (t *timedAccounts) GetPendingTOTP(ctx context.Context, userID string) (_ *accounts.TOTPSecret, err error) {
	ctx, done := t.time(ctx, "GetPendingTOTP")
	defer func() { err = done(err) }()
	return t.s.GetPendingTOTP(ctx, userID)
}

func (t *timedAccounts) ConfirmTOTP(ctx context.Context, userID, pendingID string, step int64, hashes [][]byte, at time.Time) (err error) {
	ctx, done := t.time(ctx, "ConfirmTOTP")
	defer func() { err = done(err) }()
	return t.s.ConfirmTOTP(ctx, userID, pendingID, step, hashes, at)
}

func (t *timedAccounts) GetTOTP(ctx context.Context, userID string) (_ *accounts.TOTPSecret, err error) {
	ctx, done := t.time(ctx, "GetTOTP")
	defer func() { err = done(err) }()
	return t.s.GetTOTP(ctx, userID)
}

func (t *timedAccounts) AcceptTOTPStep(ctx context.Context, userID string, step int64) (err error) {
	ctx, done := t.time(ctx, "AcceptTOTPStep")
	defer func() { err = done(err) }()
	return t.s.AcceptTOTPStep(ctx, userID, step)
}

func (t *timedAccounts) DeleteTOTP(ctx context.Context, userID string) (err error) {
	ctx, done := t.time(ctx, "DeleteTOTP")
	defer func() { err = done(err) }()
	return t.s.DeleteTOTP(ctx, userID)
}

func (t *timedAccounts) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) (err error) {
	ctx, done := t.time(ctx, "ReplaceRecoveryCodes")
	defer func() { err = done(err) }()
	return t.s.ReplaceRecoveryCodes(ctx, userID, hashes)
}

func (t *timedAccounts) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (err error) {
	ctx, done := t.time(ctx, "UseRecoveryCode")
	defer func() { err = done(err) }()
	return t.s.UseRecoveryCode(ctx, userID, hash)
}

func (t *timedAccounts) CountRecoveryCodes(ctx context.Context, userID string) (_ int, err error) {
	ctx, done := t.time(ctx, "CountRecoveryCodes")
	defer func() { err = done(err) }()
	return t.s.CountRecoveryCodes(ctx, userID)
}

func (t *timedAccounts) CreatePasskey(ctx context.Context, p *accounts.Passkey) (err error) {
	ctx, done := t.time(ctx, "CreatePasskey")
	defer func() { err = done(err) }()
	return t.s.CreatePasskey(ctx, p)
}

func (t *timedAccounts) GetPasskey(ctx context.Context, id []byte) (_ *accounts.Passkey, err error) {
	ctx, done := t.time(ctx, "GetPasskey")
	defer func() { err = done(err) }()
	return t.s.GetPasskey(ctx, id)
}

func (t *timedAccounts) ListPasskeys(ctx context.Context, userID string) (_ []*accounts.Passkey, err error) {
	ctx, done := t.time(ctx, "ListPasskeys")
	defer func() { err = done(err) }()
	return t.s.ListPasskeys(ctx, userID)
}

func (t *timedAccounts) UpdatePasskeyUse(ctx context.Context, id []byte, signCount uint32, data []byte, at time.Time) (err error) {
	ctx, done := t.time(ctx, "UpdatePasskeyUse")
	defer func() { err = done(err) }()
	return t.s.UpdatePasskeyUse(ctx, id, signCount, data, at)
}

func (t *timedAccounts) DeletePasskeyIfNotLast(ctx context.Context, userID string, id []byte) (err error) {
	ctx, done := t.time(ctx, "DeletePasskeyIfNotLast")
	defer func() { err = done(err) }()
	return t.s.DeletePasskeyIfNotLast(ctx, userID, id)
}

func (t *timedAccounts) DeletePasskeys(ctx context.Context, userID string) (_ int, err error) {
	ctx, done := t.time(ctx, "DeletePasskeys")
	defer func() { err = done(err) }()
	return t.s.DeletePasskeys(ctx, userID)
}

func (t *timedAccounts) PutCeremony(ctx context.Context, id string, data []byte, expires time.Time) (err error) {
	ctx, done := t.time(ctx, "PutCeremony")
	defer func() { err = done(err) }()
	return t.s.PutCeremony(ctx, id, data, expires)
}

func (t *timedAccounts) TakeCeremony(ctx context.Context, id string, now time.Time) (_ []byte, err error) {
	ctx, done := t.time(ctx, "TakeCeremony")
	defer func() { err = done(err) }()
	return t.s.TakeCeremony(ctx, id, now)
}

package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Pass-through of accounts.FactorStore, timed like the other methods.

func (t *timedAccounts) PutPendingTOTP(ctx context.Context, s *accounts.TOTPSecret) error {
	return do(t.d, ctx, "PutPendingTOTP", func(ctx context.Context) error { return t.s.PutPendingTOTP(ctx, s) })
}

func (t *timedAccounts) GetPendingTOTP(ctx context.Context, userID string) (*accounts.TOTPSecret, error) {
	return timed(t.d, ctx, "GetPendingTOTP", func(ctx context.Context) (*accounts.TOTPSecret, error) { return t.s.GetPendingTOTP(ctx, userID) })
}

func (t *timedAccounts) ConfirmTOTP(ctx context.Context, userID, pendingID string, step int64, hashes [][]byte, at time.Time) error {
	return do(t.d, ctx, "ConfirmTOTP", func(ctx context.Context) error { return t.s.ConfirmTOTP(ctx, userID, pendingID, step, hashes, at) })
}

func (t *timedAccounts) GetTOTP(ctx context.Context, userID string) (*accounts.TOTPSecret, error) {
	return timed(t.d, ctx, "GetTOTP", func(ctx context.Context) (*accounts.TOTPSecret, error) { return t.s.GetTOTP(ctx, userID) })
}

func (t *timedAccounts) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	return do(t.d, ctx, "AcceptTOTPStep", func(ctx context.Context) error { return t.s.AcceptTOTPStep(ctx, userID, step) })
}

func (t *timedAccounts) DeleteTOTP(ctx context.Context, userID string) error {
	return do(t.d, ctx, "DeleteTOTP", func(ctx context.Context) error { return t.s.DeleteTOTP(ctx, userID) })
}

func (t *timedAccounts) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	return do(t.d, ctx, "ReplaceRecoveryCodes", func(ctx context.Context) error { return t.s.ReplaceRecoveryCodes(ctx, userID, hashes) })
}

func (t *timedAccounts) UseRecoveryCode(ctx context.Context, userID string, hash []byte) error {
	return do(t.d, ctx, "UseRecoveryCode", func(ctx context.Context) error { return t.s.UseRecoveryCode(ctx, userID, hash) })
}

func (t *timedAccounts) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	return timed(t.d, ctx, "CountRecoveryCodes", func(ctx context.Context) (int, error) { return t.s.CountRecoveryCodes(ctx, userID) })
}

func (t *timedAccounts) CreatePasskey(ctx context.Context, p *accounts.Passkey) error {
	return do(t.d, ctx, "CreatePasskey", func(ctx context.Context) error { return t.s.CreatePasskey(ctx, p) })
}

func (t *timedAccounts) GetPasskey(ctx context.Context, id []byte) (*accounts.Passkey, error) {
	return timed(t.d, ctx, "GetPasskey", func(ctx context.Context) (*accounts.Passkey, error) { return t.s.GetPasskey(ctx, id) })
}

func (t *timedAccounts) ListPasskeys(ctx context.Context, userID string) ([]*accounts.Passkey, error) {
	return timed(t.d, ctx, "ListPasskeys", func(ctx context.Context) ([]*accounts.Passkey, error) { return t.s.ListPasskeys(ctx, userID) })
}

func (t *timedAccounts) UpdatePasskeyUse(ctx context.Context, id []byte, signCount uint32, data []byte, at time.Time) error {
	return do(t.d, ctx, "UpdatePasskeyUse", func(ctx context.Context) error { return t.s.UpdatePasskeyUse(ctx, id, signCount, data, at) })
}

func (t *timedAccounts) DeletePasskeyIfNotLast(ctx context.Context, userID string, id []byte) error {
	return do(t.d, ctx, "DeletePasskeyIfNotLast", func(ctx context.Context) error { return t.s.DeletePasskeyIfNotLast(ctx, userID, id) })
}

func (t *timedAccounts) DeletePasskeys(ctx context.Context, userID string) (int, error) {
	return timed(t.d, ctx, "DeletePasskeys", func(ctx context.Context) (int, error) { return t.s.DeletePasskeys(ctx, userID) })
}

func (t *timedAccounts) PutCeremony(ctx context.Context, id string, data []byte, expires time.Time) error {
	return do(t.d, ctx, "PutCeremony", func(ctx context.Context) error { return t.s.PutCeremony(ctx, id, data, expires) })
}

func (t *timedAccounts) TakeCeremony(ctx context.Context, id string, now time.Time) ([]byte, error) {
	return timed(t.d, ctx, "TakeCeremony", func(ctx context.Context) ([]byte, error) { return t.s.TakeCeremony(ctx, id, now) })
}

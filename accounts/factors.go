package accounts

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of the second factors (accounts/mfa).
var (
	// ErrTOTPEnabled: the user already has TOTP switched on (enrolling
	// again needs a removal first).
	ErrTOTPEnabled = errors.New("accounts: totp already enabled")
	// ErrTOTPNotEnabled: there is no confirmed TOTP secret (or, at
	// confirmation, no pending one).
	ErrTOTPNotEnabled = errors.New("accounts: totp not enabled")
	// ErrCodeReplayed: a TOTP code of a time step that was accepted
	// before, or of an earlier step (RFC 6238 §5.2).
	ErrCodeReplayed = errors.New("accounts: code replayed")
	// ErrPasskeyExists: a credential with this id is registered already.
	ErrPasskeyExists = errors.New("accounts: passkey already registered")
)

// TOTPSecret is a user's TOTP secret, sealed with the key-encryption key.
// A user has at most one pending (enrolled, not yet confirmed) and at most
// one confirmed secret; they are kept apart, so that enrolling again never
// touches the confirmed one.
type TOTPSecret struct {
	UserID string
	ID     string // random; names the pending secret a confirmation is for
	Sealed []byte
	// LastStep is the last RFC 6238 time step whose code was accepted
	// (confirmed secrets only).
	LastStep  int64
	CreatedAt time.Time
}

// Passkey is a stored WebAuthn credential (W3C WebAuthn Level 3 §6.1).
type Passkey struct {
	ID         []byte // the credential id; unique across all users
	UserID     string
	UserHandle []byte // user.id given to the authenticator at registration
	PublicKey  []byte // COSE_Key
	SignCount  uint32
	Transports []string
	Name       string
	// Data is the library's whole credential record (JSON: flags, AAGUID,
	// attestation type), so that a later assertion is checked against all
	// of it.
	Data       []byte
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// FactorStore keeps second factors, passkeys and WebAuthn ceremony state.
// The accounts backends (sqlitestore, mongostore) implement it next to
// Store. Every check-then-act below is one atomic step on every backend.
// Implementations are safe for concurrent use.
type FactorStore interface {
	// PutPendingTOTP stores s as the user's pending secret, replacing any
	// pending one. ErrTOTPEnabled when a confirmed secret exists.
	PutPendingTOTP(ctx context.Context, s *TOTPSecret) error
	// GetPendingTOTP returns the pending secret; ErrNotFound when none.
	GetPendingTOTP(ctx context.Context, userID string) (*TOTPSecret, error)
	// ConfirmTOTP makes the pending secret with this id the confirmed one,
	// with LastStep = step, and replaces the recovery codes by hashes.
	// Of concurrent confirmations exactly one succeeds; the others get
	// ErrTOTPEnabled. ErrNotFound when that pending secret is gone.
	ConfirmTOTP(ctx context.Context, userID, pendingID string, step int64, hashes [][]byte, at time.Time) error
	// GetTOTP returns the confirmed secret; ErrNotFound when none.
	GetTOTP(ctx context.Context, userID string) (*TOTPSecret, error)
	// AcceptTOTPStep advances the confirmed secret's LastStep to step when
	// step is greater, atomically: of concurrent calls with steps s1, s2, …
	// the accepted ones are a strictly increasing sequence, and a step not
	// greater than an accepted one is ErrCodeReplayed. ErrNotFound when the
	// user has no confirmed secret.
	AcceptTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes the pending and the confirmed secret and the
	// recovery codes. ErrNotFound when there was no confirmed secret.
	DeleteTOTP(ctx context.Context, userID string) error

	// ReplaceRecoveryCodes replaces the user's recovery codes by hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error
	// UseRecoveryCode deletes the code with this hash: of concurrent uses
	// exactly one succeeds, the others (and unknown codes) ErrNotFound.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte) error
	// CountRecoveryCodes returns how many unused codes the user has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)

	// CreatePasskey stores p. ErrPasskeyExists when the credential id is
	// taken (by any user); ErrNotFound when the user does not exist.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// GetPasskey returns the credential with this id; ErrNotFound when none.
	GetPasskey(ctx context.Context, id []byte) (*Passkey, error)
	// ListPasskeys returns the user's passkeys, oldest first.
	ListPasskeys(ctx context.Context, userID string) ([]*Passkey, error)
	// UpdatePasskeyUse records a sign-in: the new sign count and data.
	UpdatePasskeyUse(ctx context.Context, id []byte, signCount uint32, data []byte, at time.Time) error
	// DeletePasskeyIfNotLast removes the user's passkey unless it is the
	// user's last way to sign in (no password, identity or other passkey):
	// then ErrLastLoginMethod. The same guard as UnlinkIdentityIfNotLast,
	// in one atomic step with it. ErrNotFound when the user has no such
	// passkey.
	DeletePasskeyIfNotLast(ctx context.Context, userID string, id []byte) error
	// DeletePasskeys removes every passkey of the user (an admin reset),
	// returning how many.
	DeletePasskeys(ctx context.Context, userID string) (int, error)

	// PutCeremony stores WebAuthn ceremony state under id until expires.
	PutCeremony(ctx context.Context, id string, data []byte, expires time.Time) error
	// TakeCeremony deletes and returns it: of concurrent takers exactly one
	// gets it; ErrNotFound when unknown, taken or expired.
	TakeCeremony(ctx context.Context, id string, now time.Time) ([]byte, error)
}

// Audit actions of the second factors (accounts/mfa). Details never hold
// codes, secrets or credential keys.
const (
	ActionTOTPEnable              = "mfa.totp.enable"
	ActionTOTPRemove              = "mfa.totp.remove"               // details: via (code, recovery_code)
	ActionRecoveryCodesRegenerate = "mfa.recovery_codes.regenerate" // details: count
	ActionRecoveryCodeUse         = "mfa.recovery_code.use"         // details: left
	ActionMFAFailed               = "mfa.failed"                    // details: method, reason
	ActionPasskeyAdd              = "mfa.passkey.add"               // details: credential (base64url id), name
	ActionPasskeyRemove           = "mfa.passkey.remove"            // details: credential
	ActionMFAReset                = "user.mfa.reset"                // details: totp, passkeys
)

package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// ErrInvalidEmailToken: an e-mail link's token is malformed, unknown, used,
// expired, meant for another purpose, or no longer matches its user's
// address. The cases are deliberately indistinguishable (400 invalid_grant).
var ErrInvalidEmailToken = errors.New("accounts: invalid or expired e-mail token")

// TokenPurpose is what an e-mail token may be used for; a token is only
// ever accepted for its own purpose.
type TokenPurpose string

const (
	PurposeVerify TokenPurpose = "verify" // confirm the user's address
	PurposeReset  TokenPurpose = "reset"  // set a new password
	PurposeChange TokenPurpose = "change" // move the account to NewEmail
)

// EmailToken is the stored form of a token sent by e-mail. The token itself
// (base64url of 32 random bytes) is never stored, only its SHA-256 hash.
type EmailToken struct {
	Hash    []byte // SHA-256 of the token's 32 bytes
	Purpose TokenPurpose
	UserID  string
	// Email is the user's address when the token was issued; the token is
	// valid only while the user still has that address ("" for none).
	Email string
	// NewEmail is the address a change token was sent to; empty otherwise.
	NewEmail  string
	CreatedAt time.Time // stored to the millisecond
	ExpiresAt time.Time
}

// EmailTokenStore keeps e-mail tokens and the address changes they lead
// to; it is part of Store. Times are kept to the millisecond.
//
// Atomicity callers rely on, on every backend: of N concurrent
// ConsumeEmailToken calls for one token at most one returns it; SetEmail
// and MarkEmailVerified act only while the user's address is the one
// named, as one atomic step with respect to each other.
type EmailTokenStore interface {
	// CreateEmailToken stores t. A duplicate hash is an error.
	CreateEmailToken(ctx context.Context, t *EmailToken) error
	// GetEmailToken returns the token with this hash and purpose that
	// expires after now, without consuming it; else ErrNotFound.
	GetEmailToken(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (*EmailToken, error)
	// ConsumeEmailToken deletes the token with this hash and purpose and
	// returns it when it expires after now; else ErrNotFound (a token of
	// another purpose is left alone). Of concurrent calls for one token at
	// most one returns it.
	ConsumeEmailToken(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (*EmailToken, error)
	// DeleteEmailTokens removes the user's tokens of purpose (of every
	// purpose when purpose is empty) and returns how many there were.
	DeleteEmailTokens(ctx context.Context, userID string, purpose TokenPurpose) (int, error)
	// SweepEmailTokens removes the tokens that expired at or before now.
	SweepEmailTokens(ctx context.Context, now time.Time) (int, error)

	// SetEmail replaces the user's address with email (non-empty), with
	// the verified flag given, if the user's address is still current (as
	// NormalizeEmail compares them; "" for none): else ErrConflict.
	// ErrEmailTaken when another user has email; ErrNotFound for an
	// unknown user.
	SetEmail(ctx context.Context, id, current, email string, verified bool) error
	// MarkEmailVerified marks the user's address verified if it is still
	// email (non-empty): else ErrConflict. ErrNotFound for an unknown user.
	MarkEmailVerified(ctx context.Context, id, email string) error
}

// tokenBytes is the size of an e-mail token: 256 bits.
const tokenBytes = 32

// NewEmailToken returns a new token (base64url without padding of 32
// random bytes) and the hash under which it is stored.
func NewEmailToken() (token string, hash []byte) {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24)
	h := sha256.Sum256(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]), h[:]
}

// HashEmailToken returns the stored hash of token, or false when token is
// not the encoding of 32 bytes (then no store lookup is needed).
func HashEmailToken(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return nil, false
	}
	h := sha256.Sum256(b)
	return h[:], true
}

// SameAddress reports whether a and b are the same address under
// NormalizeEmail, two empty addresses included.
func SameAddress(a, b string) bool { return NormalizeEmail(a) == NormalizeEmail(b) }

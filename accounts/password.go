package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules (docs/http-api.md, OWASP ASVS 5.0 V6.2).
const (
	MinPasswordLength = 8   // Unicode code points
	MaxPasswordLength = 256 // Unicode code points
)

// ErrInvalidPassword: the password breaks a rule; the *ValidationError that
// wraps it says which.
var ErrInvalidPassword = errors.New("accounts: invalid password")

// ValidationError is bad user input with a message that is safe to show.
// It wraps ErrInvalidEmail or ErrInvalidPassword.
type ValidationError struct {
	Field  string // "email", "password", "new_password", "name"
	Reason string // for humans; never contains the value itself
	Err    error
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }
func (e *ValidationError) Unwrap() error { return e.Err }

// commonPasswordList is the ranked list of the most common passwords of at
// least MinPasswordLength code points, lower-cased, one a line; its header
// names its origin (zxcvbn-ts) and licence.
//
//go:embed data/common-passwords.txt
var commonPasswordList string

// commonPasswords is the list as a set, built on first use (not at start-up).
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 18000)
	for line := range strings.Lines(commonPasswordList) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[line] = struct{}{}
	}
	return m
})

// CheckPassword applies the password rules: 8 to 256 code points of valid
// UTF-8, anything allowed (spaces included), no composition rules, and not
// one of the most common passwords. The password is never altered.
func CheckPassword(field, pw string) error {
	invalid := func(reason string) error {
		return &ValidationError{Field: field, Reason: reason, Err: ErrInvalidPassword}
	}
	if !utf8.ValidString(pw) {
		return invalid("must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return invalid(fmt.Sprintf("must be at least %d characters long", MinPasswordLength))
	}
	if n > MaxPasswordLength {
		return invalid(fmt.Sprintf("must be at most %d characters long", MaxPasswordLength))
	}
	if _, common := commonPasswords()[strings.ToLower(pw)]; common {
		return invalid("is one of the most commonly used passwords and easy to guess; choose another")
	}
	return nil
}

// Password hash formats.
//
// Current format, "$bcrypt-sha256$v=1$" followed by a bcrypt hash of
// base64(HMAC-SHA256(key="unilogin/bcrypt-sha256/v1", msg=password)).
// bcrypt reads only 72 bytes of its input; the 44-byte pre-hash lets every
// byte of a password up to 256 characters count, so two passwords sharing
// their first 72 bytes never both match (the idea of passlib's bcrypt_sha256;
// the HMAC key keeps the inner value from matching plain SHA-256 lists).
//
// Plain bcrypt hashes ("$2a$", "$2b$", "$2y$"), e.g. imported from another
// system, are verified as such (a password over 72 bytes never matches one)
// and replaced by the current format on the next successful sign-in.
const hashPrefix = "$bcrypt-sha256$v=1$"

var prehashKey = []byte("unilogin/bcrypt-sha256/v1")

func prehash(pw string) []byte {
	mac := hmac.New(sha256.New, prehashKey)
	mac.Write([]byte(pw))
	sum := mac.Sum(nil)
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum)
	return out
}

// Hasher hashes and verifies passwords at one bcrypt cost.
type Hasher struct {
	cost  int
	dummy []byte // a hash at cost, compared against for unknown users
}

// NewHasher returns a Hasher for the bcrypt cost (4..31).
func NewHasher(cost int) (*Hasher, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("accounts: bcrypt cost %d out of range %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Hasher{cost: cost, dummy: dummyHash(cost)}, nil
}

// bcryptBase64 is bcrypt's own base64 alphabet.
var bcryptBase64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// dummyHash returns a well-formed bcrypt hash at cost with a random salt
// and a random digest: no password matches it, and comparing against it
// runs the full key schedule at cost, exactly like a real one. Building it
// costs no bcrypt work, so start-up does not pay for it and the first
// unknown-user sign-in already takes what a wrong password does.
func dummyHash(cost int) []byte {
	var salt [16]byte
	var digest [23]byte
	if _, err := rand.Read(salt[:]); err != nil {
		panic("accounts: crypto/rand failed: " + err.Error())
	}
	if _, err := rand.Read(digest[:]); err != nil {
		panic("accounts: crypto/rand failed: " + err.Error())
	}
	return fmt.Appendf(nil, "$2a$%02d$%s%s", cost, bcryptBase64.EncodeToString(salt[:]), bcryptBase64.EncodeToString(digest[:])[:31])
}

// Cost is the configured bcrypt cost.
func (h *Hasher) Cost() int { return h.cost }

// Hash returns the current-format hash of pw.
func (h *Hasher) Hash(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword(prehash(pw), h.cost)
	if err != nil {
		return "", fmt.Errorf("accounts: hash password: %w", err)
	}
	return hashPrefix + string(b), nil
}

// Verify reports whether pw matches encoded and whether encoded should be
// replaced (older format or another cost). The comparison is constant-time
// (bcrypt's own). An unparseable hash never matches.
func (h *Hasher) Verify(encoded, pw string) (ok, rehash bool) {
	var inner, candidate []byte
	switch {
	case strings.HasPrefix(encoded, hashPrefix):
		inner, candidate = []byte(encoded[len(hashPrefix):]), prehash(pw)
	case strings.HasPrefix(encoded, "$2"):
		if len(pw) > 72 {
			// bcrypt would read only the first 72 bytes: never accept that.
			h.VerifyDummy(pw)
			return false, false
		}
		inner, candidate, rehash = []byte(encoded), []byte(pw), true
	default:
		h.VerifyDummy(pw)
		return false, false
	}
	if bcrypt.CompareHashAndPassword(inner, candidate) != nil {
		return false, false
	}
	if cost, err := bcrypt.Cost(inner); err != nil || cost != h.cost {
		rehash = true
	}
	return true, rehash
}

// VerifyDummy spends the time of one verification against a dummy hash, so
// that an unknown or disabled user costs what a known one does.
func (h *Hasher) VerifyDummy(pw string) {
	_ = bcrypt.CompareHashAndPassword(h.dummy, prehash(pw))
}

package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts"
)

// RFC 6238 parameters: SHA-1, 6 digits, 30-second steps, and one step of
// clock drift either way (RFC 6238 §5.2).
const (
	period         = 30
	digits         = otp.DigitsSix
	skew           = 1
	secretSize     = 20 // 160 bits, RFC 4226 §4's recommendation
	recoveryCount  = 10
	recoveryGroups = 3 // of 4 base32 characters each: 60 bits per code
)

// Method is the second factor that was used.
type Method string

const (
	MethodOTP      Method = "otp"
	MethodRecovery Method = "recovery_code"
)

// Proof is a second factor presented by the user: a TOTP code or a
// recovery code (exactly one of them).
type Proof struct {
	Code         string
	RecoveryCode string
}

// Enrollment is a pending TOTP secret, shown to the user once.
type Enrollment struct {
	Secret     string // base32 without padding
	OTPAuthURI string // otpauth://totp/<issuer>:<email>?secret=…&issuer=…
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func sealLabel(userID, secretID string) string { return "totp-secret\x00" + userID + "\x00" + secretID }

// EnrollTOTP creates a pending secret, replacing a pending one.
// accounts.ErrTOTPEnabled when TOTP is on.
func (s *Service) EnrollTOTP(ctx context.Context, userID string) (*Enrollment, error) {
	u, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, accounts.ErrDisabled
	}
	if _, err := s.factors.GetTOTP(ctx, userID); err == nil {
		return nil, accounts.ErrTOTPEnabled
	} else if !errors.Is(err, accounts.ErrNotFound) {
		return nil, err
	}
	key, err := s.otpKey(u, nil)
	if err != nil {
		return nil, err
	}
	id := rand.Text()
	pending := &accounts.TOTPSecret{UserID: userID, ID: id, Sealed: s.opts.Sealer.Seal([]byte(key.Secret()), sealLabel(userID, id)),
		CreatedAt: s.opts.Now().UTC()}
	if err := s.factors.PutPendingTOTP(ctx, pending); err != nil {
		return nil, err
	}
	return &Enrollment{Secret: key.Secret(), OTPAuthURI: key.URL()}, nil
}

// otpKey builds the TOTP key of u with the raw secret (a new random one
// when nil): issuer is the product name, the account the e-mail.
func (s *Service) otpKey(u *accounts.User, secret []byte) (*otp.Key, error) {
	account := u.Email
	if account == "" {
		account = u.ID
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.Issuer, AccountName: account, Period: period,
		SecretSize: secretSize, Secret: secret, Digits: digits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("mfa: totp key: %w", err)
	}
	return key, nil
}

// PendingOTPAuthURI returns the otpauth URI of the pending secret (for
// the QR code image). accounts.ErrTOTPNotEnabled when none is pending.
func (s *Service) PendingOTPAuthURI(ctx context.Context, userID string) (string, error) {
	u, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return "", err
	}
	pending, err := s.factors.GetPendingTOTP(ctx, userID)
	if errors.Is(err, accounts.ErrNotFound) {
		return "", accounts.ErrTOTPNotEnabled
	} else if err != nil {
		return "", err
	}
	enc, err := s.opts.Sealer.Open(pending.Sealed, sealLabel(userID, pending.ID))
	if err != nil {
		return "", fmt.Errorf("mfa: open totp secret: %w", err)
	}
	raw, err := b32.DecodeString(string(enc))
	if err != nil {
		return "", fmt.Errorf("mfa: decode totp secret: %w", err)
	}
	key, err := s.otpKey(u, raw)
	if err != nil {
		return "", err
	}
	return key.URL(), nil
}

// ConfirmTOTP switches TOTP on with a first code of the pending secret and
// returns the recovery codes (shown once; only their hashes are kept).
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	pending, err := s.factors.GetPendingTOTP(ctx, userID)
	if errors.Is(err, accounts.ErrNotFound) {
		if _, err := s.factors.GetTOTP(ctx, userID); err == nil {
			return nil, accounts.ErrTOTPEnabled
		}
		return nil, accounts.ErrTOTPNotEnabled
	} else if err != nil {
		return nil, err
	}
	if err := s.checkRate(ctx, userID); err != nil {
		return nil, err
	}
	step, ok, err := s.match(pending, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.failed(ctx, userID, MethodOTP, "wrong", ErrInvalidCode)
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	if err := s.factors.ConfirmTOTP(ctx, userID, pending.ID, step, hashes, s.opts.Now().UTC()); errors.Is(err, accounts.ErrNotFound) {
		// Replaced by a new enrolment meanwhile: this code is for a
		// secret that no longer exists.
		return nil, s.failed(ctx, userID, MethodOTP, "stale_secret", ErrInvalidCode)
	} else if err != nil {
		return nil, err
	}
	return codes, s.record(ctx, self(ctx, userID), accounts.ActionTOTPEnable, userID, nil)
}

// RemoveTOTP switches TOTP off after a current code or a recovery code.
// The recovery codes die with it.
func (s *Service) RemoveTOTP(ctx context.Context, userID string, p Proof) error {
	m, err := s.Verify(ctx, userID, p)
	if err != nil {
		return err
	}
	if err := s.factors.DeleteTOTP(ctx, userID); err != nil {
		if errors.Is(err, accounts.ErrNotFound) {
			return accounts.ErrTOTPNotEnabled
		}
		return err
	}
	return s.record(ctx, self(ctx, userID), accounts.ActionTOTPRemove, userID, map[string]string{"via": string(m)})
}

// RegenerateRecoveryCodes replaces the recovery codes after a current TOTP
// code; the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID, code string) ([]string, error) {
	if _, err := s.Verify(ctx, userID, Proof{Code: code}); err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	if err := s.factors.ReplaceRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, s.record(ctx, self(ctx, userID), accounts.ActionRecoveryCodesRegenerate, userID,
		map[string]string{"count": fmt.Sprint(len(codes))})
}

// Verify checks a second factor of a user with TOTP on: a code of the
// current step (±1) not older than the last accepted one, or an unused
// recovery code, which is used up. Failures count towards the account's
// limit and are audited. accounts.ErrTOTPNotEnabled when TOTP is off.
func (s *Service) Verify(ctx context.Context, userID string, p Proof) (Method, error) {
	sec, err := s.factors.GetTOTP(ctx, userID)
	if errors.Is(err, accounts.ErrNotFound) {
		return "", accounts.ErrTOTPNotEnabled
	} else if err != nil {
		return "", err
	}
	if err := s.checkRate(ctx, userID); err != nil {
		return "", err
	}
	if p.RecoveryCode != "" && p.Code == "" {
		return MethodRecovery, s.useRecoveryCode(ctx, userID, p.RecoveryCode)
	}
	step, ok, err := s.match(sec, p.Code)
	if err != nil {
		return "", err
	}
	if !ok || p.RecoveryCode != "" {
		return "", s.failed(ctx, userID, MethodOTP, "wrong", ErrInvalidCode)
	}
	if err := s.factors.AcceptTOTPStep(ctx, userID, step); errors.Is(err, accounts.ErrCodeReplayed) {
		return "", s.failed(ctx, userID, MethodOTP, "replayed", fmt.Errorf("%w: %w", ErrInvalidCode, accounts.ErrCodeReplayed))
	} else if errors.Is(err, accounts.ErrNotFound) {
		return "", accounts.ErrTOTPNotEnabled
	} else if err != nil {
		return "", err
	}
	return MethodOTP, nil
}

func (s *Service) useRecoveryCode(ctx context.Context, userID, code string) error {
	norm, ok := normalizeRecoveryCode(code)
	if !ok {
		return s.failed(ctx, userID, MethodRecovery, "wrong", ErrInvalidCode)
	}
	// The store looks the code up by its SHA-256: codes carry 60 random
	// bits, so the hash needs no salt or stretching, and an index lookup of
	// a hash reveals nothing about the codes a guess is near.
	sum := sha256.Sum256([]byte(norm))
	if err := s.factors.UseRecoveryCode(ctx, userID, sum[:]); errors.Is(err, accounts.ErrNotFound) {
		return s.failed(ctx, userID, MethodRecovery, "wrong", ErrInvalidCode)
	} else if err != nil {
		return err
	}
	left, err := s.factors.CountRecoveryCodes(ctx, userID)
	if err != nil {
		return err
	}
	return s.record(ctx, self(ctx, userID), accounts.ActionRecoveryCodeUse, userID, map[string]string{"left": fmt.Sprint(left)})
}

// match reports the time step (of now-1, now, now+1) whose code is code.
// Each candidate is compared in constant time (hotp.ValidateCustom), and
// all three are computed whatever the outcome.
func (s *Service) match(sec *accounts.TOTPSecret, code string) (int64, bool, error) {
	raw, err := s.opts.Sealer.Open(sec.Sealed, sealLabel(sec.UserID, sec.ID))
	if err != nil {
		return 0, false, fmt.Errorf("mfa: open totp secret: %w", err)
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false, nil
	}
	now := s.opts.Now().Unix() / period
	var found int64
	ok := false
	for d := int64(-skew); d <= skew; d++ {
		step := now + d
		if step < 1 {
			continue
		}
		v, err := hotp.ValidateCustom(code, uint64(step), string(raw), hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1})
		if err == nil && v && !ok {
			found, ok = step, true
		}
	}
	return found, ok, nil
}

// checkRate refuses when the account's failures have reached the limit.
func (s *Service) checkRate(ctx context.Context, userID string) error {
	now := s.opts.Now()
	n, reset, err := s.opts.Rate.Peek(ctx, rateKey(userID), s.opts.FailureWindow, now)
	if err != nil {
		return err
	}
	if n >= int64(s.opts.MaxFailures) {
		return &RateLimitError{RetryAt: reset, RetryAfter: reset.Sub(now)}
	}
	return nil
}

func rateKey(userID string) string { return "mfa-fail:" + userID }

// failed counts and audits a failed code, then returns err: the code is
// reported as wrong, and attempts after the limit are refused.
func (s *Service) failed(ctx context.Context, userID string, m Method, reason string, err error) error {
	if _, _, herr := s.opts.Rate.Hit(ctx, rateKey(userID), s.opts.FailureWindow, s.opts.Now()); herr != nil {
		return errors.Join(err, herr)
	}
	if aerr := s.record(ctx, self(ctx, userID), accounts.ActionMFAFailed, userID,
		map[string]string{"method": string(m), "reason": reason}); aerr != nil {
		// Not wrapped: the answer is err's, and a caller that goes on
		// after ErrNotAudited must never take a wrong code for a used one.
		return errors.Join(err, errors.New(aerr.Error()))
	}
	return err
}

// newRecoveryCodes returns fresh codes ("abcd-efgh-ijkl", lower-case
// base32) and their SHA-256 hashes.
func newRecoveryCodes() ([]string, [][]byte, error) {
	codes := make([]string, recoveryCount)
	hashes := make([][]byte, recoveryCount)
	for i := range codes {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, err
		}
		raw := strings.ToLower(b32.EncodeToString(b))[:4*recoveryGroups]
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12]
		sum := sha256.Sum256([]byte(raw))
		hashes[i] = sum[:]
	}
	return codes, hashes, nil
}

// normalizeRecoveryCode drops dashes and spaces and folds case.
func normalizeRecoveryCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	r := strings.NewReplacer("-", "", " ", "")
	c := strings.ToLower(r.Replace(strings.TrimSpace(code)))
	if len(c) != 4*recoveryGroups {
		return "", false
	}
	for _, ch := range c {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz234567", ch) {
			return "", false
		}
	}
	return c, true
}

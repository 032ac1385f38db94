package mfa

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/unilogin/unilogin/accounts"
)

// Sentinel errors. The HTTP layer maps them (with those of accounts):
// ErrInvalidCode and ErrInvalidPasskey 400 invalid_grant; ErrRateLimited
// 429 rate_limited (Retry-After from *RateLimitError); ErrPasskeysDisabled
// 404 not_found; accounts.ErrTOTPEnabled 409 totp_enabled;
// accounts.ErrTOTPNotEnabled 404 not_found; accounts.ErrPasskeyExists 409;
// accounts.ErrLastLoginMethod as for identities.
var (
	// ErrInvalidCode: a wrong, malformed or replayed TOTP code, or an
	// unknown or used recovery code. A replay also matches
	// accounts.ErrCodeReplayed.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrRateLimited: too many failed codes for this account; a
	// *RateLimitError says until when.
	ErrRateLimited = errors.New("mfa: too many failed codes")
	// ErrInvalidPasskey: a WebAuthn response that does not verify (wrong
	// origin, RP ID, challenge, signature, or an unknown credential), or a
	// ceremony that is unknown, used or expired.
	ErrInvalidPasskey = errors.New("mfa: invalid passkey response")
	// ErrPasskeysDisabled: the service was built without a WebAuthn
	// relying party.
	ErrPasskeysDisabled = errors.New("mfa: passkeys not configured")
	// ErrNotAudited: the change (or the use of a code) took effect, but
	// its audit event could not be written. Callers go on as after
	// success and log it.
	ErrNotAudited = errors.New("mfa: done, but the audit event was not written")
)

// RateLimitError is the ErrRateLimited of one account.
type RateLimitError struct {
	RetryAt    time.Time     // when the window ends
	RetryAfter time.Duration // from the refusal to RetryAt (Retry-After)
}

func (e *RateLimitError) Error() string        { return ErrRateLimited.Error() }
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Sealer seals secrets at rest with the key-encryption key
// (*session.Sealer is one; accounts does not import session).
type Sealer interface {
	Seal(plaintext []byte, additional string) []byte
	Open(sealed []byte, additional string) ([]byte, error)
}

// RateCounter counts events per key in fixed windows, shared by every
// instance (session.RateStore is one).
type RateCounter interface {
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error)
	Peek(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error)
}

// Options configure a Service.
type Options struct {
	// Issuer names the product in authenticator apps (otpauth issuer).
	Issuer  string
	Users   accounts.Store       // required
	Factors accounts.FactorStore // required
	Sealer  Sealer               // required
	Audit   accounts.AuditStore  // required
	Rate    RateCounter          // required
	// MaxFailures failed codes per account within FailureWindow, then
	// ErrRateLimited until the window ends. Defaults 10 and 15 minutes.
	MaxFailures   int
	FailureWindow time.Duration
	// WebAuthn configures passkeys; nil disables them (ErrPasskeysDisabled).
	WebAuthn *WebAuthnConfig
	// CeremonyTTL bounds a WebAuthn ceremony; default 5 minutes.
	CeremonyTTL time.Duration
	Now         func() time.Time
}

// WebAuthnConfig is the relying party (W3C WebAuthn §5.1.5).
type WebAuthnConfig struct {
	RPID          string   // the issuer's host name
	RPDisplayName string   // the product name
	Origins       []string // the issuer's origin (scheme://host[:port])
}

// Service implements the second-factor and passkey use cases.
type Service struct {
	opts     Options
	users    accounts.Store
	factors  accounts.FactorStore
	webauthn *webauthn.WebAuthn
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Users == nil || opts.Factors == nil || opts.Sealer == nil || opts.Audit == nil || opts.Rate == nil {
		return nil, errors.New("mfa: New needs users, factors, a sealer, an audit store and a rate counter")
	}
	if opts.Issuer == "" {
		opts.Issuer = "unilogin"
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 10
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	if opts.CeremonyTTL <= 0 {
		opts.CeremonyTTL = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{opts: opts, users: opts.Users, factors: opts.Factors}
	if c := opts.WebAuthn; c != nil {
		w, err := webauthn.New(&webauthn.Config{RPID: c.RPID, RPDisplayName: c.RPDisplayName, RPOrigins: c.Origins})
		if err != nil {
			return nil, fmt.Errorf("mfa: webauthn: %w", err)
		}
		s.webauthn = w
	}
	return s, nil
}

// Status is the "mfa" object of GET /users/me.
type Status struct {
	TOTP              bool `json:"totp"`
	Passkeys          int  `json:"passkeys"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"` // 0 while TOTP is off
}

// Status returns the user's factors.
func (s *Service) Status(ctx context.Context, userID string) (Status, error) {
	var st Status
	if _, err := s.factors.GetTOTP(ctx, userID); err == nil {
		st.TOTP = true
	} else if !errors.Is(err, accounts.ErrNotFound) {
		return st, err
	}
	keys, err := s.factors.ListPasskeys(ctx, userID)
	if err != nil {
		return st, err
	}
	st.Passkeys = len(keys)
	if st.TOTP {
		if st.RecoveryCodesLeft, err = s.factors.CountRecoveryCodes(ctx, userID); err != nil {
			return st, err
		}
	}
	return st, nil
}

// HasTOTP reports whether the user must give a TOTP (or recovery) code
// after the password.
func (s *Service) HasTOTP(ctx context.Context, userID string) (bool, error) {
	_, err := s.factors.GetTOTP(ctx, userID)
	if errors.Is(err, accounts.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Reset removes every second factor and passkey of a user (admin; event
// user.mfa.reset, also when there was nothing to remove). It does not end
// sessions: the caller decides.
func (s *Service) Reset(ctx context.Context, actor accounts.Actor, userID string) error {
	if actor.ID == "" {
		return fmt.Errorf("mfa: reset: %w", accounts.ErrInvalidInput)
	}
	if _, err := s.users.GetUser(ctx, userID); err != nil {
		return err
	}
	totp := "false"
	if err := s.factors.DeleteTOTP(ctx, userID); err == nil {
		totp = "true"
	} else if !errors.Is(err, accounts.ErrNotFound) {
		return err
	}
	n, err := s.factors.DeletePasskeys(ctx, userID)
	if err != nil {
		return err
	}
	return s.record(ctx, actor, accounts.ActionMFAReset, userID, map[string]string{"totp": totp, "passkeys": fmt.Sprint(n)})
}

// self is the actor of a user's own action.
func self(ctx context.Context, userID string) accounts.Actor {
	return accounts.Actor{ID: userID, IP: accounts.ClientAddress(ctx)}
}

// record appends an audit event on a context detached from the caller's
// (the change it records has happened).
func (s *Service) record(ctx context.Context, actor accounts.Actor, action, target string, details map[string]string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	e := &accounts.AuditEvent{ID: accounts.NewID(), Time: s.opts.Now().UTC().Truncate(time.Millisecond),
		Actor: actor.ID, Action: action, Target: target, Details: details, IP: actor.IP}
	if err := s.opts.Audit.AppendAudit(cctx, e); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotAudited, action, err)
	}
	return nil
}

// AMR is the amr claim (RFC 8176 §2) of a sign-in: first (e.g. ["pwd"])
// followed by the second factor's method and "mfa". A recovery code has
// no RFC 8176 value of its own, so it adds only "mfa".
func AMR(first []string, second Method) []string {
	out := append([]string(nil), first...)
	if second == MethodOTP {
		out = append(out, "otp")
	}
	return append(out, "mfa")
}

// RelyingParty derives the WebAuthn relying party from the issuer URL:
// the RP ID is its host name (without port) and the only origin its
// scheme, host and port (W3C WebAuthn §5.1.5, §13.4.9). An issuer that is
// not an absolute http(s) URL is an error.
func RelyingParty(issuer, displayName string) (*WebAuthnConfig, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("mfa: issuer %q is not an absolute http(s) URL", issuer)
	}
	return &WebAuthnConfig{RPID: strings.ToLower(u.Hostname()), RPDisplayName: displayName,
		Origins: []string{u.Scheme + "://" + strings.ToLower(u.Host)}}, nil
}

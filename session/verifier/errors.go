package verifier

import (
	"errors"
	"fmt"
)

// ErrInvalidToken is matched (errors.Is) by every error that Verify returns
// because of the token itself: bad format, signature, header or claims. Such
// an error is the client's problem; the middleware answers 401 invalid_token.
var ErrInvalidToken = errors.New("verifier: invalid token")

// Token problems that callers may want to tell apart. Both match
// ErrInvalidToken too.
var (
	// ErrExpired: exp is in the past (beyond the leeway).
	ErrExpired error = &tokenError{reason: "token expired"}
	// ErrUnknownKey: no key with the token's kid is published, even after
	// the one (rate-limited) JWKS refetch that an unknown kid triggers.
	ErrUnknownKey error = &tokenError{reason: "unknown signing key"}
)

// ErrJWKSUnavailable means no verification key is at hand because the
// metadata or JWKS could not be fetched and nothing is cached. It is not a
// token problem: the middleware answers 503 temporarily_unavailable.
var ErrJWKSUnavailable = errors.New("verifier: signing keys unavailable")

// ErrMissingToken is returned by VerifyRequest when the request carries no
// bearer token (no Authorization header, another scheme, or an empty one).
// RFC 6750 §3.1: the answer is 401 with a bare "WWW-Authenticate: Bearer".
var ErrMissingToken = errors.New("verifier: missing bearer token")

// ErrInvalidRequest is returned by VerifyRequest for a request that is
// malformed as a whole (several Authorization headers); RFC 6750 §3.1 maps it
// to 400 invalid_request.
var ErrInvalidRequest = errors.New("verifier: invalid request")

// InsufficientScopeError is what RequireRole and RequirePermission report when
// a verified token lacks the role or permission (RFC 6750 §3.1,
// insufficient_scope, 403). Exactly one of Role and Permission is set.
type InsufficientScopeError struct {
	Role       string
	Permission string
}

func (e *InsufficientScopeError) Error() string {
	return "verifier: insufficient scope: " + e.description()
}

func (e *InsufficientScopeError) description() string {
	if e.Permission != "" {
		return "missing permission " + e.Permission
	}
	return "missing role " + e.Role
}

// tokenError is a token problem with a fixed, short reason. Reasons never
// contain any part of the token, so they are safe to show to the client.
type tokenError struct{ reason string }

func (e *tokenError) Error() string { return "verifier: invalid token: " + e.reason }

// Is makes every tokenError match ErrInvalidToken.
func (e *tokenError) Is(target error) bool { return target == ErrInvalidToken }

// The reasons, preallocated: rejecting a junk token allocates no error.
var (
	errTooLarge        = &tokenError{"token too large"}
	errMalformed       = &tokenError{"malformed token"}
	errAlgorithm       = &tokenError{"signing algorithm not allowed"}
	errSignature       = &tokenError{"invalid signature"}
	errType            = &tokenError{`header typ is not "at+jwt"`}
	errNoKID           = &tokenError{"header kid missing"}
	errCrit            = &tokenError{"unsupported critical header"}
	errKeyMismatch     = &tokenError{"signing key does not match algorithm"}
	errIssuer          = &tokenError{"wrong issuer"}
	errNoAudience      = &tokenError{"audience missing"}
	errAudience        = &tokenError{"wrong audience"}
	errNoExp           = &tokenError{"exp missing"}
	errNoIat           = &tokenError{"iat missing"}
	errIatFuture       = &tokenError{"issued in the future"}
	errNotYetValid     = &tokenError{"token not yet valid"}
	errNoSubject       = &tokenError{"sub missing"}
	errUnverifiable    = &tokenError{"token cannot be verified"}
	errUnknownKIDInner = errors.New("unknown kid") // internal signal from the keyfunc
)

// reason returns the client-safe description of a token error.
func reason(err error) string {
	var te *tokenError
	if errors.As(err, &te) {
		return te.reason
	}
	return "invalid token"
}

// unavailable wraps a fetch failure into ErrJWKSUnavailable.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", ErrJWKSUnavailable, cause)
}

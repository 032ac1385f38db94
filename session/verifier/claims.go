package verifier

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the verified claims of a unilogin access token (RFC 9068 §2.2
// plus unilogin's own). Times are zero when the claim is absent (only
// NotBefore may be).
type Claims struct {
	Issuer        string
	Subject       string
	Audience      []string
	ExpiresAt     time.Time
	IssuedAt      time.Time
	NotBefore     time.Time
	ID            string   // jti
	SessionID     string   // sid
	AMR           []string // authentication methods: "pwd", "google", "github", "oidc:<id>"
	Email         string   // empty when the user has none
	EmailVerified bool
	Roles         []string
	Scope         string   // space-separated permissions, as in the token
	Permissions   []string // Scope split on spaces
	ClientID      string   // client_id, when a client started the login
}

// HasRole reports whether the token carries role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// HasPermission reports whether perm is one of the token's scope values.
func (c *Claims) HasPermission(perm string) bool { return slices.Contains(c.Permissions, perm) }

// wireClaims is the JSON payload as decoded by the jwt parser. Claims
// validation is done by Verifier.checkClaims, not by the jwt package, so the
// Get* methods only satisfy the jwt.Claims interface.
type wireClaims struct {
	Issuer        string       `json:"iss"`
	Subject       string       `json:"sub"`
	Audience      audience     `json:"aud"`
	ExpiresAt     *numericDate `json:"exp"`
	NotBefore     *numericDate `json:"nbf"`
	IssuedAt      *numericDate `json:"iat"`
	ID            string       `json:"jti"`
	SessionID     string       `json:"sid"`
	AMR           []string     `json:"amr"`
	Email         string       `json:"email"`
	EmailVerified bool         `json:"email_verified"`
	Roles         []string     `json:"roles"`
	Scope         string       `json:"scope"`
	ClientID      string       `json:"client_id"`
}

var _ jwt.Claims = (*wireClaims)(nil)

func (w *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return w.ExpiresAt.jwt(), nil }
func (w *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return w.IssuedAt.jwt(), nil }
func (w *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return w.NotBefore.jwt(), nil }
func (w *wireClaims) GetIssuer() (string, error)                   { return w.Issuer, nil }
func (w *wireClaims) GetSubject() (string, error)                  { return w.Subject, nil }
func (w *wireClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(w.Audience), nil
}

// audience is the aud claim: a string or an array of strings (RFC 7519
// §4.1.3). It decodes with fewer allocations than jwt.ClaimStrings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// numericDate is an RFC 7519 §2 NumericDate: seconds since the epoch, maybe
// fractional. Decoding it as a float64 allocates nothing.
type numericDate float64

// maxDate bounds the dates accepted (year ~36812), so that the conversion to
// time.Time is exact and cannot overflow.
const maxDate = 1 << 40

func (d *numericDate) valid() bool { return d == nil || (*d > -maxDate && *d < maxDate) }

func (d *numericDate) time() time.Time {
	sec, frac := math.Modf(float64(*d))
	return time.Unix(int64(sec), int64(frac*1e9))
}

func (d *numericDate) jwt() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return jwt.NewNumericDate(d.time())
}

// check validates the registered claims (RFC 7519 §4.1, RFC 9068 §4) at now.
func (w *wireClaims) check(issuer, aud string, now time.Time, leeway time.Duration) error {
	if !w.ExpiresAt.valid() || !w.IssuedAt.valid() || !w.NotBefore.valid() {
		return errMalformed
	}
	if w.Issuer != issuer {
		return errIssuer
	}
	if len(w.Audience) == 0 {
		return errNoAudience
	}
	if !slices.Contains(w.Audience, aud) {
		return errAudience
	}
	if w.ExpiresAt == nil {
		return errNoExp
	}
	// Valid strictly before exp (RFC 7519 §4.1.4), stretched by the leeway.
	if !now.Before(w.ExpiresAt.time().Add(leeway)) {
		return ErrExpired
	}
	if w.IssuedAt == nil {
		return errNoIat
	}
	if w.IssuedAt.time().After(now.Add(leeway)) {
		return errIatFuture
	}
	if w.NotBefore != nil && w.NotBefore.time().After(now.Add(leeway)) {
		return errNotYetValid
	}
	if w.Subject == "" {
		return errNoSubject
	}
	return nil
}

func (w *wireClaims) claims() *Claims {
	c := &Claims{
		Issuer:        w.Issuer,
		Subject:       w.Subject,
		Audience:      w.Audience,
		ExpiresAt:     w.ExpiresAt.time(),
		IssuedAt:      w.IssuedAt.time(),
		ID:            w.ID,
		SessionID:     w.SessionID,
		AMR:           w.AMR,
		Email:         w.Email,
		EmailVerified: w.EmailVerified,
		Roles:         w.Roles,
		Scope:         w.Scope,
		ClientID:      w.ClientID,
	}
	if w.NotBefore != nil {
		c.NotBefore = w.NotBefore.time()
	}
	if w.Scope != "" {
		c.Permissions = strings.Fields(w.Scope)
	}
	return c
}

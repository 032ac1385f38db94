package verifier

import (
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
	Issuer        string           `json:"iss"`
	Subject       string           `json:"sub"`
	Audience      jwt.ClaimStrings `json:"aud"` // a string or an array (RFC 7519 §4.1.3)
	ExpiresAt     *jwt.NumericDate `json:"exp"`
	NotBefore     *jwt.NumericDate `json:"nbf"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	ID            string           `json:"jti"`
	SessionID     string           `json:"sid"`
	AMR           []string         `json:"amr"`
	Email         string           `json:"email"`
	EmailVerified bool             `json:"email_verified"`
	Roles         []string         `json:"roles"`
	Scope         string           `json:"scope"`
	ClientID      string           `json:"client_id"`
}

var _ jwt.Claims = (*wireClaims)(nil)

func (w *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return w.ExpiresAt, nil }
func (w *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return w.IssuedAt, nil }
func (w *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return w.NotBefore, nil }
func (w *wireClaims) GetIssuer() (string, error)                   { return w.Issuer, nil }
func (w *wireClaims) GetSubject() (string, error)                  { return w.Subject, nil }
func (w *wireClaims) GetAudience() (jwt.ClaimStrings, error)       { return w.Audience, nil }

// check validates the registered claims (RFC 7519 §4.1, RFC 9068 §4) at now.
func (w *wireClaims) check(issuer, audience string, now time.Time, leeway time.Duration) error {
	if w.Issuer != issuer {
		return errIssuer
	}
	if len(w.Audience) == 0 {
		return errNoAudience
	}
	if !slices.Contains(w.Audience, audience) {
		return errAudience
	}
	if w.ExpiresAt == nil {
		return errNoExp
	}
	// Valid strictly before exp (RFC 7519 §4.1.4), stretched by the leeway.
	if !now.Before(w.ExpiresAt.Add(leeway)) {
		return ErrExpired
	}
	if w.IssuedAt == nil {
		return errNoIat
	}
	if w.IssuedAt.After(now.Add(leeway)) {
		return errIatFuture
	}
	if w.NotBefore != nil && w.NotBefore.After(now.Add(leeway)) {
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
		ExpiresAt:     w.ExpiresAt.Time,
		IssuedAt:      w.IssuedAt.Time,
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
		c.NotBefore = w.NotBefore.Time
	}
	if w.Scope != "" {
		c.Permissions = strings.Fields(w.Scope)
	}
	return c
}

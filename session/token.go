package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessTokenType is the JWS `typ` of access tokens (RFC 9068 §2.1).
const AccessTokenType = "at+jwt"

// AccessClaims are the claims of an access token (RFC 9068 §2.2 plus the
// contract's sid, amr, email, roles).
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID     string   `json:"sid,omitempty"` // absent only in client tokens
	AMR           []string `json:"amr"`
	Email         string   `json:"email,omitempty"`
	EmailVerified *bool    `json:"email_verified,omitempty"`
	Roles         []string `json:"roles"`
	Scope         string   `json:"scope"`
	ClientID      string   `json:"client_id,omitempty"`
	// AuthTime is when the user authenticated (OpenID Connect Core §2):
	// the session's CreatedAt, kept on refresh.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
}

// IsClientToken reports whether the token was issued to a client for
// itself (client_credentials, clientcreds.go): its sub is the client id
// and it belongs to no session (no sid).
func (c *AccessClaims) IsClientToken() bool {
	return c.SessionID == "" && c.ClientID != "" && c.Subject == c.ClientID
}

// Permissions returns the scope as a list.
func (c *AccessClaims) Permissions() []string { return strings.Fields(c.Scope) }

// Subject is what a token says about its user, loaded fresh at every
// issuance so that role changes take effect at the next refresh.
type Subject struct {
	UserID        string
	Name          string // the ID token's name with scope profile; empty: none
	Email         string // empty: no email claims
	EmailVerified bool
	Roles         []string
	Permissions   []string
}

// newID returns a 128-bit random identifier, base64url without padding.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is the stored form of an opaque token (refresh token, code).
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// registered are the claims every token of ours carries: issued by us now
// for audience, about subject, valid for the access-token lifetime.
func (m *Manager) registered(subject, audience string, now time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    m.opts.Issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{audience},
		ExpiresAt: jwt.NewNumericDate(now.Add(m.opts.AccessTTL)),
		IssuedAt:  jwt.NewNumericDate(now),
	}
}

// signAccess mints an access token for the subject in session s.
func (m *Manager) signAccess(ctx context.Context, s *Session, sub Subject, scope string, now time.Time) (string, error) {
	key, err := m.keys.Signer(ctx)
	if err != nil {
		return "", err
	}
	claims := AccessClaims{
		RegisteredClaims: m.registered(sub.UserID, m.opts.Audience, now),
		SessionID:        s.ID,
		AMR:              s.AMR,
		Roles:            sub.Roles,
		Scope:            scope,
		ClientID:         s.ClientID,
		AuthTime:         jwt.NewNumericDate(s.CreatedAt),
	}
	claims.ID = newID()
	if claims.Roles == nil {
		claims.Roles = []string{}
	}
	if sub.Email != "" {
		v := sub.EmailVerified
		claims.Email, claims.EmailVerified = sub.Email, &v
	}
	signed, err := key.sign(AccessTokenType, claims)
	if err != nil {
		return "", fmt.Errorf("session: sign access token: %w", err)
	}
	return signed, nil
}

// ParseAccess verifies an access token issued here: the algorithm is pinned
// to those of our published keys and must match the key's own, `typ` must be
// at+jwt, and iss, aud, exp (required) and iat are checked. It does NOT
// check that the session is still live: Authenticate does. A client
// token (IsClientToken) has no session and is accepted without sid.
func (m *Manager) ParseAccess(ctx context.Context, token string) (*AccessClaims, error) {
	now := m.opts.Now()
	if claims, kid, ok := m.verified.get(token, now); ok {
		// Only while the key that verified it is still published.
		if _, err := m.keys.Lookup(ctx, kid); err == nil {
			return claims, nil
		}
	}
	claims := new(AccessClaims)
	var storeErr error
	var verifiedBy string
	parser := jwt.NewParser(
		jwt.WithValidMethods(m.keys.Algorithms()),
		jwt.WithIssuer(m.opts.Issuer),
		jwt.WithAudience(m.opts.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(m.opts.Leeway),
		jwt.WithTimeFunc(m.opts.Now),
	)
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, AccessTokenType) && !strings.EqualFold(typ, "application/"+AccessTokenType) {
			return nil, errors.New("typ is not at+jwt")
		}
		if err := numericDates(t.Raw); err != nil {
			return nil, err
		}
		key, err := m.verifyingKey(ctx, t, &storeErr)
		if err != nil {
			return nil, err
		}
		verifiedBy = key.ID
		return key.Public(), nil
	})
	if storeErr != nil {
		return nil, storeErr // the store failed, not the token
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if claims.Subject == "" || (claims.SessionID == "" && !claims.IsClientToken()) {
		return nil, fmt.Errorf("%w: missing sub or sid", ErrInvalidToken)
	}
	m.verified.put(token, verifiedBy, claims, claims.ExpiresAt.Add(m.opts.Leeway), now)
	return claims, nil
}

// numericDates checks that exp, iat and nbf, when present in the payload of
// the compact JWS raw, are JSON numbers (RFC 7519 §2 NumericDate). The jwt
// package also accepts a string holding a number ("exp":"1700000000"),
// which no issuer of ours ever writes.
func numericDates(raw string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("malformed token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("malformed payload")
	}
	var dates struct {
		Exp json.RawMessage `json:"exp"`
		Iat json.RawMessage `json:"iat"`
		Nbf json.RawMessage `json:"nbf"`
	}
	if err := json.Unmarshal(payload, &dates); err != nil {
		return errors.New("malformed payload")
	}
	for _, v := range []json.RawMessage{dates.Exp, dates.Iat, dates.Nbf} {
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[0] != '-' && (v[0] < '0' || v[0] > '9') {
			return errors.New("a numeric date claim is not a number")
		}
	}
	return nil
}

// verifyingKey is the key-resolution step shared by every parser of our
// own tokens: no crit header (RFC 7515 §4.1.11: we understand no
// extension), a kid naming a published key, and the token's alg equal to
// that key's (no algorithm confusion). A store failure while looking the
// key up is also put in *storeErr, so the caller can answer 503 rather
// than "invalid token".
func (m *Manager) verifyingKey(ctx context.Context, t *jwt.Token, storeErr *error) (*Key, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("crit header present")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("no kid")
	}
	key, err := m.keys.Lookup(ctx, kid)
	if err != nil {
		if !errors.Is(err, ErrUnknownKey) {
			*storeErr = err
		}
		return nil, err
	}
	if key.Algorithm != t.Method.Alg() {
		return nil, errors.New("alg does not match the key")
	}
	return key, nil
}

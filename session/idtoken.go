package session

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IDTokenType is the JWS `typ` of ID tokens (OIDC Core §2 recommends JWT).
const IDTokenType = "JWT"

// IDClaims are the claims of an ID token (OpenID Connect Core §2, §5.1).
type IDClaims struct {
	jwt.RegisteredClaims
	AuthTime  *jwt.NumericDate `json:"auth_time,omitempty"`
	Nonce     string           `json:"nonce,omitempty"`
	AtHash    string           `json:"at_hash,omitempty"`
	SessionID string           `json:"sid,omitempty"`
	AMR       []string         `json:"amr,omitempty"`
	// With scope email.
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	// With scope profile.
	Name string `json:"name,omitempty"`
}

// AtHash is the at_hash of an access token signed with alg (OIDC Core
// §3.1.3.6): base64url of the left half of the token's hash under the
// hash function of alg, SHA-256 for ES256 and RS256, SHA-512 for EdDSA
// (Ed25519 hashes with SHA-512, as OIDC's at_hash rule and go-oidc take it).
func AtHash(alg, accessToken string) (string, error) {
	var h hash.Hash
	switch alg {
	case ES256, RS256:
		h = sha256.New()
	case EdDSA:
		h = sha512.New()
	default:
		return "", fmt.Errorf("session: at_hash: unsupported algorithm %q", alg)
	}
	h.Write([]byte(accessToken))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

// MintIDToken signs an ID token for subject sub in session s, whose access
// token accessToken (for at_hash) carries scope: aud is the session's
// client, exp the access token's lifetime, auth_time the session's sign-in
// and nonce, when non-empty, the authorization request's. email and
// email_verified are included only with scope email, name only with scope
// profile. Start and Refresh call it themselves (Pair.IDToken); it does
// NOT check that openid was granted.
func (m *Manager) MintIDToken(ctx context.Context, s *Session, sub Subject, scope, accessToken, nonce string) (string, error) {
	return m.signID(ctx, s, sub, scope, accessToken, nonce, m.opts.Now().UTC())
}

func (m *Manager) signID(ctx context.Context, s *Session, sub Subject, scope, accessToken, nonce string, now time.Time) (string, error) {
	if s.ClientID == "" {
		return "", errors.New("session: ID token without a client")
	}
	key, err := m.keys.Signer(ctx)
	if err != nil {
		return "", err
	}
	atHash, err := AtHash(key.Algorithm, accessToken)
	if err != nil {
		return "", err
	}
	claims := IDClaims{
		RegisteredClaims: m.registered(sub.UserID, s.ClientID, now),
		AuthTime:         jwt.NewNumericDate(s.CreatedAt),
		Nonce:            nonce,
		AtHash:           atHash,
		SessionID:        s.ID,
		AMR:              s.AMR,
	}
	if HasScope(scope, ScopeEmail) && sub.Email != "" {
		v := sub.EmailVerified
		claims.Email, claims.EmailVerified = sub.Email, &v
	}
	if HasScope(scope, ScopeProfile) {
		claims.Name = sub.Name
	}
	signed, err := key.sign(IDTokenType, claims)
	if err != nil {
		return "", fmt.Errorf("session: sign ID token: %w", err)
	}
	return signed, nil
}

// ParseIDTokenHint verifies an ID token of ours presented back as
// id_token_hint (RP-Initiated Logout 1.0 §2, OIDC Core §3.1.2.1): the
// signature under a published key (the algorithm pinned to the key's),
// typ JWT, iss, and that sub and sid are present. Expiry is deliberately
// NOT checked (a hint may be expired); the caller checks aud against the
// client_id it was given, if any, and that the session still exists.
// Every failure is ErrInvalidToken, except a store failure.
func (m *Manager) ParseIDTokenHint(ctx context.Context, token string) (*IDClaims, error) {
	if token == "" || len(token) > 8192 {
		return nil, ErrInvalidToken
	}
	claims := new(IDClaims)
	var storeErr error
	parser := jwt.NewParser(jwt.WithValidMethods(m.keys.Algorithms()), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, IDTokenType) {
			return nil, errors.New("typ is not JWT")
		}
		key, err := m.verifyingKey(ctx, t, &storeErr)
		if err != nil {
			return nil, err
		}
		return key.Public(), nil
	})
	if storeErr != nil {
		return nil, storeErr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if claims.Issuer != m.opts.Issuer {
		return nil, fmt.Errorf("%w: iss", ErrInvalidToken)
	}
	if claims.Subject == "" || claims.SessionID == "" || len(claims.Audience) == 0 {
		return nil, fmt.Errorf("%w: missing sub, sid or aud", ErrInvalidToken)
	}
	return claims, nil
}

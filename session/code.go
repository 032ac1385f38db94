package session

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
)

// CodeRequest is what a one-time authorization code stands for.
type CodeRequest struct {
	ClientID            string
	RedirectURI         string
	CodeChallenge       string // RFC 7636 S256 challenge; empty when none was sent
	CodeChallengeMethod string
	UserID              string
	AMR                 []string
	Payload             []byte // opaque, returned on redemption
}

// IssueCode stores a one-time code (hashed) valid for CodeTTL and returns it.
func (m *Manager) IssueCode(ctx context.Context, r CodeRequest) (string, error) {
	code := newOpaque()
	now := m.opts.Now().UTC()
	c := &AuthCode{
		Hash:                HashToken(code),
		ClientID:            r.ClientID,
		RedirectURI:         r.RedirectURI,
		CodeChallenge:       r.CodeChallenge,
		CodeChallengeMethod: r.CodeChallengeMethod,
		UserID:              r.UserID,
		AMR:                 slices.Clone(r.AMR),
		Payload:             r.Payload,
		CreatedAt:           now,
		ExpiresAt:           now.Add(m.opts.CodeTTL),
	}
	if err := m.store.CreateCode(ctx, c); err != nil {
		return "", fmt.Errorf("session: store code: %w", err)
	}
	return code, nil
}

// S256 is the RFC 7636 §4.2 S256 code challenge of a verifier.
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// RedeemCode consumes a code (RFC 6749 §4.1.3): it is deleted whatever the
// outcome, so a code is never usable twice. The client and redirect URI
// must be those it was issued for and, when a challenge was sent, the PKCE
// verifier must match it (RFC 7636 §4.6); a verifier without a challenge is
// refused too (RFC 9700 §4.8.2, PKCE downgrade). Every failure is
// ErrInvalidToken.
func (m *Manager) RedeemCode(ctx context.Context, code, clientID, redirectURI, verifier string) (*AuthCode, error) {
	if code == "" || len(code) > 512 {
		return nil, ErrInvalidToken
	}
	c, err := m.store.ConsumeCode(ctx, HashToken(code), m.opts.Now())
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown, used or expired code", ErrInvalidToken)
	} else if err != nil {
		return nil, err
	}
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	switch {
	case !eq(c.ClientID, clientID):
		return nil, fmt.Errorf("%w: code issued to another client", ErrInvalidToken)
	case !eq(c.RedirectURI, redirectURI):
		return nil, fmt.Errorf("%w: redirect_uri differs from the authorization request", ErrInvalidToken)
	case c.CodeChallenge == "" && verifier != "":
		return nil, fmt.Errorf("%w: code_verifier sent but no code_challenge was", ErrInvalidToken)
	case c.CodeChallenge != "" && verifier == "":
		return nil, fmt.Errorf("%w: code_verifier required", ErrInvalidToken)
	case c.CodeChallenge != "" && !eq(S256(verifier), c.CodeChallenge):
		return nil, fmt.Errorf("%w: code_verifier does not match the code_challenge", ErrInvalidToken)
	}
	return c, nil
}

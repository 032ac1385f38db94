package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
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

// Codes are 16 random bytes and a 16-byte HMAC tag under the server secret,
// so that a code presented again can be told from one never issued without
// storing anything for it: a replay of one of ours ends the session its
// first redemption started (RFC 6749 §4.1.2, §10.5). That session's id is
// derived from the code (codeSession), so the replay finds it although the
// code itself is gone; a marker claimed by both sides (codeUsedKey) closes
// the race of a replay arriving while the first redemption is still
// starting its session.

func (m *Manager) codeTag(random []byte) []byte {
	mac := hmac.New(sha256.New, m.succKey)
	mac.Write([]byte("authorization-code\x00"))
	mac.Write(random)
	return mac.Sum(nil)[:16]
}

func (m *Manager) newCode() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b[:16]); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	copy(b[16:], m.codeTag(b[:16]))
	return base64.RawURLEncoding.EncodeToString(b)
}

// issuedHere reports whether code carries our tag (it was issued here).
func (m *Manager) issuedHere(code string) bool {
	b, err := base64.RawURLEncoding.DecodeString(code)
	return err == nil && len(b) == 32 && hmac.Equal(b[16:], m.codeTag(b[:16]))
}

// codeSession is the id of the session a code's redemption starts.
func (m *Manager) codeSession(code string) string {
	mac := hmac.New(sha256.New, m.succKey)
	mac.Write([]byte("code-session\x00"))
	mac.Write([]byte(code))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

func codeUsedKey(code string) string {
	return "code-used:" + base64.RawURLEncoding.EncodeToString(HashToken(code))
}

// CodeReplayError is the ErrInvalidToken of a code presented again: the
// session its first redemption started has been ended (SessionID and
// UserID are empty when there was none, e.g. that redemption failed).
type CodeReplayError struct {
	SessionID, UserID string
}

func (e *CodeReplayError) Error() string {
	return ErrInvalidToken.Error() + ": authorization code replayed"
}
func (e *CodeReplayError) Is(target error) bool { return target == ErrInvalidToken }

// codeReplayed ends what the first redemption of code started.
func (m *Manager) codeReplayed(ctx context.Context, code string) error {
	if err := m.store.Claim(ctx, codeUsedKey(code), m.opts.Now().Add(m.opts.CodeTTL)); err != nil && !errors.Is(err, ErrAlreadyExists) {
		return err
	}
	id := m.codeSession(code)
	s, err := m.store.GetSession(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return &CodeReplayError{}
	} else if err != nil {
		return err
	}
	if err := m.store.DeleteSession(ctx, id); errors.Is(err, ErrNotFound) {
		return &CodeReplayError{}
	} else if err != nil {
		return fmt.Errorf("session: revoke after code replay: %w", err)
	}
	return &CodeReplayError{SessionID: s.ID, UserID: s.UserID}
}

// IssueCode stores a one-time code (hashed) valid for CodeTTL and returns it.
func (m *Manager) IssueCode(ctx context.Context, r CodeRequest) (string, error) {
	code := m.newCode()
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
// ErrInvalidToken; a code of ours presented again is a *CodeReplayError
// after the session of its first redemption (Grant.Code) was ended.
func (m *Manager) RedeemCode(ctx context.Context, code, clientID, redirectURI, verifier string) (*AuthCode, error) {
	if code == "" || len(code) > 512 {
		return nil, ErrInvalidToken
	}
	c, err := m.store.ConsumeCode(ctx, HashToken(code), m.opts.Now())
	if errors.Is(err, ErrNotFound) {
		if m.issuedHere(code) {
			return nil, m.codeReplayed(ctx, code)
		}
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

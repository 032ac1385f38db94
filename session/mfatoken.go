package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The mfa_token of the password grant: a user who has a second factor
// gets one instead of tokens after the password, and trades it with a
// code for the token pair. It is opaque, lives MFATokenTTL, is bound to
// the user and the client (or to no client), is stored only as an HMAC
// under the server secret, and dies on its MaxMFAAttempts-th failed
// attempt or its first success.
const (
	MFATokenTTL     = 5 * time.Minute
	MaxMFAAttempts  = 5
	mfaTokenMarker  = "urn:unilogin:mfa-token" // RedirectURI of its record
	mfaTokenNoPKCE  = "!"                      // CodeChallenge no verifier's S256 can equal
	maxMFATokenSize = 256
)

// MFAToken is what an mfa_token stands for.
type MFAToken struct {
	UserID    string
	ClientID  string   // empty: issued to no client
	AMR       []string // the first factor, e.g. ["pwd"]
	Scope     string   // the scope the password grant asked for
	Attempts  int      // failed attempts so far
	ExpiresAt time.Time
}

type mfaPayload struct {
	Attempts int    `json:"attempts"`
	Scope    string `json:"scope,omitempty"`
}

// mfaTokenHash keys the token's record after failures failed attempts.
// It is an HMAC, not the SHA-256 that authorization codes are stored
// under, so no string presented as a code can reach an mfa_token's record
// (or the reverse); the record's RedirectURI and CodeChallenge make a code
// redemption of it fail anyway. Each failure moves the record to a new
// key, never to one used before: on MongoDB a consume is a read and then
// a delete by key, and a record put back under the same key could be
// deleted by a consumer that read the one before it (and so would lose
// the failure count).
func (m *Manager) mfaTokenHash(token string, failures int) []byte {
	mac := hmac.New(sha256.New, m.succKey)
	mac.Write([]byte("mfa-token\x00"))
	mac.Write([]byte{byte(failures)})
	mac.Write([]byte(token))
	return mac.Sum(nil)
}

// IssueMFAToken stores a new mfa_token for the user's first factor amr
// and the requested scope (carried to the token pair).
func (m *Manager) IssueMFAToken(ctx context.Context, userID, clientID string, amr []string, scope string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := m.opts.Now().UTC()
	t := &MFAToken{UserID: userID, ClientID: clientID, AMR: slices.Clone(amr), Scope: scope, ExpiresAt: now.Add(MFATokenTTL)}
	if err := m.putMFAToken(ctx, token, t, now); err != nil {
		return "", err
	}
	return token, nil
}

func (m *Manager) putMFAToken(ctx context.Context, token string, t *MFAToken, now time.Time) error {
	payload, err := json.Marshal(mfaPayload{Attempts: t.Attempts, Scope: t.Scope})
	if err != nil {
		return err
	}
	c := &AuthCode{Hash: m.mfaTokenHash(token, t.Attempts), ClientID: t.ClientID, RedirectURI: mfaTokenMarker,
		CodeChallenge: mfaTokenNoPKCE, CodeChallengeMethod: "S256", UserID: t.UserID, AMR: slices.Clone(t.AMR),
		Payload: payload, CreatedAt: now, ExpiresAt: t.ExpiresAt}
	if err := m.store.CreateCode(ctx, c); err != nil {
		return fmt.Errorf("session: store mfa token: %w", err)
	}
	return nil
}

// MFAAttempt is one attempt at completing an mfa_token: while it is open
// nobody else can use the token (its record is taken out of the store with
// the single delete every backend does atomically). The caller checks the
// code and then calls exactly one of Succeed and Fail.
type MFAAttempt struct {
	Token MFAToken
	m     *Manager
	raw   string
	done  bool
}

// BeginMFAAttempt takes the token for one attempt by clientID (empty for
// none). ErrInvalidToken when it is unknown, expired, dead, in use by a
// concurrent attempt, or bound to another client (that counts as a failed
// attempt).
func (m *Manager) BeginMFAAttempt(ctx context.Context, token, clientID string) (*MFAAttempt, error) {
	if token == "" || len(token) > maxMFATokenSize {
		return nil, fmt.Errorf("%w: malformed mfa_token", ErrInvalidToken)
	}
	var c *AuthCode
	for failures := 0; failures < MaxMFAAttempts && c == nil; failures++ {
		var err error
		c, err = m.store.ConsumeCode(ctx, m.mfaTokenHash(token, failures), m.opts.Now())
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	if c == nil {
		return nil, fmt.Errorf("%w: unknown, used, expired or busy mfa_token", ErrInvalidToken)
	}
	if c.RedirectURI != mfaTokenMarker {
		return nil, fmt.Errorf("%w: not an mfa_token", ErrInvalidToken)
	}
	var p mfaPayload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return nil, fmt.Errorf("session: decode mfa token: %w", err)
	}
	a := &MFAAttempt{m: m, raw: token, Token: MFAToken{UserID: c.UserID, ClientID: c.ClientID, AMR: c.AMR,
		Scope: p.Scope, Attempts: p.Attempts, ExpiresAt: c.ExpiresAt}}
	if subtle.ConstantTimeCompare([]byte(c.ClientID), []byte(clientID)) != 1 {
		if _, err := a.Fail(ctx); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: mfa_token issued to another client", ErrInvalidToken)
	}
	return a, nil
}

// Succeed ends the attempt with the token spent: it is never usable again.
func (a *MFAAttempt) Succeed() { a.done = true }

// Fail ends the attempt as a failed one (a wrong code, a replayed code, a
// wrong recovery code): the token is put back with one more failure, or
// stays dead when this was the MaxMFAAttempts-th. It reports whether the
// token is dead. The put-back runs on a context detached from ctx.
func (a *MFAAttempt) Fail(ctx context.Context) (dead bool, err error) {
	if a.done {
		return true, nil
	}
	a.done = true
	a.Token.Attempts++
	now := a.m.opts.Now().UTC()
	if a.Token.Attempts >= MaxMFAAttempts || !now.Before(a.Token.ExpiresAt) {
		return true, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.m.putMFAToken(cctx, a.raw, &a.Token, now); err != nil {
		return true, err
	}
	return false, nil
}

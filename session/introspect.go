package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"
)

// Token types of an introspection answer (RFC 7662 §2.2, RFC 8693 §3).
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
)

// Introspection is the answer about one token (RFC 7662 §2.2). When
// Active is false every other field is empty, and the HTTP layer answers
// {"active": false} and nothing more.
type Introspection struct {
	Active    bool
	TokenType string // TokenTypeAccess or TokenTypeRefresh
	Scope     string
	ClientID  string // empty for a session no client started
	Subject   string // the user id, or the client id of a client token
	Issuer    string
	Audience  []string
	SessionID string // empty for a client token
	ExpiresAt time.Time
	IssuedAt  time.Time
}

// Introspect tells an authenticated client (callerClientID) whether token
// is live (RFC 7662 §2.1; any token_type_hint may be ignored, §2.1):
//   - an access token of ours, unexpired, whose session is live and
//     belongs to its sub, and whose user load accepts;
//   - a client-credentials token, unexpired (it has no session);
//   - the current refresh token of a live session started by callerClientID
//     (a spent, idle-expired or other client's refresh token is inactive to
//     the caller; presenting a spent one here does not revoke anything),
//     whose user load accepts; its scope is the one a refresh would grant
//     now, its iat the last rotation (or the session's start).
//
// load is the user check of a refresh (SubjectLoader): an error matching
// ErrInvalidToken (user disabled or deleted) makes the token inactive, any
// other error is returned. load may be nil to skip it, then the refresh
// token's scope is the session's stored scope. Anything else is inactive;
// only a store or load failure is an error.
func (m *Manager) Introspect(ctx context.Context, token, callerClientID string, load SubjectLoader) (*Introspection, error) {
	if token == "" || len(token) > 8192 {
		return &Introspection{}, nil
	}
	if strings.Count(token, ".") == 2 {
		return m.introspectAccess(ctx, token, load)
	}
	return m.introspectRefresh(ctx, token, callerClientID, load)
}

func (m *Manager) introspectAccess(ctx context.Context, token string, load SubjectLoader) (*Introspection, error) {
	c, err := m.ParseAccess(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return &Introspection{}, nil
	} else if err != nil {
		return nil, err
	}
	out := &Introspection{
		Active: true, TokenType: TokenTypeAccess, Scope: c.Scope, ClientID: c.ClientID, Subject: c.Subject,
		Issuer: c.Issuer, Audience: []string(c.Audience), SessionID: c.SessionID,
		ExpiresAt: c.ExpiresAt.Time.UTC(),
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Time.UTC()
	}
	if c.IsClientToken() {
		return out, nil
	}
	s, err := m.store.GetSession(ctx, c.SessionID)
	if errors.Is(err, ErrNotFound) {
		return &Introspection{}, nil
	} else if err != nil {
		return nil, err
	}
	if s.UserID != c.Subject {
		return &Introspection{}, nil
	}
	if load != nil {
		if _, err := load(ctx, s.UserID); errors.Is(err, ErrInvalidToken) {
			return &Introspection{}, nil
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *Manager) introspectRefresh(ctx context.Context, token, callerClientID string, load SubjectLoader) (*Introspection, error) {
	p, err := m.resolve(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return &Introspection{}, nil
	} else if err != nil {
		return nil, err
	}
	s := p.s
	now := m.opts.Now().UTC()
	if p.spent || subtle.ConstantTimeCompare([]byte(s.ClientID), []byte(callerClientID)) != 1 {
		return &Introspection{}, nil
	}
	exp := s.ExpiresAt
	if !p.legacy && !s.RefreshExpiresAt.IsZero() {
		if s.RefreshExpiresAt.Before(now) {
			return &Introspection{}, nil // idle too long
		}
		exp = s.RefreshExpiresAt
	}
	scope := s.Scope
	if load != nil {
		sub, err := load(ctx, s.UserID)
		if errors.Is(err, ErrInvalidToken) {
			return &Introspection{}, nil
		} else if err != nil {
			return nil, err
		}
		scope = grantScope(s.Scope, sub.Permissions)
	}
	iat := s.RotatedAt
	if iat.IsZero() {
		iat = s.CreatedAt
	}
	return &Introspection{
		Active: true, TokenType: TokenTypeRefresh, Scope: scope, ClientID: s.ClientID, Subject: s.UserID,
		Issuer: m.opts.Issuer, Audience: []string{m.opts.Issuer}, SessionID: s.ID,
		ExpiresAt: exp.UTC(), IssuedAt: iat.UTC(),
	}, nil
}

package session

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// successor derives the successor of a token from before the chain (the
// old scheme, still needed to tell a spent old token from a current one).
func (m *Manager) successor(token string) string {
	return base64.RawURLEncoding.EncodeToString(mac(m.succKey, token))
}

// deriveKey derives from the successor secret a key for purpose, so the
// chain, the tags and the old scheme never share a key.
func deriveKey(secret []byte, purpose string) []byte {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte("unilogin/refresh/v2/" + purpose))
	return k.Sum(nil)
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func (m *Manager) mintRefresh(sid string, gen int64, secret []byte) string {
	body := sid + "." + strconv.FormatInt(gen, 10) + "." + base64.RawURLEncoding.EncodeToString(secret)
	return body + "." + base64.RawURLEncoding.EncodeToString(m.tagMAC.sum(body)[:16])
}

// nextRefresh is the successor of token (of the chain or, for gen 1, the
// old token it replaces).
func (m *Manager) nextRefresh(sid string, gen int64, token string) string {
	return m.mintRefresh(sid, gen+1, m.chainMAC.sum(token))
}

// parseRefresh returns the session and generation a chain token names,
// ok false when it is not a chain token or its tag does not verify.
func (m *Manager) parseRefresh(token string) (sid string, gen int64, ok bool) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", 0, false
	}
	body, tag := token[:i], token[i+1:]
	want := base64.RawURLEncoding.EncodeToString(m.tagMAC.sum(body)[:16])
	if !hmac.Equal([]byte(tag), []byte(want)) {
		return "", 0, false
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 || parts[0] == "" {
		return "", 0, false
	}
	gen, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || gen < 0 {
		return "", 0, false
	}
	return parts[0], gen, true
}

// maxRefreshLen bounds a presented refresh token: longer is invalid.
const maxRefreshLen = 512

// presented is a refresh token resolved to its session: gen is its place
// in the chain (0 with legacy for a current token from before the chain),
// spent whether it has been rotated already.
type presented struct {
	s      *Session
	gen    int64
	legacy bool
	spent  bool
}

// resolve finds the session of a refresh token: ErrInvalidToken when the
// token is not ours, unknown or its session has ended.
func (m *Manager) resolve(ctx context.Context, token string) (*presented, error) {
	if token == "" || len(token) > maxRefreshLen {
		return nil, ErrInvalidToken
	}
	if sid, gen, ok := m.parseRefresh(token); ok {
		s, err := m.store.GetSession(ctx, sid)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrInvalidToken
		} else if err != nil {
			return nil, err
		}
		switch {
		case s.RefreshHash == nil || gen > s.RefreshGen:
			return nil, ErrInvalidToken // the chain never reached it
		case gen < s.RefreshGen:
			return &presented{s: s, gen: gen, spent: true}, nil
		case subtle.ConstantTimeCompare(HashToken(token), s.RefreshHash) != 1:
			return nil, ErrInvalidToken
		}
		return &presented{s: s, gen: gen}, nil
	}
	if strings.Contains(token, ".") {
		return nil, ErrInvalidToken
	}
	// A token from before the chain.
	rt, err := m.store.GetRefresh(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, err
	}
	s, err := m.store.GetSession(ctx, rt.SessionID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, err
	}
	p := &presented{s: s, legacy: true, spent: s.RefreshHash != nil}
	if !p.spent {
		// Spent in the old scheme when its successor record exists.
		_, err := m.store.GetRefresh(ctx, HashToken(m.successor(token)))
		if err == nil {
			p.spent, p.gen = true, -1 // older than the last old token
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return p, nil
}

// Refresh rotates a refresh token (RFC 6749 §6, RFC 9700 §4.14.2): the
// token is spent and a new pair returned. The atomic step is one write,
// the store's AdvanceRefresh or RotateRefresh: of concurrent rotations
// exactly one moves the session on. A spent token presented again within the grace window gets
// the same successor (while that one is unspent); any other reuse revokes
// the whole session and returns ErrRefreshReused. clientID must be the
// client the session was started for (empty for none). scope may narrow
// the access token's scope (RFC 6749 §6, narrowScope). When the resulting
// scope has openid, Pair.IDToken is a fresh ID token with the original
// auth_time and no nonce (OIDC Core §12.2).
func (m *Manager) Refresh(ctx context.Context, token, clientID, scope string, load SubjectLoader) (*Pair, error) {
	return m.RefreshWith(ctx, token, clientID, scope, load, nil)
}

// Advancer is Store.AdvanceRefresh together with the load of the
// session's subject, on the condition that the user may still refresh:
// where the stores share a database the server does both in one
// statement. It returns ErrNotFound when nothing matched, the user's state
// included; Refresh then takes the read path, which tells the cases apart
// (and refuses a disabled or deleted user through its SubjectLoader).
type Advancer func(ctx context.Context, a *Advance) (*Session, Subject, error)

// RefreshWith is Refresh with the common step done by advance (nil: the
// store's AdvanceRefresh, then load). The common case, the session's
// current chain token presented by its client, is one write and no read
// of the session: only when that write matches nothing does Refresh read
// the session and decide (spent within the grace window, reuse, legacy
// tokens, idle or ended sessions).
func (m *Manager) RefreshWith(ctx context.Context, token, clientID, scope string, load SubjectLoader, advance Advancer) (*Pair, error) {
	if len(token) > maxRefreshLen {
		return nil, ErrInvalidToken
	}
	if sid, gen, ok := m.parseRefresh(token); ok {
		now := m.opts.Now().UTC()
		succ := m.nextRefresh(sid, gen, token)
		a := &Advance{ClientID: clientID, Rotation: Rotation{SessionID: sid, FromGen: gen, FromHash: HashToken(token),
			ToHash: HashToken(succ), At: now, IdleExpiresAt: now.Add(m.opts.RefreshIdleTTL)}}
		s, sub, err := m.advance(ctx, a, load, advance)
		switch {
		case err == nil:
			return m.pair(ctx, s, sub, succ, scope, "", now)
		case !errors.Is(err, errNoAdvance):
			return nil, err
		}
	}
	p, err := m.resolve(ctx, token)
	if err != nil {
		return nil, err
	}
	s := p.s
	if subtle.ConstantTimeCompare([]byte(s.ClientID), []byte(clientID)) != 1 {
		return nil, ErrClientMismatch
	}
	now := m.opts.Now().UTC()
	if p.spent {
		succ, err := m.reuse(ctx, p, token, now)
		if err != nil {
			return nil, err
		}
		sub, err := load(ctx, s.UserID)
		if err != nil {
			return nil, err
		}
		return m.pair(ctx, s, sub, succ, scope, "", now)
	}
	if !p.legacy && !s.RefreshExpiresAt.IsZero() && s.RefreshExpiresAt.Before(now) {
		return nil, ErrInvalidToken // idle too long
	}
	sub, err := load(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	succ := m.nextRefresh(s.ID, p.gen, token)
	r := &Rotation{SessionID: s.ID, FromGen: p.gen, ToHash: HashToken(succ), At: now, IdleExpiresAt: m.idleDeadline(s, now)}
	if !p.legacy {
		r.FromHash = s.RefreshHash
	}
	switch err := m.store.RotateRefresh(ctx, r); {
	case errors.Is(err, ErrAlreadyExists):
		// A concurrent rotation of the same token won just now.
		if m.opts.ReuseGrace <= 0 {
			return nil, m.revoke(ctx, s)
		}
	case errors.Is(err, ErrNotFound):
		return nil, ErrInvalidToken // the session ended meanwhile
	case err != nil:
		return nil, fmt.Errorf("session: rotate refresh token: %w", err)
	}
	return m.pair(ctx, s, sub, succ, scope, "", now)
}

// errNoAdvance: the common step matched nothing; Refresh reads and decides.
var errNoAdvance = errors.New("session: no current token to advance")

// advance runs the common step of a refresh: errNoAdvance when it matched
// nothing. Without an Advancer the subject is loaded after the write, so
// that a user refused then has spent the token (the refusal stands).
func (m *Manager) advance(ctx context.Context, a *Advance, load SubjectLoader, advance Advancer) (*Session, Subject, error) {
	if advance != nil {
		s, sub, err := advance(ctx, a)
		if errors.Is(err, ErrNotFound) {
			return nil, Subject{}, errNoAdvance
		} else if err != nil {
			return nil, Subject{}, fmt.Errorf("session: advance refresh token: %w", err)
		}
		return s, sub, nil
	}
	s, err := m.store.AdvanceRefresh(ctx, a)
	if errors.Is(err, ErrNotFound) {
		return nil, Subject{}, errNoAdvance
	} else if err != nil {
		return nil, Subject{}, fmt.Errorf("session: advance refresh token: %w", err)
	}
	sub, err := load(ctx, s.UserID)
	if err != nil {
		return nil, Subject{}, err
	}
	return s, sub, nil
}

// reuse decides about a spent token. Within the grace window a token whose
// successor is the session's current token (still unspent) may have that
// successor again; any other reuse revokes the session.
func (m *Manager) reuse(ctx context.Context, p *presented, token string, now time.Time) (string, error) {
	s := p.s
	if !p.legacy || s.RefreshHash != nil {
		if m.opts.ReuseGrace > 0 && p.gen == s.RefreshGen-1 && now.Sub(s.RotatedAt) <= m.opts.ReuseGrace {
			succ := m.nextRefresh(s.ID, p.gen, token)
			if subtle.ConstantTimeCompare(HashToken(succ), s.RefreshHash) == 1 {
				return succ, nil
			}
		}
		return "", m.revoke(ctx, s)
	}
	// A spent token of the old scheme in a session not yet on the chain.
	succ := m.successor(token)
	existing, err := m.store.GetRefresh(ctx, HashToken(succ))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if err == nil && m.opts.ReuseGrace > 0 && now.Sub(existing.CreatedAt) <= m.opts.ReuseGrace {
		_, err := m.store.GetRefresh(ctx, HashToken(m.successor(succ)))
		if errors.Is(err, ErrNotFound) {
			return succ, nil // successor unspent: hand it out again
		} else if err != nil {
			return "", err
		}
	}
	return "", m.revoke(ctx, s)
}

package session

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Options configure a Manager.
type Options struct {
	Issuer   string // iss of every access token
	Audience string // aud of every access token; default Issuer

	AccessTTL          time.Duration // default 15m
	RefreshIdleTTL     time.Duration // default 30 days
	RefreshAbsoluteTTL time.Duration // default 90 days
	// ReuseGrace: a spent refresh token presented again within this window
	// yields the same successor (a client retrying after a lost response);
	// later, it revokes the session. 0 disables the grace (config default 10s).
	ReuseGrace time.Duration
	CodeTTL    time.Duration // default 60s
	// MaxSessionsPerUser caps a user's sessions: starting one more ends the
	// oldest. Default 100; negative: no cap.
	MaxSessionsPerUser int
	Leeway             time.Duration // clock skew accepted on our own tokens; default 10s
	// AccessCacheSize bounds the cache of verified access tokens
	// (accesscache.go); 0 means 10,000, negative disables it.
	AccessCacheSize int
	Now             func() time.Time
}

func (o *Options) defaults() {
	if o.Audience == "" {
		o.Audience = o.Issuer
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&o.AccessTTL, 15*time.Minute)
	set(&o.RefreshIdleTTL, 30*24*time.Hour)
	set(&o.RefreshAbsoluteTTL, 90*24*time.Hour)
	set(&o.CodeTTL, time.Minute)
	if o.MaxSessionsPerUser == 0 {
		o.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	set(&o.Leeway, 10*time.Second)
	if o.AccessCacheSize == 0 {
		o.AccessCacheSize = 10000
	}
	if o.ReuseGrace < 0 {
		o.ReuseGrace = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// DefaultMaxSessionsPerUser is the default of Options.MaxSessionsPerUser.
const DefaultMaxSessionsPerUser = 100

// Manager issues, rotates and ends sessions and their tokens.
type Manager struct {
	store   Store
	keys    *Keyring
	opts    Options
	succKey []byte // HMAC key deriving a refresh token's successor (old scheme)
	// MACs under keys derived from succKey for the chain of refresh tokens.
	chainMAC, tagMAC *keyedMAC
	verified         *accessCache // nil when disabled
}

// successorSecret names the server secret that derives successors.
const successorSecret = "refresh-successor"

// NewManager returns a Manager. The secret that derives grace-window
// successors is created in the store on first start and shared by every
// instance (sealed with the key-encryption key).
func NewManager(ctx context.Context, store Store, keys *Keyring, sealer *Sealer, opts Options) (*Manager, error) {
	opts.defaults()
	key, err := sharedSecret(ctx, store, sealer, successorSecret)
	if err != nil {
		return nil, err
	}
	return &Manager{store: store, keys: keys, opts: opts, succKey: key,
		chainMAC: newKeyedMAC(deriveKey(key, "chain")), tagMAC: newKeyedMAC(deriveKey(key, "tag")), verified: newAccessCache(opts.AccessCacheSize)}, nil
}

// sharedSecret returns the 32-byte secret stored under name, creating it.
func sharedSecret(ctx context.Context, store Store, sealer *Sealer, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	ad := "secret:" + name
	sealed, err := store.GetOrCreateSecret(ctx, name, sealer.Seal(fresh, ad))
	if err != nil {
		return nil, fmt.Errorf("session: load secret %s: %w", name, err)
	}
	return sealer.Open(sealed, ad)
}

// SharedSecret returns a server-wide 32-byte secret for purpose (e.g. the
// browser flow cookie key), created on first use and shared through the store.
func (m *Manager) SharedSecret(ctx context.Context, sealer *Sealer, purpose string) ([]byte, error) {
	return sharedSecret(ctx, m.store, sealer, purpose)
}

// Keys returns the keyring.
func (m *Manager) Keys() *Keyring { return m.keys }

// AccessTTL is the lifetime of access tokens.
func (m *Manager) AccessTTL() time.Duration { return m.opts.AccessTTL }

// Grant describes a successful sign-in.
type Grant struct {
	Subject  Subject
	ClientID string   // the app that started the sign-in, if any
	AMR      []string // how the user signed in
	// Scope is the requested scope: OpenID Connect scopes and permissions;
	// naming no permission means every permission (grantScope, scope.go).
	// The HTTP layer refuses unknown values first (CheckScope).
	Scope string
	// Nonce is the nonce of the authorization request, if any: it goes
	// into the ID token of this first response only (OIDC Core §3.1.2.1).
	Nonce     string
	UserAgent string // coarse description of the device
	// AuthTime is when the user authenticated, when that was before now
	// (a code issued to an existing hosted-page session); zero: now. It
	// becomes the session's CreatedAt and the tokens' auth_time.
	AuthTime time.Time
	// Code is the authorization code redeemed for this sign-in, if any:
	// the session gets the id derived from it, so that a replay of the
	// code can end it (RedeemCode).
	Code string
}

// Pair is a token response (RFC 6749 §5.1).
type Pair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int64 // seconds
	Scope        string
	SessionID    string
	UserID       string
	// IDToken is set when openid is in the granted scope and a client
	// started the session (idtoken.go); the HTTP layer returns it as
	// id_token (OIDC Core §3.1.3.3, §12.2).
	IDToken string
}

// SubjectLoader loads the current state of a user at a refresh. It returns
// an error (e.g. the user was disabled or deleted) to refuse the refresh.
type SubjectLoader func(ctx context.Context, userID string) (Subject, error)

// Start opens a session for a sign-in and returns its first token pair.
// The session record holds the hash of its first refresh token: one write.
func (m *Manager) Start(ctx context.Context, g Grant) (*Pair, error) {
	now := m.opts.Now().UTC()
	authTime := now
	if !g.AuthTime.IsZero() && g.AuthTime.Before(now) {
		authTime = g.AuthTime.UTC()
	}
	id := newID()
	if g.Code != "" {
		id = m.codeSession(g.Code)
	}
	s := &Session{
		ID:         id,
		UserID:     g.Subject.UserID,
		ClientID:   g.ClientID,
		AMR:        slices.Clone(g.AMR),
		Scope:      strings.Join(strings.Fields(g.Scope), " "),
		UserAgent:  g.UserAgent,
		CreatedAt:  authTime,
		LastUsedAt: now,
		ExpiresAt:  now.Add(m.opts.RefreshAbsoluteTTL),
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	refresh := m.mintRefresh(s.ID, 0, secret[:])
	s.RefreshHash, s.RefreshGen, s.RefreshExpiresAt = HashToken(refresh), 0, m.idleDeadline(s, now)
	if err := m.store.CreateSession(ctx, s); err != nil {
		return nil, fmt.Errorf("session: create session: %w", err)
	}
	// The cap: every Start trims after its own insert, so once the Starts
	// in flight have finished the user has at most the cap; meanwhile the
	// excess is at most the number of Starts in flight.
	if max := m.opts.MaxSessionsPerUser; max > 0 {
		if _, err := m.store.TrimUserSessions(ctx, s.UserID, s.ID, max-1); err != nil {
			return nil, fmt.Errorf("session: trim sessions: %w", err)
		}
	}
	if g.Code != "" {
		// Remember the redemption until the code would have expired; a
		// replay that claimed the marker first found no session to end,
		// so this one ends its own.
		err := m.store.Claim(ctx, codeUsedKey(g.Code), now.Add(m.opts.CodeTTL))
		if errors.Is(err, ErrAlreadyExists) {
			if derr := m.store.DeleteSession(ctx, s.ID); derr != nil && !errors.Is(derr, ErrNotFound) {
				return nil, fmt.Errorf("session: revoke after code replay: %w", derr)
			}
			return nil, &CodeReplayError{SessionID: s.ID, UserID: s.UserID}
		} else if err != nil {
			return nil, fmt.Errorf("session: remember code: %w", err)
		}
	}
	return m.pair(ctx, s, g.Subject, refresh, "", g.Nonce, now)
}

func (m *Manager) idleDeadline(s *Session, now time.Time) time.Time {
	d := now.Add(m.opts.RefreshIdleTTL)
	if d.After(s.ExpiresAt) {
		return s.ExpiresAt
	}
	return d
}

// pair signs the access token (and, with openid granted to a client, the
// ID token) of session s. narrow is a refresh request's scope, nonce the
// authorization request's (empty on refresh).
func (m *Manager) pair(ctx context.Context, s *Session, sub Subject, refresh, narrow, nonce string, now time.Time) (*Pair, error) {
	scope := narrowScope(grantScope(s.Scope, sub.Permissions), narrow)
	at, err := m.signAccess(ctx, s, sub, scope, now)
	if err != nil {
		return nil, err
	}
	p := &Pair{AccessToken: at, RefreshToken: refresh, ExpiresIn: int64(m.opts.AccessTTL / time.Second), Scope: scope, SessionID: s.ID, UserID: s.UserID}
	if s.ClientID != "" && HasScope(scope, ScopeOpenID) {
		if p.IDToken, err = m.signID(ctx, s, sub, scope, at, nonce, now); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Refresh tokens.
//
// A refresh token is "<sid>.<gen>.<secret>.<tag>": the session it belongs
// to, its generation (0 for the first), 256 bits of secret and a 128-bit
// HMAC tag over the rest under a server secret. The successor of a token
// has generation gen+1 and the secret HMAC(chain key, token): a chain, so
// a retry within the grace window gets the very same successor and no
// token is ever stored in clear. The session record keeps only the hash of
// the current token and its generation, so storage per session stays
// constant however often it is refreshed. A token whose tag verifies was
// issued by us for that session; when its generation is older than the
// current one it has been spent, however many rotations ago, and its
// presentation is a reuse. A token whose tag does not verify is merely
// invalid: knowing a session id (it is the sid of access tokens) is not
// enough to revoke a session.
//
// Tokens from before the chain (43 characters, no dots) are still
// accepted: they are looked up as RefreshToken records, and their
// rotation moves the session onto the chain (generation 1).

// revoke ends a session after a reuse and returns the ReuseError.
func (m *Manager) revoke(ctx context.Context, s *Session) error {
	if err := m.store.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("session: revoke after reuse: %w", err)
	}
	return &ReuseError{SessionID: s.ID, UserID: s.UserID}
}

// Revoke ends the session of a refresh token (RFC 7009 §2.1), spent or
// not, and returns it (nil when there was none). An unknown or invalid
// token is not an error (§2.2). A caller that authenticated as a
// client (clientID non-empty) may revoke only that client's tokens; for
// another client's it gets ErrClientMismatch. Without client authentication
// possession of the token is the proof, except for the tokens of a client
// for which confidential reports true: those need that client's
// authentication (§2.1), else ErrClientMismatch. confidential may be nil.
func (m *Manager) Revoke(ctx context.Context, token, clientID string, confidential func(clientID string) bool) (*Session, error) {
	p, err := m.resolve(ctx, token)
	if errors.Is(err, ErrInvalidToken) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	s := p.s
	if clientID != "" && subtle.ConstantTimeCompare([]byte(s.ClientID), []byte(clientID)) != 1 {
		return nil, ErrClientMismatch
	}
	if clientID == "" && s.ClientID != "" && confidential != nil && confidential(s.ClientID) {
		return nil, ErrClientMismatch
	}
	if err := m.store.DeleteSession(ctx, s.ID); errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return s, nil
}

// Authenticate verifies an access token and that its session is still live
// (so logout and revocation take effect at once on our own endpoints).
func (m *Manager) Authenticate(ctx context.Context, token string) (*AccessClaims, *Session, error) {
	return m.AuthenticateWith(ctx, token, func(ctx context.Context, c *AccessClaims) (*Session, error) {
		return m.store.GetSession(ctx, c.SessionID)
	})
}

// AuthenticateWith is Authenticate with the session read by read (given
// the verified claims): the server reads the session together with its
// user in one query where the stores share a database. read returns
// ErrNotFound for a session that ended or expired.
func (m *Manager) AuthenticateWith(ctx context.Context, token string, read func(context.Context, *AccessClaims) (*Session, error)) (*AccessClaims, *Session, error) {
	claims, err := m.ParseAccess(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if claims.IsClientToken() {
		return nil, nil, fmt.Errorf("%w: a client's own token names no user", ErrInvalidToken)
	}
	s, err := read(ctx, claims)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: session ended", ErrInvalidToken)
	} else if err != nil {
		return nil, nil, err
	}
	if s.UserID != claims.Subject {
		return nil, nil, fmt.Errorf("%w: session of another user", ErrInvalidToken)
	}
	return claims, s, nil
}

// List returns the user's live sessions, newest first.
func (m *Manager) List(ctx context.Context, userID string) ([]*Session, error) {
	return m.store.ListSessions(ctx, userID, m.opts.Now())
}

// End ends one of the user's sessions; ErrNotFound when the user has no
// such session.
func (m *Manager) End(ctx context.Context, userID, sessionID string) error {
	s, err := m.store.GetSession(ctx, sessionID)
	if err != nil {
		return err
	}
	if s.UserID != userID {
		return ErrNotFound
	}
	return m.store.DeleteSession(ctx, sessionID)
}

// EndAll ends every session of the user except exceptID (may be empty).
func (m *Manager) EndAll(ctx context.Context, userID, exceptID string) (int, error) {
	return m.store.DeleteUserSessions(ctx, userID, exceptID)
}

// Sweep deletes expired records.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	return m.store.DeleteExpired(ctx, m.opts.Now())
}

package session

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Callers compare with errors.Is; never mutate them.
var (
	// ErrNotFound: no such record, or it has expired (an expired record is
	// reported exactly like a missing one).
	ErrNotFound = errors.New("session: not found")
	// ErrAlreadyExists: a record with this key exists (unique-key claim lost).
	ErrAlreadyExists = errors.New("session: already exists")
	// ErrInvalidToken: a refresh token, code or access token is unknown,
	// expired, malformed or belongs to an ended session.
	ErrInvalidToken = errors.New("session: invalid token")
	// ErrRefreshReused: a spent refresh token was presented again outside
	// the grace window; its whole session has been revoked.
	ErrRefreshReused = errors.New("session: refresh token reused")
	// ErrClientMismatch: a refresh token or code was presented by another client.
	ErrClientMismatch = errors.New("session: client mismatch")
	// ErrUnavailable: the database cannot serve now (unreachable, overdue,
	// locked); retry later. The server's store wrapper marks such errors of
	// either store with it (HTTP 503).
	ErrUnavailable = errors.New("session: database unavailable")
)

// ReuseError is the ErrRefreshReused of one session: which family was
// revoked, for the audit log.
type ReuseError struct {
	SessionID, UserID string
}

func (e *ReuseError) Error() string        { return ErrRefreshReused.Error() }
func (e *ReuseError) Is(target error) bool { return target == ErrRefreshReused }

// Session is one sign-in: the family of refresh tokens descended from it.
// Its ID is the `sid` claim of every access token issued in it.
type Session struct {
	ID        string
	UserID    string
	ClientID  string   // empty when no client started the sign-in
	AMR       []string // e.g. ["pwd"], ["google"], ["oidc:corp"]
	Scope     string   // the requested scope (OIDC scopes and permissions); each token's scope derives from it (grantScope)
	UserAgent string   // coarse, e.g. "Firefox on Linux"
	// CreatedAt is when the user authenticated for this session: the
	// sign-in itself, which for a session started by an authorization code
	// may be before the code was redeemed (Grant.AuthTime). It is the
	// access tokens' auth_time.
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // absolute lifetime

	// The session's current refresh token (manager.go: tokens of one
	// session form an HMAC chain and name their session and generation).
	// RefreshHash is the SHA-256 of the current token, nil for a session
	// from before the chain whose tokens are RefreshToken records;
	// RefreshGen its generation; RotatedAt when it replaced its parent
	// (zero for the first); RefreshExpiresAt its idle deadline.
	RefreshHash      []byte
	RefreshGen       int64
	RotatedAt        time.Time
	RefreshExpiresAt time.Time
}

// Rotation replaces a session's current refresh token by its successor.
type Rotation struct {
	SessionID     string
	FromGen       int64  // the generation being spent
	FromHash      []byte // its hash; nil for a session from before the chain
	ToHash        []byte // the successor's hash, generation FromGen+1
	At            time.Time
	IdleExpiresAt time.Time // the successor's idle deadline
}

// Advance is the common case of a rotation, checked and done in one write
// (Store.AdvanceRefresh): the presented token is the session's current one
// (FromHash, never nil), the session was started for ClientID (empty for
// none) and the token is not idle past At. IdleExpiresAt is the
// successor's idle deadline before the store caps it at the session's
// ExpiresAt, which the caller has not read.
type Advance struct {
	Rotation
	ClientID string
}

// RefreshToken is the stored form of a refresh token from before the
// chain (see Session.RefreshHash): only its SHA-256 hash. New sessions
// store none; records of older ones are read until they expire.
type RefreshToken struct {
	Hash       []byte // SHA-256 of the opaque token; the primary key
	SessionID  string
	UserID     string
	ParentHash []byte // hash of the token it replaced; nil for the first
	CreatedAt  time.Time
	ExpiresAt  time.Time // idle deadline, never after the session's ExpiresAt
}

// AuthCode is a one-time authorization code (RFC 6749 §4.1.2), stored hashed.
type AuthCode struct {
	Hash                []byte // SHA-256 of the code; the primary key
	ClientID            string
	RedirectURI         string
	CodeChallenge       string // RFC 7636; empty when the client sent none
	CodeChallengeMethod string // "S256" when CodeChallenge is set
	UserID              string
	AMR                 []string
	Payload             []byte // opaque to the store (e.g. an identity to link on redemption)
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

// SigningKey is a stored signing key. The private key is sealed (encrypted
// and authenticated) with the key-encryption key before it reaches the store.
type SigningKey struct {
	ID        string // the JWS `kid`
	Algorithm string // "ES256", "RS256" or "EdDSA"
	Sealed    []byte // sealed PKCS #8 private key
	CreatedAt time.Time
	ActiveAt  time.Time // signs from this instant; published in the JWKS from CreatedAt
	RetiredAt time.Time // zero while in service; stops signing from this instant
	ExpiresAt time.Time // zero while in service; leaves the JWKS after this instant
}

// Store persists sessions, refresh tokens, codes, keys and secrets.
//
// Atomicity that callers rely on (and that must hold on MongoDB without
// multi-document transactions): Create* and Claim are unique-key inserts
// (exactly one of N concurrent inserts of the same key succeeds; the others
// get ErrAlreadyExists); ConsumeCode is a single delete (exactly one of N
// concurrent consumers gets the code). Reads never return expired records.
// Implementations are safe for concurrent use.
type Store interface {
	// RateStore: every backend keeps the rate-limit counters, so that
	// every instance on one database enforces one limit.
	RateStore

	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns ErrNotFound for unknown or expired sessions.
	GetSession(ctx context.Context, id string) (*Session, error)
	// TouchSession sets LastUsedAt.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// ListSessions returns the user's live sessions, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// DeleteSession ends a session and deletes its refresh tokens.
	// ErrNotFound when it does not exist.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of the user except exceptID
	// (which may be empty) and returns how many it ended.
	DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error)
	// TrimUserSessions ends the oldest of the user's sessions other than
	// keepID (by CreatedAt, then ID) until at most max of them remain, and
	// returns how many it ended. Concurrent calls may both end one session
	// (one of them then counts it); a session created meanwhile may survive
	// until the next call.
	TrimUserSessions(ctx context.Context, userID, keepID string, max int) (int, error)

	// RotateRefresh is the atomic step of a rotation: it moves the session
	// from generation r.FromGen (with hash r.FromHash) to r.FromGen+1 with
	// r.ToHash, and sets LastUsedAt, RotatedAt and RefreshExpiresAt to the
	// rotation's times, in one write. Of concurrent rotations from one
	// generation exactly one succeeds; the others get ErrAlreadyExists
	// (also when the session has moved on already). ErrNotFound when the
	// session does not exist or has expired.
	RotateRefresh(ctx context.Context, r *Rotation) error
	// AdvanceRefresh is the common path of a refresh in one atomic write
	// and no read: when the session is live, at generation a.FromGen with
	// hash a.FromHash, started for a.ClientID, and its RefreshExpiresAt
	// (when set) not before a.At, it moves the session on as RotateRefresh
	// does, with RefreshExpiresAt the earlier of a.IdleExpiresAt and the
	// session's ExpiresAt, and returns the session as written. When any
	// condition fails it changes nothing and returns ErrNotFound: the
	// caller then reads the session and decides (a spent token, another
	// client, an ended session, a lost race). Of concurrent calls of it
	// and RotateRefresh from one generation at most one succeeds.
	AdvanceRefresh(ctx context.Context, a *Advance) (*Session, error)
	// SessionRecords counts the records (rows, documents) the store keeps
	// for one session, the session's own included: constant across
	// rotations. For tests and benchmarks.
	SessionRecords(ctx context.Context, id string) (int, error)

	// CreateRefresh inserts a refresh token record; ErrAlreadyExists when
	// its hash is taken. Only tokens from before the chain use records.
	CreateRefresh(ctx context.Context, t *RefreshToken) error
	// GetRefresh returns ErrNotFound for unknown or expired tokens.
	GetRefresh(ctx context.Context, hash []byte) (*RefreshToken, error)

	// CreateCode stores a one-time code; ErrAlreadyExists on a hash collision.
	CreateCode(ctx context.Context, c *AuthCode) error
	// ConsumeCode deletes and returns the code. Of concurrent consumers
	// exactly one succeeds; the rest, and any later call, get ErrNotFound.
	// An expired code is ErrNotFound.
	ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*AuthCode, error)

	// Claim records a single-use marker (e.g. a browser flow id) until
	// expires; ErrAlreadyExists when it was claimed before.
	Claim(ctx context.Context, key string, expires time.Time) error

	// CreateKey inserts a signing key; ErrAlreadyExists on a duplicate ID.
	CreateKey(ctx context.Context, k *SigningKey) error
	// ListKeys returns every stored key ordered by CreatedAt, oldest first.
	ListKeys(ctx context.Context) ([]*SigningKey, error)
	// RetireKey sets RetiredAt and ExpiresAt of the key.
	RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error
	// DeleteKey removes a key.
	DeleteKey(ctx context.Context, id string) error

	// GetOrCreateSecret returns the secret stored under name, first storing
	// value when there is none. Concurrent callers all get the same bytes.
	GetOrCreateSecret(ctx context.Context, name string, value []byte) ([]byte, error)

	// DeleteExpired removes sessions, refresh tokens, codes, claims and keys
	// whose expiry is before now, returning how many records it removed.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}

// DeleteEach ends every session of ids with del (a store's DeleteSession)
// and returns how many it ended; one that is already gone (ErrNotFound) is
// skipped. The stores' TrimUserSessions end the sessions they chose with it.
func DeleteEach(ctx context.Context, del func(ctx context.Context, id string) error, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		switch err := del(ctx, id); {
		case err == nil:
			n++
		case !errors.Is(err, ErrNotFound):
			return n, err
		}
	}
	return n, nil
}

package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

// Collection names; callers may share the database with other components.
const (
	collSessions = "sessions"
	collRefresh  = "refresh_tokens"
	collCodes    = "auth_codes"
	collClaims   = "claims"
	collKeys     = "signing_keys"
	collSecrets  = "secrets"
	// collRotations holds, per session, the marker of its last rotation:
	// the unique insert that makes a rotation atomic on FerretDB too.
	collRotations = "refresh_rotations"
)

// Store is the MongoDB session.Store. It is safe for concurrent use.
type Store struct {
	db                                                         *mongo.Database
	sessions, refresh, codes, claims, keys, secrets, rotations *mongo.Collection
}

var _ session.Store = (*Store)(nil)

// New returns a Store on db, creating its indexes (an existing identical
// index is left as is, so every start-up may call it).
func New(ctx context.Context, db *mongo.Database) (*Store, error) {
	s := &Store{
		db:        db,
		sessions:  db.Collection(collSessions),
		refresh:   db.Collection(collRefresh),
		codes:     db.Collection(collCodes),
		claims:    db.Collection(collClaims),
		keys:      db.Collection(collKeys),
		secrets:   db.Collection(collSecrets),
		rotations: db.Collection(collRotations),
	}
	// Non-unique helpers for real MongoDB: the uniqueness that atomicity
	// relies on is always _id's. The expires_at indexes serve the sweeper.
	expires := mongo.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}, Options: options.Index().SetName("expires_at")}
	for _, ix := range []struct {
		coll   *mongo.Collection
		models []mongo.IndexModel
	}{
		{s.sessions, []mongo.IndexModel{
			// ListSessions: one user's sessions, newest first.
			{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: -1}}, Options: options.Index().SetName("user_id_created_at")},
			expires,
		}},
		{s.refresh, []mongo.IndexModel{
			// DeleteSession and DeleteUserSessions: a session's tokens.
			{Keys: bson.D{{Key: "session_id", Value: 1}}, Options: options.Index().SetName("session_id")},
			expires,
		}},
		{s.rotations, []mongo.IndexModel{
			{Keys: bson.D{{Key: "session_id", Value: 1}}, Options: options.Index().SetName("session_id")},
			expires,
		}},
		{s.codes, []mongo.IndexModel{expires}},
		{s.claims, []mongo.IndexModel{expires}},
		{db.Collection(collRateHits), []mongo.IndexModel{expires}},
	} {
		// One index per command: FerretDB v1.24.2 panics when one
		// createIndexes names two or more indexes that already exist.
		for _, m := range ix.models {
			if _, err := ix.coll.Indexes().CreateOne(ctx, m); err != nil {
				return nil, fmt.Errorf("mongostore: create indexes on %s: %w", ix.coll.Name(), err)
			}
		}
	}
	return s, nil
}

// --- documents ---

// Times are stored as BSON dates (milliseconds, UTC). An optional time is
// omitted when zero, so that it never matches a date comparison (a key in
// service has no expires_at and is never swept).

type sessionDoc struct {
	ID         string    `bson:"_id"`
	UserID     string    `bson:"user_id"`
	ClientID   string    `bson:"client_id,omitempty"`
	AMR        []string  `bson:"amr,omitempty"`
	Scope      string    `bson:"scope,omitempty"`
	UserAgent  string    `bson:"user_agent,omitempty"`
	CreatedAt  time.Time `bson:"created_at"`
	LastUsedAt time.Time `bson:"last_used_at,omitempty"`
	ExpiresAt  time.Time `bson:"expires_at"`

	RefreshHash      []byte    `bson:"refresh_hash,omitempty"`
	RefreshGen       int64     `bson:"refresh_gen,omitempty"`
	RotatedAt        time.Time `bson:"rotated_at,omitempty"`
	RefreshExpiresAt time.Time `bson:"refresh_expires_at,omitempty"`
}

type refreshDoc struct {
	Hash       []byte    `bson:"_id"`
	SessionID  string    `bson:"session_id"`
	UserID     string    `bson:"user_id"`
	ParentHash []byte    `bson:"parent_hash,omitempty"`
	CreatedAt  time.Time `bson:"created_at"`
	ExpiresAt  time.Time `bson:"expires_at"`
}

type codeDoc struct {
	Hash                []byte    `bson:"_id"`
	ClientID            string    `bson:"client_id"`
	RedirectURI         string    `bson:"redirect_uri"`
	CodeChallenge       string    `bson:"code_challenge,omitempty"`
	CodeChallengeMethod string    `bson:"code_challenge_method,omitempty"`
	UserID              string    `bson:"user_id"`
	AMR                 []string  `bson:"amr,omitempty"`
	Payload             []byte    `bson:"payload,omitempty"`
	CreatedAt           time.Time `bson:"created_at"`
	ExpiresAt           time.Time `bson:"expires_at"`
}

type claimDoc struct {
	Key       string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expires_at"`
}

type keyDoc struct {
	ID        string    `bson:"_id"`
	Algorithm string    `bson:"algorithm"`
	Sealed    []byte    `bson:"sealed"`
	CreatedAt time.Time `bson:"created_at"`
	ActiveAt  time.Time `bson:"active_at,omitempty"`
	RetiredAt time.Time `bson:"retired_at,omitempty"`
	ExpiresAt time.Time `bson:"expires_at,omitempty"`
}

type secretDoc struct {
	Name  string `bson:"_id"`
	Value []byte `bson:"value"`
}

// utc normalises a decoded time; the zero time stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// expired reports whether a record whose expiry is at has expired at now,
// with the same rule as DeleteExpired (expiry before now).
func expired(at, now time.Time) bool { return at.Before(now) }

func (d *sessionDoc) session() *session.Session {
	return &session.Session{
		ID: d.ID, UserID: d.UserID, ClientID: d.ClientID, AMR: d.AMR, Scope: d.Scope, UserAgent: d.UserAgent,
		CreatedAt: utc(d.CreatedAt), LastUsedAt: utc(d.LastUsedAt), ExpiresAt: utc(d.ExpiresAt),
		RefreshHash: d.RefreshHash, RefreshGen: d.RefreshGen, RotatedAt: utc(d.RotatedAt), RefreshExpiresAt: utc(capAt(d.RefreshExpiresAt, d.ExpiresAt)),
	}
}

// capAt is t, or limit when t is later (AdvanceRefresh stores the idle
// deadline uncapped); the zero time stays zero.
func capAt(t, limit time.Time) time.Time {
	if t.After(limit) {
		return limit
	}
	return t
}

func (d *refreshDoc) token() *session.RefreshToken {
	return &session.RefreshToken{
		Hash: d.Hash, SessionID: d.SessionID, UserID: d.UserID, ParentHash: d.ParentHash,
		CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt),
	}
}

func (d *codeDoc) code() *session.AuthCode {
	return &session.AuthCode{
		Hash: d.Hash, ClientID: d.ClientID, RedirectURI: d.RedirectURI,
		CodeChallenge: d.CodeChallenge, CodeChallengeMethod: d.CodeChallengeMethod,
		UserID: d.UserID, AMR: d.AMR, Payload: d.Payload,
		CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt),
	}
}

func (d *keyDoc) key() *session.SigningKey {
	return &session.SigningKey{
		ID: d.ID, Algorithm: d.Algorithm, Sealed: d.Sealed,
		CreatedAt: utc(d.CreatedAt), ActiveAt: utc(d.ActiveAt), RetiredAt: utc(d.RetiredAt), ExpiresAt: utc(d.ExpiresAt),
	}
}

func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }

// findLive reads the document with this _id; one whose expiry (expires)
// has passed is reported like a missing one. op names the step in errors.
func findLive[D any](ctx context.Context, coll *mongo.Collection, op string, id any, expires func(*D) time.Time) (*D, error) {
	var d D
	if err := coll.FindOne(ctx, byID(id)).Decode(&d); err != nil {
		return nil, wrap(op, err)
	}
	if expired(expires(&d), time.Now()) {
		return nil, session.ErrNotFound
	}
	return &d, nil
}

// --- sessions ---

func (s *Store) CreateSession(ctx context.Context, x *session.Session) error {
	_, err := s.sessions.InsertOne(ctx, &sessionDoc{
		ID: x.ID, UserID: x.UserID, ClientID: x.ClientID, AMR: x.AMR, Scope: x.Scope, UserAgent: x.UserAgent,
		CreatedAt: x.CreatedAt, LastUsedAt: x.LastUsedAt, ExpiresAt: x.ExpiresAt,
		RefreshHash: x.RefreshHash, RefreshGen: x.RefreshGen, RotatedAt: x.RotatedAt, RefreshExpiresAt: x.RefreshExpiresAt,
	})
	return wrap("create session", err)
}

// SessionRecords counts the session's document, its refresh token
// documents and its rotation markers.
func (s *Store) SessionRecords(ctx context.Context, id string) (int, error) {
	total := 0
	for _, c := range []struct {
		coll   *mongo.Collection
		filter bson.D
	}{
		{s.sessions, byID(id)},
		{s.refresh, bson.D{{Key: "session_id", Value: id}}},
		{s.rotations, bson.D{{Key: "session_id", Value: id}}},
	} {
		n, err := c.coll.CountDocuments(ctx, c.filter)
		if err != nil {
			return 0, wrap("count session records", err)
		}
		total += int(n)
	}
	return total, nil
}

func (s *Store) GetSession(ctx context.Context, id string) (*session.Session, error) {
	d, err := findLive(ctx, s.sessions, "get session", id, func(d *sessionDoc) time.Time { return d.ExpiresAt })
	if err != nil {
		return nil, err
	}
	return d.session(), nil
}

func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.sessions.UpdateOne(ctx, byID(id), bson.D{{Key: "$set", Value: bson.D{{Key: "last_used_at", Value: at}}}})
	if err != nil {
		return wrap("touch session", err)
	}
	if res.MatchedCount == 0 {
		return session.ErrNotFound
	}
	return nil
}

func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]*session.Session, error) {
	docs, err := mongodb.FindAll[sessionDoc](ctx, s.sessions, bson.D{{Key: "user_id", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	var list []*session.Session
	for i := range docs {
		if !expired(docs[i].ExpiresAt, now) {
			list = append(list, docs[i].session())
		}
	}
	return list, nil
}

// DeleteSession deletes the session first (that alone ends it: its tokens
// are useless without it), then its refresh tokens, even when the session
// was already gone.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.sessions.DeleteOne(ctx, byID(id))
	if err != nil {
		return wrap("delete session", err)
	}
	if _, err := s.refresh.DeleteMany(ctx, bson.D{{Key: "session_id", Value: id}}); err != nil {
		return wrap("delete session tokens", err)
	}
	if _, err := s.rotations.DeleteMany(ctx, bson.D{{Key: "session_id", Value: id}}); err != nil {
		return wrap("delete session rotations", err)
	}
	if res.DeletedCount == 0 {
		return session.ErrNotFound
	}
	return nil
}

// DeleteUserSessions reads the user's session ids, then deletes those
// sessions and their tokens by id. A session created meanwhile survives, as
// if it had started after the call. Only sessions that were still live are
// counted: an expired one had already ended.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	docs, err := mongodb.FindAll[sessionDoc](ctx, s.sessions, bson.D{{Key: "user_id", Value: userID}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "expires_at", Value: 1}}))
	if err != nil {
		return 0, wrap("delete user sessions", err)
	}
	now := time.Now()
	var ids []string
	live := 0
	for _, d := range docs {
		if d.ID == exceptID {
			continue
		}
		ids = append(ids, d.ID)
		if !expired(d.ExpiresAt, now) {
			live++
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := s.sessions.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return 0, wrap("delete user sessions", err)
	}
	if _, err := s.refresh.DeleteMany(ctx, bson.D{{Key: "session_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return 0, wrap("delete user session tokens", err)
	}
	if _, err := s.rotations.DeleteMany(ctx, bson.D{{Key: "session_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return 0, wrap("delete user session rotations", err)
	}
	// A concurrent DeleteSession may have ended some of them first.
	return min(live, int(res.DeletedCount)), nil
}

// --- refresh tokens ---

func (s *Store) CreateRefresh(ctx context.Context, t *session.RefreshToken) error {
	_, err := s.refresh.InsertOne(ctx, &refreshDoc{
		Hash: t.Hash, SessionID: t.SessionID, UserID: t.UserID, ParentHash: t.ParentHash,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
	})
	return wrap("create refresh token", err)
}

func (s *Store) GetRefresh(ctx context.Context, hash []byte) (*session.RefreshToken, error) {
	d, err := findLive(ctx, s.refresh, "get refresh token", hash, func(d *refreshDoc) time.Time { return d.ExpiresAt })
	if err != nil {
		return nil, err
	}
	return d.token(), nil
}

// --- authorization codes ---

// --- claims ---

// --- signing keys ---

// --- secrets ---

// --- maintenance ---

// DeleteExpired removes, per collection, documents whose expires_at is
// before now. A signing key in service has no expires_at field, which a
// $lt comparison never matches.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	filter := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}}
	keyFilter := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$exists", Value: true}, {Key: "$lt", Value: now}}}}
	total := 0
	for _, c := range []struct {
		coll   *mongo.Collection
		filter bson.D
	}{
		{s.refresh, filter},
		{s.rotations, filter},
		{s.sessions, filter},
		{s.codes, filter},
		{s.claims, filter},
		{s.keys, keyFilter},
		{s.db.Collection(collRateHits), filter},
	} {
		res, err := c.coll.DeleteMany(ctx, c.filter)
		if err != nil {
			return total, wrap("delete expired "+c.coll.Name(), err)
		}
		total += int(res.DeletedCount)
	}
	return total, nil
}

func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err())
}

// wrap maps driver errors to the session sentinels and prefixes the rest.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return session.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return session.ErrAlreadyExists
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

package mongostore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/session"
)

// Rotations of a session's refresh token. On FerretDB only a unique
// insert (and deleteOne with its count) is atomic, so the step that makes
// a rotation exactly-once is the insert of a marker naming the session and
// the generation it moves to; the update of the session that follows is
// done by the marker's owner alone, and its filter repeats the state it
// moves from, so that a rotation from a generation long gone (whose marker
// has been removed) cannot move the session back.

// rotationDoc marks that a session's chain reached a generation.
type rotationDoc struct {
	ID        string    `bson:"_id"` // session id "/" generation
	SessionID string    `bson:"session_id"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func rotationID(sessionID string, gen int64) string {
	return sessionID + "/" + strconv.FormatInt(gen, 10)
}

// claimRotation inserts the marker of r's generation (ErrAlreadyExists
// when another rotation has it) and returns its id.
func (s *Store) claimRotation(ctx context.Context, r *session.Rotation, op string) (string, error) {
	id := rotationID(r.SessionID, r.FromGen+1)
	_, err := s.rotations.InsertOne(ctx, &rotationDoc{ID: id, SessionID: r.SessionID, ExpiresAt: r.IdleExpiresAt})
	return id, wrap(op, err)
}

// rotated ends a rotation: the marker before it goes (best effort: a
// marker left behind goes with its session or its expiry), so a session
// keeps one marker however often it is refreshed.
func (s *Store) rotated(ctx context.Context, r *session.Rotation) {
	_, _ = s.rotations.DeleteOne(ctx, byID(rotationID(r.SessionID, r.FromGen)))
}

// RotateRefresh claims the generation, then moves the session on. When the
// session matches nothing the marker goes again, and a count tells an
// ended session (ErrNotFound) from one that moved on (ErrAlreadyExists).
func (s *Store) RotateRefresh(ctx context.Context, r *session.Rotation) error {
	const op = "rotate refresh token"
	id, err := s.claimRotation(ctx, r, op)
	if err != nil {
		return err
	}
	res, err := s.sessions.UpdateOne(ctx, chainFilter(r), rotationUpdate(r))
	if err != nil {
		return wrap(op, err)
	}
	if res.MatchedCount == 0 {
		_, _ = s.rotations.DeleteOne(ctx, byID(id))
		n, err := s.sessions.CountDocuments(ctx, liveFilter(r.SessionID))
		if err != nil {
			return wrap(op, err)
		}
		if n == 0 {
			return session.ErrNotFound
		}
		return session.ErrAlreadyExists
	}
	s.rotated(ctx, r)
	return nil
}

// AdvanceRefresh claims the generation like RotateRefresh, then moves the
// session on with one findAndModify whose filter holds every check; no
// read comes first. When the filter matches nothing, or another rotation
// holds the marker, it changes nothing (the marker goes again) and the
// caller reads and decides. The idle deadline is stored uncapped and
// capped at the session's expiry when read (sessionDoc.session); the
// marker keeps it, so the marker of a session that expires may stay until
// then.
func (s *Store) AdvanceRefresh(ctx context.Context, a *session.Advance) (*session.Session, error) {
	const op = "advance refresh token"
	id, err := s.claimRotation(ctx, &a.Rotation, op)
	if err != nil {
		return nil, toNotFound(err)
	}
	filter := append(chainFilter(&a.Rotation),
		omittable("client_id", a.ClientID, a.ClientID == ""),
		bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "refresh_expires_at", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "refresh_expires_at", Value: bson.D{{Key: "$gte", Value: a.At}}}},
		}})
	var d sessionDoc
	err = s.sessions.FindOneAndUpdate(ctx, filter, rotationUpdate(&a.Rotation),
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		_, _ = s.rotations.DeleteOne(ctx, byID(id))
		return nil, wrap(op, err)
	}
	s.rotated(ctx, &a.Rotation)
	return d.session(), nil
}

// toNotFound turns a lost claim into ErrNotFound (AdvanceRefresh decides
// nothing; its caller reads).
func toNotFound(err error) error {
	if errors.Is(err, session.ErrAlreadyExists) {
		return session.ErrNotFound
	}
	return err
}

// liveFilter matches the session while it has not expired.
func liveFilter(id string) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "expires_at", Value: bson.D{{Key: "$gte", Value: time.Now()}}}}
}

// chainFilter matches the live session at r's generation and hash.
func chainFilter(r *session.Rotation) bson.D {
	return append(liveFilter(r.SessionID),
		// Omitted when zero (omitempty): generation 0, no hash (a session
		// from before the chain), no client.
		omittable("refresh_gen", r.FromGen, r.FromGen == 0),
		omittable("refresh_hash", r.FromHash, len(r.FromHash) == 0))
}

// omittable is the filter element for a field stored with omitempty:
// absent when zero, else equal to v.
func omittable(key string, v any, zero bool) bson.E {
	if zero {
		return bson.E{Key: key, Value: bson.D{{Key: "$exists", Value: false}}}
	}
	return bson.E{Key: key, Value: v}
}

// rotationUpdate is the update of a rotation to r.FromGen+1.
func rotationUpdate(r *session.Rotation) bson.D {
	return bson.D{{Key: "$set", Value: bson.D{
		{Key: "refresh_hash", Value: r.ToHash},
		{Key: "refresh_gen", Value: r.FromGen + 1},
		{Key: "rotated_at", Value: r.At},
		{Key: "last_used_at", Value: r.At},
		{Key: "refresh_expires_at", Value: r.IdleExpiresAt},
	}}}
}

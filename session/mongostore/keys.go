package mongostore

import (
	"bytes"
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

func (s *Store) CreateCode(ctx context.Context, c *session.AuthCode) error {
	_, err := s.codes.InsertOne(ctx, &codeDoc{
		Hash: c.Hash, ClientID: c.ClientID, RedirectURI: c.RedirectURI,
		CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod,
		UserID: c.UserID, AMR: c.AMR, Payload: c.Payload, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt,
	})
	return wrap("create code", err)
}

// ConsumeCode reads the code, then deletes it by _id: of concurrent callers
// only the one whose delete removed the document wins. (findOneAndDelete
// would be one round trip, but it is not atomic on FerretDB v1.) An expired
// code is deleted as well and reported as not found.
func (s *Store) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*session.AuthCode, error) {
	var d codeDoc
	if err := s.codes.FindOne(ctx, byID(hash)).Decode(&d); err != nil {
		return nil, wrap("consume code", err)
	}
	res, err := s.codes.DeleteOne(ctx, byID(hash))
	if err != nil {
		return nil, wrap("consume code", err)
	}
	if res.DeletedCount != 1 || expired(d.ExpiresAt, now) {
		return nil, session.ErrNotFound
	}
	return d.code(), nil
}

// Claim is a plain insert: a key claimed before is refused even when its
// claim has expired but not yet been swept, which is the safe answer for a
// replayed flow id (and replacing an expired claim atomically would need a
// conditional update, which FerretDB v1 does not do atomically).
func (s *Store) Claim(ctx context.Context, key string, expires time.Time) error {
	_, err := s.claims.InsertOne(ctx, &claimDoc{Key: key, ExpiresAt: expires})
	return wrap("claim", err)
}

func (s *Store) CreateKey(ctx context.Context, k *session.SigningKey) error {
	_, err := s.keys.InsertOne(ctx, &keyDoc{
		ID: k.ID, Algorithm: k.Algorithm, Sealed: k.Sealed,
		CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt,
	})
	return wrap("create key", err)
}

// ListKeys leaves out keys whose ExpiresAt has passed: they have left the
// JWKS even if the sweeper has not removed them yet.
func (s *Store) ListKeys(ctx context.Context) ([]*session.SigningKey, error) {
	docs, err := mongodb.FindAll[keyDoc](ctx, s.keys, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("list keys", err)
	}
	now := time.Now()
	var keys []*session.SigningKey
	for i := range docs {
		if docs[i].ExpiresAt.IsZero() || !expired(docs[i].ExpiresAt, now) {
			keys = append(keys, docs[i].key())
		}
	}
	return keys, nil
}

// RetireKey sets both times; a zero time removes the field, keeping the
// "omitted when zero" rule of keyDoc.
func (s *Store) RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	set, unset := bson.D{}, bson.D{}
	for _, f := range []struct {
		name string
		at   time.Time
	}{{"retired_at", retiredAt}, {"expires_at", expiresAt}} {
		if f.at.IsZero() {
			unset = append(unset, bson.E{Key: f.name, Value: ""})
		} else {
			set = append(set, bson.E{Key: f.name, Value: f.at})
		}
	}
	update := bson.D{}
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	res, err := s.keys.UpdateOne(ctx, byID(id), update)
	if err != nil {
		return wrap("retire key", err)
	}
	if res.MatchedCount == 0 {
		return session.ErrNotFound
	}
	return nil
}

func (s *Store) DeleteKey(ctx context.Context, id string) error {
	res, err := s.keys.DeleteOne(ctx, byID(id))
	if err != nil {
		return wrap("delete key", err)
	}
	if res.DeletedCount == 0 {
		return session.ErrNotFound
	}
	return nil
}

// GetOrCreateSecret inserts first: the unique _id makes the first writer
// win; every loser reads the winner's bytes.
func (s *Store) GetOrCreateSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	_, err := s.secrets.InsertOne(ctx, &secretDoc{Name: name, Value: value})
	if err == nil {
		return bytes.Clone(value), nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return nil, wrap("create secret", err)
	}
	var d secretDoc
	if err := s.secrets.FindOne(ctx, byID(name)).Decode(&d); err != nil {
		return nil, wrap("get secret", err)
	}
	return d.Value, nil
}

package mongostore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/unilogin/unilogin/session"
)

// collRateHits holds one document per rate-limited event.
const collRateHits = "rate_hits"

var _ session.RateStore = (*Store)(nil)

// rateHitDoc is one event. Its _id is "<key hash>:<window ms>:<window
// start ms>:<random>", so the events of one key and window are exactly the
// _ids in the string range [prefix, prefix with its final ':' replaced by
// ';'), which the _id index answers on MongoDB without another index.
type rateHitDoc struct {
	ID        string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expires_at"` // the window's end, for DeleteExpired
}

// Hit inserts one document and counts the window's documents. A counter
// kept with $inc or findOneAndUpdate would be one round trip, but neither
// is atomic under concurrent clients on FerretDB v1, whereas an insert is
// atomic on every server: no hit is ever lost. Two concurrent Hits may both
// count each other's event, which can only make a limit stricter.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	prefix, _, end := ratePrefix(key, window, now)
	var r [16]byte
	_, _ = rand.Read(r[:])
	if _, err := s.db.Collection(collRateHits).InsertOne(ctx, &rateHitDoc{ID: prefix + hex.EncodeToString(r[:]), ExpiresAt: end}); err != nil {
		return 0, time.Time{}, wrap("rate hit", err)
	}
	return s.countHits(ctx, prefix, end)
}

// Peek counts the window's documents.
func (s *Store) Peek(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	prefix, _, end := ratePrefix(key, window, now)
	return s.countHits(ctx, prefix, end)
}

func (s *Store) countHits(ctx context.Context, prefix string, end time.Time) (int64, time.Time, error) {
	upper := prefix[:len(prefix)-1] + ";" // ';' follows ':'
	n, err := s.db.Collection(collRateHits).CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{
		{Key: "$gte", Value: prefix}, {Key: "$lt", Value: upper},
	}}})
	if err != nil {
		return 0, time.Time{}, wrap("rate count", err)
	}
	return n, end, nil
}

// ratePrefix returns the _id prefix of key's events in the window of now.
// The key is hashed: any caller string fits, and none of it is stored.
func ratePrefix(key string, window time.Duration, now time.Time) (prefix string, start, end time.Time) {
	start, end = session.RateWindow(now, window)
	h := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s:%d:%d:", hex.EncodeToString(h[:16]), max(window.Milliseconds(), 1), start.UnixMilli()), start, end
}

package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

// TrimUserSessions reads the ids of the user's sessions beyond the newest
// max (other than keepID), then ends each with DeleteSession (a deleteOne
// by _id, atomic on FerretDB too: of concurrent trims one ends a given
// session).
func (s *Store) TrimUserSessions(ctx context.Context, userID, keepID string, max int) (int, error) {
	if max < 0 {
		max = 0
	}
	docs, err := mongodb.FindAll[sessionDoc](ctx, s.sessions,
		bson.D{{Key: "user_id", Value: userID}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: keepID}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "created_at", Value: 1}}).
			SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetSkip(int64(max)))
	if err != nil {
		return 0, wrap("trim user sessions", err)
	}
	return session.DeleteEach(ctx, s.DeleteSession, mongodb.Convert(docs, func(d *sessionDoc) string { return d.ID }))
}

package mongostore

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

// consentsCollection holds one document per (user, client, scope) granted:
// a grant is a set of unique-key inserts, atomic on every server (FerretDB
// included), and concurrent grants add up without read-modify-write.
const consentsCollection = "consents"

var _ accounts.ConsentStore = (*Store)(nil)

type consentDoc struct {
	ID        string    `bson:"_id"` // consentKey(user, client, scope)
	UserID    string    `bson:"user_id"`
	ClientID  string    `bson:"client_id"`
	Scope     string    `bson:"scope"`
	GrantedAt time.Time `bson:"granted_at"`
}

// consentKey is unambiguous whatever the parts contain: the first two are
// length-prefixed.
func consentKey(user, client, scope string) string {
	return strconv.Itoa(len(user)) + ":" + user + "|" + strconv.Itoa(len(client)) + ":" + client + "|" + scope
}

func (s *Store) consents() *mongo.Collection { return s.db.Collection(consentsCollection) }

// createConsentIndexes indexes consents by user and client (one command
// per index: see New).
func (s *Store) createConsentIndexes(ctx context.Context) error {
	if _, err := s.consents().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "user_id", Value: 1}, {Key: "client_id", Value: 1}},
		Options: options.Index().SetName("user_id_client_id"),
	}); err != nil {
		return fmt.Errorf("mongostore: create index consents.user_id+client_id: %w", err)
	}
	return nil
}

// GrantConsent inserts one document per scope; a scope granted before is
// a duplicate key and stays as it was. A grant racing DeleteUser may leave
// documents of a deleted user behind: user ids are never reused, and
// nothing lists consents but by a live user.
func (s *Store) GrantConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error {
	if clientID == "" || len(scopes) == 0 {
		return fmt.Errorf("mongostore: grant consent: empty client or scopes")
	}
	if err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: userID}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err(); err != nil {
		return notFound("grant consent", err)
	}
	for _, scope := range scopes {
		_, err := s.consents().InsertOne(ctx, consentDoc{
			ID: consentKey(userID, clientID, scope), UserID: userID, ClientID: clientID, Scope: scope, GrantedAt: at.UTC(),
		})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongostore: grant consent: %w", err)
		}
	}
	return nil
}

// GetConsent returns the user's consent for clientID.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (*accounts.Consent, error) {
	cs, err := s.readConsents(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "client_id", Value: clientID}})
	if err != nil || len(cs) == 0 {
		return nil, cmp.Or(err, accounts.ErrNotFound)
	}
	return cs[0], nil
}

// ListConsents returns the user's consents ordered by client id.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]*accounts.Consent, error) {
	return s.readConsents(ctx, bson.D{{Key: "user_id", Value: userID}})
}

func (s *Store) readConsents(ctx context.Context, filter bson.D) ([]*accounts.Consent, error) {
	docs, err := mongodb.FindAll[consentDoc](ctx, s.consents(), filter,
		options.Find().SetSort(bson.D{{Key: "client_id", Value: 1}, {Key: "scope", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongostore: read consents: %w", err)
	}
	return accounts.GroupConsents(mongodb.Convert(docs, func(d *consentDoc) accounts.ConsentGrant {
		return accounts.ConsentGrant{UserID: d.UserID, ClientID: d.ClientID, Scope: d.Scope, GrantedAt: d.GrantedAt.UTC()}
	})), nil
}

// RevokeConsent deletes the user's consent for clientID.
func (s *Store) RevokeConsent(ctx context.Context, userID, clientID string) error {
	res, err := s.consents().DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "client_id", Value: clientID}})
	return deleted(res, err, "revoke consent")
}

// deleteConsents removes a user's consents (DeleteUser).
func (s *Store) deleteConsents(ctx context.Context, userID string) error {
	if _, err := s.consents().DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}}); err != nil {
		return fmt.Errorf("mongostore: delete user: consents: %w", err)
	}
	return nil
}

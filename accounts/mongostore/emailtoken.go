package mongostore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
)

const emailTokensCollection = "email_tokens"

// emailTokenDoc is a document of email_tokens. Its _id is the hex SHA-256
// of the token; a document is never updated, only inserted and deleted, so
// what a reader saw stays true until the document is gone.
type emailTokenDoc struct {
	ID        string    `bson:"_id"`
	Purpose   string    `bson:"purpose"`
	UserID    string    `bson:"user_id"`
	Email     string    `bson:"email"`
	NewEmail  string    `bson:"new_email"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func (s *Store) emailTokens() *mongo.Collection { return s.db.Collection(emailTokensCollection) }

// createEmailTokenIndexes adds the index DeleteEmailTokens filters by.
func (s *Store) createEmailTokenIndexes(ctx context.Context) error {
	if _, err := s.emailTokens().Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id"),
	}); err != nil {
		return fmt.Errorf("mongostore: create index email_tokens.user_id: %w", err)
	}
	return nil
}

// CreateEmailToken inserts t under its unique _id.
func (s *Store) CreateEmailToken(ctx context.Context, t *accounts.EmailToken) error {
	if len(t.Hash) == 0 || t.UserID == "" || t.Purpose == "" {
		return errors.New("mongostore: create e-mail token: empty hash, user or purpose")
	}
	_, err := s.emailTokens().InsertOne(ctx, emailTokenDoc{
		ID: hex.EncodeToString(t.Hash), Purpose: string(t.Purpose), UserID: t.UserID, Email: t.Email,
		NewEmail: t.NewEmail, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(),
	})
	if mongo.IsDuplicateKeyError(err) {
		return errors.New("mongostore: create e-mail token: duplicate hash")
	}
	if err != nil {
		return fmt.Errorf("mongostore: create e-mail token: %w", err)
	}
	return nil
}

// GetEmailToken reads an unexpired token of purpose by _id.
func (s *Store) GetEmailToken(ctx context.Context, hash []byte, purpose accounts.TokenPurpose, now time.Time) (*accounts.EmailToken, error) {
	doc, err := s.findEmailToken(ctx, hash)
	if err != nil {
		return nil, err
	}
	if doc.Purpose != string(purpose) || !doc.ExpiresAt.After(now) {
		return nil, accounts.ErrNotFound
	}
	return doc.token(hash), nil
}

// ConsumeEmailToken reads the token, then deletes it with deleteOne on
// _id: only the caller whose delete reports DeletedCount == 1 consumes it
// (atomic on MongoDB and FerretDB alike). The document is immutable, so
// what was read is what was deleted. A token of another purpose is left
// alone; an expired one is deleted and not returned.
func (s *Store) ConsumeEmailToken(ctx context.Context, hash []byte, purpose accounts.TokenPurpose, now time.Time) (*accounts.EmailToken, error) {
	doc, err := s.findEmailToken(ctx, hash)
	if err != nil {
		return nil, err
	}
	if doc.Purpose != string(purpose) {
		return nil, accounts.ErrNotFound
	}
	res, err := s.emailTokens().DeleteOne(ctx, bson.D{{Key: "_id", Value: doc.ID}})
	if err != nil {
		return nil, fmt.Errorf("mongostore: consume e-mail token: %w", err)
	}
	if res.DeletedCount != 1 || !doc.ExpiresAt.After(now) {
		return nil, accounts.ErrNotFound
	}
	return doc.token(hash), nil
}

func (s *Store) findEmailToken(ctx context.Context, hash []byte) (*emailTokenDoc, error) {
	var doc emailTokenDoc
	if err := s.emailTokens().FindOne(ctx, bson.D{{Key: "_id", Value: hex.EncodeToString(hash)}}).Decode(&doc); err != nil {
		return nil, notFound("get e-mail token", err)
	}
	return &doc, nil
}

// DeleteEmailTokens removes the user's tokens of purpose (all when empty).
func (s *Store) DeleteEmailTokens(ctx context.Context, userID string, purpose accounts.TokenPurpose) (int, error) {
	filter := bson.D{{Key: "user_id", Value: userID}}
	if purpose != "" {
		filter = append(filter, bson.E{Key: "purpose", Value: string(purpose)})
	}
	res, err := s.emailTokens().DeleteMany(ctx, filter)
	if err != nil {
		return 0, fmt.Errorf("mongostore: delete e-mail tokens: %w", err)
	}
	return int(res.DeletedCount), nil
}

// SweepEmailTokens removes the tokens expired at or before now.
func (s *Store) SweepEmailTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := s.emailTokens().DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("mongostore: sweep e-mail tokens: %w", err)
	}
	return int(res.DeletedCount), nil
}

// SetEmail moves the user to email under the user's lock (unlink.go),
// because FerretDB applies no conditional update atomically: it checks the
// current address, claims the new one in user_emails (a unique insert:
// ErrEmailTaken), sets the user's fields, then drops the old claim. A
// failed update gives the new claim back.
func (s *Store) SetEmail(ctx context.Context, id, current, email string, verified bool) error {
	newKey := accounts.NormalizeEmail(email)
	if newKey == "" {
		return errors.New("mongostore: set e-mail: empty address")
	}
	return s.atAddress(ctx, "set e-mail", id, current, func(oldKey string) error {
		if newKey != oldKey {
			if err := s.reserveEmail(ctx, newKey, id); err != nil {
				return err
			}
		}
		_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "email", Value: email}, {Key: "email_key", Value: newKey}, {Key: "email_verified", Value: verified},
			{Key: "updated_at", Value: time.Now().UTC()}}}})
		if err != nil {
			if newKey != oldKey {
				s.releaseEmail(ctx, newKey, id)
			}
			return fmt.Errorf("mongostore: set e-mail: %w", err)
		}
		if oldKey != "" && newKey != oldKey {
			// A failure leaves a claim that is not the user's address: lookups
			// ignore it (GetUserByEmail checks the user's key).
			_, _ = s.emails.DeleteOne(ctx, bson.D{{Key: "_id", Value: oldKey}, {Key: "user_id", Value: id}})
		}
		return nil
	})
}

// MarkEmailVerified sets the flag under the user's lock, after checking
// that the address is still email.
func (s *Store) MarkEmailVerified(ctx context.Context, id, email string) error {
	if accounts.NormalizeEmail(email) == "" {
		return errors.New("mongostore: mark e-mail verified: empty address")
	}
	return s.atAddress(ctx, "mark e-mail verified", id, email, func(string) error {
		return s.setFields(ctx, "mark e-mail verified", id, bson.E{Key: "email_verified", Value: true})
	})
}

// atAddress runs fn under the user's lock (unlink.go) once the user's
// address is still current (as NormalizeEmail compares them), passing the
// address's key; otherwise it returns ErrConflict. op names the step in
// errors.
func (s *Store) atAddress(ctx context.Context, op, id, current string, fn func(key string) error) error {
	return s.withUserLock(ctx, id, func() error {
		u, err := s.GetUser(ctx, id)
		if err != nil {
			return err
		}
		key := accounts.NormalizeEmail(u.Email)
		if key != accounts.NormalizeEmail(current) {
			return fmt.Errorf("mongostore: %s: the address changed: %w", op, accounts.ErrConflict)
		}
		return fn(key)
	})
}

func (d *emailTokenDoc) token(hash []byte) *accounts.EmailToken {
	return &accounts.EmailToken{
		Hash: append([]byte(nil), hash...), Purpose: accounts.TokenPurpose(d.Purpose), UserID: d.UserID,
		Email: d.Email, NewEmail: d.NewEmail, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(),
	}
}

package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

const (
	migrationsCollection = "migrations"
	// emailKeyMigration marks that every e-mail key is in the format of
	// accounts.NormalizeEmail that folds only ASCII and converts domains to
	// A-labels (it was strings.ToLower).
	emailKeyMigration = "accounts:email-key-v2"
)

// rekeyEmails moves every user whose email_key differs from
// accounts.NormalizeEmail(email) (only addresses with non-ASCII
// characters) to the new key, once per database: it claims the new key in
// user_emails (a unique insert), sets users.email_key, then drops the old
// claim. Each step is safe to repeat, so instances starting together, or a
// run cut short, are harmless. A user whose new key is taken by another
// user keeps its old key (it still matches its exact old form; no account
// is merged into another).
func (s *Store) rekeyEmails(ctx context.Context) error {
	marks := s.db.Collection(migrationsCollection)
	if done, err := exists(ctx, marks, byID(emailKeyMigration)); done || err != nil {
		return err
	}
	docs, err := mongodb.FindAll[userDoc](ctx, s.users, bson.D{{Key: "email_key", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: 1}, {Key: "email_key", Value: 1}}))
	if err != nil {
		return err
	}
	for _, d := range docs {
		key := accounts.NormalizeEmail(d.Email)
		if key == d.EmailKey || key == "" {
			continue
		}
		if err := s.rekeyUser(ctx, d.ID, d.EmailKey, key); err != nil {
			return fmt.Errorf("user %s: %w", d.ID, err)
		}
	}
	_, err = marks.InsertOne(ctx, bson.D{{Key: "_id", Value: emailKeyMigration}, {Key: "done_at", Value: time.Now().UTC()}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	return nil
}

func (s *Store) rekeyUser(ctx context.Context, userID, oldKey, newKey string) error {
	_, err := s.emails.InsertOne(ctx, emailDoc{Key: newKey, UserID: userID, CreatedAt: time.Now().UTC()})
	if mongo.IsDuplicateKeyError(err) {
		var claim emailDoc
		if err := s.emails.FindOne(ctx, bson.D{{Key: "_id", Value: newKey}}).Decode(&claim); err != nil {
			return err
		}
		if claim.UserID != userID {
			return nil // another user's address under the new rules: keep the old key
		}
	} else if err != nil {
		return err
	}
	if _, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "email_key", Value: newKey}}}}); err != nil {
		return err
	}
	_, err = s.emails.DeleteOne(ctx, bson.D{{Key: "_id", Value: oldKey}, {Key: "user_id", Value: userID}})
	return err
}

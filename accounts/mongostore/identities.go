package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

// LinkIdentity checks that the user exists, then inserts the identity under
// its unique _id (duplicate key: ErrIdentityLinked; a duplicate in the
// unique index on (user_id, provider): ErrAccountExists), then checks the user
// again and takes the identity back if the user was deleted meanwhile. An
// existing identity whose user does not exist (left by a crash) is removed
// and the insert tried once more. A zero LinkedAt is set to the current
// time, in *id too. Provider ids must not contain "|" (see identityKey).
func (s *Store) LinkIdentity(ctx context.Context, id *accounts.Identity) error {
	if id.Provider == "" || id.Subject == "" {
		return errors.New("mongostore: link identity: empty provider or subject")
	}
	if strings.Contains(id.Provider, "|") {
		return fmt.Errorf("mongostore: link identity: provider id %q contains %q", id.Provider, "|")
	}
	if id.LinkedAt.IsZero() {
		id.LinkedAt = time.Now()
	}
	if exists, err := s.userExists(ctx, id.UserID); err != nil {
		return fmt.Errorf("mongostore: link identity: %w", err)
	} else if !exists {
		return accounts.ErrNotFound
	}

	doc := identityDoc{
		ID:       identityKey(id.Provider, id.Subject),
		Provider: id.Provider,
		Subject:  id.Subject,
		UserID:   id.UserID,
		Email:    id.Email,
		LinkedAt: id.LinkedAt.UTC(),
	}
	for retried := false; ; retried = true {
		_, err := s.identities.InsertOne(ctx, doc)
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongostore: link identity: %w", err)
		}
		// Either _id or (user_id, provider) collided; tell them apart
		// without parsing the server's message.
		if has, err := s.hasIdentityAt(ctx, doc.UserID, doc.Provider, doc.ID); err != nil {
			return fmt.Errorf("mongostore: link identity: %w", err)
		} else if has {
			return accounts.ErrAccountExists
		}
		if retried {
			return accounts.ErrIdentityLinked
		}
		gone, err := s.dropOrphanIdentity(ctx, doc.ID)
		if err != nil {
			return fmt.Errorf("mongostore: link identity: %w", err)
		}
		if !gone {
			return accounts.ErrIdentityLinked
		}
	}

	exists, err := s.userExists(ctx, id.UserID)
	if err != nil {
		return fmt.Errorf("mongostore: link identity: re-check user: %w", err)
	}
	if !exists {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_, _ = s.identities.DeleteOne(cctx, bson.D{{Key: "_id", Value: doc.ID}, {Key: "user_id", Value: doc.UserID}})
		return accounts.ErrNotFound
	}
	return nil
}

// dropOrphanIdentity deletes the identity under key if its user does not
// exist, and reports whether the identity is gone. Such an identity is
// always garbage: LinkIdentity inserts only for a user that exists, and
// takes the identity back itself if the user was deleted meanwhile.
func (s *Store) dropOrphanIdentity(ctx context.Context, key string) (bool, error) {
	doc, found, err := findOne[identityDoc](ctx, s.identities, byID(key))
	if err != nil {
		return false, err
	}
	if !found {
		return true, nil // gone already
	}
	live, err := s.userExists(ctx, doc.UserID)
	if err != nil || live {
		return false, err
	}
	if _, err := s.identities.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: doc.UserID}}); err != nil {
		return false, err
	}
	return true, nil
}

// hasIdentityAt reports whether the user has an identity at provider other
// than the one under key.
func (s *Store) hasIdentityAt(ctx context.Context, userID, provider, key string) (bool, error) {
	return exists(ctx, s.identities,
		bson.D{{Key: "user_id", Value: userID}, {Key: "provider", Value: provider}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: key}}}})
}

// GetIdentity returns the identity for (provider, subject): one _id lookup.
func (s *Store) GetIdentity(ctx context.Context, provider, subject string) (*accounts.Identity, error) {
	if strings.Contains(provider, "|") {
		return nil, accounts.ErrNotFound // cannot have been linked
	}
	var doc identityDoc
	if err := s.identities.FindOne(ctx, bson.D{{Key: "_id", Value: identityKey(provider, subject)}}).Decode(&doc); err != nil {
		return nil, notFound("get identity", err)
	}
	return doc.identity(), nil
}

// ListIdentities returns the user's identities ordered by provider, then
// subject. ErrNotFound when the user does not exist; an empty list when it
// has none.
func (s *Store) ListIdentities(ctx context.Context, userID string) ([]*accounts.Identity, error) {
	ids, err := s.findIdentities(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		exists, err := s.userExists(ctx, userID)
		if err != nil {
			return nil, fmt.Errorf("mongostore: list identities: %w", err)
		}
		if !exists {
			return nil, accounts.ErrNotFound
		}
	}
	return ids, nil
}

// GetUserWithIdentities returns the user with this id and their identities
// ordered by provider, then subject (an empty list when there are none).
// The two reads are sent at once, so the caller waits for one round trip:
// the identities are their own collection (the unique insert that links
// one is the atomic step on every server), and FerretDB has no $lookup.
func (s *Store) GetUserWithIdentities(ctx context.Context, id string) (*accounts.User, []*accounts.Identity, error) {
	var (
		ids  []*accounts.Identity
		ierr error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		ids, ierr = s.findIdentities(ctx, id)
	}()
	u, err := s.GetUser(ctx, id)
	<-done
	if err != nil {
		return nil, nil, err
	}
	if ierr != nil {
		return nil, nil, ierr
	}
	return u, ids, nil
}

// findIdentities reads the user's identities, ordered.
func (s *Store) findIdentities(ctx context.Context, userID string) ([]*accounts.Identity, error) {
	docs, err := mongodb.FindAll[identityDoc](ctx, s.identities, bson.D{{Key: "user_id", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "provider", Value: 1}, {Key: "subject", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongostore: list identities: %w", err)
	}
	return mongodb.Convert(docs, (*identityDoc).identity), nil
}

// UnlinkIdentity removes the user's identities at provider.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, provider string) error {
	res, err := s.identities.DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "provider", Value: provider}})
	return deleted(res, err, "unlink identity")
}

// identityKey is the _id of an identity. Provider ids ("google", "github",
// configured OIDC ids) never contain "|" (LinkIdentity refuses them), so the
// first "|" separates the two parts and no two pairs share a key; subjects
// may contain anything.
func identityKey(provider, subject string) string { return provider + "|" + subject }

func (d *identityDoc) identity() *accounts.Identity {
	return &accounts.Identity{
		Provider: d.Provider,
		Subject:  d.Subject,
		UserID:   d.UserID,
		Email:    d.Email,
		LinkedAt: d.LinkedAt.UTC(),
	}
}

package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
)

const (
	locksCollection = "user_locks"

	// lockStale is the age after which a user lock is taken to be left by a
	// process that died holding it. A holder needs milliseconds (three reads
	// and a delete); the margin covers slow servers and clock skew.
	lockStale = 30 * time.Second
	// lockWait bounds how long UnlinkIdentityIfNotLast waits for another
	// holder of the user's lock before giving up with ErrConflict.
	lockWait = 5 * time.Second
)

// lockDoc is a document of user_locks: the claim of one user's lock. Its
// unique _id makes the claim atomic; token lets only its holder release it.
type lockDoc struct {
	ID        string    `bson:"_id"`
	Token     string    `bson:"token"`
	CreatedAt time.Time `bson:"created_at"`
}

// UnlinkIdentityIfNotLast runs the last-method guard under a per-user lock.
//
// Why a lock: FerretDB v1 applies conditional updates and deletes
// (findOneAndUpdate, a filtered updateOne, a version counter) without
// atomicity between clients, and neither server has the transactions the
// guard would otherwise need; a unique-key insert and deleteOne are atomic
// on both. So the lock is a document whose _id is the user id, claimed by
// insert and released by deleteOne. Every guarded unlink of that user holds
// it while it reads the password, the identities and the passkeys and
// deletes one, so two of them never both see the other's method; removing
// a passkey (DeletePasskeyIfNotLast) holds the same lock. Other writes need
// no lock: linking, registering a passkey and setting a password only add
// ways to sign in, and no code path removes a password. A lock left by a crashed process is broken once
// it is older than lockStale.
func (s *Store) UnlinkIdentityIfNotLast(ctx context.Context, userID, provider string) error {
	return s.withUserLock(ctx, userID, func() error {
		u, err := s.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		ids, err := s.ListIdentities(ctx, userID)
		if err != nil {
			return err
		}
		var target *accounts.Identity
		for _, id := range ids {
			if id.Provider == provider {
				target = id
				break
			}
		}
		if target == nil {
			return accounts.ErrNotFound
		}
		if !u.HasPassword() && len(ids) == 1 {
			if n, err := s.passkeys.CountDocuments(ctx, bson.D{{Key: "user_id", Value: userID}}); err != nil {
				return fmt.Errorf("mongostore: unlink identity: %w", err)
			} else if n == 0 {
				return accounts.ErrLastLoginMethod
			}
		}
		res, err := s.identities.DeleteOne(ctx, bson.D{
			{Key: "_id", Value: identityKey(target.Provider, target.Subject)}, {Key: "user_id", Value: userID}})
		if err != nil {
			return fmt.Errorf("mongostore: unlink identity: %w", err)
		}
		if res.DeletedCount == 0 {
			return accounts.ErrNotFound // removed meanwhile by an unguarded UnlinkIdentity or DeleteUser
		}
		return nil
	})
}

// withUserLock runs fn holding the user's lock (lockUser).
func (s *Store) withUserLock(ctx context.Context, userID string, fn func() error) error {
	release, err := s.lockUser(ctx, userID)
	if err != nil {
		return err
	}
	defer release()
	return fn()
}

// lockUser claims the user's lock, waiting (with jittered backoff) up to
// lockWait while another caller holds it. The returned release deletes the
// claim on a context detached from ctx.
func (s *Store) lockUser(ctx context.Context, userID string) (release func(), err error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("mongostore: lock user: %w", err)
	}
	claim := lockDoc{ID: userID, Token: hex.EncodeToString(b[:])}
	deadline := time.Now().Add(lockWait)
	backoff := 2 * time.Millisecond
	for {
		claim.CreatedAt = time.Now().UTC()
		_, err := s.locks.InsertOne(ctx, claim)
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, fmt.Errorf("mongostore: lock user: %w", err)
		}
		if err := s.breakStaleLock(ctx, userID); err != nil {
			return nil, fmt.Errorf("mongostore: lock user: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("mongostore: lock user: held by another request: %w", accounts.ErrConflict)
		}
		t := time.NewTimer(backoff/2 + mrand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
	return func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		// A failure leaves the claim to turn stale (lockStale).
		_, _ = s.locks.DeleteOne(cctx, bson.D{{Key: "_id", Value: claim.ID}, {Key: "token", Value: claim.Token}})
	}, nil
}

// breakStaleLock deletes the user's lock if it is older than lockStale. The
// delete names the holder's token, so a lock claimed afresh meanwhile is
// left alone.
func (s *Store) breakStaleLock(ctx context.Context, userID string) error {
	held, found, err := findOne[lockDoc](ctx, s.locks, byID(userID))
	if err != nil || !found {
		return err
	}
	if time.Since(held.CreatedAt) < lockStale {
		return nil
	}
	_, err = s.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "token", Value: held.Token}})
	return err
}

// ensureUserProviderIndex creates the unique index on identities
// (user_id, provider): one identity per user and provider, enforced by the
// server on insert (atomic on MongoDB and FerretDB alike). Duplicates left
// by older versions make the creation fail; they are then resolved (the
// earliest linked stays) and the creation tried again.
func (s *Store) ensureUserProviderIndex(ctx context.Context) error {
	model := mongo.IndexModel{
		Keys:    bson.D{{Key: "user_id", Value: 1}, {Key: "provider", Value: 1}},
		Options: options.Index().SetName("user_provider_unique").SetUnique(true),
	}
	_, err := s.identities.Indexes().CreateOne(ctx, model)
	if err == nil {
		return nil
	}
	if derr := s.dropDuplicateIdentities(ctx); derr != nil {
		return errors.Join(err, derr)
	}
	_, err = s.identities.Indexes().CreateOne(ctx, model)
	return err
}

// dropDuplicateIdentities keeps, of each user's identities at one
// provider, the earliest linked one (then the smallest subject).
func (s *Store) dropDuplicateIdentities(ctx context.Context) error {
	cur, err := s.identities.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{
		{Key: "user_id", Value: 1}, {Key: "provider", Value: 1}, {Key: "linked_at", Value: 1}, {Key: "subject", Value: 1}}))
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	var prevUser, prevProvider string
	for cur.Next(ctx) {
		var doc identityDoc
		if err := cur.Decode(&doc); err != nil {
			return err
		}
		if doc.UserID == prevUser && doc.Provider == prevProvider {
			if _, err := s.identities.DeleteOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}); err != nil {
				return err
			}
			continue
		}
		prevUser, prevProvider = doc.UserID, doc.Provider
	}
	return cur.Err()
}

package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

var _ mail.QueueStore = (*Store)(nil)

// The mail queue uses only steps that are atomic on FerretDB v1 as well as
// MongoDB: documents are never updated, only inserted (a unique _id
// arbitrates) and deleted.
//
//   - mail_queue holds one document per message and generation, _id
//     "<id>#<generation>". A failed attempt inserts generation+1 and
//     deletes the old one; a crash in between leaves an obsolete
//     generation, which the next claim of it removes.
//   - mail_leases holds a claim of one generation, _id "<id>#<generation>";
//     inserting it is the claim. A lease that ran out is recovered by
//     inserting the next generation (again: one winner).
//   - mail_recipient_slots holds one document per accepted message and
//     recipient window, _id "<key>:<window start ms>:<slot>" with slot in
//     [0, limit): when every slot is taken the recipient is full.
const (
	mailQueueCollection  = "mail_queue"
	mailLeaseCollection  = "mail_leases"
	mailSlotsCollection  = "mail_recipient_slots"
	leaseSweepAfter      = time.Hour
	lostLeaseAttemptNote = "lease expired during an attempt"
)

type mailDoc struct {
	ID        string    `bson:"_id"`
	MsgID     string    `bson:"msg_id"`
	Gen       int64     `bson:"gen"`
	From      string    `bson:"env_from"`
	To        string    `bson:"env_to"`
	Raw       []byte    `bson:"raw"`
	CreatedAt time.Time `bson:"created_at"`
	NotAfter  time.Time `bson:"not_after"`
	NextAt    time.Time `bson:"next_at"`
	Attempts  int       `bson:"attempts"`
	LastError string    `bson:"last_error"`
}

type leaseDoc struct {
	ID    string    `bson:"_id"`
	Owner string    `bson:"owner"`
	Until time.Time `bson:"until"`
}

type slotDoc struct {
	ID        string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func genKey(id string, gen int64) string { return id + "#" + strconv.FormatInt(gen, 10) }

func toMailDoc(m *mail.QueuedMessage) mailDoc {
	return mailDoc{ID: genKey(m.ID, m.Generation), MsgID: m.ID, Gen: m.Generation, From: m.From, To: m.To, Raw: m.Raw,
		CreatedAt: m.CreatedAt.UTC(), NotAfter: m.NotAfter.UTC(), NextAt: m.NextAttempt.UTC(), Attempts: m.Attempts, LastError: m.LastError}
}

func (d mailDoc) message() *mail.QueuedMessage {
	return &mail.QueuedMessage{ID: d.MsgID, Generation: d.Gen, From: d.From, To: d.To, Raw: d.Raw,
		CreatedAt: d.CreatedAt.UTC(), NotAfter: d.NotAfter.UTC(), NextAttempt: d.NextAt.UTC(), Attempts: d.Attempts, LastError: d.LastError}
}

// createMailIndexes adds the index DueMail sorts by (FerretDB ignores it).
func (s *Store) createMailIndexes(ctx context.Context) error {
	if _, err := s.db.Collection(mailQueueCollection).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "next_at", Value: 1}}, Options: options.Index().SetName("next_at"),
	}); err != nil {
		return fmt.Errorf("mongostore: create index mail_queue.next_at: %w", err)
	}
	return nil
}

// EnqueueMail takes a free recipient slot, then inserts generation 0.
func (s *Store) EnqueueMail(ctx context.Context, m *mail.QueuedMessage, b mail.RecipientBound) error {
	if m.ID == "" || strings.ContainsRune(m.ID, '#') {
		return errors.New("mongostore: enqueue mail: id must be non-empty without '#'")
	}
	if b.Limit > 0 {
		if err := s.takeSlot(ctx, b); err != nil {
			return err
		}
	}
	m.Generation = 0
	if _, err := s.db.Collection(mailQueueCollection).InsertOne(ctx, toMailDoc(m)); err != nil {
		return fmt.Errorf("mongostore: enqueue mail: %w", err)
	}
	return nil
}

// takeSlot inserts the first free slot of the window, starting at the
// number already taken; every slot taken: ErrRecipientLimit.
func (s *Store) takeSlot(ctx context.Context, b mail.RecipientBound) error {
	prefix := fmt.Sprintf("%s:%d:", b.Key, b.WindowStart.UnixMilli())
	slots := s.db.Collection(mailSlotsCollection)
	n, err := slots.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{
		{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix[:len(prefix)-1] + ";"}}}})
	if err != nil {
		return fmt.Errorf("mongostore: enqueue mail: count: %w", err)
	}
	for i := int(n); i < b.Limit; i++ {
		_, err := slots.InsertOne(ctx, slotDoc{ID: fmt.Sprintf("%s%06d", prefix, i), ExpiresAt: b.WindowEnd.UTC()})
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongostore: enqueue mail: take slot: %w", err)
		}
	}
	return mail.ErrRecipientLimit
}

// DueMail lists due generations, earliest first.
func (s *Store) DueMail(ctx context.Context, now time.Time, limit int) ([]*mail.QueuedMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	docs, err := mongodb.FindAll[mailDoc](ctx, s.db.Collection(mailQueueCollection), bson.D{{Key: "next_at", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}},
		options.Find().SetSort(bson.D{{Key: "next_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongostore: due mail: %w", err)
	}
	return mongodb.Convert(docs, (*mailDoc).message), nil
}

// ClaimMail inserts the lease of m's generation. If a lease exists and ran
// out, the message moves on to the next generation (counting the lost
// attempt), which is then claimed.
func (s *Store) ClaimMail(ctx context.Context, m *mail.QueuedMessage, owner string, now, leaseUntil time.Time) (*mail.QueuedMessage, error) {
	key := genKey(m.ID, m.Generation)
	leases := s.db.Collection(mailLeaseCollection)
	_, err := leases.InsertOne(ctx, leaseDoc{ID: key, Owner: owner, Until: leaseUntil.UTC()})
	if err == nil {
		// The lease may be a stale claimant's arriving after the generation
		// moved on (its lease was deleted after its document): check.
		d, err := claimable[mailDoc](ctx, s.db.Collection(mailQueueCollection), key)
		if err != nil {
			s.deleteLease(ctx, key)
			return nil, err
		}
		return d.message(), nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return nil, fmt.Errorf("mongostore: claim mail: %w", err)
	}
	l, err := claimable[leaseDoc](ctx, leases, key)
	if err != nil {
		return nil, err
	}
	if l.Until.After(now) {
		return nil, mail.ErrNotClaimed
	}
	d, err := claimable[mailDoc](ctx, s.db.Collection(mailQueueCollection), key)
	if err != nil {
		return nil, err
	}
	next := d.message()
	next.Generation++
	next.Attempts++
	next.LastError = lostLeaseAttemptNote
	next.NextAttempt = now.UTC()
	if err := s.advance(ctx, m, next); err != nil {
		return nil, err
	}
	return s.ClaimMail(ctx, next, owner, now, leaseUntil)
}

// claimable reads the document of coll under key for ClaimMail; none is
// mail.ErrNotClaimed (another claimant moved the message on).
func claimable[T any](ctx context.Context, coll *mongo.Collection, key string) (T, error) {
	doc, found, err := findOne[T](ctx, coll, byID(key))
	if err != nil {
		return doc, fmt.Errorf("mongostore: claim mail: %w", err)
	}
	if !found {
		return doc, mail.ErrNotClaimed
	}
	return doc, nil
}

// advance replaces generation old by next: insert, then delete old and its
// lease. A duplicate means another holder advanced it first: old is
// obsolete either way and is removed.
func (s *Store) advance(ctx context.Context, old, next *mail.QueuedMessage) error {
	_, err := s.db.Collection(mailQueueCollection).InsertOne(ctx, toMailDoc(next))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongostore: advance mail: %w", err)
	}
	key := genKey(old.ID, old.Generation)
	if _, derr := s.db.Collection(mailQueueCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); derr != nil {
		return fmt.Errorf("mongostore: advance mail: %w", derr)
	}
	s.deleteLease(ctx, key)
	if err != nil {
		return mail.ErrNotClaimed
	}
	return nil
}

func (s *Store) deleteLease(ctx context.Context, key string) {
	_, _ = s.db.Collection(mailLeaseCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
}

// RetryMail moves the claimed generation on with the attempt's outcome.
func (s *Store) RetryMail(ctx context.Context, m *mail.QueuedMessage) error {
	next := *m
	next.Generation++
	return s.advance(ctx, m, &next)
}

// DeleteMail deletes the claimed generation (DeletedCount 1: it was still
// there) and then its lease.
func (s *Store) DeleteMail(ctx context.Context, m *mail.QueuedMessage) error {
	key := genKey(m.ID, m.Generation)
	res, err := s.db.Collection(mailQueueCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	if err != nil {
		return fmt.Errorf("mongostore: delete mail: %w", err)
	}
	s.deleteLease(ctx, key)
	if res.DeletedCount != 1 {
		return mail.ErrNotClaimed
	}
	return nil
}

// SweepMail deletes the slots of ended windows and leases that ran out
// long ago (their generation is gone or will be recovered by a claim).
func (s *Store) SweepMail(ctx context.Context, now time.Time) error {
	if _, err := s.db.Collection(mailSlotsCollection).DeleteMany(ctx,
		bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}}); err != nil {
		return fmt.Errorf("mongostore: sweep mail: %w", err)
	}
	if _, err := s.db.Collection(mailLeaseCollection).DeleteMany(ctx,
		bson.D{{Key: "until", Value: bson.D{{Key: "$lte", Value: now.Add(-leaseSweepAfter).UTC()}}}}); err != nil {
		return fmt.Errorf("mongostore: sweep mail: %w", err)
	}
	return nil
}

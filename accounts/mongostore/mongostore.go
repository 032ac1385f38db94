package mongostore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/mongostore/mongodb"
)

var _ accounts.Store = (*Store)(nil)

const (
	usersCollection      = "users"
	emailsCollection     = "user_emails"
	identitiesCollection = "identities"

	// staleAfter is the age after which an e-mail reservation whose user does
	// not exist is taken to be left over from a CreateUser that died between
	// its two inserts. A live CreateUser spends milliseconds between them;
	// the margin also covers clock skew between service instances.
	staleAfter = time.Minute

	// cleanupTimeout bounds compensating writes. They run on a context
	// detached from the caller's, whose cancellation is a common reason to
	// compensate in the first place.
	cleanupTimeout = 10 * time.Second
)

// Store is an accounts.Store on a MongoDB database. It is safe for
// concurrent use. Reads must go to the primary (the default read
// preference): the protocols below read what they have just written.
type Store struct {
	db         *mongo.Database
	users      *mongo.Collection
	emails     *mongo.Collection
	identities *mongo.Collection
	locks      *mongo.Collection // user_locks (unlink.go)
	factors                      // factors.go
}

// userDoc is a document of users. email_key is omitted when the user has no
// e-mail, so that the sparse unique index skips it.
type userDoc struct {
	ID            string    `bson:"_id"`
	Email         string    `bson:"email"`
	EmailKey      string    `bson:"email_key,omitempty"`
	EmailVerified bool      `bson:"email_verified"`
	Name          string    `bson:"name"`
	PasswordHash  string    `bson:"password_hash"`
	Roles         []string  `bson:"roles"`
	Disabled      bool      `bson:"disabled"`
	CreatedAt     time.Time `bson:"created_at"`
	UpdatedAt     time.Time `bson:"updated_at"`
}

// emailDoc is a document of user_emails: the claim of one normalized e-mail
// by one user. Its unique _id makes the claim atomic.
type emailDoc struct {
	Key       string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
}

// identityDoc is a document of identities; _id is identityKey(provider,
// subject), so (provider, subject) is unique through _id alone.
type identityDoc struct {
	ID       string    `bson:"_id"`
	Provider string    `bson:"provider"`
	Subject  string    `bson:"subject"`
	UserID   string    `bson:"user_id"`
	Email    string    `bson:"email"`
	LinkedAt time.Time `bson:"linked_at"`
}

// New returns a Store on db after creating its indexes (idempotent; run at
// every start). The caller owns the client and disconnects it after the
// Store's last use.
func New(ctx context.Context, db *mongo.Database) (*Store, error) {
	s := &Store{
		db:         db,
		users:      db.Collection(usersCollection),
		emails:     db.Collection(emailsCollection),
		identities: db.Collection(identitiesCollection),
		locks:      db.Collection(locksCollection),
	}
	// A second line of defence behind user_emails: even if a reservation
	// were lost (see releaseEmail), no two users can hold one e-mail.
	// Sparse, because MongoDB would otherwise index every user without
	// e-mail under null and let only one exist. (FerretDB v1 accepts and
	// ignores sparse; there missing fields never collide anyway.)
	if _, err := s.users.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email_key", Value: 1}},
		Options: options.Index().SetName("email_key_unique").SetUnique(true).SetSparse(true),
	}); err != nil {
		return nil, fmt.Errorf("mongostore: create index users.email_key: %w", err)
	}
	if _, err := s.identities.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "user_id", Value: 1}},
		Options: options.Index().SetName("user_id"),
	}); err != nil {
		return nil, fmt.Errorf("mongostore: create index identities.user_id: %w", err)
	}
	if err := s.ensureUserProviderIndex(ctx); err != nil {
		return nil, fmt.Errorf("mongostore: create index identities.user_id+provider: %w", err)
	}
	if err := s.rekeyEmails(ctx); err != nil {
		return nil, fmt.Errorf("mongostore: migrate e-mail keys: %w", err)
	}
	if err := s.createMailIndexes(ctx); err != nil { // mailqueue.go
		return nil, err
	}
	if err := s.createConsentIndexes(ctx); err != nil { // consent.go
		return nil, err
	}
	if err := s.createEmailTokenIndexes(ctx); err != nil { // emailtoken.go
		return nil, err
	}
	if err := s.initFactors(ctx); err != nil { // factors.go
		return nil, err
	}
	return s, nil
}

// CreateUser claims the e-mail in user_emails first (a unique _id insert,
// atomic without transactions), then inserts the user. If the second insert
// fails the claim is released. A zero CreatedAt is set to the current time
// and a zero UpdatedAt to CreatedAt, in *u too.
func (s *Store) CreateUser(ctx context.Context, u *accounts.User) error {
	if u.ID == "" {
		return errors.New("mongostore: create user: empty id")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	doc := toUserDoc(u)
	if doc.EmailKey != "" {
		if err := s.reserveEmail(ctx, doc.EmailKey, doc.ID); err != nil {
			return err
		}
	}
	_, err := s.users.InsertOne(ctx, doc)
	if err == nil {
		return nil
	}
	if doc.EmailKey != "" {
		s.releaseEmail(ctx, doc.EmailKey, doc.ID)
	}
	if !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongostore: create user: %w", err)
	}
	// Either _id or email_key collided; tell them apart without parsing the
	// server's message.
	if doc.EmailKey != "" {
		exists, xerr := s.userExists(ctx, doc.ID)
		if xerr != nil {
			return fmt.Errorf("mongostore: create user: %w", xerr)
		}
		if !exists {
			return accounts.ErrEmailTaken
		}
	}
	return fmt.Errorf("mongostore: create user: id %q already exists", doc.ID)
}

// reserveEmail inserts the claim of key for userID. A claim held by another
// user gives ErrEmailTaken, unless it is stale: then it is removed and the
// insert tried once more.
func (s *Store) reserveEmail(ctx context.Context, key, userID string) error {
	claim := emailDoc{Key: key, UserID: userID, CreatedAt: time.Now().UTC()}
	for retried := false; ; retried = true {
		_, err := s.emails.InsertOne(ctx, claim)
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongostore: reserve e-mail: %w", err)
		}
		if retried {
			return accounts.ErrEmailTaken
		}
		gone, err := s.dropStaleReservation(ctx, key)
		if err != nil {
			return fmt.Errorf("mongostore: reserve e-mail: %w", err)
		}
		if !gone {
			return accounts.ErrEmailTaken
		}
	}
}

// dropStaleReservation deletes the claim of key if it is stale: older than
// staleAfter and its user does not exist. It reports whether the claim is
// gone (deleted here or by someone else), so that one more insert is worth
// trying. The delete also filters on user_id, so a claim that another
// CreateUser took over meanwhile is left alone; and deleteOne on _id is
// atomic on FerretDB too, so of several callers at most one deletes it.
func (s *Store) dropStaleReservation(ctx context.Context, key string) (bool, error) {
	claim, found, err := findOne[emailDoc](ctx, s.emails, byID(key))
	if err != nil {
		return false, err
	}
	if !found {
		return true, nil // gone already
	}
	if time.Since(claim.CreatedAt) < staleAfter {
		return false, nil // possibly a CreateUser between its two inserts
	}
	exists, err := s.userExists(ctx, claim.UserID)
	if err != nil || exists {
		return false, err
	}
	if _, err := s.emails.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: claim.UserID}}); err != nil {
		return false, err
	}
	return true, nil
}

// releaseEmail compensates a failed user insert: it deletes userID's claim
// of key unless the user exists after all (an error can come after the
// server applied the insert, e.g. a cancelled context or a lost reply).
// Errors are dropped: a claim left behind turns stale and is reclaimed by
// the next CreateUser for that e-mail.
func (s *Store) releaseEmail(ctx context.Context, key, userID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if found, err := exists(ctx, s.users, bson.D{{Key: "_id", Value: userID}, {Key: "email_key", Value: key}}); found || err != nil {
		return // the user exists with this e-mail, or we cannot tell
	}
	_, _ = s.emails.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: userID}})
}

// GetUser returns the user with this id.
func (s *Store) GetUser(ctx context.Context, id string) (*accounts.User, error) {
	var doc userDoc
	if err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		return nil, notFound("get user", err)
	}
	return doc.user(), nil
}

// GetUserByEmail follows the e-mail's claim to its user: two _id lookups,
// indexed on every server (this is the password sign-in path). A claim
// whose user does not exist (being created, or stale) is not found.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*accounts.User, error) {
	key := accounts.NormalizeEmail(email)
	if key == "" {
		return nil, accounts.ErrNotFound
	}
	var claim emailDoc
	if err := s.emails.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&claim); err != nil {
		return nil, notFound("get user by email", err)
	}
	u, err := s.GetUser(ctx, claim.UserID)
	if err != nil {
		return nil, err
	}
	if accounts.NormalizeEmail(u.Email) != key {
		return nil, accounts.ErrNotFound // a claim that is not the user's current e-mail
	}
	return u, nil
}

// SetPasswordHash replaces the password hash and bumps UpdatedAt.
func (s *Store) SetPasswordHash(ctx context.Context, id, hash string) error {
	return s.setFields(ctx, "set password hash", id, bson.E{Key: "password_hash", Value: hash})
}

// SetRoles replaces the roles (order kept) and bumps UpdatedAt.
func (s *Store) SetRoles(ctx context.Context, id string, roles []string) error {
	return s.setFields(ctx, "set roles", id, bson.E{Key: "roles", Value: nonNil(roles)})
}

// SetDisabled sets the disabled flag and bumps UpdatedAt.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return s.setFields(ctx, "set disabled", id, bson.E{Key: "disabled", Value: disabled})
}

// setFields is a plain $set by _id: no condition to race on (the last write
// wins), so it needs no atomicity that FerretDB lacks.
func (s *Store) setFields(ctx context.Context, op, id string, field bson.E) error {
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{field, {Key: "updated_at", Value: time.Now().UTC()}}}})
	if err != nil {
		return fmt.Errorf("mongostore: %s: %w", op, err)
	}
	if res.MatchedCount == 0 {
		return accounts.ErrNotFound
	}
	return nil
}

// DeleteUser deletes the user's identities, its e-mail claim, then the user.
// The user goes last so that after a crash midway the user is still there
// and DeleteUser can simply be called again. A second identity sweep at the
// end removes any identity that a concurrent LinkIdentity inserted after
// the first one (LinkIdentity re-checks the user after inserting, so one
// inserted after the second sweep removes itself).
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	var doc userDoc
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "email_key", Value: 1}})).Decode(&doc)
	if err != nil {
		return notFound("delete user", err)
	}
	byUser := bson.D{{Key: "user_id", Value: id}}
	if _, err := s.identities.DeleteMany(ctx, byUser); err != nil {
		return fmt.Errorf("mongostore: delete user: identities: %w", err)
	}
	if doc.EmailKey != "" {
		if _, err := s.emails.DeleteOne(ctx, bson.D{{Key: "_id", Value: doc.EmailKey}, {Key: "user_id", Value: id}}); err != nil {
			return fmt.Errorf("mongostore: delete user: e-mail: %w", err)
		}
	}
	res, err := s.users.DeleteOne(ctx, byID(id))
	if err := deleted(res, err, "delete user"); err != nil {
		return err // ErrNotFound: a concurrent DeleteUser won
	}
	if _, err := s.identities.DeleteMany(ctx, byUser); err != nil {
		return fmt.Errorf("mongostore: delete user: identities: %w", err)
	}
	if err := s.deleteConsents(ctx, id); err != nil { // consent.go
		return err
	}
	return s.deleteFactors(ctx, id) // factors.go
}

// ListUsers returns up to limit users with _id > after, ordered by _id
// (keyset pagination: stable while users are added or deleted).
// emailContains is normalized like an e-mail and matched literally against
// email_key; users without e-mail never match it. A limit of zero or less
// returns nothing.
func (s *Store) ListUsers(ctx context.Context, after string, limit int, emailContains string) ([]*accounts.User, error) {
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	if needle := accounts.NormalizeEmail(emailContains); needle != "" {
		filter = append(filter, bson.E{Key: "email_key", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(needle)}}})
	}
	docs, err := page[userDoc](ctx, s.users, "list users", filter, 1, limit)
	if err != nil {
		return nil, err
	}
	return mongodb.Convert(docs, (*userDoc).user), nil
}

// Ping reports whether the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("mongostore: ping: %w", err)
	}
	return nil
}

func (s *Store) userExists(ctx context.Context, id string) (bool, error) {
	return exists(ctx, s.users, byID(id))
}

// notFound maps mongo.ErrNoDocuments to ErrNotFound and wraps other errors.
func notFound(op string, err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return accounts.ErrNotFound
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

func toUserDoc(u *accounts.User) userDoc {
	return userDoc{
		ID:            u.ID,
		Email:         u.Email,
		EmailKey:      accounts.NormalizeEmail(u.Email),
		EmailVerified: u.EmailVerified,
		Name:          u.Name,
		PasswordHash:  u.PasswordHash,
		Roles:         nonNil(u.Roles),
		Disabled:      u.Disabled,
		CreatedAt:     u.CreatedAt.UTC(),
		UpdatedAt:     u.UpdatedAt.UTC(),
	}
}

func (d *userDoc) user() *accounts.User {
	return &accounts.User{
		ID:            d.ID,
		Email:         d.Email,
		EmailVerified: d.EmailVerified,
		Name:          d.Name,
		PasswordHash:  d.PasswordHash,
		Roles:         nonNil(d.Roles),
		Disabled:      d.Disabled,
		CreatedAt:     d.CreatedAt.UTC(),
		UpdatedAt:     d.UpdatedAt.UTC(),
	}
}

// nonNil stores roles as an array, never null, and returns them the same way.
func nonNil(roles []string) []string {
	if roles == nil {
		return []string{}
	}
	return roles
}

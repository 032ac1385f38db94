package mongostore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/unilogin/unilogin/accounts"
)

var _ accounts.FactorStore = (*Store)(nil)

// factors are the collections of second factors and passkeys. Every
// protocol below is built from the two writes that are atomic on MongoDB
// and FerretDB alike: an insert into a unique key and a deleteOne whose
// DeletedCount is 1. Conditional updates are not used for anything a
// race could exploit.
type factors struct {
	totpPending, totpSecrets, totpSteps, recoveryCodes, passkeys, ceremonies *mongo.Collection
}

type totpDoc struct {
	UserID    string    `bson:"_id"`
	ID        string    `bson:"id"`
	Sealed    []byte    `bson:"sealed"`
	CreatedAt time.Time `bson:"created_at"`
}

// stepDoc marks one accepted (or attempted) time step: _id is
// user|step with the step zero-padded.
type stepDoc struct {
	ID     string `bson:"_id"`
	UserID string `bson:"user_id"`
	Step   int64  `bson:"step"`
}

type codeDoc struct {
	ID     string `bson:"_id"` // user|hex(hash)
	UserID string `bson:"user_id"`
}

type passkeyDoc struct {
	ID         string    `bson:"_id"` // base64url of the credential id
	UserID     string    `bson:"user_id"`
	UserHandle []byte    `bson:"user_handle"`
	PublicKey  []byte    `bson:"public_key"`
	SignCount  int64     `bson:"sign_count"`
	Transports []string  `bson:"transports"`
	Name       string    `bson:"name"`
	Data       []byte    `bson:"data"`
	CreatedAt  time.Time `bson:"created_at"`
	LastUsedAt time.Time `bson:"last_used_at,omitempty"`
}

type ceremonyDoc struct {
	ID        string    `bson:"_id"`
	Data      []byte    `bson:"data"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func (s *Store) initFactors(ctx context.Context) error {
	s.factors = factors{
		totpPending:   s.db.Collection("totp_pending"),
		totpSecrets:   s.db.Collection("totp_secrets"),
		totpSteps:     s.db.Collection("totp_steps"),
		recoveryCodes: s.db.Collection("recovery_codes"),
		passkeys:      s.db.Collection("passkeys"),
		ceremonies:    s.db.Collection("webauthn_ceremonies"),
	}
	// One index per command (FerretDB v1.24.2 and repeated createIndexes).
	for _, c := range []*mongo.Collection{s.totpSteps, s.recoveryCodes, s.passkeys} {
		if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: "user_id", Value: 1}}, Options: options.Index().SetName("user_id"),
		}); err != nil {
			return fmt.Errorf("mongostore: create index %s.user_id: %w", c.Name(), err)
		}
	}
	return nil
}

func stepKey(userID string, step int64) string {
	return fmt.Sprintf("%s|%020d", userID, step)
}
func codeKey(userID string, hash []byte) string { return userID + "|" + hex.EncodeToString(hash) }
func passkeyKey(id []byte) string               { return base64.RawURLEncoding.EncodeToString(id) }

func (s *Store) hasConfirmedTOTP(ctx context.Context, userID string) (bool, error) {
	n, err := s.totpSecrets.CountDocuments(ctx, byID(userID))
	return n > 0, err
}

// PutPendingTOTP replaces the pending document (a plain upsert by _id).
// A confirmation racing with it cannot be undone by it: the confirmed
// secret lives in another collection.
func (s *Store) PutPendingTOTP(ctx context.Context, t *accounts.TOTPSecret) error {
	on, err := s.hasConfirmedTOTP(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("mongostore: put pending totp: %w", err)
	}
	if on {
		return accounts.ErrTOTPEnabled
	}
	doc := totpDoc{UserID: t.UserID, ID: t.ID, Sealed: t.Sealed, CreatedAt: t.CreatedAt.UTC()}
	if _, err := s.totpPending.ReplaceOne(ctx, byID(t.UserID), doc, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("mongostore: put pending totp: %w", err)
	}
	return nil
}

// GetPendingTOTP returns the pending secret.
func (s *Store) GetPendingTOTP(ctx context.Context, userID string) (*accounts.TOTPSecret, error) {
	var doc totpDoc
	if err := s.totpPending.FindOne(ctx, byID(userID)).Decode(&doc); err != nil {
		return nil, notFound("get pending totp", err)
	}
	return &accounts.TOTPSecret{UserID: userID, ID: doc.ID, Sealed: doc.Sealed, CreatedAt: doc.CreatedAt}, nil
}

// GetTOTP returns the confirmed secret; LastStep is the greatest marker.
func (s *Store) GetTOTP(ctx context.Context, userID string) (*accounts.TOTPSecret, error) {
	var doc totpDoc
	if err := s.totpSecrets.FindOne(ctx, byID(userID)).Decode(&doc); err != nil {
		return nil, notFound("get totp", err)
	}
	t := &accounts.TOTPSecret{UserID: userID, ID: doc.ID, Sealed: doc.Sealed, CreatedAt: doc.CreatedAt}
	last, _, err := findOne[stepDoc](ctx, s.totpSteps, byUser(userID), options.FindOne().SetSort(bson.D{{Key: "step", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("mongostore: get totp: %w", err)
	}
	t.LastStep = last.Step
	return t, nil
}

// ConfirmTOTP inserts the confirmed secret under the user's _id: the
// unique insert decides concurrent confirmations.
func (s *Store) ConfirmTOTP(ctx context.Context, userID, pendingID string, step int64, hashes [][]byte, at time.Time) error {
	var doc totpDoc
	if err := s.totpPending.FindOne(ctx, byID(userID)).Decode(&doc); err != nil {
		return notFound("confirm totp", err)
	}
	if doc.ID != pendingID {
		return accounts.ErrNotFound
	}
	doc.CreatedAt = at.UTC()
	if _, err := s.totpSecrets.InsertOne(ctx, doc); mongo.IsDuplicateKeyError(err) {
		return accounts.ErrTOTPEnabled
	} else if err != nil {
		return fmt.Errorf("mongostore: confirm totp: %w", err)
	}
	// Steps of an earlier secret are gone with it (DeleteTOTP); this one
	// starts at the confirming code's step.
	if _, err := s.totpSteps.DeleteMany(ctx, byUser(userID)); err != nil {
		return fmt.Errorf("mongostore: confirm totp: %w", err)
	}
	if _, err := s.totpSteps.InsertOne(ctx, stepDoc{ID: stepKey(userID, step), UserID: userID, Step: step}); err != nil {
		return fmt.Errorf("mongostore: confirm totp: %w", err)
	}
	if _, err := s.totpPending.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}, {Key: "id", Value: pendingID}}); err != nil {
		return fmt.Errorf("mongostore: confirm totp: %w", err)
	}
	return s.ReplaceRecoveryCodes(ctx, userID, hashes)
}

// AcceptTOTPStep claims the step with a unique insert of its marker, then
// looks for a marker of a later step. Claims are atomic and a claim is
// visible before its claimant looks, so of two racing steps a < b either
// b's claimant sees a's marker only if a was accepted first (fine: a
// then b), or a's claimant sees b's marker and refuses a. Markers below
// the accepted step are dropped afterwards; they no longer decide anything
// because the accepted one stays.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	on, err := s.hasConfirmedTOTP(ctx, userID)
	if err != nil {
		return fmt.Errorf("mongostore: accept totp step: %w", err)
	}
	if !on {
		return accounts.ErrNotFound
	}
	if _, err := s.totpSteps.InsertOne(ctx, stepDoc{ID: stepKey(userID, step), UserID: userID, Step: step}); mongo.IsDuplicateKeyError(err) {
		return accounts.ErrCodeReplayed
	} else if err != nil {
		return fmt.Errorf("mongostore: accept totp step: %w", err)
	}
	later, err := s.totpSteps.CountDocuments(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "step", Value: bson.D{{Key: "$gt", Value: step}}}})
	if err != nil {
		return fmt.Errorf("mongostore: accept totp step: %w", err)
	}
	if later > 0 {
		return accounts.ErrCodeReplayed
	}
	_, _ = s.totpSteps.DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "step", Value: bson.D{{Key: "$lt", Value: step}}}})
	return nil
}

// DeleteTOTP removes the secrets, the step markers and the recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	res, err := s.totpSecrets.DeleteOne(ctx, byID(userID))
	if err != nil {
		return fmt.Errorf("mongostore: delete totp: %w", err)
	}
	if _, err := s.totpPending.DeleteOne(ctx, byID(userID)); err != nil {
		return fmt.Errorf("mongostore: delete totp: %w", err)
	}
	for _, c := range []*mongo.Collection{s.totpSteps, s.recoveryCodes} {
		if _, err := c.DeleteMany(ctx, byUser(userID)); err != nil {
			return fmt.Errorf("mongostore: delete totp: %w", err)
		}
	}
	if res.DeletedCount == 0 {
		return accounts.ErrNotFound
	}
	return nil
}

// ReplaceRecoveryCodes deletes the old codes, then inserts the new ones.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	if _, err := s.recoveryCodes.DeleteMany(ctx, byUser(userID)); err != nil {
		return fmt.Errorf("mongostore: recovery codes: %w", err)
	}
	if len(hashes) == 0 {
		return nil
	}
	docs := make([]any, len(hashes))
	for i, h := range hashes {
		docs[i] = codeDoc{ID: codeKey(userID, h), UserID: userID}
	}
	if _, err := s.recoveryCodes.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("mongostore: recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode is a deleteOne by _id.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte) error {
	res, err := s.recoveryCodes.DeleteOne(ctx, byID(codeKey(userID, hash)))
	return deleted(res, err, "use recovery code")
}

// CountRecoveryCodes counts the unused codes.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	n, err := s.recoveryCodes.CountDocuments(ctx, byUser(userID))
	if err != nil {
		return 0, fmt.Errorf("mongostore: count recovery codes: %w", err)
	}
	return int(n), nil
}

// CreatePasskey inserts the credential under its id.
func (s *Store) CreatePasskey(ctx context.Context, p *accounts.Passkey) error {
	if ok, err := s.userExists(ctx, p.UserID); err != nil {
		return fmt.Errorf("mongostore: create passkey: %w", err)
	} else if !ok {
		return accounts.ErrNotFound
	}
	tr := p.Transports
	if tr == nil {
		tr = []string{}
	}
	doc := passkeyDoc{ID: passkeyKey(p.ID), UserID: p.UserID, UserHandle: p.UserHandle, PublicKey: p.PublicKey,
		SignCount: int64(p.SignCount), Transports: tr, Name: p.Name, Data: p.Data,
		CreatedAt: p.CreatedAt.UTC(), LastUsedAt: p.LastUsedAt}
	if _, err := s.passkeys.InsertOne(ctx, doc); mongo.IsDuplicateKeyError(err) {
		return accounts.ErrPasskeyExists
	} else if err != nil {
		return fmt.Errorf("mongostore: create passkey: %w", err)
	}
	return nil
}

func (d *passkeyDoc) passkey() (*accounts.Passkey, error) {
	id, err := base64.RawURLEncoding.DecodeString(d.ID)
	if err != nil {
		return nil, err
	}
	p := &accounts.Passkey{ID: id, UserID: d.UserID, UserHandle: d.UserHandle, PublicKey: d.PublicKey,
		SignCount: uint32(d.SignCount), Transports: d.Transports, Name: d.Name, Data: d.Data,
		CreatedAt: d.CreatedAt.UTC()}
	if !d.LastUsedAt.IsZero() {
		p.LastUsedAt = d.LastUsedAt.UTC()
	}
	return p, nil
}

// GetPasskey returns the credential with this id.
func (s *Store) GetPasskey(ctx context.Context, id []byte) (*accounts.Passkey, error) {
	var doc passkeyDoc
	if err := s.passkeys.FindOne(ctx, byID(passkeyKey(id))).Decode(&doc); err != nil {
		return nil, notFound("get passkey", err)
	}
	return doc.passkey()
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, userID string) ([]*accounts.Passkey, error) {
	cur, err := s.passkeys.Find(ctx, byUser(userID), options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongostore: list passkeys: %w", err)
	}
	defer cur.Close(ctx)
	out := []*accounts.Passkey{}
	for cur.Next(ctx) {
		var doc passkeyDoc
		if err := cur.Decode(&doc); err != nil {
			return nil, fmt.Errorf("mongostore: list passkeys: %w", err)
		}
		p, err := doc.passkey()
		if err != nil {
			return nil, fmt.Errorf("mongostore: list passkeys: %w", err)
		}
		out = append(out, p)
	}
	return out, cur.Err()
}

// UpdatePasskeyUse is a plain $set by _id (the last write wins; the sign
// count is a clone-detection signal, not a lock).
func (s *Store) UpdatePasskeyUse(ctx context.Context, id []byte, signCount uint32, data []byte, at time.Time) error {
	res, err := s.passkeys.UpdateOne(ctx, byID(passkeyKey(id)), bson.D{{Key: "$set", Value: bson.D{
		{Key: "sign_count", Value: int64(signCount)}, {Key: "data", Value: data}, {Key: "last_used_at", Value: at.UTC()}}}})
	if err != nil {
		return fmt.Errorf("mongostore: update passkey: %w", err)
	}
	if res.MatchedCount == 0 {
		return accounts.ErrNotFound
	}
	return nil
}

// DeletePasskeyIfNotLast runs the last-method guard under the user's lock,
// the one UnlinkIdentityIfNotLast holds (unlink.go).
func (s *Store) DeletePasskeyIfNotLast(ctx context.Context, userID string, id []byte) error {
	release, err := s.lockUser(ctx, userID)
	if err != nil {
		return err
	}
	defer release()
	var doc passkeyDoc
	if err := s.passkeys.FindOne(ctx, byID(passkeyKey(id))).Decode(&doc); err != nil {
		return notFound("delete passkey", err)
	}
	if doc.UserID != userID {
		return accounts.ErrNotFound
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if !u.HasPassword() {
		ids, err := s.identities.CountDocuments(ctx, byUser(userID))
		if err != nil {
			return fmt.Errorf("mongostore: delete passkey: %w", err)
		}
		keys, err := s.passkeys.CountDocuments(ctx, byUser(userID))
		if err != nil {
			return fmt.Errorf("mongostore: delete passkey: %w", err)
		}
		if ids == 0 && keys <= 1 {
			return accounts.ErrLastLoginMethod
		}
	}
	res, err := s.passkeys.DeleteOne(ctx, bson.D{{Key: "_id", Value: doc.ID}, {Key: "user_id", Value: userID}})
	return deleted(res, err, "delete passkey")
}

// DeletePasskeys removes every passkey of the user.
func (s *Store) DeletePasskeys(ctx context.Context, userID string) (int, error) {
	res, err := s.passkeys.DeleteMany(ctx, byUser(userID))
	if err != nil {
		return 0, fmt.Errorf("mongostore: delete passkeys: %w", err)
	}
	return int(res.DeletedCount), nil
}

// PutCeremony inserts the state, dropping expired ones on the way (no
// TTL indexes on FerretDB).
func (s *Store) PutCeremony(ctx context.Context, id string, data []byte, expires time.Time) error {
	_, _ = s.ceremonies.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: time.Now().UTC()}}}})
	if _, err := s.ceremonies.InsertOne(ctx, ceremonyDoc{ID: id, Data: data, ExpiresAt: expires.UTC()}); err != nil {
		return fmt.Errorf("mongostore: put ceremony: %w", err)
	}
	return nil
}

// TakeCeremony reads the state, then claims it with deleteOne: only the
// caller whose delete removed it gets it.
func (s *Store) TakeCeremony(ctx context.Context, id string, now time.Time) ([]byte, error) {
	var doc ceremonyDoc
	if err := s.ceremonies.FindOne(ctx, byID(id)).Decode(&doc); err != nil {
		return nil, notFound("take ceremony", err)
	}
	res, err := s.ceremonies.DeleteOne(ctx, byID(id))
	if err != nil {
		return nil, fmt.Errorf("mongostore: take ceremony: %w", err)
	}
	if res.DeletedCount != 1 || doc.ExpiresAt.Before(now) {
		return nil, accounts.ErrNotFound
	}
	return doc.Data, nil
}

// deleteFactors removes a deleted user's second factors and passkeys.
// A passkey registered while the user was being deleted stays behind but
// signs nobody in: its user is gone.
func (s *Store) deleteFactors(ctx context.Context, userID string) error {
	for _, c := range []*mongo.Collection{s.totpPending, s.totpSecrets} {
		if _, err := c.DeleteOne(ctx, byID(userID)); err != nil {
			return fmt.Errorf("mongostore: delete user: %s: %w", c.Name(), err)
		}
	}
	for _, c := range []*mongo.Collection{s.totpSteps, s.recoveryCodes, s.passkeys} {
		if _, err := c.DeleteMany(ctx, byUser(userID)); err != nil {
			return fmt.Errorf("mongostore: delete user: %s: %w", c.Name(), err)
		}
	}
	return nil
}

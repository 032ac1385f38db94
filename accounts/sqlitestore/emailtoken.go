package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/accounts"
)

// emailTokenSchema is migration 6: e-mail tokens, stored by the SHA-256
// hash of the token only.
var emailTokenSchema = []string{
	`CREATE TABLE IF NOT EXISTS email_tokens (
		hash       BLOB    NOT NULL PRIMARY KEY,  -- SHA-256 of the token
		purpose    TEXT    NOT NULL,
		user_id    TEXT    NOT NULL,
		email      TEXT    NOT NULL DEFAULT '',   -- the user's address when issued
		new_email  TEXT    NOT NULL DEFAULT '',   -- change tokens: the address sent to
		created_at INTEGER NOT NULL,              -- Unix milliseconds
		expires_at INTEGER NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS email_tokens_user ON email_tokens (user_id, purpose)`,
	`CREATE INDEX IF NOT EXISTS email_tokens_expires ON email_tokens (expires_at)`,
}

const emailTokenColumns = `purpose, user_id, email, new_email, created_at, expires_at`

// CreateEmailToken inserts t; a duplicate hash is an error.
func (s *Store) CreateEmailToken(ctx context.Context, t *accounts.EmailToken) error {
	if len(t.Hash) == 0 || t.UserID == "" || t.Purpose == "" {
		return errors.New("sqlitestore: create e-mail token: empty hash, user or purpose")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO email_tokens (hash, `+emailTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, string(t.Purpose), t.UserID, t.Email, t.NewEmail, t.CreatedAt.UnixMilli(), t.ExpiresAt.UnixMilli())
	if errorCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return errors.New("sqlitestore: create e-mail token: duplicate hash")
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: create e-mail token: %w", err)
	}
	return nil
}

// GetEmailToken reads an unexpired token without consuming it.
func (s *Store) GetEmailToken(ctx context.Context, hash []byte, purpose accounts.TokenPurpose, now time.Time) (*accounts.EmailToken, error) {
	t, err := scanEmailToken(hash, s.db.QueryRowContext(ctx, `SELECT `+emailTokenColumns+` FROM email_tokens
		WHERE hash = ? AND purpose = ? AND expires_at > ?`, hash, string(purpose), now.UnixMilli()))
	if err != nil {
		return nil, wrap("get e-mail token", err)
	}
	return t, nil
}

// ConsumeEmailToken is one DELETE ... RETURNING: SQLite runs it as one
// atomic step (writers are serialized), so of concurrent consumers exactly
// one gets the row. An expired token is deleted too, and not returned.
func (s *Store) ConsumeEmailToken(ctx context.Context, hash []byte, purpose accounts.TokenPurpose, now time.Time) (*accounts.EmailToken, error) {
	t, err := scanEmailToken(hash, s.db.QueryRowContext(ctx, `DELETE FROM email_tokens
		WHERE hash = ? AND purpose = ? RETURNING `+emailTokenColumns, hash, string(purpose)))
	if err != nil {
		return nil, wrap("consume e-mail token", err)
	}
	if !t.ExpiresAt.After(now) {
		return nil, accounts.ErrNotFound
	}
	return t, nil
}

// DeleteEmailTokens removes the user's tokens of purpose (all when empty).
func (s *Store) DeleteEmailTokens(ctx context.Context, userID string, purpose accounts.TokenPurpose) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = ? AND (? = '' OR purpose = ?)`,
		userID, string(purpose), string(purpose))
	return affected(res, err, "delete e-mail tokens")
}

// SweepEmailTokens removes the tokens expired at or before now.
func (s *Store) SweepEmailTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM email_tokens WHERE expires_at <= ?`, now.UnixMilli())
	return affected(res, err, "sweep e-mail tokens")
}

// SetEmail is one conditional UPDATE: the unique key on email_key decides
// ErrEmailTaken, the condition on the current key ErrConflict.
func (s *Store) SetEmail(ctx context.Context, id, current, email string, verified bool) error {
	key := emailKey(email)
	if !key.Valid {
		return errors.New("sqlitestore: set e-mail: empty address")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET email = ?, email_key = ?, email_verified = ?, updated_at = ?
		WHERE id = ? AND coalesce(email_key, '') = ?`,
		email, key, verified, time.Now().UnixMilli(), id, accounts.NormalizeEmail(current))
	if errorCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return accounts.ErrEmailTaken
	}
	return s.conditional(ctx, res, err, "set e-mail", id)
}

// MarkEmailVerified is one conditional UPDATE on the user's current key.
func (s *Store) MarkEmailVerified(ctx context.Context, id, email string) error {
	key := emailKey(email)
	if !key.Valid {
		return errors.New("sqlitestore: mark e-mail verified: empty address")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ? AND email_key = ?`,
		time.Now().UnixMilli(), id, key)
	return s.conditional(ctx, res, err, "mark e-mail verified", id)
}

// conditional maps a conditional update that changed nothing to
// ErrNotFound (no such user) or ErrConflict (the condition failed).
func (s *Store) conditional(ctx context.Context, res sql.Result, err error, op, id string) error {
	n, err := affected(res, err, op)
	if err != nil || n > 0 {
		return err
	}
	if found, err := s.exists(ctx, op, "users", "id = ?", id); err != nil || !found {
		return cmp.Or(err, accounts.ErrNotFound)
	}
	return fmt.Errorf("sqlitestore: %s: the address changed: %w", op, accounts.ErrConflict)
}

func affected(res sql.Result, err error, op string) (int, error) {
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return int(n), nil
}

func scanEmailToken(hash []byte, row scanner) (*accounts.EmailToken, error) {
	t := &accounts.EmailToken{Hash: append([]byte(nil), hash...)}
	var purpose string
	var created, expires int64
	err := row.Scan(&purpose, &t.UserID, &t.Email, &t.NewEmail, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accounts.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	t.Purpose = accounts.TokenPurpose(purpose)
	t.CreatedAt, t.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return t, nil
}

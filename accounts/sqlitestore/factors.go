package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

var _ accounts.FactorStore = (*Store)(nil)

// factorSchema is migration 6. Pending and confirmed TOTP secrets live in
// two tables, so that enrolling again can never overwrite a confirmed one.
var factorSchema = []string{
	`CREATE TABLE IF NOT EXISTS totp_pending (
		user_id    TEXT    NOT NULL PRIMARY KEY,
		id         TEXT    NOT NULL,
		sealed     BLOB    NOT NULL,
		created_at INTEGER NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS totp_secrets (
		user_id    TEXT    NOT NULL PRIMARY KEY,
		id         TEXT    NOT NULL,
		sealed     BLOB    NOT NULL,
		last_step  INTEGER NOT NULL,
		created_at INTEGER NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS recovery_codes (
		user_id TEXT NOT NULL,
		hash    BLOB NOT NULL,
		PRIMARY KEY (user_id, hash)
	)`,
	`CREATE TABLE IF NOT EXISTS passkeys (
		id           BLOB    NOT NULL PRIMARY KEY,
		user_id      TEXT    NOT NULL,
		user_handle  BLOB    NOT NULL,
		public_key   BLOB    NOT NULL,
		sign_count   INTEGER NOT NULL,
		transports   TEXT    NOT NULL DEFAULT '[]',
		name         TEXT    NOT NULL DEFAULT '',
		data         BLOB    NOT NULL,
		created_at   INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL DEFAULT 0
	)`,
	`CREATE INDEX IF NOT EXISTS passkeys_user_id ON passkeys (user_id)`,
	`CREATE TABLE IF NOT EXISTS webauthn_ceremonies (
		id         TEXT    NOT NULL PRIMARY KEY,
		data       BLOB    NOT NULL,
		expires_at INTEGER NOT NULL
	)`,
}

// PutPendingTOTP upserts the pending secret in one statement that refuses
// a user with a confirmed secret.
func (s *Store) PutPendingTOTP(ctx context.Context, t *accounts.TOTPSecret) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO totp_pending (user_id, id, sealed, created_at)
		SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = ?1)
		ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, sealed = excluded.sealed, created_at = excluded.created_at`,
		t.UserID, t.ID, t.Sealed, t.CreatedAt.UnixMilli())
	return changed(res, err, "put pending totp", accounts.ErrTOTPEnabled)
}

func (s *Store) getTOTP(ctx context.Context, table, userID string) (*accounts.TOTPSecret, error) {
	q := `SELECT id, sealed, created_at, 0 FROM totp_pending WHERE user_id = ?`
	if table == "totp_secrets" {
		q = `SELECT id, sealed, created_at, last_step FROM totp_secrets WHERE user_id = ?`
	}
	t := &accounts.TOTPSecret{UserID: userID}
	var created int64
	if err := s.db.QueryRowContext(ctx, q, userID).Scan(&t.ID, &t.Sealed, &created, &t.LastStep); err != nil {
		return nil, notFound("get totp", err)
	}
	t.CreatedAt = time.UnixMilli(created).UTC()
	return t, nil
}

// GetPendingTOTP returns the pending secret.
func (s *Store) GetPendingTOTP(ctx context.Context, userID string) (*accounts.TOTPSecret, error) {
	return s.getTOTP(ctx, "totp_pending", userID)
}

// GetTOTP returns the confirmed secret.
func (s *Store) GetTOTP(ctx context.Context, userID string) (*accounts.TOTPSecret, error) {
	return s.getTOTP(ctx, "totp_secrets", userID)
}

// ConfirmTOTP moves the pending secret into totp_secrets in one
// transaction; the primary key of totp_secrets decides races.
func (s *Store) ConfirmTOTP(ctx context.Context, userID, pendingID string, step int64, hashes [][]byte, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: confirm totp: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO totp_secrets (user_id, id, sealed, last_step, created_at)
		SELECT user_id, id, sealed, ?, ? FROM totp_pending WHERE user_id = ? AND id = ?`,
		step, at.UnixMilli(), userID, pendingID)
	if code := errorCode(err); code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return accounts.ErrTOTPEnabled
	} else if err != nil {
		return fmt.Errorf("sqlitestore: confirm totp: %w", err)
	}
	if err := oneRow(res, "confirm totp"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM totp_pending WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlitestore: confirm totp: %w", err)
	}
	if err := replaceCodes(ctx, tx, userID, hashes); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: confirm totp: %w", err)
	}
	return nil
}

// AcceptTOTPStep is one compare-and-set UPDATE.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE totp_secrets SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, userID, step)
	if n, err := affected(res, err, "accept totp step"); err != nil || n == 1 {
		return err
	}
	if _, err := s.GetTOTP(ctx, userID); err != nil {
		return err
	}
	return accounts.ErrCodeReplayed
}

// DeleteTOTP removes both secrets and the recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete totp: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete totp: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: delete totp: %w", err)
	}
	for _, q := range []string{`DELETE FROM totp_pending WHERE user_id = ?`, `DELETE FROM recovery_codes WHERE user_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return fmt.Errorf("sqlitestore: delete totp: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: delete totp: %w", err)
	}
	if n == 0 {
		return accounts.ErrNotFound
	}
	return nil
}

func replaceCodes(ctx context.Context, tx *sql.Tx, userID string, hashes [][]byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlitestore: recovery codes: %w", err)
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
			return fmt.Errorf("sqlitestore: recovery codes: %w", err)
		}
	}
	return nil
}

// ReplaceRecoveryCodes swaps the whole set in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: recovery codes: %w", err)
	}
	defer tx.Rollback()
	if err := replaceCodes(ctx, tx, userID, hashes); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: recovery codes: %w", err)
	}
	return nil
}

// UseRecoveryCode is one DELETE: exactly one of concurrent uses removes the row.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?`, userID, hash)
	if err != nil {
		return fmt.Errorf("sqlitestore: use recovery code: %w", err)
	}
	return oneRow(res, "use recovery code")
}

// CountRecoveryCodes counts the unused codes.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ?`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: count recovery codes: %w", err)
	}
	return n, nil
}

// CreatePasskey inserts p if its user exists.
func (s *Store) CreatePasskey(ctx context.Context, p *accounts.Passkey) error {
	tr, err := json.Marshal(nonNilStrings(p.Transports))
	if err != nil {
		return fmt.Errorf("sqlitestore: create passkey: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO passkeys (id, user_id, user_handle, public_key, sign_count, transports, name, data, created_at, last_used_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)`,
		p.ID, p.UserID, p.UserHandle, p.PublicKey, int64(p.SignCount), string(tr), p.Name, p.Data,
		p.CreatedAt.UnixMilli(), millisOrZero(p.LastUsedAt), p.UserID)
	if code := errorCode(err); code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return accounts.ErrPasskeyExists
	} else if err != nil {
		return fmt.Errorf("sqlitestore: create passkey: %w", err)
	}
	return oneRow(res, "create passkey")
}

const passkeyColumns = `id, user_id, user_handle, public_key, sign_count, transports, name, data, created_at, last_used_at`

func scanPasskey(sc scanner) (*accounts.Passkey, error) {
	p := &accounts.Passkey{}
	var count, created, used int64
	var tr string
	if err := sc.Scan(&p.ID, &p.UserID, &p.UserHandle, &p.PublicKey, &count, &tr, &p.Name, &p.Data, &created, &used); err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	if err := json.Unmarshal([]byte(tr), &p.Transports); err != nil {
		return nil, err
	}
	p.CreatedAt = time.UnixMilli(created).UTC()
	if used != 0 {
		p.LastUsedAt = time.UnixMilli(used).UTC()
	}
	return p, nil
}

// GetPasskey returns the credential with this id.
func (s *Store) GetPasskey(ctx context.Context, id []byte) (*accounts.Passkey, error) {
	p, err := scanPasskey(s.db.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = ?`, id))
	if err != nil {
		return nil, notFound("get passkey", err)
	}
	return p, nil
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, userID string) ([]*accounts.Passkey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
	out, err := sqlitedb.Collect(rows, err, scanPasskey)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list passkeys: %w", err)
	}
	if out == nil {
		out = []*accounts.Passkey{}
	}
	return out, nil
}

// UpdatePasskeyUse records a sign-in with the passkey.
func (s *Store) UpdatePasskeyUse(ctx context.Context, id []byte, signCount uint32, data []byte, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE passkeys SET sign_count = ?, data = ?, last_used_at = ? WHERE id = ?`,
		int64(signCount), data, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("sqlitestore: update passkey: %w", err)
	}
	return oneRow(res, "update passkey")
}

// DeletePasskeyIfNotLast deletes in one statement whose condition is the
// last-method guard (see UnlinkIdentityIfNotLast).
func (s *Store) DeletePasskeyIfNotLast(ctx context.Context, userID string, id []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2
		AND (EXISTS (SELECT 1 FROM users WHERE id = ?2 AND password_hash != '')
		  OR EXISTS (SELECT 1 FROM identities WHERE user_id = ?2)
		  OR EXISTS (SELECT 1 FROM passkeys AS other WHERE other.user_id = ?2 AND other.id != ?1))`, id, userID)
	if n, err := affected(res, err, "delete passkey"); err != nil || n > 0 {
		return err
	}
	found, err := s.exists(ctx, "delete passkey", "passkeys", "id = ? AND user_id = ?", id, userID)
	switch {
	case err != nil:
		return err
	case found:
		return accounts.ErrLastLoginMethod
	}
	return accounts.ErrNotFound
}

// DeletePasskeys removes every passkey of the user.
func (s *Store) DeletePasskeys(ctx context.Context, userID string) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM passkeys WHERE user_id = ?`, userID)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete passkeys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PutCeremony stores ceremony state, dropping expired ones on the way.
func (s *Store) PutCeremony(ctx context.Context, id string, data []byte, expires time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("sqlitestore: put ceremony: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (id, data, expires_at) VALUES (?, ?, ?)`,
		id, data, expires.UnixMilli()); err != nil {
		return fmt.Errorf("sqlitestore: put ceremony: %w", err)
	}
	return nil
}

// TakeCeremony is one DELETE … RETURNING.
func (s *Store) TakeCeremony(ctx context.Context, id string, now time.Time) ([]byte, error) {
	var data []byte
	var exp int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE id = ? RETURNING data, expires_at`, id).Scan(&data, &exp)
	if err != nil {
		return nil, notFound("take ceremony", err)
	}
	if exp < now.UnixMilli() {
		return nil, accounts.ErrNotFound
	}
	return data, nil
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deleteFactors removes a deleted user's second factors and passkeys.
func deleteFactors(ctx context.Context, tx *sql.Tx, userID string) error {
	for _, table := range []string{"totp_pending", "totp_secrets", "recovery_codes", "passkeys"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlitestore: delete user: %s: %w", table, err)
		}
	}
	return nil
}

package sqlitestore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// consentSchema is migration 6: one row per (user, client, scope) granted,
// so that a grant is a set of inserts and concurrent grants add up.
var consentSchema = []string{
	`CREATE TABLE IF NOT EXISTS consents (
		user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		client_id  TEXT    NOT NULL,
		scope      TEXT    NOT NULL,
		granted_at INTEGER NOT NULL,                  -- Unix milliseconds
		PRIMARY KEY (user_id, client_id, scope)
	)`,
}

var _ accounts.ConsentStore = (*Store)(nil)

// GrantConsent inserts the scopes not granted yet, in one statement, only
// while the user exists.
func (s *Store) GrantConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error {
	if clientID == "" || len(scopes) == 0 {
		return fmt.Errorf("sqlitestore: grant consent: empty client or scopes")
	}
	list, err := json.Marshal(scopes)
	if err != nil {
		return fmt.Errorf("sqlitestore: grant consent: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO consents (user_id, client_id, scope, granted_at)
		SELECT ?, ?, j.value, ? FROM json_each(?) AS j WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)
		ON CONFLICT (user_id, client_id, scope) DO NOTHING`,
		userID, clientID, at.UnixMilli(), string(list), userID)
	if err != nil {
		if errorCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return accounts.ErrNotFound
		}
		return fmt.Errorf("sqlitestore: grant consent: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	// Nothing new: every scope was granted before, or there is no user.
	found, err := s.exists(ctx, "grant consent", "users", "id = ?", userID)
	if err == nil && !found {
		return accounts.ErrNotFound
	}
	return err
}

// GetConsent returns the user's consent for clientID.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (*accounts.Consent, error) {
	cs, err := s.consents(ctx, `WHERE user_id = ? AND client_id = ?`, userID, clientID)
	if err != nil || len(cs) == 0 {
		return nil, cmp.Or(err, accounts.ErrNotFound)
	}
	return cs[0], nil
}

// ListConsents returns the user's consents ordered by client id.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]*accounts.Consent, error) {
	return s.consents(ctx, `WHERE user_id = ?`, userID)
}

// consents reads the rows matching where and groups them by client.
func (s *Store) consents(ctx context.Context, where string, args ...any) ([]*accounts.Consent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, client_id, scope, granted_at FROM consents `+where+
		` ORDER BY client_id, scope`, args...)
	grants, err := sqlitedb.Collect(rows, err, func(sc scanner) (g accounts.ConsentGrant, err error) {
		var ms int64
		err = sc.Scan(&g.UserID, &g.ClientID, &g.Scope, &ms)
		g.GrantedAt = time.UnixMilli(ms).UTC()
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: read consents: %w", err)
	}
	return accounts.GroupConsents(grants), nil
}

// RevokeConsent deletes the user's consent for clientID in one statement.
func (s *Store) RevokeConsent(ctx context.Context, userID, clientID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
	return changed(res, err, "revoke consent", accounts.ErrNotFound)
}

// deleteConsents removes a user's consents inside DeleteUser's transaction.
func deleteConsents(ctx context.Context, tx *sql.Tx, userID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlitestore: delete user: consents: %w", err)
	}
	return nil
}

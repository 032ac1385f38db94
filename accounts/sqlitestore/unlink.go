package sqlitestore

import (
	"context"
	"fmt"

	"github.com/unilogin/unilogin/accounts"
)

// UnlinkIdentityIfNotLast deletes the user's identity at provider in one
// statement whose condition is the last-method guard: the user has a
// password, another identity, or a passkey. SQLite runs a statement as one atomic
// step (writers are serialized, also across processes), so two concurrent
// unlinks of a password-less user's last two identities cannot both see
// the other identity. Only when nothing was deleted does a second read
// tell ErrNotFound from ErrLastLoginMethod.
func (s *Store) UnlinkIdentityIfNotLast(ctx context.Context, userID, provider string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM identities WHERE user_id = ? AND provider = ?
		AND (EXISTS (SELECT 1 FROM users WHERE id = ? AND password_hash != '')
		  OR EXISTS (SELECT 1 FROM identities AS other WHERE other.user_id = ? AND other.provider != ?)
		  OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?))`,
		userID, provider, userID, userID, provider, userID)
	if n, err := affected(res, err, "unlink identity"); err != nil || n > 0 {
		return err
	}
	var linked bool
	if err := s.db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM identities WHERE user_id = ? AND provider = ?)`, userID, provider).Scan(&linked); err != nil {
		return fmt.Errorf("sqlitestore: unlink identity: %w", err)
	}
	if linked {
		return accounts.ErrLastLoginMethod
	}
	return accounts.ErrNotFound
}

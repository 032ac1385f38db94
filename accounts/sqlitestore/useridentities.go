package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// userWithIdentitiesSQL reads a user and their identities in one query:
// no row means no user, one row with NULL identity columns no identities.
const userWithIdentitiesSQL = `SELECT u.id, u.email, u.email_verified, u.name, u.password_hash, u.roles,
	u.disabled, u.created_at, u.updated_at, i.provider, i.subject, i.email, i.linked_at
	FROM users u LEFT JOIN identities i ON i.user_id = u.id
	WHERE u.id = ? ORDER BY i.provider, i.subject`

// GetUserWithIdentities returns the user with this id and their identities
// ordered by provider, then subject (an empty list when there are none),
// from one prepared query.
func (s *Store) GetUserWithIdentities(ctx context.Context, id string) (*accounts.User, []*accounts.Identity, error) {
	rows, err := s.userWithIdentities.QueryContext(s.readCtx(ctx), id)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitestore: get user with identities: %w", err)
	}
	defer rows.Close()
	var (
		u   *accounts.User
		ids = []*accounts.Identity{}
	)
	for rows.Next() {
		var (
			x                accounts.User
			roles            string
			created, updated int64
			provider         sql.NullString
			subject, email   sql.NullString
			linked           sql.NullInt64
		)
		if err := rows.Scan(&x.ID, &x.Email, &x.EmailVerified, &x.Name, &x.PasswordHash, &roles, &x.Disabled,
			&created, &updated, &provider, &subject, &email, &linked); err != nil {
			return nil, nil, fmt.Errorf("sqlitestore: get user with identities: %w", err)
		}
		if u == nil {
			if err := finishUser(&x, roles, created, updated); err != nil {
				return nil, nil, err
			}
			u = &x
		}
		if provider.Valid {
			ids = append(ids, &accounts.Identity{Provider: provider.String, Subject: subject.String,
				UserID: u.ID, Email: email.String, LinkedAt: time.UnixMilli(linked.Int64).UTC()})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("sqlitestore: get user with identities: %w", err)
	}
	if u == nil {
		return nil, nil, accounts.ErrNotFound
	}
	return u, ids, nil
}

// ListIdentities returns the user's identities ordered by provider, then
// subject. ErrNotFound when the user does not exist; an empty list when it
// has none.
func (s *Store) ListIdentities(ctx context.Context, userID string) ([]*accounts.Identity, error) {
	_, ids, err := s.GetUserWithIdentities(ctx, userID)
	return ids, err
}

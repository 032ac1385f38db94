package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unilogin/unilogin/accounts"

	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// The query shapes the store's files share. op names the operation in
// errors ("sqlitestore: <op>: ...").

// notFound is the answer to a failed read of one row: sql.ErrNoRows is
// accounts.ErrNotFound, anything else a wrapped error.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return accounts.ErrNotFound
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// exists reports whether the row that cond (a WHERE clause over table)
// selects with args exists.
func (s *Store) exists(ctx context.Context, op, table, cond string, args ...any) (bool, error) {
	var found bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE `+cond+`)`, args...).Scan(&found); err != nil {
		return false, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return found, nil
}

// page returns the first limit rows of query (its ORDER BY the key of a
// keyset pagination) with args, each read by scan; nothing when limit is
// zero or less.
func page[T any](ctx context.Context, s *Store, op, query string, args []any, limit int, scan func(scanner) (T, error)) ([]T, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, query+` LIMIT ?`, append(args, limit)...)
	out, err := sqlitedb.Collect(rows, err, scan)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return out, nil
}

package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/session"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// sqliteRefresh is the embedded store's api.RefreshAdvancer: the common
// step of a refresh (session.Store.AdvanceRefresh) on the condition that
// the session's user exists and is not disabled (the rule of
// accounts.Service.GetActive), returning the session and what the tokens
// say about the user, in one prepared statement on the writer, where the
// stores' tables share one database file. A refresh thus writes once and
// reads nothing besides, and still checks the user at every request; a
// disabled or deleted user's token is left unspent (the write matches
// nothing, and the grant's read path refuses the user).
type sqliteRefresh struct {
	stmt *sql.Stmt
}

// refreshUserColumns are the columns of the user a refresh reads: what
// the tokens say about the user (api.Server.Subject).
var refreshUserColumns = []string{"email", "email_verified", "name", "roles"}

// newSQLiteRefresh prepares the statement on the writer db.
func newSQLiteRefresh(ctx context.Context, db *sql.DB) (*sqliteRefresh, error) {
	// RETURNING names only the updated table: each user column is a
	// subquery (a primary-key lookup) after the session's columns.
	cols := make([]string, len(refreshUserColumns))
	for i, c := range refreshUserColumns {
		cols[i] = "(SELECT u." + c + " FROM users u WHERE u.id = sessions.user_id)"
	}
	q := sessionsqlite.AdvanceSQL(" AND EXISTS (SELECT 1 FROM users u WHERE u.id = sessions.user_id AND u.disabled = 0)", cols...)
	stmt, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("refresh step: prepare: %w", err)
	}
	return &sqliteRefresh{stmt: stmt}, nil
}

// AdvanceRefresh implements api.RefreshAdvancer.
func (r *sqliteRefresh) AdvanceRefresh(ctx context.Context, a *session.Advance) (*session.Session, *accounts.User, error) {
	row := r.stmt.QueryRowContext(ctx, sessionsqlite.AdvanceArgs(a, time.Now())...)
	var (
		u     accounts.User
		roles string
	)
	// The row is the session's columns, then the user's.
	s, err := sessionsqlite.ScanSession(scanFunc(func(dest ...any) error {
		return row.Scan(append(dest, &u.Email, &u.EmailVerified, &u.Name, &roles)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, session.ErrNotFound
	} else if err != nil {
		return nil, nil, fmt.Errorf("refresh step: %w", err)
	}
	if u.Roles, err = sqlitedb.DecodeStrings(roles); err != nil {
		return nil, nil, fmt.Errorf("refresh step: roles: %w", err)
	}
	u.ID = s.UserID
	return s, &u, nil
}

// timedRefresh times and guards the joined step like every store call.
type timedRefresh struct {
	r api.RefreshAdvancer
	d *deco
}

func (t *timedRefresh) AdvanceRefresh(ctx context.Context, a *session.Advance) (s *session.Session, u *accounts.User, err error) {
	err = do(t.d, ctx, "AdvanceRefresh", func(ctx context.Context) (err error) {
		s, u, err = t.r.AdvanceRefresh(ctx, a)
		return err
	})
	return s, u, err
}

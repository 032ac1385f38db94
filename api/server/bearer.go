package server

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	accountssqlite "github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/prom"
	"github.com/unilogin/unilogin/session"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// sqliteBearer is the embedded store's api.BearerReader: the session, its
// user and (when asked, for GET /users/me) the user's identities and
// second factors in one prepared query on the read pool, where the
// stores' tables share one database file. A bearer
// check (every GET /users/me) thus reads the store once, and still reads
// it every time: revocation, disabling and deletion take effect at the
// next request.
type sqliteBearer struct {
	stmt *sql.Stmt
}

// newSQLiteBearer prepares the joined read on reader.
func newSQLiteBearer(ctx context.Context, reader *sql.DB) (*sqliteBearer, error) {
	// The factors as mfa.Service.Status counts them: a confirmed TOTP
	// secret, the passkeys, the recovery codes left (while TOTP is on).
	q := `SELECT ` + qualify("s", sessionsqlite.SessionColumns) + `, ` + qualify("u", accountssqlite.UserColumns) + `,
		i.provider, i.subject, i.email, i.linked_at,
		CASE WHEN ?3 THEN (SELECT count(*) FROM totp_secrets t WHERE t.user_id = u.id) ELSE 0 END,
		CASE WHEN ?3 THEN (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id) ELSE 0 END,
		CASE WHEN ?3 THEN (SELECT count(*) FROM recovery_codes r WHERE r.user_id = u.id) ELSE 0 END
		FROM sessions s JOIN users u ON u.id = s.user_id
		LEFT JOIN identities i ON ?3 AND i.user_id = u.id
		WHERE s.id = ?1 AND s.expires_at >= ?2
		ORDER BY i.provider, i.subject`
	stmt, err := reader.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("bearer read: prepare: %w", err)
	}
	return &sqliteBearer{stmt: stmt}, nil
}

// qualify prefixes every column of a comma-separated list with table.
func qualify(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// ReadBearer implements api.BearerReader.
func (b *sqliteBearer) ReadBearer(ctx context.Context, sessionID string, all bool) (*api.BearerRead, error) {
	// A point read on the read pool (sqlitedb.PointReadContext).
	rows, err := b.stmt.QueryContext(sqlitedb.PointReadContext(ctx, true), sessionID, time.Now().UnixMilli(), all)
	if err != nil {
		return nil, fmt.Errorf("bearer read: %w", err)
	}
	defer rows.Close()
	var (
		s   *session.Session
		u   *accounts.User
		ids = []*accounts.Identity{}
		t   bearerTail
	)
	// The row is the session's columns, the user's, then one identity's and
	// the factor counts. Each decoder hands over the destinations of its
	// columns to the scan it wraps and decodes once that has returned; the
	// innermost scans them all, into one slice kept for every row.
	var (
		tail     = []any{&t.provider, &t.subject, &t.email, &t.linked, &t.totp, &t.passkeys, &t.codes}
		dest     = make([]any, 0, 32)
		userDest []any
		sess     *session.Session
	)
	scanSession := scanFunc(func(sessDest ...any) error {
		dest = append(append(append(dest[:0], sessDest...), userDest...), tail...)
		return rows.Scan(dest...)
	})
	scanUser := scanFunc(func(ud ...any) error {
		userDest = ud
		var err error
		sess, err = sessionsqlite.ScanSession(scanSession)
		return err
	})
	for rows.Next() {
		user, err := accountssqlite.ScanUser(scanUser)
		if err != nil {
			return nil, fmt.Errorf("bearer read: %w", err)
		}
		if s == nil {
			s, u = sess, user
		}
		if t.provider.Valid {
			ids = append(ids, &accounts.Identity{Provider: t.provider.String, Subject: t.subject.String,
				UserID: u.ID, Email: t.email.String, LinkedAt: time.UnixMilli(t.linked.Int64).UTC()})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bearer read: %w", err)
	}
	if s == nil || u == nil {
		return nil, nil
	}
	r := &api.BearerRead{Session: s, User: u}
	if all {
		r.Identities = ids
		r.MFA = &mfa.Status{TOTP: t.totp > 0, Passkeys: t.passkeys}
		if r.MFA.TOTP {
			r.MFA.RecoveryCodesLeft = t.codes
		}
	}
	return r, nil
}

// bearerTail are the columns of a bearer row after the session's and the
// user's: one identity (NULL without) and the factor counts.
type bearerTail struct {
	provider, subject, email sql.NullString
	linked                   sql.NullInt64
	totp, passkeys, codes    int
}

// scanFunc is a sqlitedb.Scanner from a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// timedBearer times and guards the joined read like every store call.
type timedBearer struct {
	b api.BearerReader
	h *prom.HistogramVec
	g *dbGuard

	once sync.Once
	o    *prom.Histogram // h's histogram of the read, looked up once
}

func (t *timedBearer) ReadBearer(ctx context.Context, sessionID string, all bool) (_ *api.BearerRead, err error) {
	t.once.Do(func() { t.o = t.h.WithLabelValues("sessions", "ReadBearer") })
	start := time.Now()
	ctx, done := t.g.enter(ctx, "ReadBearer", func() { t.o.Observe(time.Since(start).Seconds()) })
	defer func() { err = done(err) }()
	return t.b.ReadBearer(ctx, sessionID, all)
}

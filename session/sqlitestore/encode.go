package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

type rowScanner = sqlitedb.Scanner

// SessionColumns are the columns ScanSession reads, in order (table
// sessions): for a read that joins other tables to a session, in the
// server assembly.
const SessionColumns = sessionColumns

// ScanSession decodes a row whose first columns are SessionColumns; r may
// append further destinations for the columns after them.
func ScanSession(r sqlitedb.Scanner) (*session.Session, error) { return scanSession(r) }

func scanSession(r rowScanner) (*session.Session, error) {
	var x session.Session
	var amr string
	var created, expires int64
	var lastUsed, rotated, refreshExpires sql.NullInt64
	if err := r.Scan(&x.ID, &x.UserID, &x.ClientID, &amr, &x.Scope, &x.UserAgent,
		&created, &lastUsed, &expires, &x.RefreshHash, &x.RefreshGen, &rotated, &refreshExpires); err != nil {
		return nil, err
	}
	x.RotatedAt, x.RefreshExpiresAt = fromNullMillis(rotated), fromNullMillis(refreshExpires)
	var err error
	if x.AMR, err = decodeStrings(amr); err != nil {
		return nil, err
	}
	x.CreatedAt, x.LastUsedAt, x.ExpiresAt = fromMillis(created), fromNullMillis(lastUsed), fromMillis(expires)
	return &x, nil
}

// wrap maps driver errors to the session sentinels and prefixes the rest.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return session.ErrNotFound
	case errors.Is(err, session.ErrNotFound):
		return err
	case isUniqueViolation(err):
		return session.ErrAlreadyExists
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// isUniqueViolation tells a duplicate key by SQLite's extended result code
// (the driver turns extended codes on), never by the message.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

// affectedOne turns "no row matched" into ErrNotFound.
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// nullMillis stores the zero time as NULL, so "not set" never compares as
// a date (a key in service has no expiry and must never be swept).
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMillis(v.Int64)
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func encodeStrings(v []string) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlitestore: encode %q: %w", v, err)
	}
	return string(b), nil
}

func decodeStrings(s string) ([]string, error) {
	v, err := sqlitedb.DecodeStrings(s)
	if err != nil {
		return nil, fmt.Errorf("decode string list: %w", err)
	}
	return v, nil
}

// Package sqlitetest opens an accounts SQLite store for the tests of the
// packages built on it (accounts, mail, mfa): a fresh file in the test's
// temporary directory, opened as the server opens it (sqlitedb.Open).
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// New returns a store on a new, empty file, closed when the test ends.
func New(t testing.TB) *sqlitestore.Store {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "u.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlitestore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

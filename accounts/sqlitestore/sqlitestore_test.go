package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/accountstest"
	"github.com/unilogin/unilogin/accounts/sqlitestore"
)

// openDB opens a database file the way the service does. maxConns 1 is the
// service's setting; 0 leaves the pool unlimited, so that concurrent calls
// meet SQLite's own locking.
func openDB(t *testing.T, path string, maxConns int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	db.SetMaxOpenConns(maxConns)
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T, db *sql.DB) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.New(t.Context(), db)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// fresh is a factory of stores on new files for the conformance suites;
// maxConns as for openDB.
func fresh[S any](maxConns int) func(t *testing.T) S {
	return func(t *testing.T) S {
		return any(newStore(t, openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), maxConns))).(S)
	}
}

func TestConformance(t *testing.T) { accountstest.Run(t, fresh[accounts.Store](1)) }

// The hot reads on a second pool beside the one-connection writer, as the
// server runs them: every read after a write must see it.
func TestConformanceReadPool(t *testing.T) {
	accountstest.Run(t, func(t *testing.T) accounts.Store {
		path := filepath.Join(t.TempDir(), "unilogin.db")
		db := openDB(t, path, 1)
		s, err := sqlitestore.NewWithReader(t.Context(), db, openDB(t, path, 4))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceConnectionPool(t *testing.T) {
	if testing.Short() {
		t.Skip("the one-connection run covers the logic; this one adds SQLite's locking")
	}
	accountstest.Run(t, fresh[accounts.Store](0))
}

func TestDataSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "unilogin.db")

	db := openDB(t, path, 1)
	s := newStore(t, db)
	u := &accounts.User{ID: "0190c0de-0000-7000-8000-000000000001", Email: "Reopen@Example.com", Roles: []string{"admin"},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "github", Subject: "7", UserID: u.ID}); err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = newStore(t, openDB(t, path, 1)) // migrating an up-to-date file is a no-op
	got, err := s.GetUserByEmail(ctx, "reopen@example.com")
	if err != nil {
		t.Fatalf("GetUserByEmail after reopening: %v", err)
	}
	if got.ID != u.ID || len(got.Roles) != 1 || got.Roles[0] != "admin" {
		t.Errorf("after reopening got %+v, want %+v", *got, *u)
	}
	id, err := s.GetIdentity(ctx, "github", "7")
	if err != nil || id.UserID != u.ID {
		t.Errorf("GetIdentity after reopening = %v, %v; want user %s", id, err, u.ID)
	}
	if err := s.CreateUser(ctx, &accounts.User{ID: "0190c0de-0000-7000-8000-000000000002", Email: "REOPEN@example.com"}); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Errorf("CreateUser(taken e-mail) after reopening: err = %v, want ErrEmailTaken", err)
	}
}

// TestSharedFile checks that the store coexists with another component's
// tables and migration row in the same file.
func TestSharedFile(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 1)
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (component TEXT NOT NULL PRIMARY KEY, version INTEGER NOT NULL)`,
		`INSERT INTO schema_migrations VALUES ('session', 3)`,
		`CREATE TABLE sessions (id TEXT PRIMARY KEY)`,
		`INSERT INTO sessions VALUES ('s1')`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	newStore(t, db)
	newStore(t, db) // idempotent

	var session, accountsVersion int
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = 'session'`).Scan(&session); err != nil || session != 3 {
		t.Errorf("session's schema version = %d, %v; want 3 untouched", session, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = 'accounts'`).Scan(&accountsVersion); err != nil || accountsVersion < 1 {
		t.Errorf("accounts' schema version = %d, %v; want >= 1", accountsVersion, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("sessions rows = %d, %v; want 1 untouched", n, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "unilogin.db"), 1)
	newStore(t, db)
	if _, err := db.ExecContext(ctx, `UPDATE schema_migrations SET version = version + 1 WHERE component = 'accounts'`); err != nil {
		t.Fatal(err)
	}
	_, err := sqlitestore.New(ctx, db)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("New on a newer schema: err = %v, want a refusal", err)
	}
}

// TestConcurrentOpen migrates one new file from several pools at once, as
// two processes starting together would.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unilogin.db")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errs := make(chan error, 4)
	for range cap(errs) {
		db := openDB(t, path, 1)
		go func() {
			_, err := sqlitestore.New(ctx, db)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("New: %v", err)
		}
	}
}

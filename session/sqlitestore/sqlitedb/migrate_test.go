package sqlitedb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

func version(t *testing.T, db *sql.DB, component string) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Two components share the file and schema_migrations; each migration
// runs once, its Go step in the same transaction; a newer version is
// refused.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "m.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	goRuns := 0
	a := []sqlitedb.Migration{
		{SQL: []string{`CREATE TABLE a (x INTEGER)`}},
		{SQL: []string{`INSERT INTO a VALUES (1)`}, Go: func(ctx context.Context, tx *sql.Tx) error {
			goRuns++
			_, err := tx.ExecContext(ctx, `INSERT INTO a VALUES (2)`)
			return err
		}},
	}
	b := []sqlitedb.Migration{{SQL: []string{`CREATE TABLE b (y TEXT)`}}}
	for range 2 {
		if err := sqlitedb.Migrate(ctx, db, "a", a); err != nil {
			t.Fatal(err)
		}
		if err := sqlitedb.Migrate(ctx, db, "b", b); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM a`).Scan(&n); err != nil || n != 2 || goRuns != 1 {
		t.Fatalf("rows in a = %d (%v), Go step ran %d times; want 2 rows, once", n, err, goRuns)
	}
	if version(t, db, "a") != 2 || version(t, db, "b") != 1 {
		t.Fatalf("versions a=%d b=%d, want 2 and 1", version(t, db, "a"), version(t, db, "b"))
	}
	if err := sqlitedb.Migrate(ctx, db, "a", a[:1]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("an older binary on a newer schema: %v, want a refusal", err)
	}
	// A failing migration leaves the previous schema and version.
	bad := append(b, sqlitedb.Migration{SQL: []string{`CREATE TABLE c (z)`, `NOT SQL`}})
	if err := sqlitedb.Migrate(ctx, db, "b", bad); err == nil {
		t.Fatal("a failing migration succeeded")
	}
	if version(t, db, "b") != 1 {
		t.Fatalf("version after a failed migration = %d, want 1", version(t, db, "b"))
	}
	if err := db.QueryRow(`SELECT count(*) FROM c`).Scan(&n); err == nil {
		t.Fatal("the failed migration's first statement was kept")
	}
}

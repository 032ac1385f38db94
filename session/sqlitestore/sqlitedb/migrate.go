package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Migration takes a component's schema from one version to the next: its
// statements, then Go (may be nil) in the same transaction, for changes
// that SQL alone cannot make. Append only: a released migration is never
// edited, because files in the field have recorded it as applied.
type Migration struct {
	SQL []string
	Go  func(ctx context.Context, tx *sql.Tx) error
}

// Migrate brings component's tables to len(migrations), recording the
// version in schema_migrations, a table every component shares. It runs
// in one transaction, so a crash leaves the old schema or the new one, and
// is safe to run from several processes at once on the same file: the
// first statement writes, so the transaction takes SQLite's write lock at
// once (waiting up to busy_timeout); one that read first and wrote later
// could fail with SQLITE_BUSY_SNAPSHOT in WAL mode when another process
// migrated in between. A version newer than migrations is refused: an old
// binary must not run on a newer database.
func Migrate(ctx context.Context, db *sql.DB, component string, migrations []Migration) error {
	// The first statement on a new connection also runs its pragmas; while
	// another process switches a new file to WAL, SQLite can answer
	// SQLITE_BUSY without calling the busy handler, so this step retries.
	if err := retryBusy(ctx, func() error {
		_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			component TEXT    NOT NULL PRIMARY KEY,
			version   INTEGER NOT NULL
		)`)
		return err
	}); err != nil {
		return fmt.Errorf("sqlitedb: create schema_migrations: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: %w", component, err)
	}
	defer tx.Rollback() // a no-op after Commit

	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (component, version) VALUES (?, 0) ON CONFLICT (component) DO NOTHING`,
		component); err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: %w", component, err)
	}
	var stored sql.NullInt64 // NULL in files of older versions: nothing applied
	if err := tx.QueryRowContext(ctx,
		`SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&stored); err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: read version: %w", component, err)
	}
	version := int(stored.Int64)
	if version > len(migrations) {
		return fmt.Errorf("sqlitedb: schema version %d of %q is newer than this binary knows (%d): refusing to run an old binary on a newer database",
			version, component, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for i := version; i < len(migrations); i++ {
		for _, stmt := range migrations[i].SQL {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlitedb: migrate %s to version %d: %w", component, i+1, err)
			}
		}
		if step := migrations[i].Go; step != nil {
			if err := step(ctx, tx); err != nil {
				return fmt.Errorf("sqlitedb: migrate %s to version %d: %w", component, i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE schema_migrations SET version = ? WHERE component = ?`, len(migrations), component); err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: record version: %w", component, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: commit: %w", component, err)
	}
	return nil
}

// retryBusy runs f until it succeeds, fails with anything but SQLITE_BUSY,
// 5 s have passed or ctx ends, waiting 10 ms more after each try.
func retryBusy(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 10 * time.Millisecond; ; wait += 10 * time.Millisecond {
		err := f()
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

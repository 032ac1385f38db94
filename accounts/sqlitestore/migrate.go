package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// component is this package's row in schema_migrations. Other components
// that share the database file keep their own rows in the same table.
const component = "accounts"

// migrations[i] takes the accounts schema from version i to i+1. Append
// only: a released entry is never edited, because files in the field have
// already recorded it as applied.
var migrations = [][]string{
	// 1: users and linked identities.
	{
		`CREATE TABLE IF NOT EXISTS users (
			id             TEXT    NOT NULL PRIMARY KEY,
			email          TEXT    NOT NULL DEFAULT '',   -- as entered
			email_key      TEXT    UNIQUE,                -- accounts.NormalizeEmail(email); NULL when none, and NULLs never collide
			email_verified INTEGER NOT NULL DEFAULT 0,
			name           TEXT    NOT NULL DEFAULT '',
			password_hash  TEXT    NOT NULL DEFAULT '',
			roles          TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings, order kept
			disabled       INTEGER NOT NULL DEFAULT 0,
			created_at     INTEGER NOT NULL,              -- Unix milliseconds (the precision MongoDB keeps too)
			updated_at     INTEGER NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS identities (
			provider  TEXT    NOT NULL,
			subject   TEXT    NOT NULL,
			user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			email     TEXT    NOT NULL DEFAULT '',
			linked_at INTEGER NOT NULL,                   -- Unix milliseconds
			PRIMARY KEY (provider, subject)
		)`,
		`CREATE INDEX IF NOT EXISTS identities_user_id ON identities (user_id)`,
	},
	// 2: the audit log of administrative actions (audit.go).
	{
		`CREATE TABLE IF NOT EXISTS audit_events (
			id      TEXT    NOT NULL PRIMARY KEY,         -- UUIDv7: sorts by time
			time    INTEGER NOT NULL,                     -- Unix milliseconds
			actor   TEXT    NOT NULL,
			action  TEXT    NOT NULL,
			target  TEXT    NOT NULL DEFAULT '',
			details TEXT    NOT NULL DEFAULT '{}',        -- JSON object of strings
			ip      TEXT    NOT NULL DEFAULT ''
		)`,
	},
	// 3: the outgoing mail queue and its per-recipient counters (mailqueue.go).
	mailQueueSchema,
}

// migrate brings the accounts tables to the newest schema version. It is
// safe to run from several processes at once on the same file.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT    NOT NULL PRIMARY KEY,
		version   INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlitestore: create schema_migrations: %w", err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit

	// The first statement writes, so the transaction takes SQLite's write
	// lock at once (waiting up to busy_timeout). A transaction that read first
	// and wrote later could instead fail with SQLITE_BUSY_SNAPSHOT in WAL mode
	// when another process migrated in between.
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (component, version) VALUES (?, 0) ON CONFLICT (component) DO NOTHING`,
		component); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	var version int
	if err := tx.QueryRowContext(ctx,
		`SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&version); err != nil {
		return fmt.Errorf("sqlitestore: migrate: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("sqlitestore: schema version %d of %q is newer than this binary knows (%d): refusing to run an old binary on a newer database",
			version, component, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for i := version; i < len(migrations); i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlitestore: migrate to version %d: %w", i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE schema_migrations SET version = ? WHERE component = ?`, len(migrations), component); err != nil {
		return fmt.Errorf("sqlitestore: migrate: record version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: migrate: commit: %w", err)
	}
	return nil
}

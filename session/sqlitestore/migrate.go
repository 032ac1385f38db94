package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// component is this package's row in schema_migrations, a table it shares
// with the other components (e.g. "accounts") that keep tables in the file.
const component = "session"

// migrations are applied in order; the version stored for component is how
// many have run. Append only: never edit one that has shipped.
//
// Times are INTEGER unix milliseconds UTC (the precision MongoDB keeps too,
// so both backends behave alike); a nullable time column is NULL for the
// zero time. Hashes are BLOBs of the raw SHA-256.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE sessions (
	id           TEXT    NOT NULL PRIMARY KEY,
	user_id      TEXT    NOT NULL,
	client_id    TEXT    NOT NULL,
	amr          TEXT    NOT NULL, -- JSON array of strings
	scope        TEXT    NOT NULL,
	user_agent   TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	expires_at   INTEGER NOT NULL
) STRICT;
-- ListSessions reads a user's sessions newest first straight from this index.
CREATE INDEX sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE refresh_tokens (
	hash        BLOB    NOT NULL PRIMARY KEY,
	session_id  TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	parent_hash BLOB,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE auth_codes (
	hash                  BLOB    NOT NULL PRIMARY KEY,
	client_id             TEXT    NOT NULL,
	redirect_uri          TEXT    NOT NULL,
	code_challenge        TEXT    NOT NULL,
	code_challenge_method TEXT    NOT NULL,
	user_id               TEXT    NOT NULL,
	amr                   TEXT    NOT NULL, -- JSON array of strings
	payload               BLOB,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE claims (
	key        TEXT    NOT NULL PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX claims_expires_at ON claims (expires_at);

CREATE TABLE signing_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	algorithm  TEXT    NOT NULL,
	sealed     BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	active_at  INTEGER,
	retired_at INTEGER,
	expires_at INTEGER -- NULL while in service: never swept
) STRICT, WITHOUT ROWID;

CREATE TABLE secrets (
	name  TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
) STRICT, WITHOUT ROWID;
`,
	// 2: shared rate-limit counters (ratelimit.go), one row per key and
	// fixed window, swept by DeleteExpired once the window has ended.
	`
CREATE TABLE rate_counters (
	key          TEXT    NOT NULL,
	window_ms    INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL, -- the window's end
	PRIMARY KEY (key, window_ms, window_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX rate_counters_expires_at ON rate_counters (expires_at);
`,
	// 3: the session row holds its current refresh token (the hash of the
	// head of its HMAC chain, session/manager.go), so a rotation is one
	// UPDATE and no longer a row per token. Sessions from before keep
	// refresh_hash NULL until their first rotation; their refresh_tokens
	// rows stay readable until they expire.
	`
ALTER TABLE sessions ADD COLUMN refresh_hash BLOB;
ALTER TABLE sessions ADD COLUMN refresh_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
ALTER TABLE sessions ADD COLUMN refresh_expires_at INTEGER;
`,
}

// migrate brings the session tables up to date in one transaction, so a
// crash leaves either the old schema or the new one. The transaction begins
// IMMEDIATE (see OpenDB), so two processes starting together apply each
// migration once.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	if _, err := tx.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER)`); err != nil {
		return err
	}
	var stored sql.NullInt64
	err = tx.QueryRowContext(ctx,
		`SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	version := int(stored.Int64) // no row, or NULL: nothing applied yet
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d): downgrade not supported",
			version, len(migrations))
	}
	if version == len(migrations) {
		return tx.Commit()
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (component, version) VALUES (?, ?)
		 ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
		component, len(migrations)); err != nil {
		return err
	}
	return tx.Commit()
}

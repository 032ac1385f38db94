package sqlitestore

import (
	"context"
	"database/sql"

	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
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
var migrations = []sqlitedb.Migration{
	// 1: initial schema.
	{SQL: []string{`
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
`}},
	// 2: shared rate-limit counters (ratelimit.go), one row per key and
	// fixed window, swept by DeleteExpired once the window has ended.
	{SQL: []string{`
CREATE TABLE rate_counters (
	key          TEXT    NOT NULL,
	window_ms    INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL, -- the window's end
	PRIMARY KEY (key, window_ms, window_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX rate_counters_expires_at ON rate_counters (expires_at);
`}},
	// 3: the session row holds its current refresh token (the hash of the
	// head of its HMAC chain, session/manager.go), so a rotation is one
	// UPDATE and no longer a row per token. Sessions from before keep
	// refresh_hash NULL until their first rotation; their refresh_tokens
	// rows stay readable until they expire.
	{SQL: []string{`
ALTER TABLE sessions ADD COLUMN refresh_hash BLOB;
ALTER TABLE sessions ADD COLUMN refresh_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
ALTER TABLE sessions ADD COLUMN refresh_expires_at INTEGER;
`}},
}

// migrate brings the session tables up to date (sqlitedb.Migrate).
func migrate(ctx context.Context, db *sql.DB) error {
	return sqlitedb.Migrate(ctx, db, component, migrations)
}

package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// component is this package's row in schema_migrations. Other components
// that share the database file keep their own rows in the same table.
const component = "accounts"

// migrations[i] takes the accounts schema from version i to i+1. Append
// only: a released entry is never edited, because files in the field have
// already recorded it as applied.
var migrations = []sqlitedb.Migration{
	// 1: users and linked identities.
	{SQL: []string{
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
	}},
	// 2: the audit log of administrative actions (audit.go).
	{SQL: []string{
		`CREATE TABLE IF NOT EXISTS audit_events (
			id      TEXT    NOT NULL PRIMARY KEY,         -- UUIDv7: sorts by time
			time    INTEGER NOT NULL,                     -- Unix milliseconds
			actor   TEXT    NOT NULL,
			action  TEXT    NOT NULL,
			target  TEXT    NOT NULL DEFAULT '',
			details TEXT    NOT NULL DEFAULT '{}',        -- JSON object of strings
			ip      TEXT    NOT NULL DEFAULT ''
		)`,
	}},
	// 3: at most one identity per (user, provider). Duplicates that older
	// versions let a race create are resolved first: the earliest linked
	// (then the smallest subject) stays, as the one the user had first.
	{SQL: []string{
		`DELETE FROM identities WHERE EXISTS (
			SELECT 1 FROM identities AS o
			WHERE o.user_id = identities.user_id AND o.provider = identities.provider
			  AND (o.linked_at < identities.linked_at OR (o.linked_at = identities.linked_at AND o.subject < identities.subject)))`,
		`CREATE UNIQUE INDEX IF NOT EXISTS identities_user_provider ON identities (user_id, provider)`,
	}},
	// 4: email_key in the format of accounts.NormalizeEmail that folds only
	// ASCII and converts domains to A-labels; it was strings.ToLower. Keys of
	// ASCII addresses are unchanged; rekeyEmails recomputes the others.
	{Go: rekeyEmails},
	// 5: the outgoing mail queue and its per-recipient counters (mailqueue.go).
	{SQL: mailQueueSchema},
	// 6: consents of users to third-party clients (consent.go).
	{SQL: consentSchema},
	// 7: e-mail tokens: verification, reset, address change (emailtoken.go).
	{SQL: emailTokenSchema},
	// 8: second factors, passkeys and WebAuthn ceremonies (factors.go).
	{SQL: factorSchema},
}

// migrate brings the accounts tables to the newest schema version
// (sqlitedb.Migrate).
func migrate(ctx context.Context, db *sql.DB) error {
	return sqlitedb.Migrate(ctx, db, component, migrations)
}

// rekeyEmails sets email_key to accounts.NormalizeEmail(email) where it
// differs (only addresses with non-ASCII characters). Should two users'
// new keys collide (possible only for addresses an older version already
// told apart, such as a U-label and an A-label form of one domain), the
// later one keeps its old key: it still matches its exact old form, and
// no account is merged into another.
func rekeyEmails(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_key FROM users WHERE email_key IS NOT NULL ORDER BY id`)
	if err != nil {
		return fmt.Errorf("rekey e-mails: %w", err)
	}
	type change struct{ id, key string }
	var changes []change
	for rows.Next() {
		var id, email, key string
		if err := rows.Scan(&id, &email, &key); err != nil {
			rows.Close()
			return fmt.Errorf("rekey e-mails: %w", err)
		}
		if k := accounts.NormalizeEmail(email); k != key && k != "" {
			changes = append(changes, change{id, k})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rekey e-mails: %w", err)
	}
	rows.Close()
	for _, c := range changes {
		_, err := tx.ExecContext(ctx, `UPDATE users SET email_key = ? WHERE id = ?`, c.key, c.id)
		if err != nil && errorCode(err) != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return fmt.Errorf("rekey e-mails: %w", err)
		}
	}
	return nil
}

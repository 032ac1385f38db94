// Package sqlitestore implements accounts.Store on SQLite (the embedded,
// pure-Go modernc.org/sqlite driver, registered as "sqlite"). It owns the
// tables users and identities and the "accounts" row of schema_migrations in
// a database file that it shares with other components; the caller opens and
// closes the *sql.DB. E-mail and (provider, subject) uniqueness are enforced
// by unique keys, so every write that must be atomic is a single statement
// or a transaction whose first statement writes.
package sqlitestore

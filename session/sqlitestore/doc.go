// Package sqlitestore is the embedded session.Store: one SQLite file (via the
// pure-Go modernc.org/sqlite driver, so the binary needs no cgo) that the
// server shares with the accounts tables.
//
// Its subpackage sqlitedb opens that file with the settings every component
// relies on and runs the migrations; New migrates the session tables in it
// and returns the Store.
package sqlitestore

// Package sqlitedb is the embedded SQLite database both domains keep
// their tables in: one opener with the settings every store relies on, and
// one migration runner with a version per component in a shared
// schema_migrations table. session/sqlitestore and accounts/sqlitestore
// build on it; api/server opens the file.
package sqlitedb

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open opens (creating it and its directory when missing) the SQLite file
// of the embedded store, for every component that keeps tables in it.
//
// synchronous is "NORMAL" (the default when empty: in WAL mode a power cut
// can lose the last commits but never corrupts the file) or "FULL" (every
// commit is durable, at the cost of an fsync per commit).
//
// Settings and why:
//   - journal_mode=WAL: readers do not block the writer, and the CLI can use
//     the file while the server runs.
//   - busy_timeout=5000: another process (the CLI) holding the write lock
//     makes us wait up to 5 s instead of failing at once.
//   - _txlock=immediate: transactions take the write lock at BEGIN, so two
//     processes cannot both start reading and then deadlock upgrading to
//     write (an upgrade failure is SQLITE_BUSY that busy_timeout cannot fix).
//   - foreign_keys=1: enforce the REFERENCES clauses other components use.
//   - temp_store=MEMORY: the transient tables of a statement (the rows of
//     an UPDATE ... RETURNING, as every refresh runs, and small sorts) stay
//     in memory instead of a temporary file created and written each time.
//   - one open connection: SQLite has a single writer anyway. With one
//     connection the database/sql pool is the queue, so goroutines of this
//     process never meet SQLITE_BUSY or its sleep-and-retry backoff, and
//     write throughput is predictable. The price: a transaction blocks every
//     other statement of the process until it ends, so code holding one must
//     never run a statement outside it (that would wait forever).
func Open(path string, synchronous string) (*sql.DB, error) {
	return OpenTimeout(path, synchronous, 5*time.Second)
}

// OpenTimeout is Open with busy_timeout set to busy (rounded down to
// milliseconds, at least 1): the server passes its database.timeout, so a
// lock held by another process fails the call within the same deadline as
// every other database call.
func OpenTimeout(path string, synchronous string, busy time.Duration) (*sql.DB, error) {
	return openDB(path, synchronous, false, 1, busy)
}

// OpenRead opens a read-only pool of conns connections (at least 2) on
// the file that Open opened, for the hot reads of the stores
// (NewWithReader): in WAL mode readers never wait for the writer, and
// each read sees every transaction committed before it began, so a read
// after a write of this process always sees that write. Its connections
// are query_only: a write through them fails. busy is as for OpenTimeout.
func OpenRead(path string, conns int, busy time.Duration) (*sql.DB, error) {
	return openDB(path, "", true, max(conns, 2), busy)
}

func openDB(path string, synchronous string, readOnly bool, conns int, busy time.Duration) (*sql.DB, error) {
	level := strings.ToUpper(synchronous)
	switch level {
	case "":
		level = "NORMAL"
	case "NORMAL", "FULL":
	default:
		return nil, fmt.Errorf("sqlitedb: synchronous must be NORMAL or FULL, not %q", synchronous)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlitedb: create directory: %w", err)
	}
	if err := restrictFiles(abs); err != nil {
		return nil, err
	}

	// The driver runs each _pragma on every new connection (busy_timeout
	// first) and honours _txlock for BEGIN. A file: URI escapes any '?', '#'
	// or '%' in the path, which a bare path followed by "?" would not.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", max(busy.Milliseconds(), 1)))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+level+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	q.Set("_txlock", "immediate")
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	dsn := (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)

	// Opening is lazy: this first statement creates the file and applies
	// the pragmas, so errors surface here rather than on the first request.
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: journal_mode is %q, want wal (is the file on a network file system?)", path, mode)
	}
	return db, nil
}

// restrictFiles makes the database file and its -wal and -shm companions
// readable by their owner only, whatever the directory's mode and the
// umask: the file holds password hashes and sealed keys. It creates the
// main file 0600 when missing (SQLite gives -wal and -shm the main file's
// permissions when it creates them) and narrows files of an existing
// installation that are wider.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlitedb: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlitedb: create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlitedb: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("sqlitedb: restrict %s: %w", p, err)
			}
		}
	}
	return nil
}

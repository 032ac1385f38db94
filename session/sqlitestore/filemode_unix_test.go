//go:build unix

package sqlitestore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// TestFileModes: the database, -wal and -shm files are 0600 even when the
// data directory already exists with 0755 and the umask would allow 0644,
// and files an older version left 0644 are narrowed at the next start.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "unilogin.db")
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: %s has mode %o, want 600", when, filepath.Base(p), perm)
			}
		}
	}
	open := func() *sql.DB {
		t.Helper()
		db, err := sqlitedb.Open(path, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS t (x INTEGER); INSERT INTO t VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	check("new file")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = open()
	defer db.Close()
	check("reopened after 0644")
}

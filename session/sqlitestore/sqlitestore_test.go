package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
	"github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// open returns a store on a fresh file, closed when the test ends.
func open(t testing.TB, path string) (*sqlitestore.Store, *sql.DB) {
	t.Helper()
	db, err := sqlitedb.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.New(context.Background(), db)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		db.Close()
	})
	return s, db
}

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		s, _ := open(t, filepath.Join(t.TempDir(), "unilogin.db"))
		return s
	})
}

// The whole suite again with the hot reads on a read pool beside the
// writer: every read after a write must see it.
func TestConformanceWithReadPool(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		path := filepath.Join(t.TempDir(), "unilogin.db")
		db, err := sqlitedb.Open(path, "")
		if err != nil {
			t.Fatal(err)
		}
		rdb, err := sqlitedb.OpenRead(path, 4, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sqlitestore.NewWithReader(context.Background(), db, rdb)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.Close()
			rdb.Close()
			db.Close()
		})
		return s
	})
}

// The read pool cannot write.
func TestReadPoolIsReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unilogin.db")
	open(t, path)
	rdb, err := sqlitedb.OpenRead(path, 2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if _, err := rdb.Exec(`DELETE FROM sessions`); err == nil {
		t.Fatal("a write through the read pool succeeded")
	}
	var n int
	if err := rdb.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		t.Fatalf("read through the read pool: %v", err)
	}
}

func TestOpenDBSettings(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"", "1"}, // NORMAL
		{"normal", "1"},
		{"FULL", "2"},
	} {
		t.Run("synchronous="+tc.arg, func(t *testing.T) {
			// A directory that does not exist yet, with characters that
			// need escaping in a URI.
			path := filepath.Join(t.TempDir(), "new dir?#%", "unilogin.db")
			db, err := sqlitedb.Open(path, tc.arg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, p := range []struct{ pragma, want string }{
				{"journal_mode", "wal"},
				{"busy_timeout", "5000"},
				{"foreign_keys", "1"},
				{"synchronous", tc.want},
			} {
				var got string
				if err := db.QueryRow("PRAGMA " + p.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != p.want {
					t.Errorf("PRAGMA %s = %q, want %q", p.pragma, got, p.want)
				}
			}
			if got := db.Stats().MaxOpenConnections; got != 1 {
				t.Errorf("MaxOpenConnections = %d, want 1", got)
			}
		})
	}
	if _, err := sqlitedb.Open(filepath.Join(t.TempDir(), "x.db"), "OFF"); err == nil {
		t.Error("sqlitedb.Open accepted synchronous=OFF")
	}
}

// Committed data survives closing and reopening the file, and New on an
// up-to-date schema migrates nothing and keeps the data.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unilogin.db")
	now := time.Now().UTC().Truncate(time.Millisecond)
	sess := &session.Session{
		ID: "s1", UserID: "u1", AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	hash := sha256.Sum256([]byte("token"))

	db, err := sqlitedb.Open(path, "FULL")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefresh(ctx, &session.RefreshToken{
		Hash: hash[:], SessionID: "s1", UserID: "u1", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	secret, err := s.GetOrCreateSecret(ctx, "hmac", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s2, db2 := open(t, path)
	got, err := s2.GetSession(ctx, "s1")
	if err != nil {
		t.Fatalf("GetSession after reopening: %v", err)
	}
	if got.UserID != "u1" || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("session after reopening = %+v", got)
	}
	if _, err := s2.GetRefresh(ctx, hash[:]); err != nil {
		t.Errorf("GetRefresh after reopening: %v", err)
	}
	again, err := s2.GetOrCreateSecret(ctx, "hmac", []byte("second"))
	if err != nil || string(again) != string(secret) {
		t.Errorf("secret after reopening = %q, %v; want %q", again, err, secret)
	}
	var version int
	if err := db2.QueryRow(`SELECT version FROM schema_migrations WHERE component = 'session'`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != 3 { // 3: refresh chain in the session row
		t.Errorf("schema version = %d, want 3", version)
	}
}

// Another component's row in schema_migrations is left alone.
func TestSharedMigrationsTable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "unilogin.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER);
		INSERT INTO schema_migrations VALUES ('accounts', 7)`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := sqlitestore.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	var accounts int
	if err := db.QueryRow(`SELECT version FROM schema_migrations WHERE component = 'accounts'`).Scan(&accounts); err != nil {
		t.Fatal(err)
	}
	if accounts != 7 {
		t.Errorf("accounts version = %d, want 7", accounts)
	}

	// A schema newer than this program is refused rather than misread.
	if _, err := db.Exec(`UPDATE schema_migrations SET version = 99 WHERE component = 'session'`); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlitestore.New(ctx, db); err == nil {
		t.Error("New accepted a schema version newer than it knows")
	}
}

// Two handles on one file, as the server and the CLI: writers of both meet
// through SQLite's file lock (busy_timeout, BEGIN IMMEDIATE), and the unique
// insert still has exactly one winner, with no SQLITE_BUSY surfacing.
func TestTwoProcessesShareFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unilogin.db")
	a, _ := open(t, path)
	b, _ := open(t, path)
	expires := time.Now().Add(time.Hour)
	const n = 40
	errs := testkit.Race(n, func(i int) error {
		s := a
		if i%2 == 1 {
			s = b
		}
		err := s.Claim(context.Background(), "flow:shared", expires)
		// Transactions on one handle while the other writes.
		if err := s.DeleteSession(context.Background(), "none"); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("DeleteSession: %v", err)
		}
		return err
	})
	testkit.OneWinner(t, "Claim on two handles", errs, session.ErrAlreadyExists)
}

// BenchmarkRotation runs the refresh rotation path of the service:
// GetRefresh, GetSession, CreateRefresh of the successor, TouchSession.
func BenchmarkRotation(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b, filepath.Join(b.TempDir(), "unilogin.db"))
	now := time.Now().UTC()
	sess := &session.Session{
		ID: "s1", UserID: "u1", ClientID: "demo-app", AMR: []string{"pwd"}, Scope: "openid",
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(24 * time.Hour),
	}
	if err := s.CreateSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	hashN := func(i uint64) []byte {
		h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, i))
		return h[:]
	}
	if err := s.CreateRefresh(ctx, &session.RefreshToken{
		Hash: hashN(0), SessionID: "s1", UserID: "u1", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		cur, err := s.GetRefresh(ctx, hashN(i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetSession(ctx, cur.SessionID); err != nil {
			b.Fatal(err)
		}
		at := time.Now()
		err = s.CreateRefresh(ctx, &session.RefreshToken{
			Hash: hashN(i + 1), SessionID: cur.SessionID, UserID: cur.UserID, ParentHash: cur.Hash,
			CreatedAt: at, ExpiresAt: at.Add(time.Hour),
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.TouchSession(ctx, cur.SessionID, at); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkManagerRefresh measures the whole refresh path of the session
// service (store reads and writes, successor derivation, ES256 signing)
// on the embedded store, without HTTP: one refresh chain per goroutine.
func BenchmarkManagerRefresh(b *testing.B) {
	s, _ := open(b, filepath.Join(b.TempDir(), "bench.db"))
	sealer, err := session.NewSealer([]byte("benchmark-key-encryption-key-32b"))
	if err != nil {
		b.Fatal(err)
	}
	kr, err := session.NewKeyring(b.Context(), s, sealer, session.KeyringOptions{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := session.NewManager(b.Context(), s, kr, sealer, session.Options{Issuer: "https://bench.test", ReuseGrace: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	load := func(_ context.Context, id string) (session.Subject, error) {
		return session.Subject{UserID: id, Roles: []string{"member"}}, nil
	}
	b.RunParallel(func(pb *testing.PB) {
		p, err := m.Start(context.Background(), session.Grant{Subject: session.Subject{UserID: "u"}, AMR: []string{"pwd"}})
		if err != nil {
			b.Error(err)
			return
		}
		token := p.RefreshToken
		for pb.Next() {
			next, err := m.Refresh(context.Background(), token, "", "", load)
			if err != nil {
				b.Error(err)
				return
			}
			token = next.RefreshToken
		}
	})
}

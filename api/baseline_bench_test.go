package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// direct serves e's production handler on a server of its own, without
// the OpenAPI check of the test server (whose cost would swamp the CPU
// figures), and returns its URL.
func direct(b *testing.B, e *apitest.Env) string {
	srv := httptest.NewServer(e.Handler)
	b.Cleanup(srv.Close)
	return srv.URL
}

// cpuSeconds is the user and system CPU time of this process so far. The
// benchmarks' servers run in this process, so per-CPU-second figures
// include the HTTP client's share: compare them with the baselines below,
// measured the same way in the same run, not with `unilogin bench`.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// perCPU runs op on one goroutine for d and returns operations per
// CPU-second of the process.
func perCPU(b *testing.B, d time.Duration, op func() error) float64 {
	b.Helper()
	start, n := cpuSeconds(b), 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / (cpuSeconds(b) - start)
}

// baselines are the primitives no bearer check or refresh can do without,
// in operations per CPU-second of this process, and the bounds they put on
// the requests: GET /users/me is at least one ES256 verification and two
// point reads (session, user); a refresh at least one ES256 signature, two
// point reads and one single-row write.
type baselines struct {
	sign, verify, read, write float64
	meBound, refreshBound     float64
}

func measureBaselines(b *testing.B) baselines {
	b.Helper()
	const d = time.Second
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload of an access token"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	var r baselines
	r.sign = perCPU(b, d, func() error { _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); return err })
	r.verify = perCPU(b, d, func() error {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			return fmt.Errorf("the signature does not verify")
		}
		return nil
	})

	// A table shaped like the sessions table, on the server's settings:
	// the writer as sqlitedb.Open makes it (WAL), reads on a read pool.
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "raw.db")
	w, err := sqlitedb.Open(path, "normal")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	const id = "019a0000-0000-7000-8000-000000000001"
	for _, q := range []string{`CREATE TABLE t (id TEXT PRIMARY KEY, user_id TEXT, hash BLOB, gen INTEGER, at INTEGER)`,
		`INSERT INTO t VALUES ('` + id + `', 'u', x'00', 0, 0)`} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	rd, err := sqlitedb.OpenRead(path, 2, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	sel, err := rd.PrepareContext(ctx, `SELECT id, user_id, hash, gen, at FROM t WHERE id = ?`)
	if err != nil {
		b.Fatal(err)
	}
	upd, err := w.PrepareContext(ctx, `UPDATE t SET hash = ?, gen = gen + 1, at = ? WHERE id = ?`)
	if err != nil {
		b.Fatal(err)
	}
	r.read = perCPU(b, d, func() error {
		var sid, uid string
		var h []byte
		var gen, at int64
		return sel.QueryRowContext(ctx, id).Scan(&sid, &uid, &h, &gen, &at)
	})
	r.write = perCPU(b, d, func() error {
		_, err := upd.ExecContext(ctx, digest[:], time.Now().UnixMilli(), id)
		return err
	})
	r.meBound = 1 / (1/r.verify + 2/r.read)
	r.refreshBound = 1 / (1/r.sign + 2/r.read + 1/r.write)
	b.Logf("raw per CPU-second: ES256 sign %.0f, verify %.0f; SQLite point read %.0f, write %.0f; bound of /users/me %.0f, of a refresh %.0f",
		r.sign, r.verify, r.read, r.write, r.meBound, r.refreshBound)
	return r
}

// rowsOfSession counts the rows the SQLite database at path keeps for the
// session of accessToken (its sid claim): its row in sessions and the rows
// of every table with a session_id column, whatever the schema's version.
func rowsOfSession(b *testing.B, path, accessToken string) int {
	b.Helper()
	parts := strings.Split(accessToken, ".")
	var claims struct {
		SID string `json:"sid"`
	}
	if len(parts) != 3 {
		b.Fatalf("the access token is not a JWT")
	}
	if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil || json.Unmarshal(raw, &claims) != nil || claims.SID == "" {
		b.Fatalf("no sid claim in the access token: %v", err)
	}
	db, err := sqlitedb.OpenRead(path, 1, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE id = ?`, claims.SID).Scan(&n); err != nil {
		b.Fatal(err)
	}
	tables, err := db.Query(`SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'session_id'`)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var name string
		if err := tables.Scan(&name); err != nil {
			b.Fatal(err)
		}
		names = append(names, name)
	}
	tables.Close()
	for _, name := range names {
		var k int
		if err := db.QueryRow(`SELECT count(*) FROM "`+name+`" WHERE session_id = ?`, claims.SID).Scan(&k); err != nil {
			b.Fatal(err)
		}
		n += k
	}
	return n
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// rawBaselines are the primitives a bearer check and a refresh cannot do
// without, each timed on one goroutine in this process, as operations per
// CPU-second: the bound the server's requests per CPU-second are put
// against. A bearer check (GET /users/me) is at least one ES256
// verification and two point reads (session, user); a refresh at least one
// ES256 signature, two point reads and one single-row write.
type rawBaselines struct {
	ES256SignCPU   float64 `json:"es256_sign_per_cpu_second"`
	ES256VerifyCPU float64 `json:"es256_verify_per_cpu_second"`
	SQLiteReadCPU  float64 `json:"sqlite_point_read_per_cpu_second"`
	SQLiteWriteCPU float64 `json:"sqlite_point_write_per_cpu_second"`
	// MeBoundCPU and RefreshBoundCPU combine them: 1 / (sum of the
	// operations' CPU times).
	MeBoundCPU      float64 `json:"users_me_bound_per_cpu_second"`
	RefreshBoundCPU float64 `json:"refresh_bound_per_cpu_second"`
}

// measureRawBaselines runs each primitive for d.
func measureRawBaselines(ctx context.Context, d time.Duration) (*rawBaselines, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte("header.payload of a typical access token"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, err
	}
	b := &rawBaselines{}
	b.ES256SignCPU = perCPUSecond(ctx, d, func() error {
		_, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		return err
	})
	b.ES256VerifyCPU = perCPUSecond(ctx, d, func() error {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			return fmt.Errorf("signature does not verify")
		}
		return nil
	})

	dir, err := os.MkdirTemp("", "unilogin-bench-sqlite-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "raw.db")
	// The server's settings: the writer as sqlitedb.Open makes it (WAL,
	// synchronous NORMAL), reads on a read pool.
	w, err := sqlitedb.Open(path, "normal")
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if _, err := w.ExecContext(ctx, `CREATE TABLE t (id TEXT PRIMARY KEY, user_id TEXT, hash BLOB, gen INTEGER, at INTEGER)`); err != nil {
		return nil, err
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO t VALUES ('019a0000-0000-7000-8000-000000000001', 'u', x'00', 0, 0)`); err != nil {
		return nil, err
	}
	r, err := sqlitedb.OpenRead(path, 2, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	read, err := r.PrepareContext(ctx, `SELECT id, user_id, hash, gen, at FROM t WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	write, err := w.PrepareContext(ctx, `UPDATE t SET hash = ?, gen = gen + 1, at = ? WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	id := "019a0000-0000-7000-8000-000000000001"
	b.SQLiteReadCPU = perCPUSecond(ctx, d, func() error {
		var a, u string
		var h []byte
		var g, at int64
		return read.QueryRowContext(ctx, id).Scan(&a, &u, &h, &g, &at)
	})
	b.SQLiteWriteCPU = perCPUSecond(ctx, d, func() error {
		res, err := write.ExecContext(ctx, digest[:], time.Now().UnixMilli(), id)
		if err == nil {
			if n, _ := res.RowsAffected(); n != 1 {
				err = sql.ErrNoRows
			}
		}
		return err
	})
	inv := func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return 1 / x
	}
	if me := inv(b.ES256VerifyCPU) + 2*inv(b.SQLiteReadCPU); me > 0 {
		b.MeBoundCPU = round(1/me, 1)
	}
	if rf := inv(b.ES256SignCPU) + 2*inv(b.SQLiteReadCPU) + inv(b.SQLiteWriteCPU); rf > 0 {
		b.RefreshBoundCPU = round(1/rf, 1)
	}
	return b, nil
}

// perCPUSecond runs op on this goroutine for d and returns operations per
// CPU-second of this process (0 when op fails or CPU time is unknown).
func perCPUSecond(ctx context.Context, d time.Duration, op func() error) float64 {
	cpu0 := processCPUSeconds()
	deadline := time.Now().Add(d)
	n := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for range 32 {
			if op() != nil {
				return 0
			}
			n++
		}
	}
	cpu := processCPUSeconds() - cpu0
	if cpu0 < 0 || cpu <= 0 {
		return 0
	}
	return round(float64(n)/cpu, 1)
}

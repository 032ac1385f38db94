package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/unilogin/unilogin/api/apitest"
)

// benchCost is the bcrypt cost of the login benchmark (the default 12 is
// slower still; the ratio is what matters and is measured at one cost).
const benchCost = 10

// BenchmarkPasswordGrantVsBcrypt runs password grants over HTTP on the
// embedded store with one worker per core and reports their throughput as
// a ratio of raw bcrypt comparisons at the same cost, on the same cores,
// measured in the same run (aim: >= 0.95).
func BenchmarkPasswordGrantVsBcrypt(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	hash, _ := bcrypt.GenerateFromPassword([]byte("0123456789012345678901234567890123456789abcd"), benchCost)
	raw := throughput(workers, 3*time.Second, func() {
		_ = bcrypt.CompareHashAndPassword(hash, []byte("0123456789012345678901234567890123456789abcd"))
	})

	e := apitest.NewEnv(b, apitest.EnvOptions{Cost: benchCost})
	for i := range workers {
		e.Signup(fmt.Sprintf("bench%d@example.com", i), apitest.Password)
	}
	grants := throughputIdx(workers, 3*time.Second, func(i int) {
		r := e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("bench%d@example.com", i)}, "password": {apitest.Password}})
		if r.Status != http.StatusOK {
			b.Errorf("password grant: %d %s", r.Status, r.Body)
		}
	})
	b.ReportMetric(raw, "bcrypt/s")
	b.ReportMetric(grants, "grants/s")
	b.ReportMetric(grants/raw, "ratio")
}

// BenchmarkRefreshGrant measures refresh-grant throughput over HTTP on the
// embedded store: one refresh chain per worker (aim: >= 3,000/s on 2 cores).
func BenchmarkRefreshGrant(b *testing.B) {
	e := apitest.NewEnv(b, apitest.EnvOptions{})
	workers := 4 * runtime.GOMAXPROCS(0)
	chains := make([]string, workers)
	e.Signup("refresh@example.com", apitest.Password)
	for i := range chains {
		chains[i] = e.Login("refresh@example.com", apitest.Password).RefreshToken
	}
	rate := throughputIdx(workers, 5*time.Second, func(i int) {
		r := e.Refresh(chains[i])
		if r.Status != http.StatusOK {
			b.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		chains[i] = e.MustTokens(r).RefreshToken
	})
	b.ReportMetric(rate, "refresh/s")
}

func throughput(workers int, d time.Duration, op func()) float64 {
	return throughputIdx(workers, d, func(int) { op() })
}

// throughputIdx runs op in workers goroutines for d and returns ops/s.
func throughputIdx(workers int, d time.Duration, op func(worker int)) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				op(w)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

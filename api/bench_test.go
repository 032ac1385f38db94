package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
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
// measured in the same run (aim: >= 0.95), by wall clock and per
// CPU-second.
func BenchmarkPasswordGrantVsBcrypt(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	hash, _ := bcrypt.GenerateFromPassword([]byte("0123456789012345678901234567890123456789abcd"), benchCost)
	cpu0 := cpuSeconds(b)
	raw, rawN := throughputN(workers, 3*time.Second, func(int) {
		_ = bcrypt.CompareHashAndPassword(hash, []byte("0123456789012345678901234567890123456789abcd"))
	})
	rawCPU := float64(rawN) / (cpuSeconds(b) - cpu0)

	e := apitest.NewEnv(b, apitest.EnvOptions{Cost: benchCost})
	for i := range workers {
		e.Signup(fmt.Sprintf("bench%d@example.com", i), apitest.Password)
	}
	u, client := direct(b, e), benchClient()
	cpu0 = cpuSeconds(b)
	grants, n := throughputN(workers, 3*time.Second, func(i int) {
		status, body, _, err := postFormTimed(client, u+"/token", url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("bench%d@example.com", i)}, "password": {apitest.Password}})
		if err != nil || status != http.StatusOK {
			b.Errorf("password grant: %v %d %s", err, status, body)
		}
	})
	grantsCPU := float64(n) / (cpuSeconds(b) - cpu0)
	b.ReportMetric(raw, "bcrypt/s")
	b.ReportMetric(grants, "grants/s")
	b.ReportMetric(grants/raw, "ratio")
	// Per CPU-second of the process, which the machine's other load moves
	// less than the wall clock.
	b.ReportMetric(grantsCPU/rawCPU, "ratio-cpu")
}

// BenchmarkRefreshGrant measures refresh grants over HTTP on the embedded
// store (one refresh chain per worker, 4 per core) per CPU-second of the
// process, as a ratio of the raw bound measured in the same run (one ES256
// signature, two point reads, one single-row write per refresh), and the
// rows one session keeps after its refreshes (aim: 1, whatever the count).
func BenchmarkRefreshGrant(b *testing.B) {
	base := measureBaselines(b)
	db := filepath.Join(b.TempDir(), "unilogin.db")
	e := apitest.NewEnv(b, apitest.EnvOptions{Backend: apitest.SQLiteBackendAt(db)})
	workers := 4 * runtime.GOMAXPROCS(0)
	chains := make([]apitest.Tokens, workers)
	done := make([]int, workers) // refreshes per chain
	e.Signup("refresh@example.com", apitest.Password)
	for i := range chains {
		chains[i] = e.Login("refresh@example.com", apitest.Password)
	}
	u, client := direct(b, e), benchClient()
	cpu0 := cpuSeconds(b)
	rate, n := throughputN(workers, 5*time.Second, func(i int) {
		status, body, _, err := postFormTimed(client, u+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {chains[i].RefreshToken}})
		if err != nil || status != http.StatusOK {
			b.Fatalf("refresh: %v %d %s", err, status, body)
		}
		chains[i] = e.MustTokens(apitest.Response{Status: status, Body: body})
		done[i]++
	})
	perCPU := float64(n) / (cpuSeconds(b) - cpu0)
	b.ReportMetric(rate, "refresh/s")
	b.ReportMetric(perCPU, "refresh/cpu-s")
	b.ReportMetric(perCPU/base.refreshBound, "of-raw-bound")
	b.ReportMetric(perCPU/base.sign, "of-raw-sign")
	b.ReportMetric(float64(done[0]), "refreshes/session")
	b.ReportMetric(float64(rowsOfSession(b, db, chains[0].AccessToken)), "rows/session")
}

// BenchmarkUsersMe measures GET /users/me with a bearer token over HTTP
// on the embedded store (4 clients per core) per CPU-second of the
// process, as a ratio of the raw bound measured in the same run (one ES256
// verification and two point reads per request).
func BenchmarkUsersMe(b *testing.B) {
	base := measureBaselines(b)
	e := apitest.NewEnv(b, apitest.EnvOptions{})
	workers := 4 * runtime.GOMAXPROCS(0)
	tokens := make([]string, workers)
	for i := range tokens {
		email := fmt.Sprintf("me%d@example.com", i)
		e.Signup(email, apitest.Password)
		tokens[i] = e.Login(email, apitest.Password).AccessToken
	}
	u, client := direct(b, e), benchClient()
	cpu0 := cpuSeconds(b)
	rate, n := throughputN(workers, 5*time.Second, func(i int) {
		req, _ := http.NewRequest(http.MethodGet, u+"/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("/users/me: %d", res.StatusCode)
		}
	})
	perCPU := float64(n) / (cpuSeconds(b) - cpu0)
	b.ReportMetric(rate, "me/s")
	b.ReportMetric(perCPU, "me/cpu-s")
	b.ReportMetric(perCPU/base.meBound, "of-raw-bound")
	b.ReportMetric(perCPU/base.verify, "of-raw-verify")
}

// throughput runs op in workers goroutines for d and returns ops/s.
func throughput(workers int, d time.Duration, op func()) float64 {
	rate, _ := throughputN(workers, d, func(int) { op() })
	return rate
}

// throughputN runs op in workers goroutines for d and returns ops/s and
// the operations done.
func throughputN(workers int, d time.Duration, op func(worker int)) (float64, int64) {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				op(w)
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), n.Load()
}

package api_test

import (
	"fmt"
	"github.com/unilogin/unilogin/api/apitest"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkForgotKnownVsUnknown times POST /password/forgot over HTTP for
// addresses of accounts and for unknown ones, interleaved one by one on
// the embedded store, and reports each median and their ratio (aim: 1.00:
// the answer must not tell the two apart; both take about
// accounts.RecoveryOptions.AnswerFloor). Run it with a fixed count:
// go test ./api/ -run '^$' -bench ForgotKnownVsUnknown -benchtime 300x
func BenchmarkForgotKnownVsUnknown(b *testing.B) {
	e := apitest.NewEnv(b, apitest.EnvOptions{Cost: 4})
	const accounts = 50
	for i := range accounts {
		e.Signup(fmt.Sprintf("known%d@example.com", i), apitest.Password)
	}
	forgot := func(addr string) time.Duration {
		start := time.Now()
		r := e.PostJSON("/password/forgot", map[string]string{"email": addr})
		d := time.Since(start)
		if r.Status != http.StatusAccepted {
			b.Fatalf("forgot %s: %d %s", addr, r.Status, r.Body)
		}
		return d
	}
	known := make([]time.Duration, 0, b.N)
	unknown := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		// Alternate which goes first, so neither profits from the other's
		// warm caches or suffers from its background work.
		k, u := fmt.Sprintf("known%d@example.com", i%accounts), fmt.Sprintf("nobody%d@example.com", i%accounts)
		if i%2 == 0 {
			known = append(known, forgot(k))
			unknown = append(unknown, forgot(u))
		} else {
			unknown = append(unknown, forgot(u))
			known = append(known, forgot(k))
		}
	}
	b.StopTimer()
	mk, mu := median(known), median(unknown)
	b.ReportMetric(float64(mk.Microseconds()), "known-median-µs")
	b.ReportMetric(float64(mu.Microseconds()), "unknown-median-µs")
	b.ReportMetric(float64(mk)/float64(mu), "known/unknown")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

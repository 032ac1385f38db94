package sessiontest

import (
	"slices"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

var rateCases = []testCase{
	{"RateHitAndPeek", testRateHitAndPeek},
	{"RateWindowsAndKeys", testRateWindowsAndKeys},
	{"RateConcurrentHits", testRateConcurrentHits},
	{"RateDeleteExpired", testRateDeleteExpired},
}

// rateNow is an instant well inside a 15-minute window (and so inside every
// shorter window that divides it), so that a case never straddles a boundary.
func rateNow() time.Time {
	start, _ := session.RateWindow(now(), 15*time.Minute)
	return start.Add(7 * time.Minute)
}

func testRateHitAndPeek(t *testing.T, s session.Store) {
	rs, ctx, n := s, t.Context(), rateNow()
	key := "test:" + randomID(t)
	_, wantEnd := session.RateWindow(n, 5*time.Minute)

	count, end, err := rs.Peek(ctx, key, 5*time.Minute, n)
	must(t, "Peek(fresh)", err)
	if count != 0 || !end.Equal(wantEnd) {
		t.Fatalf("Peek(fresh) = %d, %v; want 0, %v", count, end, wantEnd)
	}
	for i := int64(1); i <= 3; i++ {
		count, end, err := rs.Hit(ctx, key, 5*time.Minute, n.Add(time.Duration(i)*time.Second))
		must(t, "Hit", err)
		if count != i || !end.Equal(wantEnd) {
			t.Fatalf("Hit #%d = %d, %v; want %d, %v", i, count, end, i, wantEnd)
		}
	}
	count, _, err = rs.Peek(ctx, key, 5*time.Minute, n)
	must(t, "Peek", err)
	if count != 3 {
		t.Fatalf("Peek after 3 hits = %d, want 3", count)
	}
	// Peeking records nothing.
	if count, _, _ := rs.Peek(ctx, key, 5*time.Minute, n); count != 3 {
		t.Fatalf("second Peek = %d, want 3", count)
	}
	if end.Location() != time.UTC {
		t.Errorf("resetAt location = %v, want UTC", end.Location())
	}
}

// The count starts again in the next window; keys and window lengths are
// independent counters.
func testRateWindowsAndKeys(t *testing.T, s session.Store) {
	rs, ctx, n := s, t.Context(), rateNow()
	a, b := "test:a:"+randomID(t), "test:b:"+randomID(t)
	for range 2 {
		_, _, err := rs.Hit(ctx, a, time.Minute, n)
		must(t, "Hit(a)", err)
	}
	_, end, err := rs.Hit(ctx, a, 15*time.Minute, n)
	must(t, "Hit(a, 15m)", err)
	if _, want := session.RateWindow(n, 15*time.Minute); !end.Equal(want) {
		t.Errorf("resetAt(15m) = %v, want %v", end, want)
	}
	for _, tc := range []struct {
		what   string
		key    string
		window time.Duration
		at     time.Time
		want   int64
	}{
		{"same window", a, time.Minute, n.Add(59 * time.Second), 2},
		{"next window", a, time.Minute, n.Add(time.Minute), 0},
		{"previous window", a, time.Minute, n.Add(-time.Second), 0},
		{"other window length", a, 15 * time.Minute, n, 1},
		{"other key", b, time.Minute, n, 0},
	} {
		count, _, err := rs.Peek(ctx, tc.key, tc.window, tc.at)
		must(t, "Peek("+tc.what+")", err)
		if count != tc.want {
			t.Errorf("Peek(%s) = %d, want %d", tc.what, count, tc.want)
		}
	}
	count, _, err := rs.Hit(ctx, a, time.Minute, n.Add(time.Minute))
	must(t, "Hit(next window)", err)
	if count != 1 {
		t.Errorf("first Hit of the next window = %d, want 1", count)
	}
}

// 50 concurrent hits on one key: none is lost, and every count returned is
// within 1..50 with 50 reached (a limiter compares these counts).
func testRateConcurrentHits(t *testing.T, s session.Store) {
	rs, ctx, n := s, t.Context(), rateNow()
	key := "test:concurrent:" + randomID(t)
	const N = 50
	counts := make([]int64, N)
	errs := testkit.Race(N, func(i int) error {
		c, _, err := rs.Hit(ctx, key, 10*time.Minute, n)
		counts[i] = c
		return err
	})
	for _, err := range errs {
		must(t, "concurrent Hit", err)
	}
	if got, _, err := rs.Peek(ctx, key, 10*time.Minute, n); err != nil || got != N {
		t.Fatalf("Peek after %d concurrent hits = %d, %v; want %d", N, got, err, N)
	}
	for _, c := range counts {
		if c < 1 || c > N {
			t.Fatalf("a concurrent Hit returned %d, want 1..%d (all: %v)", c, N, counts)
		}
	}
	if slices.Max(counts) != N {
		t.Errorf("no concurrent Hit saw the final count %d: %v", N, counts)
	}
}

// Counters whose window has ended are swept; the current window's stay.
func testRateDeleteExpired(t *testing.T, s session.Store) {
	rs, ctx, n := s, t.Context(), rateNow()
	old, cur := "test:old:"+randomID(t), "test:cur:"+randomID(t)
	_, _, err := rs.Hit(ctx, old, time.Minute, n.Add(-10*time.Minute))
	must(t, "Hit(old)", err)
	_, _, err = rs.Hit(ctx, cur, time.Minute, n)
	must(t, "Hit(cur)", err)
	count, err := s.DeleteExpired(ctx, n)
	must(t, "DeleteExpired", err)
	if count != 1 {
		t.Errorf("DeleteExpired = %d, want 1 (the old counter)", count)
	}
	if c, _, _ := rs.Peek(ctx, old, time.Minute, n.Add(-10*time.Minute)); c != 0 {
		t.Errorf("expired counter survived the sweep: %d", c)
	}
	if c, _, _ := rs.Peek(ctx, cur, time.Minute, n); c != 1 {
		t.Errorf("current counter = %d after the sweep, want 1", c)
	}
}

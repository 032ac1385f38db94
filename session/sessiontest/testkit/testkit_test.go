package testkit

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	c := NewClock(start)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now after Advance = %v", got)
	}
}

func TestRaceReturnsEveryErrorByIndex(t *testing.T) {
	var calls atomic.Int32
	errs := Race(8, func(i int) error {
		calls.Add(1)
		if i%2 == 1 {
			return fmt.Errorf("odd %d", i)
		}
		return nil
	})
	if calls.Load() != 8 || len(errs) != 8 {
		t.Fatalf("%d calls, %d errors", calls.Load(), len(errs))
	}
	for i, err := range errs {
		if (err != nil) != (i%2 == 1) || (err != nil && !strings.Contains(err.Error(), fmt.Sprint(i))) {
			t.Errorf("errs[%d] = %v", i, err)
		}
	}
	if errors.Join(errs...) == nil {
		t.Fatal("no errors")
	}
}

func TestSyncBufferConcurrentWrites(t *testing.T) {
	var b SyncBuffer
	log := slog.New(slog.NewTextHandler(&b, nil))
	Race(20, func(i int) error { log.Info("line", "i", i); return nil })
	if n := strings.Count(b.String(), "msg=line"); n != 20 {
		t.Fatalf("%d lines, want 20:\n%s", n, b.String())
	}
}

// recordingTB notes what Tally and OneWinner report instead of failing.
type recordingTB struct {
	testing.TB
	errors, fatals int
}

func (r *recordingTB) Helper()               {}
func (r *recordingTB) Errorf(string, ...any) { r.errors++ }
func (r *recordingTB) Fatalf(string, ...any) { r.fatals++ }

func TestTallyAndOneWinner(t *testing.T) {
	lost, other := errors.New("lost"), errors.New("other")
	for _, tc := range []struct {
		name                 string
		errs                 []error
		wins, errors, fatals int
	}{
		{"one winner", []error{lost, nil, fmt.Errorf("wrapped: %w", lost)}, 1, 0, 0},
		{"two winners", []error{nil, nil, lost}, 2, 0, 1},
		{"no winner", []error{lost, lost}, 0, 0, 1},
		{"unexpected error", []error{nil, other}, 1, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recordingTB{TB: t}
			if wins := Tally(r, "x", tc.errs, lost); wins != tc.wins {
				t.Errorf("Tally = %d, want %d", wins, tc.wins)
			}
			r = &recordingTB{TB: t}
			winner := OneWinner(r, "x", tc.errs, lost)
			if r.errors != tc.errors || r.fatals != tc.fatals {
				t.Errorf("OneWinner reported %d errors and %d fatals, want %d and %d", r.errors, r.fatals, tc.errors, tc.fatals)
			}
			if tc.wins == 1 && tc.errs[winner] != nil {
				t.Errorf("OneWinner = %d, whose call failed: %v", winner, tc.errs[winner])
			}
		})
	}
}

func TestTamper(t *testing.T) {
	for _, tc := range []struct{ in, want string }{{"AbC", "BbC"}, {"xyz", "Ayz"}} {
		if got := Tamper(tc.in, 0); got != tc.want {
			t.Errorf("Tamper(%q, 0) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Tamper("tok.en", 5); got != "tok.eA" {
		t.Errorf("Tamper at 5 = %q", got)
	}
}

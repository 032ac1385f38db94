// Package testkit holds the small helpers that tests of several packages
// share: a settable clock, a log sink safe for concurrent writers, and the
// goroutine race of the storage conformance suites. It is imported by
// tests and test-helper packages only, never by the server.
package testkit

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a settable time source, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time; pass the method value as a Now option.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// SyncBuffer is a log sink safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Race runs fn(0) ... fn(n-1) in n goroutines released at the same
// instant, so that they really contend, and returns their errors by index.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Tally counts the calls of a race (see Race) that succeeded and fails t
// for every error that is none of losers: the errors a call that lost the
// race may return.
func Tally(t testing.TB, what string, errs []error, losers ...error) (wins int) {
	t.Helper()
	for i, err := range errs {
		if err == nil {
			wins++
		} else if !slices.ContainsFunc(losers, func(l error) bool { return errors.Is(err, l) }) {
			t.Errorf("%s: call %d: err = %v, want nil or one of %v", what, i, err, losers)
		}
	}
	return wins
}

// OneWinner is Tally, and stops the test unless exactly one call succeeded.
// It returns the index of that call.
func OneWinner(t testing.TB, what string, errs []error, losers ...error) (winner int) {
	t.Helper()
	if wins := Tally(t, what, errs, losers...); wins != 1 {
		t.Fatalf("%s: %d of %d calls succeeded, want exactly 1", what, wins, len(errs))
	}
	return slices.IndexFunc(errs, func(err error) bool { return err == nil })
}

// Tamper returns s with its byte at i changed to another letter ('A' or
// 'B'): a token that keeps its form but is no longer the one issued.
func Tamper(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

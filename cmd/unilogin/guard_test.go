package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

// A call that runs into the deadline is session.ErrUnavailable; after
// guardTrip of them calls fail fast (at once, without reaching the store)
// until guardOpenFor has passed; then one probe goes through and its
// success lets every call through again. Sentinels pass untouched.
func TestDBGuardDeadlineFailFastAndRecovery(t *testing.T) {
	g := newDBGuard(20 * time.Millisecond)
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	g.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	noop := func() {}
	reached := 0
	call := func(down bool) error {
		ctx, done := g.enter(context.Background(), "GetUser", noop)
		if ctx.Err() == nil {
			reached++
		}
		if down {
			<-ctx.Done() // a server that never answers
			return done(ctx.Err())
		}
		return done(nil)
	}

	if err := call(false); err != nil {
		t.Fatal(err)
	}
	ctx, done := g.enter(context.Background(), "GetUser", noop)
	if _, ok := ctx.Deadline(); !ok {
		t.Fatal("no deadline on the store call's context")
	}
	if err := done(session.ErrNotFound); !errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("a sentinel was changed: %v", err)
	}
	for i := range guardTrip {
		if err := call(true); !errors.Is(err, session.ErrUnavailable) {
			t.Fatalf("timeout %d: %v, want ErrUnavailable", i, err)
		}
	}
	before := reached
	if err := call(false); !errors.Is(err, session.ErrUnavailable) || reached != before {
		t.Fatalf("while failing fast: %v, store reached %d times, want ErrUnavailable without reaching it", err, reached-before)
	}
	advance(guardOpenFor)
	// The probe: it reaches the store; while it is in flight others fail fast.
	pctx, pdone := g.enter(context.Background(), "GetUser", noop)
	if pctx.Err() != nil {
		t.Fatal("the probe did not reach the store")
	}
	if err := call(false); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("during the probe: %v, want fail fast", err)
	}
	if err := pdone(nil); err != nil {
		t.Fatal(err)
	}
	if err := call(false); err != nil {
		t.Fatalf("after a successful probe: %v", err)
	}
	// The sweeper's slow batch delete never trips fail-fast.
	for range guardTrip {
		ctx, done := g.enter(context.Background(), "DeleteExpired", noop)
		<-ctx.Done()
		if err := done(ctx.Err()); !errors.Is(err, session.ErrUnavailable) {
			t.Fatalf("sweeper timeout: %v", err)
		}
	}
	if err := call(false); err != nil {
		t.Fatalf("after slow sweeps: %v, want the store reached", err)
	}
}

package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

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

// TestDBGuardServerSideDeadline: a server that ends the operation itself at
// the maxTimeMS the driver sent (FerretDB answers with a plain
// InternalError) is an outage (503), not an internal error (500); the same
// error long before the deadline is passed through untouched.
func TestDBGuardServerSideDeadline(t *testing.T) {
	g := newDBGuard(200 * time.Millisecond)
	serverErr := errors.New("(InternalError) context canceled after delay")

	ctx, done := g.enter(context.Background(), "GetRefresh", func() {})
	d, _ := ctx.Deadline()
	time.Sleep(time.Until(d) - 5*time.Millisecond) // the server's maxTimeMS ends just before ours
	if err := done(serverErr); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("error at the deadline = %v, want session.ErrUnavailable", err)
	}

	_, done = g.enter(context.Background(), "GetRefresh", func() {})
	if err := done(serverErr); errors.Is(err, session.ErrUnavailable) || !errors.Is(err, serverErr) {
		t.Fatalf("error well before the deadline = %v, want it untouched", err)
	}
}

// TestDBOutageServerErrors: server errors that say the server cannot serve
// now (shutdown, a primary stepping down, an internal failure) are an
// outage; an error about the request itself, such as a duplicate key, is not.
func TestDBOutageServerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"InterruptedAtShutdown", mongo.CommandError{Code: 11600, Name: "InterruptedAtShutdown"}, true},
		{"NotWritablePrimary", mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, true},
		{"InternalError (FerretDB stopping)", mongo.CommandError{Code: 1, Name: "InternalError"}, true},
		{"retryable label", mongo.CommandError{Code: 99999, Labels: []string{"RetryableWriteError"}}, true},
		{"duplicate key", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}}, false},
		{"bad value", mongo.CommandError{Code: 2, Name: "BadValue"}, false},
	} {
		if got := dbOutage(tc.err); got != tc.want {
			t.Errorf("%s: dbOutage = %v, want %v", tc.name, got, tc.want)
		}
	}
}

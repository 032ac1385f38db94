package accounts_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

// waitFor yields until cond holds. It asserts nothing about time: a broken
// gate makes the test hang (and go test's -timeout report it), never flake.
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

func TestGateBoundsWorkersAndQueue(t *testing.T) {
	g := accounts.NewGate(1, 1)
	if s := g.Stats(); s.Workers != 1 || s.Queue != 1 || s.Running != 0 || s.Waiting != 0 {
		t.Fatalf("fresh gate: %+v", s)
	}
	release1, err := g.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The second caller queues.
	type result struct {
		release func()
		err     error
	}
	second := make(chan result, 1)
	go func() {
		r, err := g.Acquire(context.Background())
		second <- result{r, err}
	}()
	waitFor(func() bool { return g.Stats().Waiting == 1 })
	// The third finds the queue full and fails at once.
	if _, err := g.Acquire(t.Context()); !errors.Is(err, accounts.ErrOverloaded) {
		t.Fatalf("Acquire with a full queue: %v, want ErrOverloaded", err)
	}
	select {
	case r := <-second:
		t.Fatalf("the queued caller got through while the slot was held: %v", r.err)
	default:
	}
	// Releasing hands the slot to the waiter.
	release1()
	r := <-second
	if r.err != nil {
		t.Fatal(r.err)
	}
	if s := g.Stats(); s.Running != 1 || s.Waiting != 0 {
		t.Fatalf("after hand-over: %+v", s)
	}
	// A release is idempotent: the first caller's second release must not
	// free the slot the second caller holds.
	release1()
	if s := g.Stats(); s.Running != 1 {
		t.Fatalf("double release freed a slot: %+v", s)
	}
	r.release()
	if s := g.Stats(); s.Running != 0 || s.Waiting != 0 {
		t.Fatalf("after the last release: %+v", s)
	}
}

func TestGateWaiterGivesUpWithItsContext(t *testing.T) {
	g := accounts.NewGate(1, 4)
	release, err := g.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := g.Acquire(ctx)
		errc <- err
	}()
	waitFor(func() bool { return g.Stats().Waiting == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || errors.Is(err, accounts.ErrOverloaded) {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}
	if s := g.Stats(); s.Waiting != 0 || s.Running != 1 {
		t.Fatalf("the cancelled waiter left state behind: %+v", s)
	}
}

func TestGateDefaultsAndNoQueue(t *testing.T) {
	if s := accounts.NewGate(0, -1).Stats(); s.Workers != max(runtime.GOMAXPROCS(0)-1, 1) || s.Queue != 4*s.Workers {
		t.Fatalf("defaults: %+v, want GOMAXPROCS-1 (at least 1) workers and 4x queue", s)
	}
	g := accounts.NewGate(2, 0)
	r1, err1 := g.Acquire(t.Context())
	r2, err2 := g.Acquire(t.Context())
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := g.Acquire(t.Context()); !errors.Is(err, accounts.ErrOverloaded) {
		t.Fatalf("no queue, all busy: %v, want ErrOverloaded", err)
	}
	r1()
	r3, err := g.Acquire(t.Context())
	if err != nil {
		t.Fatalf("a freed slot was not reusable: %v", err)
	}
	r2()
	r3()
}

// The service fails fast through the gate, before touching the store (the
// store here is nil: any access would panic).
func TestServiceRefusesWhenOverloaded(t *testing.T) {
	g := accounts.NewGate(1, 0)
	svc, err := accounts.NewService(nil, accounts.Options{BcryptCost: 4, Gate: g})
	if err != nil {
		t.Fatal(err)
	}
	release, err := g.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := svc.Authenticate(t.Context(), "kim@example.com", "correct horse battery"); !errors.Is(err, accounts.ErrOverloaded) {
		t.Fatalf("Authenticate on a full gate: %v, want ErrOverloaded", err)
	}
}

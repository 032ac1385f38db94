package accounts_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
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
	if s := accounts.NewGate(0, 0).Stats(); s.Workers != accounts.DefaultGateWorkers() || s.Workers < 1 || s.Queue != 4*s.Workers || s.PerKey != max((s.Workers+s.Queue)/2, 1) {
		t.Fatalf("defaults: %+v, want DefaultGateWorkers, 4x queue, half per key", s)
	}
	g := accounts.NewGate(2, accounts.NoQueue)
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
	g := accounts.NewGate(1, accounts.NoQueue)
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

// One key (an address or an account) may hold only its share of the
// places: with every slot and most of the queue its own, another key still
// gets in.
func TestGateBoundsEachKey(t *testing.T) {
	g := accounts.NewGate(1, 3).SetPerKey(2)
	r1, err := g.Acquire(t.Context(), "addr:a", "account:x")
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 2)
	go func() {
		r, err := g.Acquire(context.Background(), "addr:a", "account:x")
		if err == nil {
			r()
		}
		queued <- err
	}()
	waitFor(func() bool { return g.Stats().Waiting == 1 })
	if _, err := g.Acquire(t.Context(), "addr:a", "account:y"); !errors.Is(err, accounts.ErrOverloaded) {
		t.Fatalf("third place for one address: %v, want ErrOverloaded", err)
	}
	if _, err := g.Acquire(t.Context(), "addr:b", "account:x"); !errors.Is(err, accounts.ErrOverloaded) {
		t.Fatalf("third place for one account: %v, want ErrOverloaded", err)
	}
	go func() {
		r, err := g.Acquire(context.Background(), "addr:b", "account:z")
		if err == nil {
			r()
		}
		queued <- err
	}()
	waitFor(func() bool { return g.Stats().Waiting == 2 })
	r1()
	for range 2 {
		if err := <-queued; err != nil {
			t.Fatal(err)
		}
	}
	if s := g.Stats(); s.Running != 0 || s.Waiting != 0 {
		t.Fatalf("after the storm: %+v", s)
	}
}

// A freed slot goes to the keys in turn: a storm queued from one address
// does not delay a request from another behind all of it.
func TestGateServesKeysInTurn(t *testing.T) {
	g := accounts.NewGate(1, 8).SetPerKey(8)
	hold, err := g.Acquire(t.Context(), "addr:storm")
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 8)
	enqueue := func(key, name string) {
		n := g.Stats().Waiting
		go func() {
			r, err := g.Acquire(context.Background(), key)
			if err != nil {
				order <- "error: " + err.Error()
				return
			}
			order <- name
			r()
		}()
		waitFor(func() bool { return g.Stats().Waiting == n+1 })
	}
	enqueue("addr:storm", "storm1")
	enqueue("addr:storm", "storm2")
	enqueue("addr:storm", "storm3")
	enqueue("addr:victim", "victim")
	hold()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	want := []string{"storm1", "victim", "storm2", "storm3"}
	if !slices.Equal(got, want) {
		t.Fatalf("grant order %v, want %v", got, want)
	}
}

// The service gives the gate the client address (from the context) and
// the account as keys.
func TestServicePassesGateKeys(t *testing.T) {
	g := &recordingGate{}
	svc, err := accounts.NewService(newAdminFixture(t).store, accounts.Options{BcryptCost: 4, Gate: g})
	if err != nil {
		t.Fatal(err)
	}
	ctx := accounts.WithClientAddress(t.Context(), "192.0.2.7")
	if _, err := svc.Authenticate(ctx, "Kim@Example.com", "correct horse battery"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("Authenticate unknown user: %v", err)
	}
	want := []string{"addr:192.0.2.7", "account:kim@example.com"}
	if !slices.Equal(g.keys, want) {
		t.Fatalf("gate keys %q, want %q", g.keys, want)
	}
}

type recordingGate struct{ keys []string }

func (g *recordingGate) Run(_ context.Context, work func(), keys ...string) error {
	g.keys = keys
	work()
	return nil
}

package accounts

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// ErrOverloaded: more password hashing is waiting than the gate queues; the
// request is refused at once instead of queueing behind a login storm (the
// api answers 503 temporarily_unavailable with Retry-After).
var ErrOverloaded = errors.New("accounts: overloaded")

// PoolGate is the Gate of a server: at most Workers password hashes (bcrypt
// comparisons included) run at once, at most Queue more wait for a slot, and
// any further request fails fast with ErrOverloaded. Sized to the cores, it
// keeps a login storm from queueing unbounded CPU work; by default it leaves
// one core to everything that never hashes (refresh, JWKS, /users/me), which
// otherwise waits for the Go scheduler to preempt a hash (10 ms slices):
// measured on 2 cores, refresh p99 during a storm at bcrypt cost 10 is about
// 15 ms with 1 worker and about 50 ms with 2 (BenchmarkLoginStormRefreshLatency). Waiters are admitted roughly in arrival order
// (channel senders queue FIFO; a newcomer never takes a slot from a waiter).
type PoolGate struct {
	slots   chan struct{} // a token per running hash
	waiting chan struct{} // a token per queued request
}

var _ Gate = (*PoolGate)(nil)

// NewGate returns a gate admitting workers hashes at once with a queue of
// queue waiters. workers <= 0 means DefaultGateWorkers(); queue < 0 means
// 4 × workers; queue 0 means no queue (fail as soon as every worker is busy).
func NewGate(workers, queue int) *PoolGate {
	if workers <= 0 {
		workers = DefaultGateWorkers()
	}
	if queue < 0 {
		queue = 4 * workers
	}
	return &PoolGate{slots: make(chan struct{}, workers), waiting: make(chan struct{}, queue)}
}

// Acquire takes a slot, waiting in the queue when every slot is busy. It
// fails with an error wrapping ErrOverloaded when the queue is full, and
// with ctx's error when ctx ends while waiting. release must be called
// exactly once after a successful Acquire (extra calls do nothing).
func (g *PoolGate) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.releaser(), nil
	default:
	}
	select {
	case g.waiting <- struct{}{}:
	default:
		return nil, fmt.Errorf("%w: %d password checks running, %d waiting", ErrOverloaded, cap(g.slots), cap(g.waiting))
	}
	defer func() { <-g.waiting }()
	// A released slot goes to a blocked sender first (channel senders queue
	// in order), so newcomers never overtake the queue.
	select {
	case g.slots <- struct{}{}:
		return g.releaser(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("accounts: waiting for a password hashing slot: %w", context.Cause(ctx))
	}
}

// DefaultGateWorkers is one hashing worker per core but one
// (runtime.GOMAXPROCS(0) - 1), and at least one.
func DefaultGateWorkers() int { return max(runtime.GOMAXPROCS(0)-1, 1) }

func (g *PoolGate) releaser() func() {
	var once sync.Once
	return func() { once.Do(func() { <-g.slots }) }
}

// GateStats is a snapshot of a gate, for metrics and tests.
type GateStats struct {
	Workers, Queue   int // capacities
	Running, Waiting int // current occupancy
}

// Stats returns the gate's capacities and current occupancy.
func (g *PoolGate) Stats() GateStats {
	return GateStats{Workers: cap(g.slots), Queue: cap(g.waiting), Running: len(g.slots), Waiting: len(g.waiting)}
}

package accounts

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// ErrOverloaded: more password hashing is waiting than the gate queues (or
// than one client address or account may hold); the request is refused at
// once instead of queueing behind a login storm (the api answers 503
// temporarily_unavailable with Retry-After).
var ErrOverloaded = errors.New("accounts: overloaded")

// PoolGate is the Gate of a server: at most Workers password hashes (bcrypt
// comparisons included) run at once, at most Queue more wait for a slot, and
// any further request fails fast with ErrOverloaded.
//
// Fairness: every request names keys (the client address and the account,
// see WithClientAddress); one key may hold at most PerKey of the running
// and waiting places together, so one address or one account can never
// take every slot. Waiters queue per first key and a freed slot goes to the
// keys in turn (round robin), FIFO within a key: a storm from one address
// delays another address by at most one hash per turn.
//
// Priority: with LowPriority (Linux), hashes run on dedicated OS threads
// whose scheduling priority is lowered (nice 10, gate_linux.go), and GOMAXPROCS is raised
// by their number while hashes run. bcrypt then uses every core while
// nothing else wants one, and the kernel hands a core at once to a refresh
// or /users/me request when one arrives, instead of a fixed worker count
// leaving a core idle (docs/security.md). When no hash has run for a
// moment (hashIdle), the extra Ps are given back: idle Ps beyond the cores
// make the Go scheduler spin on every request.
type PoolGate struct {
	workers, queue, perKey int

	mu       sync.Mutex
	running  int
	waiting  int
	inflight map[string]int       // per key: running + waiting
	queues   map[string][]*waiter // waiters per first key, FIFO
	turns    []string             // keys with waiters, in round-robin order

	threads *hashThreads // nil: hash on the caller's goroutine
}

type waiter struct {
	keys    []string
	ready   chan struct{} // closed when granted
	granted bool          // under mu
}

var _ Gate = (*PoolGate)(nil)

// NoQueue, as NewGate's queue, means no queue: fail as soon as every
// worker is busy.
const NoQueue = -1

// NewGate returns a gate admitting workers hashes at once with a queue of
// queue waiters. workers <= 0 means DefaultGateWorkers(); queue 0 means
// 4 × workers, as rate_limits.hashing_queue 0 does in the configuration;
// NoQueue (or any negative queue) means none.
// One key may hold at most half of the workers+queue places (at least
// one); SetPerKey changes that.
func NewGate(workers, queue int) *PoolGate {
	if workers <= 0 {
		workers = DefaultGateWorkers()
	}
	switch {
	case queue == 0:
		queue = 4 * workers
	case queue < 0:
		queue = 0
	}
	return &PoolGate{
		workers: workers, queue: queue, perKey: max((workers+queue)/2, 1),
		inflight: map[string]int{}, queues: map[string][]*waiter{},
	}
}

// SetPerKey sets how many places (running plus waiting) one key may hold;
// n <= 0 leaves the default. It returns g, and must be called before use.
func (g *PoolGate) SetPerKey(n int) *PoolGate {
	if n > 0 {
		g.perKey = n
	}
	return g
}

// LowPriority makes g hash on its own OS threads at the lowest scheduling
// priority where the platform allows it (Linux); elsewhere it does
// nothing. It returns g, and must be called before use. The threads start
// with the first hash, so start-up pays nothing.
func (g *PoolGate) LowPriority() *PoolGate {
	if lowPrioritySupported {
		g.threads = &hashThreads{n: g.workers, idle: hashIdle}
	}
	return g
}

// Close stops the hashing threads of a LowPriority gate and gives their
// Ps back; hashes admitted afterwards run on the caller's goroutine. A
// server closes its gate when it stops (tests start many).
func (g *PoolGate) Close() {
	if g.threads != nil {
		g.threads.stop()
	}
}

// DefaultGateWorkers is the default number of concurrent hashes: one per
// core where hashing can run at low priority (the kernel then lets other
// work pre-empt it), else one per core but one, and at least one.
func DefaultGateWorkers() int {
	if lowPrioritySupported {
		return runtime.GOMAXPROCS(0)
	}
	return max(runtime.GOMAXPROCS(0)-1, 1)
}

// Run admits work under keys (see Acquire) and runs it, on a low-priority
// hashing thread when the gate has them. It returns Acquire's error without
// running work.
func (g *PoolGate) Run(ctx context.Context, work func(), keys ...string) error {
	release, err := g.Acquire(ctx, keys...)
	if err != nil {
		return err
	}
	defer release()
	if g.threads != nil {
		g.threads.do(work)
	} else {
		work()
	}
	return nil
}

// Acquire takes a slot for keys (empty keys are ignored), waiting in the
// queue of the first key when every slot is busy. It fails with an error
// wrapping ErrOverloaded when the queue is full or a key already holds its
// share, and with ctx's error when ctx ends while waiting. release must be
// called exactly once after a successful Acquire (extra calls do nothing).
func (g *PoolGate) Acquire(ctx context.Context, keys ...string) (release func(), err error) {
	keys = compactKeys(keys)
	g.mu.Lock()
	for _, k := range keys {
		if g.inflight[k] >= g.perKey {
			g.mu.Unlock()
			return nil, fmt.Errorf("%w: one client or account may have %d password checks running or waiting", ErrOverloaded, g.perKey)
		}
	}
	if g.running < g.workers && g.waiting == 0 {
		g.running++
		g.hold(keys, 1)
		g.mu.Unlock()
		return g.releaser(keys), nil
	}
	if g.waiting >= g.queue {
		g.mu.Unlock()
		return nil, fmt.Errorf("%w: %d password checks running, %d waiting", ErrOverloaded, g.workers, g.queue)
	}
	w := &waiter{keys: keys, ready: make(chan struct{})}
	q := queueKey(keys)
	if len(g.queues[q]) == 0 {
		g.turns = append(g.turns, q)
	}
	g.queues[q] = append(g.queues[q], w)
	g.waiting++
	g.hold(keys, 1)
	g.mu.Unlock()

	select {
	case <-w.ready:
		return g.releaser(keys), nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if w.granted { // granted while ctx ended: give the slot on
		g.mu.Unlock()
		g.releaser(keys)()
	} else {
		g.dequeue(q, w)
		g.waiting--
		g.hold(keys, -1)
		g.mu.Unlock()
	}
	return nil, fmt.Errorf("accounts: waiting for a password hashing slot: %w", context.Cause(ctx))
}

func compactKeys(keys []string) []string {
	out := keys[:0:0]
	for _, k := range keys {
		if k != "" && !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func queueKey(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// hold adds d to the count of every key; under mu.
func (g *PoolGate) hold(keys []string, d int) {
	for _, k := range keys {
		if n := g.inflight[k] + d; n > 0 {
			g.inflight[k] = n
		} else {
			delete(g.inflight, k)
		}
	}
}

// dequeue removes w from the queue of q; under mu.
func (g *PoolGate) dequeue(q string, w *waiter) {
	list := g.queues[q]
	for i, x := range list {
		if x == w {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) > 0 {
		g.queues[q] = list
		return
	}
	delete(g.queues, q)
	for i, k := range g.turns {
		if k == q {
			g.turns = append(g.turns[:i:i], g.turns[i+1:]...)
			break
		}
	}
}

func (g *PoolGate) releaser(keys []string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.hold(keys, -1)
			g.running--
			g.grantNext()
		})
	}
}

// grantNext gives a free slot to the first waiter of the next key in turn;
// under mu.
func (g *PoolGate) grantNext() {
	if g.running >= g.workers || len(g.turns) == 0 {
		return
	}
	q := g.turns[0]
	g.turns = g.turns[1:]
	list := g.queues[q]
	w := list[0]
	if len(list) > 1 {
		g.queues[q] = list[1:]
		g.turns = append(g.turns, q) // its next waiter goes after the other keys
	} else {
		delete(g.queues, q)
	}
	g.waiting--
	g.running++
	w.granted = true
	close(w.ready)
}

// GateStats is a snapshot of a gate, for metrics and tests.
type GateStats struct {
	Workers, Queue, PerKey int // capacities
	Running, Waiting       int // current occupancy
}

// Stats returns the gate's capacities and current occupancy.
func (g *PoolGate) Stats() GateStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return GateStats{Workers: g.workers, Queue: g.queue, PerKey: g.perKey, Running: g.running, Waiting: g.waiting}
}

// hashIdle is how long the hashing threads keep their extra Ps after the
// last hash ends. Idle Ps are not free: with more Ps than cores the Go
// scheduler spins and wakes threads (futex, nanosleep) on every request
// while looking for work, a cost /users/me and refresh pay on every call.
// The pause covers the gaps of a login storm (a hash ends, the next one is
// granted) so that GOMAXPROCS, whose change stops the world, changes twice
// per burst of sign-ins, not twice per sign-in.
const hashIdle = 200 * time.Millisecond

// hashThreads runs work on n goroutines locked to their own OS threads at
// low priority, started on first use. While a hash runs, and for idle after
// the last one, GOMAXPROCS is raised by n.
type hashThreads struct {
	n    int
	idle time.Duration
	work chan func()

	mu      sync.Mutex
	started bool
	stopped bool
	raised  bool        // GOMAXPROCS holds the n extra Ps
	active  int         // hashes handed to the threads and not done
	lower   *time.Timer // armed when active drops to 0
	idleGen uint64      // which arming of lower may act
}

func (h *hashThreads) do(work func()) {
	h.mu.Lock()
	if h.stopped { // the gate is closed: run on the caller's goroutine
		h.mu.Unlock()
		work()
		return
	}
	if !h.started {
		h.start()
	}
	if !h.raised {
		// The hashing threads get Ps of their own, so that at full hashing
		// load the rest of the server still has GOMAXPROCS of them as before.
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + h.n)
		h.raised = true
	}
	h.active++
	h.idleGen++ // a pending lowering is void
	h.mu.Unlock()

	done := make(chan struct{})
	h.work <- func() { defer close(done); work() }
	<-done

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.active--; h.active > 0 {
		return
	}
	if h.stopped {
		close(h.work) // the last hash of a closed gate ends the threads
		return
	}
	h.idleGen++
	gen := h.idleGen
	if h.lower != nil {
		h.lower.Stop()
	}
	h.lower = time.AfterFunc(h.idle, func() { h.giveBack(gen) })
}

// giveBack lowers GOMAXPROCS again when no hash has run since the arming
// gen.
func (h *hashThreads) giveBack(gen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.idleGen || h.active > 0 || !h.raised {
		return
	}
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) - h.n)
	h.raised = false
}

// stop ends the threads, if they started, and gives their Ps back.
func (h *hashThreads) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	h.stopped = true
	h.idleGen++
	if h.lower != nil {
		h.lower.Stop()
	}
	if h.raised {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) - h.n)
		h.raised = false
	}
	if h.started && h.active == 0 {
		close(h.work)
	}
}

// start starts the threads; under mu.
func (h *hashThreads) start() {
	h.started = true
	h.work = make(chan func())
	for range h.n {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread is the pool's
			lowerThreadPriority()
			for f := range h.work {
				f()
			}
		}()
	}
}

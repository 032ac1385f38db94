package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/session"
)

// errDBFailingFast is the error of a store call refused while the database
// guard fails fast (wrapped in session.ErrUnavailable: 503).
var errDBFailingFast = errors.New("database unavailable: failing fast after repeated timeouts")

// Guard tuning. In-flight: MongoDB's default connection pool is 100 and
// SQLite has one connection, so more concurrent calls only queue inside the
// driver; 64 bounds the goroutines blocked on the database to what it can
// serve, the rest wait at most the deadline here. Fail fast: after 3 calls
// in a row ran into the deadline the database is taken to be down; for the
// next second every call is refused at once (503 in microseconds instead of
// after the whole deadline), then one probe call goes through, and its
// success lets all calls through again. Recovery after the database
// returns thus takes at most that second plus one call.
const (
	guardInFlight = 64
	guardTrip     = 3
	guardOpenFor  = time.Second
)

// dbGuard bounds every store call of the server: a deadline of
// database.timeout on its context, at most guardInFlight calls at once, and
// a short fail-fast window after repeated timeouts. A nil guard does nothing
// but run done.
type dbGuard struct {
	timeout time.Duration
	sem     chan struct{}
	now     func() time.Time

	mu        sync.Mutex
	fails     int       // consecutive calls that ran into the deadline
	openUntil time.Time // fail fast until then
	probing   bool      // a probe call is in flight
	// failing mirrors fails != 0 (written under mu), so that the calls of
	// a healthy database, all but a few, pass admit and record without
	// taking mu: two lock round trips on every store call otherwise.
	failing atomic.Bool
}

func newDBGuard(timeout time.Duration) *dbGuard {
	return &dbGuard{timeout: timeout, sem: make(chan struct{}, guardInFlight), now: time.Now}
}

// enter starts one store call: it returns the context to call the store
// with and the function to pass the call's error through when it has
// returned. That function also runs observe, and marks an error of an
// unreachable or overdue database with session.ErrUnavailable (503).
func (g *dbGuard) enter(ctx context.Context, op string, observe func()) (context.Context, func(error) error) {
	if g == nil {
		return ctx, func(err error) error { observe(); return err }
	}
	if op == "DeleteExpired" {
		// The sweeper's batch delete: no request waits for it, and on a
		// large table it may rightly take longer than one request's call.
		// It gets ten deadlines and never counts towards failing fast.
		cctx, cancel := context.WithTimeout(ctx, 10*g.timeout)
		return cctx, func(err error) error {
			expired := cctx.Err() != nil
			cancel()
			observe()
			return unavailable(err, expired)
		}
	}
	probe, ok := g.admit()
	if !ok {
		// A cancelled context: the store returns at once without a round
		// trip; whatever it says, the answer is the fail-fast error.
		cctx, cancel := context.WithCancelCause(ctx)
		cancel(errDBFailingFast)
		return cctx, func(error) error {
			observe()
			return fmt.Errorf("%w: %w", session.ErrUnavailable, errDBFailingFast)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, g.timeout)
	select {
	case g.sem <- struct{}{}:
	case <-cctx.Done():
		// Waited the whole deadline for a slot: overload, not an outage;
		// the call fails at once on its expired context.
		return cctx, func(err error) error {
			if probe {
				g.mu.Lock()
				g.probing = false
				g.mu.Unlock()
			}
			cancel()
			observe()
			return unavailable(err, true)
		}
	}
	return cctx, func(err error) error {
		<-g.sem
		expired := cctx.Err() != nil || (err != nil && deadlineReached(cctx, g.timeout))
		down := err != nil && (expired || dbOutage(err)) && ctx.Err() == nil
		cancel()
		g.record(down, probe)
		observe()
		return unavailable(err, expired)
	}
}

// unavailable marks err with session.ErrUnavailable when it is the
// database's fault: the deadline passed, or the driver says the server
// cannot be reached or is locked. Other errors (sentinels such as
// ErrNotFound) pass untouched.
func unavailable(err error, expired bool) error {
	if err == nil || errors.Is(err, session.ErrUnavailable) || !(expired || dbOutage(err)) {
		return err
	}
	return fmt.Errorf("%w: %w", session.ErrUnavailable, err)
}

// deadlineReached reports whether a call that failed did so within the last
// tenth of its deadline. The MongoDB driver sends the remaining time as
// maxTimeMS, so a server stops the operation just before our context ends
// and reports it in its own words: MongoDB as MaxTimeMSExpired (which
// mongo.IsTimeout knows), FerretDB as an InternalError. Either way it is
// the deadline that ended the call.
func deadlineReached(ctx context.Context, timeout time.Duration) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < timeout/10
}

// mongoUnavailableCodes are the server error codes that mean "the server
// cannot serve this now" rather than "this request is wrong": an internal
// failure (FerretDB answers an operation cut short by its own shutdown
// this way), unreachable hosts, shutdown, and a primary stepping down.
var mongoUnavailableCodes = []int{
	1,     // InternalError
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
}

// dbOutage reports whether err says the database cannot serve now.
func dbOutage(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err) || mongo.IsNetworkError(err) {
		return true
	}
	var me mongo.ServerError
	if errors.As(err, &me) {
		if me.HasErrorLabel("RetryableWriteError") || me.HasErrorLabel("TransientTransactionError") {
			return true
		}
		for _, code := range mongoUnavailableCodes {
			if me.HasErrorCode(code) {
				return true
			}
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
			return true
		}
	}
	return false
}

// admit reports whether a call may go to the database now, and whether it
// is the probe that ends a fail-fast window.
func (g *dbGuard) admit() (probe, ok bool) {
	if !g.failing.Load() {
		return false, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fails < guardTrip {
		return false, true
	}
	if g.now().Before(g.openUntil) || g.probing {
		return false, false
	}
	g.probing = true
	return true, true
}

// record notes the outcome of an admitted call. A call that answered in
// time, whatever its error, shows the database is there.
func (g *dbGuard) record(timedOut, probe bool) {
	if !timedOut && !probe && !g.failing.Load() {
		return // fails is 0 and stays so
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if probe {
		g.probing = false
	}
	if !timedOut {
		g.fails = 0
		g.failing.Store(false)
		return
	}
	g.fails++
	g.failing.Store(true)
	if g.fails >= guardTrip {
		g.openUntil = g.now().Add(guardOpenFor)
	}
}

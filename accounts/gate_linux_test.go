package accounts_test

import (
	"context"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/unilogin/unilogin/accounts"
)

// On Linux hashing uses every core, on its own threads at nice 10, and the
// rest of the server keeps its GOMAXPROCS.
func TestLowPriorityGateHashesOnNiceThreads(t *testing.T) {
	if w := accounts.DefaultGateWorkers(); w != runtime.GOMAXPROCS(0) {
		t.Fatalf("DefaultGateWorkers = %d, want GOMAXPROCS %d", w, runtime.GOMAXPROCS(0))
	}
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	g := accounts.NewGate(2, 0).LowPriority()
	defer g.Close()
	var prio, procs int
	var err error
	if runErr := g.Run(t.Context(), func() {
		// The raw getpriority syscall returns 20 - nice.
		prio, err = unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
		procs = runtime.GOMAXPROCS(0)
	}, "addr:a"); runErr != nil {
		t.Fatal(runErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if nice := 20 - prio; nice != 10 {
		t.Fatalf("hashing thread nice = %d, want 10", nice)
	}
	if procs != before+2 {
		t.Fatalf("GOMAXPROCS during a hash = %d, want %d (raised by the 2 hashing threads)", procs, before+2)
	}
	if prio, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid()); err != nil || 20-prio == 10 {
		t.Fatalf("the caller's thread was lowered too (prio %d, %v)", prio, err)
	}
}

// Close stops the hashing threads and gives their Ps back; a hash admitted
// afterwards still runs (on the caller's goroutine), so a server with many
// gates over its life (tests) does not pile up threads.
func TestLowPriorityGateClose(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	g := accounts.NewGate(2, 0).LowPriority()
	if err := g.Run(t.Context(), func() {}, "addr:a"); err != nil {
		t.Fatal(err)
	}
	g.Close()
	g.Close() // idempotent
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS after Close = %d, want %d", got, before)
	}
	ran := false
	if err := g.Run(t.Context(), func() { ran = true }, "addr:a"); err != nil || !ran {
		t.Fatalf("Run after Close: ran %v, err %v", ran, err)
	}
	unused := accounts.NewGate(1, 0).LowPriority()
	unused.Close() // never started: nothing to stop
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS after closing an unused gate = %d, want %d", got, before)
	}
}

// The extra Ps are held while any hash runs and given back once the
// threads have been idle (here at once); the next hash raises GOMAXPROCS
// again. A gate that never gives them back makes the test hang.
func TestLowPriorityGateGivesPsBackWhenIdle(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(before)
	g := accounts.NewGate(2, 0).LowPriority().SetHashIdle(0)
	defer g.Close()

	// While one hash holds the threads, another ending keeps the Ps.
	hold, holding := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.Run(context.Background(), func() { close(holding); <-hold }, "addr:a")
	}()
	<-holding
	if err := g.Run(t.Context(), func() {}, "addr:b"); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != before+2 {
		t.Fatalf("GOMAXPROCS with a hash still running = %d, want %d", got, before+2)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	waitFor(func() bool { return runtime.GOMAXPROCS(0) == before })

	var procs int
	if err := g.Run(t.Context(), func() { procs = runtime.GOMAXPROCS(0) }, "addr:a"); err != nil {
		t.Fatal(err)
	}
	if procs != before+2 {
		t.Fatalf("GOMAXPROCS during a hash after an idle pause = %d, want %d", procs, before+2)
	}
	waitFor(func() bool { return runtime.GOMAXPROCS(0) == before })
	g.Close()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS after Close = %d, want %d", got, before)
	}
}

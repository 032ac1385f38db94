package accounts_test

import (
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
	var prio int
	var err error
	if runErr := g.Run(t.Context(), func() {
		// The raw getpriority syscall returns 20 - nice.
		prio, err = unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	}, "addr:a"); runErr != nil {
		t.Fatal(runErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if nice := 20 - prio; nice != 10 {
		t.Fatalf("hashing thread nice = %d, want 10", nice)
	}
	if got := runtime.GOMAXPROCS(0); got != before+2 {
		t.Fatalf("GOMAXPROCS = %d, want %d (raised by the 2 hashing threads)", got, before+2)
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

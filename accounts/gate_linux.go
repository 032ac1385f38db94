package accounts

import "golang.org/x/sys/unix"

const lowPrioritySupported = true

// lowerThreadPriority sets the calling OS thread (not the process: on
// Linux PRIO_PROCESS with a thread id names one thread) to nice 19, the
// lowest priority. A failure leaves normal priority: the gate still bounds.
func lowerThreadPriority() {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}

package accounts

import "golang.org/x/sys/unix"

const lowPrioritySupported = true

// hashNice is the niceness of the hashing threads. 10 gives a hashing
// thread about a tenth of the CPU weight of a request thread (110 against
// 1024 in the Linux scheduler), enough for the kernel to hand cores to
// requests at once. The lowest priority (19, weight 15) lets other
// processes on a busy host starve the hashes, and a starved thread that
// holds a P delays every stop-the-world phase of the garbage collector,
// which all requests then wait for.
const hashNice = 10

// lowerThreadPriority sets the calling OS thread (not the process: on
// Linux PRIO_PROCESS with a thread id names one thread) to hashNice. A
// failure leaves normal priority: the gate still bounds.
func lowerThreadPriority() {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), hashNice)
}

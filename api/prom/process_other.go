//go:build !linux

package prom

// ProcessCollector reports the process's CPU, memory and file descriptors
// on Linux; elsewhere it reports nothing.
func ProcessCollector() Collector {
	return CollectorFunc(func() []Family { return nil })
}

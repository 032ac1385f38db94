//go:build linux

package prom

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ProcessCollector reports the process from /proc (on Linux; elsewhere it
// reports nothing): CPU seconds, memory, file descriptors, start time and
// network bytes, under the names of the Prometheus client library
// (process_cpu_seconds_total, process_resident_memory_bytes, ...).
func ProcessCollector() Collector {
	return CollectorFunc(func() []Family {
		st, err := readProcStat()
		if err != nil {
			return nil
		}
		fams := []Family{
			counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", st.cpuSeconds),
			gauge("process_resident_memory_bytes", "Resident memory size in bytes.", st.rss),
			gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", st.start),
			gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", st.vsize),
		}
		if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
			fams = append(fams, gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds))))
		}
		var lim syscall.Rlimit
		if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
			fams = append(fams, gauge("process_max_fds", "Maximum number of open file descriptors.", float64(lim.Cur)))
		}
		if syscall.Getrlimit(syscall.RLIMIT_AS, &lim) == nil {
			fams = append(fams, gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", rlimitValue(lim.Cur)))
		}
		if in, out, ok := readNetBytes(); ok {
			fams = append(fams,
				counter("process_network_receive_bytes_total", "Number of bytes received by the process over the network.", in),
				counter("process_network_transmit_bytes_total", "Number of bytes sent by the process over the network.", out))
		}
		return fams
	})
}

// rlimitValue is an rlimit in bytes, with "unlimited" as -1 the way the
// client library reports it.
func rlimitValue(v uint64) float64 {
	if v == math.MaxUint64 { // RLIM_INFINITY
		return -1
	}
	return float64(v)
}

// The kernel's clock ticks per second (USER_HZ), which is 100 on every
// Linux platform Go supports.
const userHZ = 100

type procStat struct{ cpuSeconds, rss, start, vsize float64 }

// readProcStat reads /proc/self/stat (proc(5)): utime and stime (fields
// 14 and 15), starttime (22), vsize (23) and rss in pages (24).
func readProcStat() (procStat, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, syscall.EINVAL
	}
	f := strings.Fields(string(data[i+1:])) // f[0] is field 3
	if len(f) < 22 {
		return procStat{}, syscall.EINVAL
	}
	num := func(field int) float64 {
		v, _ := strconv.ParseFloat(f[field-3], 64)
		return v
	}
	boot, err := bootTime()
	if err != nil {
		return procStat{}, err
	}
	return procStat{
		cpuSeconds: (num(14) + num(15)) / userHZ,
		start:      boot + num(22)/userHZ,
		vsize:      num(23),
		rss:        num(24) * float64(os.Getpagesize()),
	}, nil
}

// bootTime is the btime line of /proc/stat: the boot time in seconds
// since the epoch.
func bootTime() (float64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, syscall.EINVAL
}

// readNetBytes reads the IpExt InOctets and OutOctets counters of the
// process's network namespace from /proc/self/net/netstat.
func readNetBytes() (in, out float64, ok bool) {
	data, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, false
	}
	var names []string
	for line := range strings.Lines(string(data)) {
		rest, found := strings.CutPrefix(line, "IpExt: ")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if i >= len(f) {
				break
			}
			v, _ := strconv.ParseFloat(f[i], 64)
			switch name {
			case "InOctets":
				in = v
			case "OutOctets":
				out = v
			}
		}
		return in, out, true
	}
	return 0, 0, false
}

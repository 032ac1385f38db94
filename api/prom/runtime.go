package prom

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

func gauge(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: TypeGauge, Samples: []Sample{{Value: v}}}
}

func counter(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Type: TypeCounter, Samples: []Sample{{Value: v}}}
}

// GoCollector reports the Go runtime: goroutines, threads, garbage
// collection and the heap, under the names of the Prometheus client
// library (go_goroutines, go_memstats_*, go_gc_duration_seconds, ...).
func GoCollector() Collector {
	return CollectorFunc(func() []Family {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		threads, _ := runtime.ThreadCreateProfile(nil)
		gs := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
		debug.ReadGCStats(&gs)
		rm := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
		metrics.Read(rm)
		var pauseSum float64
		for _, p := range gs.Pause {
			pauseSum += p.Seconds()
		}
		gc := Family{Name: "go_gc_duration_seconds", Help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", Type: TypeSummary}
		for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
			gc.Samples = append(gc.Samples, Sample{Labels: []Label{{"quantile", q}}, Value: gs.PauseQuantiles[i].Seconds()})
		}
		// ReadGCStats keeps the most recent pauses only: the sum is theirs,
		// the count is every collection.
		gc.Samples = append(gc.Samples, Sample{Suffix: "_sum", Value: pauseSum}, Sample{Suffix: "_count", Value: float64(gs.NumGC)})
		b := func(name, help string, v uint64) Family { return gauge("go_memstats_"+name, help, float64(v)) }
		return []Family{
			gc,
			gauge("go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100.", metricValue(rm[0])),
			gauge("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64.", metricValue(rm[1])),
			gauge("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine())),
			{Name: "go_info", Help: "Information about the Go environment.", Type: TypeGauge, Samples: []Sample{{Labels: []Label{{"version", runtime.Version()}}, Value: 1}}},
			b("alloc_bytes", "Number of bytes allocated in heap and currently in use.", ms.Alloc),
			counter("go_memstats_alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already.", float64(ms.TotalAlloc)),
			b("buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table.", ms.BuckHashSys),
			counter("go_memstats_frees_total", "Total number of heap objects frees.", float64(ms.Frees)),
			b("gc_sys_bytes", "Number of bytes used for garbage collection system metadata.", ms.GCSys),
			b("heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes.", ms.HeapAlloc),
			b("heap_idle_bytes", "Number of heap bytes waiting to be used.", ms.HeapIdle),
			b("heap_inuse_bytes", "Number of heap bytes that are in use.", ms.HeapInuse),
			b("heap_objects", "Number of currently allocated objects.", ms.HeapObjects),
			b("heap_released_bytes", "Number of heap bytes released to OS.", ms.HeapReleased),
			b("heap_sys_bytes", "Number of heap bytes obtained from system.", ms.HeapSys),
			gauge("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", float64(ms.LastGC)/1e9),
			counter("go_memstats_mallocs_total", "Total number of heap objects allocated, both live and gc-ed.", float64(ms.Mallocs)),
			b("mcache_inuse_bytes", "Number of bytes in use by mcache structures.", ms.MCacheInuse),
			b("mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system.", ms.MCacheSys),
			b("mspan_inuse_bytes", "Number of bytes in use by mspan structures.", ms.MSpanInuse),
			b("mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system.", ms.MSpanSys),
			b("next_gc_bytes", "Number of heap bytes when next garbage collection will take place.", ms.NextGC),
			b("other_sys_bytes", "Number of bytes used for other system allocations.", ms.OtherSys),
			b("stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments.", ms.StackInuse),
			b("stack_sys_bytes", "Number of bytes obtained from system for stack allocator.", ms.StackSys),
			b("sys_bytes", "Number of bytes obtained from system.", ms.Sys),
			gauge("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting.", float64(runtime.GOMAXPROCS(0))),
			gauge("go_threads", "Number of OS threads created.", float64(threads)),
		}
	})
}

func metricValue(s metrics.Sample) float64 {
	switch s.Value.Kind() {
	case metrics.KindUint64:
		return float64(s.Value.Uint64())
	case metrics.KindFloat64:
		return s.Value.Float64()
	}
	return 0
}

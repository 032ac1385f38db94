// Package prom is unilogin's thin layer over github.com/VictoriaMetrics/metrics,
// a small Prometheus client: counters, gauges and histograms with labels,
// the Go runtime and process metrics, and a registry served in the
// Prometheus text exposition format (version 0.0.4), which every
// Prometheus server and agent scrapes.
//
// The library names a series by its whole text form (name{label="value"});
// this package keeps the label-vector API of the Prometheus client library
// (NewCounterVec(...).WithLabelValues(...)) that the rest of unilogin
// uses, builds those names with the labels in name order and their values
// escaped, and gives each metric a set of its own so that a registry can
// refuse a name registered twice. The library prints the TYPE line of
// every family and a HELP line with the name only: the Help of the options
// documents a metric where it is declared but is not served.
package prom

import (
	"bufio"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Collector is anything a Registry serves: one metric family (or, for the
// runtime collectors, one group of families under a common prefix).
type Collector interface {
	// metric is the name of the metric, unique in a registry.
	metric() string
	// writeTo writes the collector's families in the text format.
	writeTo(w io.Writer)
}

// Registry holds the collectors of one server: each server has its own,
// so that tests can build many in one process.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector // in the order of their names
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	// TYPE lines are off by default in the library, and the switch is
	// process-wide; every registry of unilogin wants them.
	metrics.ExposeMetadata(true)
	return &Registry{}
}

// MustRegister adds collectors to r. A name registered twice is a
// programming error: it panics.
func (r *Registry) MustRegister(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		i, found := slices.BinarySearchFunc(r.collectors, c.metric(), func(have Collector, name string) int {
			return strings.Compare(have.metric(), name)
		})
		if found {
			panic("prom: metric " + c.metric() + " registered twice")
		}
		r.collectors = slices.Insert(r.collectors, i, c)
	}
}

// Handler serves r's collectors in the text exposition format, in the
// order of their names.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		cs := slices.Clone(r.collectors)
		r.mu.Unlock()
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		bw := bufio.NewWriter(w)
		for _, c := range cs {
			c.writeTo(bw)
		}
		_ = bw.Flush()
	})
}

// writer is a Collector from a function that writes families.
type writer struct {
	name  string
	write func(io.Writer)
}

func (c writer) metric() string      { return c.name }
func (c writer) writeTo(w io.Writer) { c.write(w) }

// GoCollector reports the Go runtime as the library names it: goroutines,
// threads, garbage collection, the heap (go_goroutines, go_memstats_*,
// go_gc_duration_seconds, go_gomaxprocs, ...).
func GoCollector() Collector { return writer{"go_", metrics.WriteGoMetrics} }

// ProcessCollector reports the process as the library names it: CPU
// seconds, memory, file descriptors, start time, I/O
// (process_cpu_seconds_total, process_resident_memory_bytes,
// process_open_fds, ...), on Linux, macOS, Windows and Solaris.
func ProcessCollector() Collector {
	return writer{"process_", func(w io.Writer) {
		metrics.WriteProcMetrics(w)
		metrics.WriteFDMetrics(w)
	}}
}

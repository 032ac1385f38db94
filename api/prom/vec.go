package prom

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Opts names a metric and says what it measures (the HELP line).
type Opts struct{ Name, Help string }

// CounterOpts and GaugeOpts name a counter or a gauge.
type (
	CounterOpts = Opts
	GaugeOpts   = Opts
)

// HistogramOpts names a histogram and gives its bucket upper bounds, in
// increasing order (the +Inf bucket is implicit).
type HistogramOpts struct {
	Name, Help string
	Buckets    []float64
}

// atomicFloat is a float64 updated without locks.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) add(v float64) {
	for {
		old := f.bits.Load()
		if f.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (f *atomicFloat) set(v float64) { f.bits.Store(math.Float64bits(v)) }

func (f *atomicFloat) load() float64 { return math.Float64frombits(f.bits.Load()) }

// Counter is a value that only goes up.
type Counter struct {
	v    atomicFloat
	opts Opts // set on a counter made by NewCounter, which is a Collector
}

// NewCounter returns a counter without labels, to be registered.
func NewCounter(opts CounterOpts) *Counter { return &Counter{opts: opts} }

// Inc adds 1.
func (c *Counter) Inc() { c.v.add(1) }

// Add adds v, which must not be negative.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic("prom: a counter cannot go down")
	}
	c.v.add(v)
}

// Collect reports the counter (made by NewCounter).
func (c *Counter) Collect() []Family {
	return []Family{{Name: c.opts.Name, Help: c.opts.Help, Type: TypeCounter, Samples: []Sample{{Value: c.v.load()}}}}
}

// Gauge is a value that goes up and down.
type Gauge struct{ v atomicFloat }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.v.set(v) }

// Add adds v (which may be negative).
func (g *Gauge) Add(v float64) { g.v.add(v) }

// Histogram counts observations in buckets and sums them.
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // counts[i]: observations <= bounds[i]; the last, the rest
	sum    atomicFloat
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	h.counts[sort.SearchFloat64s(h.bounds, v)].Add(1)
	h.sum.add(v)
}

func (h *Histogram) samples(labels []Label) []Sample {
	out := make([]Sample, 0, len(h.bounds)+3)
	var n uint64
	bucket := func(le string) {
		out = append(out, Sample{Suffix: "_bucket", Labels: append(slices.Clip(labels), Label{"le", le}), Value: float64(n)})
	}
	for i, b := range h.bounds {
		n += h.counts[i].Load()
		bucket(FormatFloat(b))
	}
	n += h.counts[len(h.bounds)].Load()
	bucket("+Inf")
	return append(out,
		Sample{Suffix: "_sum", Labels: slices.Clone(labels), Value: h.sum.load()},
		Sample{Suffix: "_count", Labels: slices.Clone(labels), Value: float64(n)})
}

// vec holds one metric's children by their label values.
type vec[T any] struct {
	name, help, typ string
	labels          []string
	make            func() *T
	samples         func(m *T, labels []Label) []Sample

	mu       sync.RWMutex
	children map[string]*child[T]
}

type child[T any] struct {
	values []string
	m      *T
}

// with returns the child of the label values, creating it on first use.
// A wrong number of values is a programming error: it panics.
func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("prom: %s takes %d label values, got %d", v.name, len(v.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	c, ok := v.children[key]
	v.mu.RUnlock()
	if ok {
		return c.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok = v.children[key]; !ok {
		c = &child[T]{values: slices.Clone(values), m: v.make()}
		v.children[key] = c
	}
	return c.m
}

// Collect reports the children in the order of their label values.
func (v *vec[T]) Collect() []Family {
	v.mu.RLock()
	cs := make([]*child[T], 0, len(v.children))
	for _, c := range v.children {
		cs = append(cs, c)
	}
	v.mu.RUnlock()
	slices.SortFunc(cs, func(a, b *child[T]) int { return slices.Compare(a.values, b.values) })
	f := Family{Name: v.name, Help: v.help, Type: v.typ}
	for _, c := range cs {
		labels := make([]Label, len(v.labels))
		for i, name := range v.labels {
			labels[i] = Label{name, c.values[i]}
		}
		f.Samples = append(f.Samples, v.samples(c.m, labels)...)
	}
	return []Family{f}
}

func newVec[T any](name, help, typ string, labels []string, mk func() *T, samples func(*T, []Label) []Sample) vec[T] {
	return vec[T]{name: name, help: help, typ: typ, labels: slices.Clone(labels), make: mk, samples: samples, children: map[string]*child[T]{}}
}

// CounterVec is a counter per combination of label values.
type CounterVec struct{ vec[Counter] }

// NewCounterVec returns a counter with the named labels.
func NewCounterVec(opts CounterOpts, labels []string) *CounterVec {
	return &CounterVec{newVec(opts.Name, opts.Help, TypeCounter, labels, func() *Counter { return &Counter{} },
		func(c *Counter, l []Label) []Sample { return []Sample{{Labels: l, Value: c.v.load()}} })}
}

// WithLabelValues returns the counter of the label values, in the order
// of the labels.
func (v *CounterVec) WithLabelValues(values ...string) *Counter { return v.with(values) }

// GaugeVec is a gauge per combination of label values.
type GaugeVec struct{ vec[Gauge] }

// NewGaugeVec returns a gauge with the named labels.
func NewGaugeVec(opts GaugeOpts, labels []string) *GaugeVec {
	return &GaugeVec{newVec(opts.Name, opts.Help, TypeGauge, labels, func() *Gauge { return &Gauge{} },
		func(g *Gauge, l []Label) []Sample { return []Sample{{Labels: l, Value: g.v.load()}} })}
}

// WithLabelValues returns the gauge of the label values.
func (v *GaugeVec) WithLabelValues(values ...string) *Gauge { return v.with(values) }

// HistogramVec is a histogram per combination of label values.
type HistogramVec struct{ vec[Histogram] }

// NewHistogramVec returns a histogram with the named labels. Buckets that
// are not in increasing order are a programming error: it panics.
func NewHistogramVec(opts HistogramOpts, labels []string) *HistogramVec {
	bounds := slices.Clone(opts.Buckets)
	if !slices.IsSortedFunc(bounds, cmp.Compare[float64]) || len(slices.Compact(slices.Clone(bounds))) != len(bounds) {
		panic("prom: the buckets of " + opts.Name + " are not increasing")
	}
	return &HistogramVec{newVec(opts.Name, opts.Help, TypeHistogram, labels,
		func() *Histogram { return newHistogram(bounds) }, (*Histogram).samples)}
}

// WithLabelValues returns the histogram of the label values.
func (v *HistogramVec) WithLabelValues(values ...string) *Histogram { return v.with(values) }

// NewGaugeFunc returns a collector of a gauge whose values are read when
// scraped: collect calls set once per series, with its value and label
// values (in the order of labels).
func NewGaugeFunc(opts GaugeOpts, labels []string, collect func(set func(v float64, values ...string))) Collector {
	return CollectorFunc(func() []Family {
		f := Family{Name: opts.Name, Help: opts.Help, Type: TypeGauge}
		collect(func(v float64, values ...string) {
			if len(values) != len(labels) {
				panic(fmt.Sprintf("prom: %s takes %d label values, got %d", opts.Name, len(labels), len(values)))
			}
			s := Sample{Value: v, Labels: make([]Label, len(labels))}
			for i, name := range labels {
				s.Labels[i] = Label{name, values[i]}
			}
			f.Samples = append(f.Samples, s)
		})
		return []Family{f}
	})
}

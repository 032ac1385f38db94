package prom

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// Opts names a metric and says what it measures (see the package doc on
// HELP lines).
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

// family is one metric: its name, its label names and the set its series
// live in.
type family struct {
	name   string
	labels []string     // in the order WithLabelValues takes their values
	order  []int        // the indexes of labels, in the order of their names
	set    *metrics.Set // a vector's; NewGaugeFunc's makes one per scrape
}

func newFamily(name string, labels []string) family {
	labels = slices.Clone(labels)
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return family{name: name, labels: labels, order: order}
}

func (f *family) metric() string      { return f.name }
func (f *family) writeTo(w io.Writer) { f.set.WritePrometheus(w) }

// labelEscaper escapes a label value as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// series is the library's name of the series with the label values (in
// the order of f.labels): name{a="x",b="y"}, labels in name order. A wrong
// number of values is a programming error: it panics.
func (f *family) series(values []string) string {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("prom: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	if len(values) == 0 {
		return f.name
	}
	var b strings.Builder
	n := len(f.name) + 1
	for i, v := range values {
		n += len(f.labels[i]) + len(v) + 4
	}
	b.Grow(n)
	b.WriteString(f.name)
	for i, j := range f.order {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		b.WriteByte(sep)
		b.WriteString(f.labels[j])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(values[j])) // values[j] itself when nothing needs escaping
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// vec is a family whose series are made on first use by their label values.
type vec[T any] struct {
	family
	create func(f *family, series string) *T

	mu       sync.RWMutex
	children map[string]*T // by valueKey of the label values
}

// valueKey appends the label values to b, each after its length: distinct
// value lists give distinct keys, whatever bytes the values hold.
func valueKey(b []byte, values []string) []byte {
	for _, v := range values {
		b = append(binary.AppendUvarint(b, uint64(len(v))), v...)
	}
	return b
}

func (v *vec[T]) init(name string, labels []string, create func(*family, string) *T) {
	v.family = newFamily(name, labels)
	v.set = metrics.NewSet()
	v.create = create
	v.children = map[string]*T{}
}

// with returns the series of the label values, creating it on first use.
// The lookup of an existing series allocates nothing: the key is built in
// a stack buffer and the map is indexed by string(key), which Go does not
// copy; the series name is built only when the series is created.
func (v *vec[T]) with(values []string) *T {
	var buf [128]byte
	key := valueKey(buf[:0], values)
	v.mu.RLock()
	c, ok := v.children[string(key)]
	v.mu.RUnlock()
	if ok {
		return c
	}
	name := v.series(values) // checks the number of values
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok = v.children[string(key)]; !ok {
		c = v.create(&v.family, name)
		v.children[string(key)] = c
	}
	return c
}

// Counter is a value that only goes up. It is a Collector of its family.
type Counter struct {
	*family
	c *metrics.Counter
}

// Inc adds 1.
func (c *Counter) Inc() { c.c.Inc() }

// NewCounter returns a counter without labels, to be registered.
func NewCounter(opts CounterOpts) *Counter { return NewCounterVec(opts, nil).WithLabelValues() }

// CounterVec is a counter per combination of label values.
type CounterVec struct{ vec[Counter] }

// NewCounterVec returns a counter with the named labels.
func NewCounterVec(opts CounterOpts, labels []string) *CounterVec {
	v := &CounterVec{}
	v.init(opts.Name, labels, func(f *family, series string) *Counter {
		return &Counter{f, f.set.GetOrCreateCounter(series)}
	})
	return v
}

// WithLabelValues returns the counter of the label values, in the order
// of the labels.
func (v *CounterVec) WithLabelValues(values ...string) *Counter { return v.with(values) }

// Gauge is a value that goes up and down.
type Gauge struct{ g *metrics.Gauge }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.g.Set(v) }

// GaugeVec is a gauge per combination of label values.
type GaugeVec struct{ vec[Gauge] }

// NewGaugeVec returns a gauge with the named labels.
func NewGaugeVec(opts GaugeOpts, labels []string) *GaugeVec {
	v := &GaugeVec{}
	v.init(opts.Name, labels, func(f *family, series string) *Gauge {
		return &Gauge{f.set.GetOrCreateGauge(series, nil)}
	})
	return v
}

// WithLabelValues returns the gauge of the label values.
func (v *GaugeVec) WithLabelValues(values ...string) *Gauge { return v.with(values) }

// Histogram counts observations in buckets and sums them.
type Histogram struct{ h *metrics.PrometheusHistogram }

// Observe records v; negative values and NaN are ignored.
func (h *Histogram) Observe(v float64) { h.h.Update(v) }

// HistogramVec is a histogram per combination of label values.
type HistogramVec struct{ vec[Histogram] }

// NewHistogramVec returns a histogram with the named labels. Buckets that
// are missing or not in increasing order are a programming error: it panics.
func NewHistogramVec(opts HistogramOpts, labels []string) *HistogramVec {
	bounds := slices.Clone(opts.Buckets)
	if err := metrics.ValidateBuckets(bounds); err != nil {
		panic("prom: the buckets of " + opts.Name + ": " + err.Error())
	}
	v := &HistogramVec{}
	v.init(opts.Name, labels, func(f *family, series string) *Histogram {
		return &Histogram{f.set.GetOrCreatePrometheusHistogramExt(series, bounds)}
	})
	return v
}

// WithLabelValues returns the histogram of the label values.
func (v *HistogramVec) WithLabelValues(values ...string) *Histogram { return v.with(values) }

// gaugeFunc is a gauge whose series are read when scraped.
type gaugeFunc struct {
	family
	collect func(set func(v float64, values ...string))
}

// writeTo collects the series into a set of this scrape's own, so that a
// series collect no longer reports is gone.
func (g *gaugeFunc) writeTo(w io.Writer) {
	s := metrics.NewSet()
	g.collect(func(v float64, values ...string) { s.GetOrCreateGauge(g.series(values), nil).Set(v) })
	s.WritePrometheus(w)
}

// NewGaugeFunc returns a collector of a gauge whose values are read when
// scraped: collect calls set once per series, with its value and label
// values (in the order of labels).
func NewGaugeFunc(opts GaugeOpts, labels []string, collect func(set func(v float64, values ...string))) Collector {
	return &gaugeFunc{family: newFamily(opts.Name, labels), collect: collect}
}

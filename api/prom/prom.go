// Package prom is the small part of a Prometheus client that unilogin
// needs: counters, gauges and histograms with labels, the Go runtime and
// process metrics, and a registry served in the Prometheus text exposition
// format (version 0.0.4), which every Prometheus server and agent scrapes.
//
// It replaces github.com/prometheus/client_golang, whose protobuf
// exposition, OpenMetrics negotiation and descriptor checks unilogin does
// not use and which made up about 2 MB of the binary. The metric names,
// types and labels it prints are the ones the client library printed.
package prom

import (
	"bufio"
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The metric types of the exposition format's TYPE line.
const (
	TypeCounter   = "counter"
	TypeGauge     = "gauge"
	TypeHistogram = "histogram"
	TypeSummary   = "summary"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Family is one metric with its samples, as printed.
type Family struct {
	Name, Help, Type string
	Samples          []Sample
}

// Sample is one line of a family: the family's name plus Suffix
// ("_bucket", "_sum", "_count" or ""), its labels and its value.
type Sample struct {
	Suffix string
	Labels []Label
	Value  float64
}

// Label is one label pair of a sample.
type Label struct{ Name, Value string }

// Get returns the value of the label name, or "" when the sample has none.
func (s Sample) Get(name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Collector is anything that reports metric families when scraped.
type Collector interface {
	Collect() []Family
}

// CollectorFunc is a Collector from a function.
type CollectorFunc func() []Family

// Collect calls f.
func (f CollectorFunc) Collect() []Family { return f() }

// Registry holds the collectors of one server: each server has its own,
// so that tests can build many in one process.
type Registry struct {
	mu         sync.RWMutex
	collectors []Collector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// MustRegister adds collectors to r.
func (r *Registry) MustRegister(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, cs...)
}

// Gather collects every family of r, sorted by name, with each sample's
// labels sorted by name (a histogram's "le" and a summary's "quantile"
// last, as the client library printed them). Two collectors reporting one name is a
// programming error: Gather panics.
func (r *Registry) Gather() []Family {
	r.mu.RLock()
	cs := slices.Clone(r.collectors)
	r.mu.RUnlock()
	var fams []Family
	for _, c := range cs {
		fams = append(fams, c.Collect()...)
	}
	slices.SortStableFunc(fams, func(a, b Family) int { return cmp.Compare(a.Name, b.Name) })
	for i := range fams {
		if i > 0 && fams[i].Name == fams[i-1].Name {
			panic("prom: metric " + fams[i].Name + " registered twice")
		}
		for j := range fams[i].Samples {
			slices.SortFunc(fams[i].Samples[j].Labels, compareLabels)
		}
	}
	return fams
}

func compareLabels(a, b Label) int {
	last := func(l Label) bool { return l.Name == "le" || l.Name == "quantile" }
	if c := cmp.Compare(b2i(last(a)), b2i(last(b))); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WriteText writes fams in the text exposition format.
func WriteText(w *bufio.Writer, fams []Family) error {
	for _, f := range fams {
		if len(f.Samples) == 0 {
			continue
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.Name, helpEscaper.Replace(f.Help), f.Name, f.Type)
		for _, s := range f.Samples {
			w.WriteString(f.Name)
			w.WriteString(s.Suffix)
			if len(s.Labels) > 0 {
				w.WriteByte('{')
				for i, l := range s.Labels {
					if i > 0 {
						w.WriteByte(',')
					}
					w.WriteString(l.Name)
					w.WriteString(`="`)
					w.WriteString(valueEscaper.Replace(l.Value))
					w.WriteByte('"')
				}
				w.WriteByte('}')
			}
			w.WriteByte(' ')
			w.WriteString(FormatFloat(s.Value))
			w.WriteByte('\n')
		}
	}
	return w.Flush()
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// FormatFloat writes v as the exposition format does: shortest decimal
// form, +Inf, -Inf or NaN.
func FormatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Handler serves r's families in the text exposition format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fams := r.Gather()
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		_ = WriteText(bufio.NewWriter(w), fams)
	})
}

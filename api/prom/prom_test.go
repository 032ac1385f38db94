package prom_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/unilogin/unilogin/api/prom"
)

// scrape serves reg and parses the answer with the Prometheus project's
// own text parser, which rejects anything a Prometheus server would.
func scrape(t *testing.T, reg *prom.Registry) (string, map[string]*familyView) {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != prom.ContentType {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the reference parser rejects the exposition: %v\n%s", err, body)
	}
	out := map[string]*familyView{}
	for name, f := range fams {
		v := &familyView{typ: strings.ToLower(f.GetType().String()), help: f.GetHelp(), series: map[string]float64{}}
		for _, m := range f.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			k := strings.Join(key, ",")
			switch {
			case m.Counter != nil:
				v.series[k] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v.series[k] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				v.series[k] = float64(m.GetHistogram().GetSampleCount())
				v.sums = append(v.sums, m.GetHistogram().GetSampleSum())
				for _, b := range m.GetHistogram().GetBucket() {
					v.buckets = append(v.buckets, b.GetCumulativeCount())
				}
			case m.Summary != nil:
				v.series[k] = float64(m.GetSummary().GetSampleCount())
			}
		}
		out[name] = v
	}
	return body, out
}

type familyView struct {
	typ, help string
	series    map[string]float64 // labels "a=x,b=y" -> value (histograms: count)
	buckets   []uint64
	sums      []float64
}

func TestExpositionParsesAsPrometheus(t *testing.T) {
	reg := prom.NewRegistry()
	c := prom.NewCounterVec(prom.CounterOpts{Name: "t_logins_total", Help: "Sign-ins.\nBy outcome \\ method."}, []string{"outcome", "method"})
	one := prom.NewCounter(prom.CounterOpts{Name: "t_reuse_total", Help: "Reuse."})
	g := prom.NewGaugeVec(prom.GaugeOpts{Name: "t_build_info", Help: "Build."}, []string{"version"})
	h := prom.NewHistogramVec(prom.HistogramOpts{Name: "t_duration_seconds", Help: "Durations.", Buckets: []float64{0.001, 0.5, 1}}, []string{"route"})
	up := prom.NewGaugeFunc(prom.GaugeOpts{Name: "t_up", Help: "Up."}, []string{"provider"}, func(set func(float64, ...string)) {
		set(1, "google")
		set(0, "oidc:corp")
	})
	reg.MustRegister(c, one, g, h, up, prom.GoCollector(), prom.ProcessCollector())

	for range 3 {
		c.WithLabelValues("success", "password").Inc()
	}
	c.WithLabelValues("failure", `odd "quoted" \ value`+"\n").Inc()
	one.Inc()
	g.WithLabelValues("v1.2.3").Set(1)
	for _, v := range []float64{0.0005, 0.001, 0.2, 0.7, 3} {
		h.WithLabelValues("/token").Observe(v)
	}
	h.WithLabelValues("/users/me").Observe(0.01)

	body, fams := scrape(t, reg)
	odd := `odd "quoted" \ value` + "\n"
	want := map[string]map[string]float64{
		"t_logins_total": {"method=password,outcome=success": 3, "method=" + odd + ",outcome=failure": 1},
		"t_reuse_total":  {"": 1},
		"t_build_info":   {"version=v1.2.3": 1},
		"t_up":           {"provider=google": 1, "provider=oidc:corp": 0},
	}
	for name, series := range want {
		f := fams[name]
		if f == nil {
			t.Fatalf("no family %s in\n%s", name, body)
		}
		for k, v := range series {
			if got, ok := f.series[k]; !ok || got != v {
				t.Errorf("%s{%s} = %v (present %v), want %v", name, k, got, ok, v)
			}
		}
	}
	// The library prints HELP lines without text.
	if f := fams["t_logins_total"]; f.typ != "counter" || f.help != "" {
		t.Errorf("t_logins_total: type %q help %q", f.typ, f.help)
	}
	if !strings.Contains(body, `t_logins_total{method="password",outcome="success"} 3`) {
		t.Errorf("labels are not in name order:\n%s", body)
	}
	// Buckets are cumulative, the +Inf bucket is the count, the sum adds up.
	hf := fams["t_duration_seconds"]
	if hf.typ != "histogram" || hf.series["route=/token"] != 5 || hf.series["route=/users/me"] != 1 {
		t.Fatalf("histogram: %+v", hf)
	}
	if !strings.Contains(body, `t_duration_seconds_bucket{route="/token",le="0.001"} 2`) ||
		!strings.Contains(body, `t_duration_seconds_bucket{route="/token",le="0.5"} 3`) ||
		!strings.Contains(body, `t_duration_seconds_bucket{route="/token",le="1"} 4`) ||
		!strings.Contains(body, `t_duration_seconds_bucket{route="/token",le="+Inf"} 5`) {
		t.Errorf("buckets:\n%s", body)
	}
	if hf.sums[0] != 0.0005+0.001+0.2+0.7+3 && hf.sums[1] != 0.0005+0.001+0.2+0.7+3 {
		t.Errorf("histogram sums %v", hf.sums)
	}
	// The runtime and process families under the library's names.
	for _, name := range []string{"go_goroutines", "go_threads", "go_info", "go_memstats_heap_alloc_bytes", "go_memstats_alloc_bytes_total", "go_gc_duration_seconds", "go_gomaxprocs", "go_memlimit_bytes"} {
		if fams[name] == nil {
			t.Errorf("missing %s", name)
		}
	}
	if fams["go_goroutines"].series[""] < 1 || fams["go_gc_duration_seconds"].typ != "summary" {
		t.Errorf("go_goroutines %v, go_gc_duration_seconds %s", fams["go_goroutines"].series, fams["go_gc_duration_seconds"].typ)
	}
	if runtime.GOOS == "linux" {
		for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds"} {
			if f := fams[name]; f == nil || f.series[""] < 0 || (f.series[""] == 0 && name != "process_cpu_seconds_total") {
				t.Errorf("%s: %+v", name, f)
			}
		}
	}
}

// Each combination of label values has its own child, updated
// concurrently without losing counts.
func TestVecChildrenAreDistinctAndConcurrent(t *testing.T) {
	reg := prom.NewRegistry()
	c := prom.NewCounterVec(prom.CounterOpts{Name: "t_total", Help: "T."}, []string{"a"})
	h := prom.NewHistogramVec(prom.HistogramOpts{Name: "t_seconds", Help: "T.", Buckets: []float64{1}}, []string{"a"})
	reg.MustRegister(c, h)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				c.WithLabelValues([]string{"x", "y"}[i%2]).Inc()
				h.WithLabelValues("x").Observe(0.5)
			}
		}()
	}
	wg.Wait()
	_, fams := scrape(t, reg)
	if got := fams["t_total"].series; got["a=x"] != 4000 || got["a=y"] != 4000 {
		t.Errorf("counters %v, want 4000 each", got)
	}
	if got := fams["t_seconds"]; got.series["a=x"] != 8000 || got.sums[0] != 4000 {
		t.Errorf("histogram count %v sum %v, want 8000 and 4000", got.series, got.sums)
	}
}

func TestMisuseFailsLoudly(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	c := prom.NewCounterVec(prom.CounterOpts{Name: "t_total", Help: "T."}, []string{"a", "b"})
	mustPanic("too few label values", func() { c.WithLabelValues("x") })
	mustPanic("unsorted buckets", func() {
		prom.NewHistogramVec(prom.HistogramOpts{Name: "t_s", Help: "T.", Buckets: []float64{1, 0.5}}, nil)
	})
	mustPanic("no buckets", func() {
		prom.NewHistogramVec(prom.HistogramOpts{Name: "t_s", Help: "T."}, nil)
	})
	reg := prom.NewRegistry()
	reg.MustRegister(c)
	mustPanic("one name registered twice", func() {
		reg.MustRegister(prom.NewCounter(prom.CounterOpts{Name: "t_total", Help: "T."}))
	})
	mustPanic("the runtime registered twice", func() {
		reg.MustRegister(prom.GoCollector(), prom.GoCollector())
	})
}

// A family without series prints nothing, not even its TYPE line; a
// gauge read at scrape time has exactly the series its function reports.
func TestEmptyAndChangingFamilies(t *testing.T) {
	reg := prom.NewRegistry()
	var providers []string
	reg.MustRegister(
		prom.NewCounterVec(prom.CounterOpts{Name: "t_empty_total", Help: "E."}, []string{"a"}),
		prom.NewHistogramVec(prom.HistogramOpts{Name: "t_empty_seconds", Help: "E.", Buckets: []float64{1}}, []string{"a"}),
		prom.NewGaugeFunc(prom.GaugeOpts{Name: "t_up", Help: "Up."}, []string{"provider"}, func(set func(float64, ...string)) {
			for _, p := range providers {
				set(1, p)
			}
		}))
	if body, _ := scrape(t, reg); body != "" {
		t.Errorf("empty families printed %q", body)
	}
	providers = []string{"a", "b"}
	if _, fams := scrape(t, reg); len(fams["t_up"].series) != 2 {
		t.Errorf("t_up: %v, want a and b", fams["t_up"].series)
	}
	providers = []string{"b"}
	if _, fams := scrape(t, reg); len(fams["t_up"].series) != 1 || fams["t_up"].series["provider=b"] != 1 {
		t.Errorf("t_up: %v, want b only", fams["t_up"].series)
	}
}

// TestVecKeysSplitValues: label values that join to the same text are
// still distinct series, and looking up an existing series allocates
// nothing (it runs on every request and every store call).
func TestVecKeysSplitValues(t *testing.T) {
	reg := prom.NewRegistry()
	c := prom.NewCounterVec(prom.CounterOpts{Name: "k_total", Help: "K."}, []string{"a", "b"})
	reg.MustRegister(c)
	c.WithLabelValues("x", "yz").Inc()
	c.WithLabelValues("xy", "z").Inc()
	c.WithLabelValues("xy", "z").Inc()
	_, fams := scrape(t, reg)
	if got := fams["k_total"].series; got["a=x,b=yz"] != 1 || got["a=xy,b=z"] != 2 {
		t.Errorf("counters %v, want a=x,b=yz 1 and a=xy,b=z 2", got)
	}
	if n := testing.AllocsPerRun(100, func() { c.WithLabelValues("xy", "z").Inc() }); n != 0 {
		t.Errorf("lookup of an existing series: %v allocations, want 0", n)
	}
}

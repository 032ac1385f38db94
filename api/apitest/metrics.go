package apitest

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
)

// Metrics GETs /metrics and returns every sample by its printed series
// ("name{label="value",...}", labels sorted by name as api/prom
// prints them).
func (e *Env) Metrics() map[string]float64 {
	e.T.Helper()
	r := e.Get("/metrics")
	if r.Status != http.StatusOK {
		e.T.Fatalf("/metrics: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		e.T.Fatalf("/metrics Content-Type = %q, want the Prometheus text format", ct)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			e.T.Fatalf("/metrics: unparsable line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

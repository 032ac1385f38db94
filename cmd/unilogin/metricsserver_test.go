package main

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/api/server/servertest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMetricsListener: with metrics.addr, /metrics moves to its own
// listener (behind metrics.token), pprof is there only with metrics.pprof,
// and neither is on the public listener.
func TestMetricsListener(t *testing.T) {
	const token = "metrics-token-for-the-test-0123"
	cfg := testConfig(t)
	cfg.Metrics.Addr, cfg.Metrics.Token, cfg.Metrics.Pprof = freeAddr(t), token, true
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	base, stop := startServer(t, cfg)
	defer stop()
	metricsBase := "http://" + cfg.Metrics.Addr

	if code, body := servertest.Get(t, base+"/metrics", token); code != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
		t.Errorf("public /metrics: %d %.100s", code, body)
	}
	if code, _ := servertest.Get(t, base+"/debug/pprof/", token); code != http.StatusNotFound {
		t.Errorf("public /debug/pprof/: %d", code)
	}
	if code, body := servertest.Get(t, metricsBase+"/metrics", ""); code != http.StatusUnauthorized || strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics without token: %d %.100s", code, body)
	}
	if code, body := servertest.Get(t, metricsBase+"/metrics", token); code != http.StatusOK || !strings.Contains(body, "unilogin_build_info") {
		t.Errorf("metrics with token: %d %.100s", code, body)
	}
	if code, _ := servertest.Get(t, metricsBase+"/debug/pprof/", ""); code != http.StatusUnauthorized {
		t.Errorf("pprof without token: %d", code)
	}
	if code, body := servertest.Get(t, metricsBase+"/debug/pprof/goroutine?debug=1", token); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof with token: %d %.100s", code, body)
	}
}

// TestMetricsListenerWithoutPprof: pprof stays off unless enabled, and a
// token alone guards /metrics on the public listener.
func TestMetricsListenerWithoutPprof(t *testing.T) {
	cfg := testConfig(t)
	cfg.Metrics.Addr = freeAddr(t)
	base, stop := startServer(t, cfg)
	defer stop()
	if code, _ := servertest.Get(t, "http://"+cfg.Metrics.Addr+"/debug/pprof/", ""); code != http.StatusNotFound {
		t.Errorf("pprof without metrics.pprof: %d", code)
	}
	if code, body := servertest.Get(t, "http://"+cfg.Metrics.Addr+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "unilogin_build_info") {
		t.Errorf("metrics listener without token: %d", code)
	}
	if code, _ := servertest.Get(t, base+"/debug/pprof/", ""); code != http.StatusNotFound {
		t.Errorf("public pprof: %d", code)
	}

	const token = "public-metrics-token-0123456789"
	cfg2 := testConfig(t)
	cfg2.Metrics.Token = token
	base2, stop2 := startServer(t, cfg2)
	defer stop2()
	if code, _ := servertest.Get(t, base2+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("public /metrics without token: %d", code)
	}
	if code, _ := servertest.Get(t, base2+"/metrics", token); code != http.StatusOK {
		t.Errorf("public /metrics with token: %d", code)
	}
}

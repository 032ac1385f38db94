package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestBenchJSON runs the bench briefly against its in-process server and
// checks the report's shape: every workload did requests without errors,
// the password grant is compared with raw bcrypt, and the process's CPU
// time and memory were measured (Linux).
func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bcrypt at cost 10 for a few seconds")
	}
	var out, errb bytes.Buffer
	start := time.Now()
	procs := runtime.GOMAXPROCS(0) // the hashing gate raises it for its threads
	code := run(context.Background(), []string{"bench", "--duration", "300ms", "--json"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("bench: exit %d\n%s", code, errb.String())
	}
	t.Logf("bench took %s", time.Since(start).Round(time.Millisecond))
	var rep struct {
		Target      string  `json:"target"`
		Concurrency int     `json:"concurrency"`
		DurationSec float64 `json:"duration_seconds"`
		BcryptCost  int     `json:"bcrypt_cost"`
		Bcrypt      struct {
			Workers        int     `json:"workers"`
			Compares       int64   `json:"compares"`
			ComparesPerSec float64 `json:"compares_per_second"`
		} `json:"bcrypt_baseline"`
		Workloads []struct {
			Name          string           `json:"name"`
			Requests      int64            `json:"requests"`
			Errors        int64            `json:"errors"`
			Seconds       float64          `json:"seconds"`
			RequestsSec   float64          `json:"requests_per_second"`
			P50Ms         float64          `json:"p50_ms"`
			P99Ms         float64          `json:"p99_ms"`
			RatioToBcrypt float64          `json:"ratio_to_bcrypt"`
			Ops           map[string]int64 `json:"ops"`
			FirstError    string           `json:"first_error"`
		} `json:"workloads"`
		Process *struct {
			RSSIdleBytes int64   `json:"rss_idle_bytes"`
			RSSPeakBytes int64   `json:"rss_peak_bytes"`
			CPUSeconds   float64 `json:"cpu_seconds"`
		} `json:"process"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out.String())
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(out.Bytes(), &top)
	for _, k := range []string{"target", "version", "go_version", "cpus", "gomaxprocs", "concurrency", "duration_seconds",
		"bcrypt_cost", "bcrypt_baseline", "workloads", "process"} {
		if _, ok := top[k]; !ok {
			t.Errorf("bench --json lacks %q", k)
		}
	}
	if rep.Concurrency != 2*procs || rep.DurationSec != 0.3 || rep.BcryptCost != 10 {
		t.Errorf("defaults: concurrency %d, duration %v s, bcrypt cost %d", rep.Concurrency, rep.DurationSec, rep.BcryptCost)
	}
	if rep.Bcrypt.Compares == 0 || rep.Bcrypt.ComparesPerSec <= 0 || rep.Bcrypt.Workers != procs {
		t.Errorf("bcrypt baseline: %+v", rep.Bcrypt)
	}
	var names []string
	for _, w := range rep.Workloads {
		names = append(names, w.Name)
		if w.Requests == 0 || w.RequestsSec <= 0 || w.Seconds <= 0 {
			t.Errorf("%s did no requests: %+v", w.Name, w)
		}
		if w.Errors != 0 {
			t.Errorf("%s: %d errors (first: %s)", w.Name, w.Errors, w.FirstError)
		}
		if w.P50Ms <= 0 || w.P99Ms < w.P50Ms {
			t.Errorf("%s: p50 %v ms, p99 %v ms", w.Name, w.P50Ms, w.P99Ms)
		}
		if (w.Name == "password_grant") != (w.RatioToBcrypt > 0) {
			t.Errorf("%s: ratio_to_bcrypt = %v", w.Name, w.RatioToBcrypt)
		}
	}
	if want := "password_grant refresh_grant users_me jwks mixed"; strings.Join(names, " ") != want {
		t.Errorf("workloads = %v, want %s", names, want)
	}
	if mixed := rep.Workloads[len(rep.Workloads)-1]; mixed.Ops["password"] == 0 || mixed.Ops["refresh"] == 0 || mixed.Ops["me"] == 0 {
		t.Errorf("mixed storm ops = %v, want logins, refreshes and /users/me", mixed.Ops)
	}
	if rep.Process == nil {
		t.Fatal("no process stats for the in-process server")
	}
	if runtime.GOOS == "linux" && rep.Process.CPUSeconds <= 0 {
		t.Error("no CPU time measured")
	}
	if runtime.GOOS == "linux" && (rep.Process.RSSIdleBytes <= 0 || rep.Process.RSSPeakBytes < rep.Process.RSSIdleBytes) {
		t.Errorf("RSS idle %d, peak %d", rep.Process.RSSIdleBytes, rep.Process.RSSPeakBytes)
	}
	// Progress went to stderr, one line per workload at least.
	for _, n := range append(names, "bcrypt_baseline") {
		if !strings.Contains(errb.String(), n+" ") {
			t.Errorf("no progress for %s on stderr:\n%s", n, errb.String())
		}
	}
}

func TestBenchUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"--duration", "0s"}, {"--concurrency", "0"}, {"--bcrypt-cost", "99"}, {"extra"}} {
		if code := run(context.Background(), append([]string{"bench"}, args...), &out, &errb); code != exitUsage {
			t.Errorf("bench %v: exit %d, want %d", args, code, exitUsage)
		}
	}
	out.Reset()
	if code := run(context.Background(), []string{"bench", "--help"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "-bcrypt-cost") {
		t.Errorf("bench --help: %d %q", code, out.String())
	}
}

// TestServeInstrumentsStores: the server serves /metrics, and the store
// decorators observe database operations there.
func TestServeInstrumentsStores(t *testing.T) {
	base, stop := startServer(t, testConfig(t))
	defer stop()
	res, err := http.Post(base+"/signup", "application/json", strings.NewReader(`{"email":"ops@example.com","password":"correct horse battery"}`))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("signup: %v %v", err, res)
	}
	res.Body.Close()
	postForm(t, base+"/token", url.Values{"grant_type": {"password"}, "username": {"ops@example.com"}, "password": {"correct horse battery"}})
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, series := range []string{
		`unilogin_db_operation_duration_seconds_count{op="CreateUser",store="accounts"}`,
		`unilogin_db_operation_duration_seconds_count{op="GetUserByEmail",store="accounts"}`,
		`unilogin_db_operation_duration_seconds_count{op="CreateSession",store="sessions"}`,
		`unilogin_tokens_issued_total{grant="password"} 1`,
		`unilogin_build_info{`,
	} {
		if !strings.Contains(string(b), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

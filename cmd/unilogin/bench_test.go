package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBenchJSON runs the bench briefly against two server processes (this
// test binary as unilogin, once as "this build" and once as a --compare
// build) and checks the report's shape: every workload did requests
// without errors on both, every figure has its baseline and ratio, and the
// servers' CPU time, rows per session and time to ready were measured.
func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bcrypt at cost 10 for a few seconds")
	}
	self := os.Args[0]
	oldCommand := benchCommand
	benchCommand = func(bin string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(benchServerEnv(), "UNILOGIN_TEST_RUN_MAIN="+strings.Join(args, " "))
		return cmd
	}
	oldSelf := benchSelf
	benchSelf = func() (string, error) { return self, nil }
	t.Cleanup(func() { benchCommand, benchSelf = oldCommand, oldSelf })

	var out, errb bytes.Buffer
	start := time.Now()
	procs := runtime.GOMAXPROCS(0)
	code := run(context.Background(), []string{"bench", "--duration", "300ms", "--json", "--compare", self}, &out, &errb)
	if code != exitOK {
		t.Fatalf("bench: exit %d\n%s", code, errb.String())
	}
	t.Logf("bench took %s", time.Since(start).Round(time.Millisecond))
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out.String())
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(out.Bytes(), &top)
	for _, k := range []string{"target", "version", "go_version", "cpus", "gomaxprocs", "concurrency", "duration_seconds",
		"bcrypt_cost", "bcrypt_baseline", "raw_baselines", "targets"} {
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
	if r := rep.Raw; r == nil || r.ES256SignCPU <= 0 || r.ES256VerifyCPU <= 0 || r.SQLiteReadCPU <= 0 || r.SQLiteWriteCPU <= 0 ||
		r.MeBoundCPU <= 0 || r.RefreshBoundCPU <= 0 {
		t.Errorf("raw baselines: %+v", r)
	}
	if len(rep.Targets) != 2 {
		t.Fatalf("%d targets, want this build and the --compare one", len(rep.Targets))
	}
	for _, tr := range rep.Targets {
		var names []string
		for _, w := range tr.Workloads {
			names = append(names, w.Name)
			if w.Requests == 0 || w.RequestsSec <= 0 || w.Seconds <= 0 {
				t.Errorf("%s/%s did no requests: %+v", tr.Name, w.Name, w)
			}
			if w.Errors != 0 {
				t.Errorf("%s/%s: %d errors (first: %s)", tr.Name, w.Name, w.Errors, w.FirstError)
			}
			if w.P50Ms <= 0 || w.P99Ms < w.P50Ms {
				t.Errorf("%s/%s: p50 %v ms, p99 %v ms", tr.Name, w.Name, w.P50Ms, w.P99Ms)
			}
			if runtime.GOOS == "linux" && (w.CPUSeconds <= 0 || w.RequestsCPUSec <= 0) {
				t.Errorf("%s/%s: no server CPU time measured", tr.Name, w.Name)
			}
			switch w.Name {
			case "password_grant", "login_storm", "users_me", "refresh_grant":
				if w.Baseline == "" || (runtime.GOOS == "linux" && w.Ratio <= 0) {
					t.Errorf("%s/%s: baseline %q, ratio %v", tr.Name, w.Name, w.Baseline, w.Ratio)
				}
			}
			if tr.Name == "new" && runtime.GOOS == "linux" && w.VsCompare[filepath.Base(self)] <= 0 {
				t.Errorf("%s: no ratio to the --compare build: %v", w.Name, w.VsCompare)
			}
		}
		if want := strings.Join(workloadNames, " "); strings.Join(names, " ") != want {
			t.Errorf("%s: workloads = %v, want %s", tr.Name, names, want)
		}
		storm, mixed := tr.Workloads[1], tr.Workloads[len(tr.Workloads)-1]
		if storm.Ops["password"] == 0 || storm.Ops["refresh"] == 0 || storm.OpP99Ms["refresh"] <= 0 {
			t.Errorf("%s: login storm ops %v, p99 %v", tr.Name, storm.Ops, storm.OpP99Ms)
		}
		if mixed.Ops["password"] == 0 || mixed.Ops["refresh"] == 0 || mixed.Ops["me"] == 0 {
			t.Errorf("%s: mixed ops = %v, want logins, refreshes and /users/me", tr.Name, mixed.Ops)
		}
		// The refresh chain in the session record: one row however many
		// refreshes.
		if tr.RefreshesCounted == 0 || tr.RowsPerSession != 1 {
			t.Errorf("%s: %d rows per session after %d refreshes, want 1", tr.Name, tr.RowsPerSession, tr.RefreshesCounted)
		}
		if tr.ReadyMs <= 0 || tr.FirstReadyMs <= 0 {
			t.Errorf("%s: ready after %v ms (first start %v ms)", tr.Name, tr.ReadyMs, tr.FirstReadyMs)
		}
		if runtime.GOOS == "linux" && (tr.RSSIdleBytes <= 0 || tr.RSSPeakBytes < tr.RSSIdleBytes) {
			t.Errorf("%s: RSS idle %d, peak %d", tr.Name, tr.RSSIdleBytes, tr.RSSPeakBytes)
		}
	}
	// Progress went to stderr, one line per workload at least.
	for _, n := range append(slices.Clone(workloadNames), "bcrypt_baseline") {
		if !strings.Contains(errb.String(), n) {
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
	mustSignup(t, base, "ops@example.com")
	postForm(t, base+"/token", url.Values{"grant_type": {"password"}, "username": {"ops@example.com"}, "password": {"correct horse battery"}})
	res, err := http.Get(base + "/metrics")
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

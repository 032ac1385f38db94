package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// unilogin bench: a load generator for the standard workloads. By default it
// starts the real server (this binary's serve) in a child process on a
// temporary data directory with the embedded store, so that it can report
// the server's own CPU time; --compare adds older builds, run side by side
// in the same run. Every figure is put against a baseline measured in the
// same run: raw bcrypt on all cores for the password grant, raw ES256 and
// SQLite point reads and writes for /users/me and the refresh grant.

const benchUsage = `usage: unilogin bench [--duration 10s] [--concurrency N] [--bcrypt-cost 10] [--compare BINARY]... [--url URL] [--json]

Runs each workload for --duration with --concurrency workers: password grant,
a login storm (password grants with refresh chains beside them), refresh
chains (one per worker), GET /users/me, GET /.well-known/jwks.json and a mixed
load, and measures the baselines: raw bcrypt at --bcrypt-cost on all cores
(idle and beside the storm's refreshes), raw ES256 signatures and
verifications, raw SQLite point reads and writes. Without --url the server
runs as a child process of this binary on a temporary data directory with the
embedded store; each --compare BINARY (another unilogin build) runs the same
workloads in the same run, alternating with this one, and the report gives
this build's figures as ratios to it. It also reports the rows a session
keeps after its refreshes and the time from exec to ready.
`

// benchOptions are the command's flags.
type benchOptions struct {
	duration    time.Duration
	concurrency int
	cost        int
	url         string
	json        bool
	only        string   // comma-separated workload names; empty: all
	compare     []string // other unilogin binaries to run side by side
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := benchOptions{}
	fs := flag.NewFlagSet("unilogin bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed once below: to stdout for --help, else to stderr
	usage := func(w io.Writer) { fmt.Fprint(w, benchUsage); fs.SetOutput(w); fs.PrintDefaults() }
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each workload runs")
	fs.IntVar(&o.concurrency, "concurrency", 2*runtime.GOMAXPROCS(0), "concurrent workers, 2 per core by default")
	fs.IntVar(&o.cost, "bcrypt-cost", 10, "bcrypt cost of the server and of the raw bcrypt baseline (match the target's with --url)")
	fs.StringVar(&o.url, "url", "", "base URL of a running unilogin to drive instead of a child process (it creates its user with /signup)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.StringVar(&o.only, "only", "", "run only these workloads (comma-separated: "+strings.Join(workloadNames, ",")+")")
	fs.Func("compare", "another unilogin binary to run the same workloads on, side by side (repeatable)", func(s string) error {
		if _, err := os.Stat(s); err != nil {
			return err
		}
		o.compare = append(o.compare, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 || o.duration <= 0 || o.concurrency < 1 || o.cost < bcrypt.MinCost || o.cost > bcrypt.MaxCost ||
		(o.url != "" && len(o.compare) > 0) {
		fmt.Fprint(stderr, benchUsage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := runBench(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "unilogin bench: %v\n", err)
		return exitError
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitError
		}
		return exitOK
	}
	printBench(stdout, rep)
	return exitOK
}

// benchTarget is one server under load: a child process, or --url.
type benchTarget struct {
	name   string
	server *benchServer // nil with --url
	client *benchClient
	report *targetReport
}

// runBench starts the targets, measures the baselines and runs every
// workload on every target, alternating the order between workloads so
// that drift in the machine's load hits them alike.
func runBench(ctx context.Context, o benchOptions, progress io.Writer) (*benchReport, error) {
	rep := &benchReport{
		Version: buildVersion(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Concurrency: o.concurrency, DurationSec: o.duration.Seconds(), BcryptCost: o.cost,
	}
	tmp, err := os.MkdirTemp("", "unilogin-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var targets []*benchTarget
	defer func() {
		for _, t := range targets {
			if t.server != nil {
				t.server.stop()
			}
		}
	}()
	if o.url != "" {
		rep.Target = strings.TrimRight(o.url, "/")
		targets = append(targets, &benchTarget{name: "new", report: &targetReport{Name: "target", Binary: rep.Target}})
		targets[0].client = newBenchClient(rep.Target, o.concurrency)
	} else {
		self, err := benchSelf()
		if err != nil {
			return nil, err
		}
		rep.Target = "child process per build, embedded store (sqlite) in a temporary directory"
		bins := append([]string{self}, o.compare...)
		for i, bin := range bins {
			name := "new"
			if i > 0 {
				name = fmt.Sprintf("compare%d", i)
			}
			dir := filepath.Join(tmp, name)
			tr := &targetReport{Name: name, Binary: bin}
			if i > 0 {
				tr.Name = filepath.Base(bin)
			}
			// Time to ready first, on a directory of its own at the default cost.
			if tr.ReadyMs, tr.FirstReadyMs, err = timeToReady(ctx, tr.Name, bin, filepath.Join(tmp, name+"-ready")); err != nil {
				return nil, err
			}
			s, err := startBenchProcess(ctx, tr.Name, bin, dir, o.cost)
			if err != nil {
				return nil, err
			}
			t := &benchTarget{name: tr.Name, server: s, report: tr, client: newBenchClient(s.base, o.concurrency)}
			targets = append(targets, t)
		}
	}
	for _, t := range targets {
		if err := t.client.get(ctx, "/healthz", ""); err != nil {
			return nil, fmt.Errorf("%s is not answering: %w", t.client.base, err)
		}
		t.client.email = "bench-" + randomHex(8) + "@bench.example.com"
		t.client.password = "bench " + randomHex(16)
		if err := t.client.signup(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		if t.server != nil {
			t.report.RSSIdleBytes = procStatusBytesOf(t.server.cmd.Process.Pid, "VmRSS")
		}
		rep.Targets = append(rep.Targets, t.report)
	}
	fmt.Fprintf(progress, "bench: %s, %d workers, %s per workload, bcrypt cost %d\n", rep.Target, o.concurrency, o.duration, o.cost)

	fmt.Fprintf(progress, "  raw ES256 and SQLite baselines\n")
	if rep.Raw, err = measureRawBaselines(ctx, o.duration/4+time.Millisecond); err != nil {
		return nil, fmt.Errorf("raw baselines: %w", err)
	}
	bcryptRun := newBcryptBaseline(o.cost, rep.GOMAXPROCS)
	for i, wl := range benchWorkloads() {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if o.only != "" && !slices.Contains(strings.Split(o.only, ","), wl.name) {
			continue
		}
		order := slices.Clone(targets)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		if wl.name == "password_grant" {
			rep.Bcrypt.Workers = rep.GOMAXPROCS
			rep.Bcrypt.add(bcryptRun(ctx, o.duration/2, progress, nil))
		}
		for _, t := range order {
			op, err := wl.setup(ctx, t.client, o.concurrency)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: setup: %w", wl.name, t.name, err)
			}
			var cpu func() float64
			if t.server != nil {
				cpu = t.server.cpuSeconds
			}
			if wl.name == "login_storm" {
				// The bound beside the same refresh chains: raw bcrypt on
				// every core while two chains refresh on this target.
				t.report.BcryptBesideRefresh = bcryptBesideRefresh(ctx, t.client, bcryptRun, o.duration, progress)
			}
			workers := o.concurrency
			if wl.name == "login_storm" {
				workers += stormRefreshers // as many sign-ins as elsewhere, and the chains
			}
			res := runWorkload(ctx, wl.name+"@"+t.name, workers, o.duration, op, progress, cpu)
			res.Name = wl.name
			if wl.name == "refresh_grant" && t.server != nil {
				t.report.RowsPerSession, t.report.RefreshesCounted = countRows(ctx, t, wl.last)
			}
			if wl.name != "mixed" && wl.name != "login_storm" {
				res.Ops = nil
			}
			t.report.Workloads = append(t.report.Workloads, res)
		}
		if wl.name == "password_grant" {
			rep.Bcrypt.add(bcryptRun(ctx, o.duration-o.duration/2, progress, nil))
		}
	}
	for _, t := range targets {
		if t.server != nil {
			t.report.RSSPeakBytes = procStatusBytesOf(t.server.cmd.Process.Pid, "VmHWM")
		}
	}
	rep.ratios()
	return rep, nil
}

// benchSelf is the binary the bench starts as its server: this one.
var benchSelf = os.Executable

// countRows counts the rows of the session whose chain did the most
// refreshes in the refresh workload.
func countRows(ctx context.Context, t *benchTarget, last func() (pair, int)) (int, int) {
	p, n := last()
	rows, err := t.server.rowsPerSession(ctx, p.access)
	if err != nil {
		return -1, n
	}
	return rows, n
}

// bcryptBesideRefresh measures raw bcrypt on every core in this process
// while two refresh chains run on the target: the bound a login storm's
// password grants are put against.
func bcryptBesideRefresh(ctx context.Context, c *benchClient, bcryptRun bcryptBaseline, d time.Duration, progress io.Writer) float64 {
	chains, err := c.pairs(ctx, 2)
	if err != nil {
		return 0
	}
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runWorkload(bctx, "refresh_beside_bcrypt", 2, d, func(ctx context.Context, w int, r *benchRecorder) {
			c.refreshStep(ctx, &chains[w], r)
		}, io.Discard, nil)
	}()
	res := bcryptRun(ctx, d, progress, nil)
	cancel()
	<-done
	return res.RequestsSec
}

// bcryptBaseline runs raw comparisons on all cores for d.
type bcryptBaseline func(ctx context.Context, d time.Duration, progress io.Writer, cpu func() float64) workloadResult

// newBcryptBaseline prepares a hash at cost and returns a function that
// runs raw comparisons on workers (GOMAXPROCS) in this process for d.
func newBcryptBaseline(cost, workers int) bcryptBaseline {
	password := []byte("bench " + randomHex(16))
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		panic(err) // cost was checked
	}
	return func(ctx context.Context, d time.Duration, progress io.Writer, _ func() float64) workloadResult {
		return runWorkload(ctx, "bcrypt_baseline", workers, d, func(_ context.Context, _ int, r *benchRecorder) {
			start := time.Now()
			r.record("bcrypt", start, bcrypt.CompareHashAndPassword(hash, password))
		}, progress, processCPUSeconds)
	}
}

func newBenchClient(base string, concurrency int) *benchClient {
	return &benchClient{base: base, http: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: 2 * concurrency, MaxIdleConnsPerHost: 2 * concurrency, IdleConnTimeout: time.Minute,
		},
	}}
}

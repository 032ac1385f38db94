package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/unilogin/unilogin/config"
)

// unilogin bench: a load generator for the standard workloads. By default it
// starts the real server (serve) in this process on a temporary data
// directory with the embedded store, so that it can also report the
// process's CPU time and memory; with --url it drives a running server
// instead. Raw bcrypt comparisons at the same cost, on the same cores, in the
// same run, are the bound the password grant is measured against.

const benchUsage = `usage: unilogin bench [--duration 10s] [--concurrency N] [--bcrypt-cost 10] [--url URL] [--json]

Runs each workload for --duration with --concurrency workers: password grant,
refresh chains (one per worker), GET /users/me, GET /.well-known/jwks.json and a
mixed storm, after measuring raw bcrypt throughput at --bcrypt-cost. Without
--url the server runs in this process on a temporary data directory with the
embedded store (and the process's CPU time and RSS are reported).
`

// benchOptions are the command's flags.
type benchOptions struct {
	duration    time.Duration
	concurrency int
	cost        int
	url         string
	json        bool
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := benchOptions{}
	fs := flag.NewFlagSet("unilogin bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed once below: to stdout for --help, else to stderr
	usage := func(w io.Writer) { fmt.Fprint(w, benchUsage); fs.SetOutput(w); fs.PrintDefaults() }
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each workload runs")
	fs.IntVar(&o.concurrency, "concurrency", 2*runtime.GOMAXPROCS(0), "concurrent workers, 2 per core by default")
	fs.IntVar(&o.cost, "bcrypt-cost", 10, "bcrypt cost of the in-process server and of the raw bcrypt baseline (match the target's with --url)")
	fs.StringVar(&o.url, "url", "", "base URL of a running unilogin to drive instead of an in-process one (it creates its user with /signup)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 || o.duration <= 0 || o.concurrency < 1 || o.cost < bcrypt.MinCost || o.cost > bcrypt.MaxCost {
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

// runBench starts the target, sets up the bench user and runs the
// baseline and every workload.
func runBench(ctx context.Context, o benchOptions, progress io.Writer) (*benchReport, error) {
	rep := &benchReport{
		Version: buildVersion(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Concurrency: o.concurrency, DurationSec: o.duration.Seconds(), BcryptCost: o.cost,
	}
	base := strings.TrimRight(o.url, "/")
	if base == "" {
		b, stopServer, err := startBenchServer(ctx, o.cost)
		if err != nil {
			return nil, err
		}
		defer stopServer()
		base = b
		rep.Target = "in-process server, embedded store (sqlite) in a temporary directory"
		rep.Process = &processStats{}
	} else {
		rep.Target = base
	}

	c := &benchClient{base: base, http: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: 2 * o.concurrency, MaxIdleConnsPerHost: 2 * o.concurrency, IdleConnTimeout: time.Minute,
		},
	}}
	if err := c.get(ctx, "/healthz", ""); err != nil {
		return nil, fmt.Errorf("%s is not answering: %w", base, err)
	}
	c.email = "bench-" + randomHex(8) + "@bench.example.com"
	c.password = "bench " + randomHex(16)
	if err := c.signup(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "bench: %s, %d workers, %s per workload, bcrypt cost %d\n", rep.Target, o.concurrency, o.duration, o.cost)
	if rep.Process != nil {
		rep.Process.RSSIdleBytes = procStatusBytes("VmRSS")
	}

	bcryptHalf := newBcryptBaseline(o.cost, rep.GOMAXPROCS)

	type workload struct {
		name  string
		setup func(ctx context.Context, workers int) (func(ctx context.Context, w int, r *benchRecorder), error)
	}
	workloads := []workload{
		{"password_grant", func(context.Context, int) (func(context.Context, int, *benchRecorder), error) {
			return func(ctx context.Context, _ int, r *benchRecorder) {
				start := time.Now()
				_, err := c.login(ctx)
				r.record("password", start, err)
			}, nil
		}},
		{"refresh_grant", func(ctx context.Context, workers int) (func(context.Context, int, *benchRecorder), error) {
			chains, err := c.pairs(ctx, workers)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int, r *benchRecorder) { c.refreshStep(ctx, &chains[w], r) }, nil
		}},
		{"users_me", func(ctx context.Context, workers int) (func(context.Context, int, *benchRecorder), error) {
			pairs, err := c.pairs(ctx, workers)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int, r *benchRecorder) {
				start := time.Now()
				r.record("me", start, c.get(ctx, "/users/me", pairs[w].access))
			}, nil
		}},
		{"jwks", func(context.Context, int) (func(context.Context, int, *benchRecorder), error) {
			return func(ctx context.Context, _ int, r *benchRecorder) {
				start := time.Now()
				r.record("jwks", start, c.get(ctx, "/.well-known/jwks.json", ""))
			}, nil
		}},
		{"mixed", func(ctx context.Context, workers int) (func(context.Context, int, *benchRecorder), error) {
			pairs, err := c.pairs(ctx, workers)
			if err != nil {
				return nil, err
			}
			// Per worker, every 10 requests: 1 password grant, 3 refreshes
			// (the worker's own chain), 6 GET /users/me; worker w starts at
			// step w, so that the workers do not all sign in at once.
			steps := make([]int, workers)
			for w := range steps {
				steps[w] = w
			}
			return func(ctx context.Context, w int, r *benchRecorder) {
				i := steps[w]
				steps[w]++
				switch i % 10 {
				case 0:
					start := time.Now()
					_, err := c.login(ctx)
					r.record("password", start, err)
				case 3, 6, 9:
					c.refreshStep(ctx, &pairs[w], r)
				default:
					start := time.Now()
					r.record("me", start, c.get(ctx, "/users/me", pairs[w].access))
				}
			}, nil
		}},
	}
	var cpuTotal float64
	for _, wl := range workloads {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		op, err := wl.setup(ctx, o.concurrency)
		if err != nil {
			return nil, fmt.Errorf("%s: setup: %w", wl.name, err)
		}
		if wl.name == "password_grant" {
			rep.Bcrypt.Workers = rep.GOMAXPROCS
			rep.Bcrypt.add(bcryptHalf(ctx, o.duration/2, progress))
		}
		res := runWorkload(ctx, wl.name, o.concurrency, o.duration, op, progress, rep.Process != nil)
		if wl.name == "password_grant" {
			rep.Bcrypt.add(bcryptHalf(ctx, o.duration-o.duration/2, progress))
			b := rep.Bcrypt
			if b.ComparesPerSec > 0 {
				res.RatioToBcrypt = round(res.RequestsSec/b.ComparesPerSec, 3)
			}
			if b.CPUSeconds > 0 && res.CPUSeconds > 0 && b.Compares > 0 {
				res.RatioToBcryptCPU = round((float64(res.Requests)/res.CPUSeconds)/(float64(b.Compares)/b.CPUSeconds), 3)
			}
		}
		if wl.name != "mixed" {
			res.Ops = nil
		}
		cpuTotal += res.CPUSeconds
		rep.Workloads = append(rep.Workloads, res)
	}
	if rep.Process != nil {
		rep.Process.CPUSeconds = round(cpuTotal, 2)
		rep.Process.RSSPeakBytes = procStatusBytes("VmHWM")
	}
	return rep, nil
}

// startBenchServer runs serve in this process on a temporary data directory
// with the embedded store and the built-in defaults (rate limits included,
// but for the limits on every password check, see below),
// logging at info level to nowhere: the JSON encoding is paid, the I/O not.
func startBenchServer(ctx context.Context, cost int) (string, func(), error) {
	dir, err := os.MkdirTemp("", "unilogin-bench-")
	if err != nil {
		return "", nil, err
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.ShutdownTimeout = 5 * time.Second
	cfg.Passwords.BcryptCost = cost
	// The bench signs in correctly from one address as fast as it can:
	// exactly what the limits on every password check stop. They are off
	// here so that it measures capacity, not the limiter; the failure
	// limits stay on (the bench never fails a sign-in).
	cfg.RateLimits.PasswordChecksPerIP.Limit = 0
	cfg.RateLimits.PasswordSignInsPerAccount.Limit = 0
	if p := cfg.Validate(); len(p) > 0 {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("bench configuration: %v", p)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(sctx, cfg, log, ready) }()
	stop := func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}
	select {
	case addr := <-ready:
		return "http://" + addr, stop, nil
	case err := <-done:
		cancel()
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("in-process server: %w", err)
	case <-time.After(60 * time.Second):
		stop()
		return "", nil, errors.New("in-process server did not start within 60s")
	}
}

// newBcryptBaseline prepares a hash at cost and returns a function that
// runs raw comparisons on workers (GOMAXPROCS at start: the hashing gate
// raises it for its own threads) for d.
func newBcryptBaseline(cost, workers int) func(ctx context.Context, d time.Duration, progress io.Writer) workloadResult {
	password := []byte("bench " + randomHex(16))
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		panic(err) // cost was checked
	}
	return func(ctx context.Context, d time.Duration, progress io.Writer) workloadResult {
		return runWorkload(ctx, "bcrypt_baseline", workers, d, func(_ context.Context, _ int, r *benchRecorder) {
			start := time.Now()
			r.record("bcrypt", start, bcrypt.CompareHashAndPassword(hash, password))
		}, progress, true)
	}
}

// benchRecorder collects one worker's latencies.
type benchRecorder struct {
	lat      []time.Duration
	errors   int64
	firstErr error
	ops      map[string]int64
	n        *atomic.Int64 // shared, for progress
	nerr     *atomic.Int64
}

func (r *benchRecorder) record(op string, start time.Time, err error) {
	r.lat = append(r.lat, time.Since(start))
	r.ops[op]++
	r.n.Add(1)
	if err != nil {
		r.errors++
		r.nerr.Add(1)
		if r.firstErr == nil {
			r.firstErr = err
		}
	}
}

// runWorkload runs op in workers goroutines until d has passed (no new
// request starts after it), printing progress once a second.
func runWorkload(ctx context.Context, name string, workers int, d time.Duration,
	op func(ctx context.Context, worker int, r *benchRecorder), progress io.Writer, measureCPU bool) workloadResult {
	var n, nerr atomic.Int64
	recs := make([]*benchRecorder, workers)
	for i := range recs {
		recs[i] = &benchRecorder{lat: make([]time.Duration, 0, 1024), ops: map[string]int64{}, n: &n, nerr: &nerr}
	}
	cpu0 := processCPUSeconds()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				op(ctx, w, recs[w])
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastAt := start
loop:
	for {
		select {
		case <-finished:
			break loop
		case now := <-tick.C:
			cur := n.Load()
			fmt.Fprintf(progress, "  %-16s %5.0fs  %9d req  %9.1f req/s  %d errors\n",
				name, now.Sub(start).Seconds(), cur, float64(cur-last)/now.Sub(lastAt).Seconds(), nerr.Load())
			last, lastAt = cur, now
		}
	}
	elapsed := time.Since(start)
	cpu := processCPUSeconds() - cpu0

	res := workloadResult{Name: name, Seconds: round(elapsed.Seconds(), 3), Ops: map[string]int64{}}
	var all []time.Duration
	for _, r := range recs {
		all = append(all, r.lat...)
		res.Errors += r.errors
		if r.firstErr != nil && res.FirstError == "" {
			res.FirstError = r.firstErr.Error()
		}
		for k, v := range r.ops {
			res.Ops[k] += v
		}
	}
	res.Requests = int64(len(all))
	res.RequestsSec = round(float64(res.Requests)/elapsed.Seconds(), 1)
	if len(all) > 0 {
		slices.Sort(all)
		res.P50Ms = ms(all[(len(all)-1)*50/100])
		res.P99Ms = ms(all[(len(all)-1)*99/100])
		res.MaxMs = ms(all[len(all)-1])
	}
	if measureCPU && cpu >= 0 {
		res.CPUSeconds = round(cpu, 2)
		res.CPUCores = round(cpu/elapsed.Seconds(), 2)
		if cpu > 0 {
			res.RequestsCPUSec = round(float64(res.Requests)/cpu, 1)
		}
	}
	fmt.Fprintf(progress, "  %-16s done: %d requests, %.1f/s, p50 %.2f ms, p99 %.2f ms, %d errors\n",
		name, res.Requests, res.RequestsSec, res.P50Ms, res.P99Ms, res.Errors)
	return res
}

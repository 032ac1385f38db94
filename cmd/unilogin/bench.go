package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
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

// benchReport is the result; --json prints it as is.
type benchReport struct {
	Target      string           `json:"target"`
	Version     string           `json:"version"`
	GoVersion   string           `json:"go_version"`
	OS          string           `json:"os"`
	Arch        string           `json:"arch"`
	CPUs        int              `json:"cpus"`
	GOMAXPROCS  int              `json:"gomaxprocs"`
	Concurrency int              `json:"concurrency"`
	DurationSec float64          `json:"duration_seconds"` // per workload
	BcryptCost  int              `json:"bcrypt_cost"`
	Bcrypt      bcryptResult     `json:"bcrypt_baseline"`
	Workloads   []workloadResult `json:"workloads"`
	// Process is the in-process server (and the load generator with it);
	// absent with --url.
	Process *processStats `json:"process,omitempty"`
}

// bcryptResult is the raw bcrypt bound: CompareHashAndPassword at the
// same cost on GOMAXPROCS workers, half of the time just before the
// password-grant workload and half just after it (so that drift in the
// machine's load hits both alike).
type bcryptResult struct {
	Workers        int     `json:"workers"`
	Compares       int64   `json:"compares"`
	Seconds        float64 `json:"seconds"`
	ComparesPerSec float64 `json:"compares_per_second"`
	// CPUSeconds is the process CPU time the comparisons used (Linux).
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

type workloadResult struct {
	Name        string  `json:"name"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RequestsSec float64 `json:"requests_per_second"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	// RatioToBcrypt is requests/s over raw bcrypt compares/s (password
	// grant only): 1.0 means the server adds nothing to the bcrypt cost.
	RatioToBcrypt float64 `json:"ratio_to_bcrypt,omitempty"`
	// RatioToBcryptCPU is the same per CPU-second of this process (grants
	// per CPU-second over compares per CPU-second), which other load on a
	// shared machine does not skew; in-process only. It counts the load
	// generator's CPU too, so it is a lower bound.
	RatioToBcryptCPU float64 `json:"ratio_to_bcrypt_cpu,omitempty"`
	// CPUSeconds is the process CPU time (user+system) the workload used
	// and CPUCores the same per second of wall time; in-process only.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	CPUCores   float64 `json:"cpu_cores,omitempty"`
	// RequestsCPUSec is requests per CPU-second of this process: less
	// skewed than requests/s by other load on a shared machine.
	RequestsCPUSec float64 `json:"requests_per_cpu_second,omitempty"`
	// Ops counts the requests of each kind (mixed storm only).
	Ops map[string]int64 `json:"ops,omitempty"`
	// FirstError describes one failed request, if any.
	FirstError string `json:"first_error,omitempty"`
}

type processStats struct {
	RSSIdleBytes int64   `json:"rss_idle_bytes"` // after start-up and setup, before load
	RSSPeakBytes int64   `json:"rss_peak_bytes"` // high-water mark of the whole run
	CPUSeconds   float64 `json:"cpu_seconds"`    // over all workloads
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

// add accumulates one half of the baseline.
func (b *bcryptResult) add(r workloadResult) {
	b.Compares += r.Requests
	b.Seconds = round(b.Seconds+r.Seconds, 3)
	b.CPUSeconds = round(b.CPUSeconds+r.CPUSeconds, 2)
	if b.Seconds > 0 {
		b.ComparesPerSec = round(float64(b.Compares)/b.Seconds, 1)
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

// benchClient speaks to the target as the bench user.
type benchClient struct {
	base            string
	http            *http.Client
	email, password string
}

// pair is one session's tokens.
type pair struct{ access, refresh string }

func (c *benchClient) do(ctx context.Context, method, path, contentType, bearer string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// get expects a 200 and drains the body.
func (c *benchClient) get(ctx context.Context, path, bearer string) error {
	status, body, err := c.do(ctx, http.MethodGet, path, "", bearer, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return statusError("GET "+path, status, body)
	}
	return nil
}

func (c *benchClient) signup(ctx context.Context) error {
	b, _ := json.Marshal(map[string]string{"email": c.email, "password": c.password, "name": "unilogin bench"})
	status, body, err := c.do(ctx, http.MethodPost, "/signup", "application/json", "", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("signup: %w", err)
	}
	if status != http.StatusCreated {
		return statusError("signup", status, body)
	}
	return nil
}

func (c *benchClient) token(ctx context.Context, form url.Values) (pair, error) {
	status, body, err := c.do(ctx, http.MethodPost, "/token", "application/x-www-form-urlencoded", "", strings.NewReader(form.Encode()))
	if err != nil {
		return pair{}, err
	}
	if status != http.StatusOK {
		return pair{}, statusError("POST /token "+form.Get("grant_type"), status, body)
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		return pair{}, fmt.Errorf("POST /token: incomplete token response")
	}
	return pair{tr.AccessToken, tr.RefreshToken}, nil
}

func (c *benchClient) login(ctx context.Context) (pair, error) {
	return c.token(ctx, url.Values{"grant_type": {"password"}, "username": {c.email}, "password": {c.password}})
}

// pairs signs in n times (untimed set-up of a workload).
func (c *benchClient) pairs(ctx context.Context, n int) ([]pair, error) {
	out := make([]pair, n)
	for i := range out {
		p, err := c.login(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// refreshStep advances the chain p by one refresh grant; a broken chain is
// restarted with a new sign-in (untimed; the failure is recorded).
func (c *benchClient) refreshStep(ctx context.Context, p *pair, r *benchRecorder) {
	start := time.Now()
	next, err := c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.refresh}})
	r.record("refresh", start, err)
	if err == nil {
		*p = next
		return
	}
	if fresh, lerr := c.login(ctx); lerr == nil {
		*p = fresh
	}
}

func statusError(what string, status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return fmt.Errorf("%s: HTTP %d %s", what, status, e.Error)
}

// printBench writes the summary table.
func printBench(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "unilogin bench: %s\n", rep.Target)
	fmt.Fprintf(w, "%s %s/%s, %d CPUs (GOMAXPROCS %d), %d workers, %s per workload, bcrypt cost %d\n\n",
		rep.GoVersion, rep.OS, rep.Arch, rep.CPUs, rep.GOMAXPROCS, rep.Concurrency,
		time.Duration(rep.DurationSec*float64(time.Second)), rep.BcryptCost)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\trequests\terrors\treq/s\tp50 ms\tp99 ms\tCPU cores\treq/CPU-s\tnote\t")
	bcores, bpercpu := "-", "-"
	if b := rep.Bcrypt; b.CPUSeconds > 0 && b.Seconds > 0 {
		bcores = strconv.FormatFloat(b.CPUSeconds/b.Seconds, 'f', 2, 64)
		bpercpu = strconv.FormatFloat(float64(b.Compares)/b.CPUSeconds, 'f', 1, 64)
	}
	fmt.Fprintf(tw, "bcrypt (raw)\t%d\t-\t%.1f\t-\t-\t%s\t%s\t%d workers, no HTTP\t\n",
		rep.Bcrypt.Compares, rep.Bcrypt.ComparesPerSec, bcores, bpercpu, rep.Bcrypt.Workers)
	for _, r := range rep.Workloads {
		note := ""
		if r.RatioToBcrypt > 0 {
			note = fmt.Sprintf("%.2f x raw bcrypt", r.RatioToBcrypt)
			if r.RatioToBcryptCPU > 0 {
				note += fmt.Sprintf(" (%.2f per CPU-s)", r.RatioToBcryptCPU)
			}
		}
		if len(r.Ops) > 0 {
			note = fmt.Sprintf("%d logins, %d refreshes, %d me", r.Ops["password"], r.Ops["refresh"], r.Ops["me"])
		}
		cores, percpu := "-", "-"
		if r.CPUCores > 0 {
			cores = strconv.FormatFloat(r.CPUCores, 'f', 2, 64)
		}
		if r.RequestsCPUSec > 0 {
			percpu = strconv.FormatFloat(r.RequestsCPUSec, 'f', 1, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%s\t%s\t%s\t\n",
			r.Name, r.Requests, r.Errors, r.RequestsSec, r.P50Ms, r.P99Ms, cores, percpu, note)
	}
	tw.Flush()
	if p := rep.Process; p != nil {
		fmt.Fprintf(w, "\nprocess (server + load generator): CPU %.1f s over the workloads; RSS idle %s, peak %s\n",
			p.CPUSeconds, mib(p.RSSIdleBytes), mib(p.RSSPeakBytes))
	}
	for _, r := range rep.Workloads {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Name, r.FirstError)
		}
	}
}

// processCPUSeconds is this process's user+system CPU time from
// /proc/self/stat (Linux; clock ticks of 1/100 s); -1 elsewhere.
func processCPUSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: fields after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return float64(utime+stime) / 100
}

// procStatusBytes reads a "kB" field of /proc/self/status (VmRSS, VmHWM);
// 0 when unavailable.
func procStatusBytes(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

func mib(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

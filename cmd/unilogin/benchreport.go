package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// benchReport is the result; --json prints it as is.
type benchReport struct {
	Target      string  `json:"target"`
	Version     string  `json:"version"`
	GoVersion   string  `json:"go_version"`
	OS          string  `json:"os"`
	Arch        string  `json:"arch"`
	CPUs        int     `json:"cpus"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	Concurrency int     `json:"concurrency"`
	DurationSec float64 `json:"duration_seconds"` // per workload
	BcryptCost  int     `json:"bcrypt_cost"`
	// Bcrypt is the raw bcrypt bound on all cores, idle; Raw the ES256 and
	// SQLite primitives.
	Bcrypt bcryptResult  `json:"bcrypt_baseline"`
	Raw    *rawBaselines `json:"raw_baselines"`
	// Targets are the servers: this build first, then each --compare.
	Targets []*targetReport `json:"targets"`
}

// bcryptResult is the raw bcrypt bound: CompareHashAndPassword at the
// same cost on GOMAXPROCS workers in the bench process, half of the time
// just before the password-grant workloads and half just after them (so
// that drift in the machine's load hits both alike).
type bcryptResult struct {
	Workers        int     `json:"workers"`
	Compares       int64   `json:"compares"`
	Seconds        float64 `json:"seconds"`
	ComparesPerSec float64 `json:"compares_per_second"`
	// CPUSeconds is the CPU time the comparisons used (Linux).
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

// targetReport is one server's results.
type targetReport struct {
	Name   string `json:"name"`
	Binary string `json:"binary"`
	// ReadyMs is exec to the first 200 from /readyz at bcrypt cost 12 on
	// the second start of a data directory; FirstReadyMs the first start
	// (which also creates the keys).
	ReadyMs      float64 `json:"ready_ms,omitempty"`
	FirstReadyMs float64 `json:"first_ready_ms,omitempty"`
	RSSIdleBytes int64   `json:"rss_idle_bytes,omitempty"`
	RSSPeakBytes int64   `json:"rss_peak_bytes,omitempty"`
	// RowsPerSession is the rows the store keeps for the refresh
	// workload's longest chain, after RefreshesCounted refreshes.
	RowsPerSession   int `json:"rows_per_session,omitempty"`
	RefreshesCounted int `json:"refreshes_counted,omitempty"`
	// BcryptBesideRefresh is raw bcrypt compares/s on all cores while two
	// refresh chains ran on this server: the login storm's bound.
	BcryptBesideRefresh float64          `json:"bcrypt_beside_refresh_per_second,omitempty"`
	Workloads           []workloadResult `json:"workloads"`
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
	// OpP99Ms is the p99 of each kind of request (workloads of several).
	OpP99Ms map[string]float64 `json:"op_p99_ms,omitempty"`
	// CPUSeconds is the server process's CPU time (user+system) the
	// workload used, CPUCores the same per second of wall time and
	// RequestsCPUSec requests per server CPU-second, which other load on a
	// shared machine skews far less than requests/s. Child processes only.
	CPUSeconds     float64 `json:"cpu_seconds,omitempty"`
	CPUCores       float64 `json:"cpu_cores,omitempty"`
	RequestsCPUSec float64 `json:"requests_per_cpu_second,omitempty"`
	// Baseline names what Ratio divides by, and Ratio is this workload's
	// figure over it: password grants/s over raw bcrypt compares/s (idle,
	// or beside the refresh chains for the login storm); requests per
	// server CPU-second over the raw bound per CPU-second for /users/me
	// and the refresh grant (rawBaselines).
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	// RatioCPU is the password grant's figure per CPU-second: grants per
	// server CPU-second over raw compares per CPU-second, which other
	// load on a shared machine does not skew.
	RatioCPU float64 `json:"ratio_per_cpu_second,omitempty"`
	// VsCompare is, on this build's workloads, requests per server
	// CPU-second over each --compare build's.
	VsCompare map[string]float64 `json:"per_cpu_vs_compare,omitempty"`
	// Ops counts the requests of each kind (mixed and storm only).
	Ops map[string]int64 `json:"ops,omitempty"`
	// FirstError describes one failed request, if any.
	FirstError string `json:"first_error,omitempty"`
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

// ratios fills in every workload's ratio to its baseline and this build's
// ratios to the --compare builds.
func (rep *benchReport) ratios() {
	div := func(a, b float64) float64 {
		if a <= 0 || b <= 0 {
			return 0
		}
		return round(a/b, 3)
	}
	for _, t := range rep.Targets {
		for i := range t.Workloads {
			w := &t.Workloads[i]
			switch w.Name {
			case "password_grant":
				w.Baseline, w.Ratio = "raw bcrypt on all cores, idle (compares/s)", div(w.RequestsSec, rep.Bcrypt.ComparesPerSec)
				if rep.Bcrypt.CPUSeconds > 0 {
					w.RatioCPU = div(w.RequestsCPUSec, float64(rep.Bcrypt.Compares)/rep.Bcrypt.CPUSeconds)
				}
			case "login_storm":
				grants := float64(w.Ops["password"]) / w.Seconds
				w.Baseline, w.Ratio = "raw bcrypt on all cores beside two refresh chains (compares/s)", div(grants, t.BcryptBesideRefresh)
			case "users_me":
				if rep.Raw != nil {
					w.Baseline, w.Ratio = "1 ES256 verify + 2 SQLite point reads (per CPU-s)", div(w.RequestsCPUSec, rep.Raw.MeBoundCPU)
				}
			case "refresh_grant":
				if rep.Raw != nil {
					w.Baseline, w.Ratio = "1 ES256 sign + 2 SQLite point reads + 1 point write (per CPU-s)", div(w.RequestsCPUSec, rep.Raw.RefreshBoundCPU)
				}
			}
		}
	}
	if len(rep.Targets) < 2 {
		return
	}
	self := rep.Targets[0]
	for _, other := range rep.Targets[1:] {
		for i := range self.Workloads {
			w := &self.Workloads[i]
			for _, o := range other.Workloads {
				if o.Name == w.Name {
					if w.VsCompare == nil {
						w.VsCompare = map[string]float64{}
					}
					w.VsCompare[other.Name] = div(w.RequestsCPUSec, o.RequestsCPUSec)
				}
			}
		}
	}
}

// printBench writes the summary tables.
func printBench(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "unilogin bench: %s\n", rep.Target)
	fmt.Fprintf(w, "%s %s/%s, %d CPUs (GOMAXPROCS %d), %d workers, %s per workload, bcrypt cost %d\n\n",
		rep.GoVersion, rep.OS, rep.Arch, rep.CPUs, rep.GOMAXPROCS, rep.Concurrency,
		time.Duration(rep.DurationSec*float64(time.Second)), rep.BcryptCost)
	b := rep.Bcrypt
	fmt.Fprintf(w, "baselines (bench process): raw bcrypt %.1f compares/s on %d workers", b.ComparesPerSec, b.Workers)
	if b.CPUSeconds > 0 {
		fmt.Fprintf(w, " (%.1f per CPU-s)", float64(b.Compares)/b.CPUSeconds)
	}
	fmt.Fprintln(w)
	if r := rep.Raw; r != nil {
		fmt.Fprintf(w, "  per CPU-s: ES256 sign %.0f, verify %.0f; SQLite point read %.0f, write %.0f; bound /users/me %.0f, refresh %.0f\n",
			r.ES256SignCPU, r.ES256VerifyCPU, r.SQLiteReadCPU, r.SQLiteWriteCPU, r.MeBoundCPU, r.RefreshBoundCPU)
	}
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "\n%s (%s)\n", t.Name, t.Binary)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "workload\trequests\terrors\treq/s\tp50 ms\tp99 ms\tserver cores\treq/server-CPU-s\tratio to baseline\tvs compare\t")
		for _, r := range t.Workloads {
			cores, percpu, ratio := "-", "-", "-"
			if r.CPUCores > 0 {
				cores = strconv.FormatFloat(r.CPUCores, 'f', 2, 64)
			}
			if r.RequestsCPUSec > 0 {
				percpu = strconv.FormatFloat(r.RequestsCPUSec, 'f', 1, 64)
			}
			if r.Ratio > 0 {
				ratio = strconv.FormatFloat(r.Ratio, 'f', 3, 64)
			}
			if r.RatioCPU > 0 {
				ratio += fmt.Sprintf(" (%.3f per CPU-s)", r.RatioCPU)
			}
			var vs []string
			for k, v := range r.VsCompare {
				vs = append(vs, fmt.Sprintf("%.2fx %s", v, k))
			}
			p99 := strconv.FormatFloat(r.P99Ms, 'f', 2, 64)
			if q, ok := r.OpP99Ms["refresh"]; ok {
				p99 += fmt.Sprintf(" (refresh %.2f)", q)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n",
				r.Name, r.Requests, r.Errors, r.RequestsSec, r.P50Ms, p99, cores, percpu, ratio, strings.Join(vs, ", "))
		}
		tw.Flush()
		if t.ReadyMs > 0 {
			fmt.Fprintf(w, "ready in %.0f ms at bcrypt cost 12 (first start, with key creation: %.0f ms)\n", t.ReadyMs, t.FirstReadyMs)
		}
		if t.RefreshesCounted > 0 {
			fmt.Fprintf(w, "rows per session after %d refreshes: %d\n", t.RefreshesCounted, t.RowsPerSession)
		}
		if t.RSSIdleBytes > 0 {
			fmt.Fprintf(w, "server RSS idle %s, peak %s\n", mib(t.RSSIdleBytes), mib(t.RSSPeakBytes))
		}
		for _, r := range t.Workloads {
			if r.FirstError != "" {
				fmt.Fprintf(w, "%s: first error: %s\n", r.Name, r.FirstError)
			}
		}
	}
}

// processCPUSeconds is this process's user+system CPU time from
// /proc/self/stat (Linux; clock ticks of 1/100 s); -1 elsewhere.
func processCPUSeconds() float64 { return procCPUSeconds("/proc/self/stat") }

// procCPUSeconds reads user+system CPU time from a /proc/PID/stat file.
func procCPUSeconds(path string) float64 {
	b, err := os.ReadFile(path)
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

// procStatusBytesOf reads a "kB" field of /proc/PID/status (VmRSS,
// VmHWM); 0 when unavailable.
func procStatusBytesOf(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
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

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

// add accumulates one half of the baseline.
func (b *bcryptResult) add(r workloadResult) {
	b.Compares += r.Requests
	b.Seconds = round(b.Seconds+r.Seconds, 3)
	b.CPUSeconds = round(b.CPUSeconds+r.CPUSeconds, 2)
	if b.Seconds > 0 {
		b.ComparesPerSec = round(float64(b.Compares)/b.Seconds, 1)
	}
}

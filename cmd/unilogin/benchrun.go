package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// benchRecorder collects one worker's latencies.
type benchRecorder struct {
	lat      []time.Duration
	opLat    map[string][]time.Duration // per kind of request
	errors   int64
	firstErr error
	ops      map[string]int64
	n        *atomic.Int64 // shared, for progress
	nerr     *atomic.Int64
}

func (r *benchRecorder) record(op string, start time.Time, err error) {
	d := time.Since(start)
	r.lat = append(r.lat, d)
	r.opLat[op] = append(r.opLat[op], d)
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
// request starts after it), printing progress once a second. cpuNow, when
// set, reads the CPU time the workload is charged with (the server
// process's, or this one's for the raw baselines).
func runWorkload(ctx context.Context, name string, workers int, d time.Duration,
	op func(ctx context.Context, worker int, r *benchRecorder), progress io.Writer, cpuNow func() float64) workloadResult {
	var n, nerr atomic.Int64
	recs := make([]*benchRecorder, workers)
	for i := range recs {
		recs[i] = &benchRecorder{lat: make([]time.Duration, 0, 1024), opLat: map[string][]time.Duration{}, ops: map[string]int64{}, n: &n, nerr: &nerr}
	}
	measureCPU := cpuNow != nil
	cpu0 := -1.0
	if measureCPU {
		cpu0 = cpuNow()
	}
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
	cpu := -1.0
	if measureCPU && cpu0 >= 0 {
		cpu = cpuNow() - cpu0
	}

	res := workloadResult{Name: name, Seconds: round(elapsed.Seconds(), 3), Ops: map[string]int64{}}
	var all []time.Duration
	perOp := map[string][]time.Duration{}
	for _, r := range recs {
		all = append(all, r.lat...)
		for k, v := range r.opLat {
			perOp[k] = append(perOp[k], v...)
		}
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
	if len(perOp) > 1 {
		res.OpP99Ms = map[string]float64{}
		for k, v := range perOp {
			slices.Sort(v)
			res.OpP99Ms[k] = ms(v[(len(v)-1)*99/100])
		}
	}
	if measureCPU && cpu >= 0 && cpu0 >= 0 {
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

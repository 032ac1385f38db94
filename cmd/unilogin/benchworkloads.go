package main

import (
	"context"
	"time"
)

// benchWorkload is one standard workload: setup signs in as it needs
// (untimed) and returns the operation each worker repeats.
type benchWorkload struct {
	name  string
	setup func(ctx context.Context, c *benchClient, workers int) (func(ctx context.Context, w int, r *benchRecorder), error)
	// last returns the refresh workload's longest chain after it ran (the
	// session whose rows are counted).
	last func() (pair, int)
}

var workloadNames = []string{"password_grant", "login_storm", "refresh_grant", "users_me", "jwks", "mixed"}

// stormRefreshers is how many refresh chains run beside the login storm.
const stormRefreshers = 2

func benchWorkloads() []*benchWorkload {
	var chains []pair
	refresh := &benchWorkload{name: "refresh_grant", setup: func(ctx context.Context, c *benchClient, workers int) (func(context.Context, int, *benchRecorder), error) {
		var err error
		if chains, err = c.pairs(ctx, workers); err != nil {
			return nil, err
		}
		return func(ctx context.Context, w int, r *benchRecorder) { c.refreshStep(ctx, &chains[w], r) }, nil
	}}
	refresh.last = func() (pair, int) {
		best := pair{}
		for _, p := range chains {
			if p.n >= best.n {
				best = p
			}
		}
		return best, best.n
	}
	return []*benchWorkload{
		{name: "password_grant", setup: func(_ context.Context, c *benchClient, _ int) (func(context.Context, int, *benchRecorder), error) {
			return func(ctx context.Context, _ int, r *benchRecorder) {
				start := time.Now()
				_, err := c.login(ctx)
				r.record("password", start, err)
			}, nil
		}},
		// A login storm: every worker signs in as fast as it can, but for
		// stormRefreshers workers that refresh their chains meanwhile;
		// their p99 is the latency that sign-ins must not push up.
		{name: "login_storm", setup: func(ctx context.Context, c *benchClient, workers int) (func(context.Context, int, *benchRecorder), error) {
			chains, err := c.pairs(ctx, stormRefreshers)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int, r *benchRecorder) {
				if w < stormRefreshers {
					c.refreshStep(ctx, &chains[w], r)
					return
				}
				start := time.Now()
				_, err := c.login(ctx)
				r.record("password", start, err)
			}, nil
		}},
		refresh,
		{name: "users_me", setup: func(ctx context.Context, c *benchClient, workers int) (func(context.Context, int, *benchRecorder), error) {
			pairs, err := c.pairs(ctx, workers)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int, r *benchRecorder) {
				start := time.Now()
				r.record("me", start, c.get(ctx, "/users/me", pairs[w].access))
			}, nil
		}},
		{name: "jwks", setup: func(_ context.Context, c *benchClient, _ int) (func(context.Context, int, *benchRecorder), error) {
			return func(ctx context.Context, _ int, r *benchRecorder) {
				start := time.Now()
				r.record("jwks", start, c.get(ctx, "/.well-known/jwks.json", ""))
			}, nil
		}},
		{name: "mixed", setup: func(ctx context.Context, c *benchClient, workers int) (func(context.Context, int, *benchRecorder), error) {
			pairs, err := c.pairs(ctx, workers)
			if err != nil {
				return nil, err
			}
			// Per worker, every 10 requests: 1 password grant, 3 refreshes
			// (the worker's own chain), 6 GET /users/me; worker w starts at
			// step w, so that the workers do not all sign in at once. The
			// grant's pair becomes the worker's: every grant starts a
			// session, and the per-user session cap ends the oldest, which
			// must not be one a worker still uses.
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
					p, err := c.login(ctx)
					r.record("password", start, err)
					if err == nil {
						pairs[w] = p
					}
				case 3, 6, 9:
					c.refreshStep(ctx, &pairs[w], r)
				default:
					start := time.Now()
					r.record("me", start, c.get(ctx, "/users/me", pairs[w].access))
				}
			}, nil
		}},
	}
}

package accounts

import "time"

// SetHashIdle sets how long g's hashing threads keep their extra Ps after
// the last hash (tests: 0 gives them back at once). Call before use.
func (g *PoolGate) SetHashIdle(d time.Duration) *PoolGate {
	if g.threads != nil {
		g.threads.idle = d
	}
	return g
}

package session

import (
	"context"
	"time"
)

// RateStore counts events per key in fixed time windows, in the database,
// so that every instance sharing the database enforces one limit (the rate
// limits of /token, /signup and /auth/*/login; docs/security.md).
//
// Windows are aligned to the Unix epoch (see RateWindow): the window of now
// is [now truncated to a multiple of window, that + window). A key is an
// opaque, short string chosen by the caller (the api package hashes client
// addresses and user names into it); the same key counted with two window
// lengths keeps two independent counters.
//
// Atomicity that callers rely on: a Hit is never lost. N concurrent Hits on
// a fresh key and window leave the count at exactly N, and each returns a
// count from 1 to N (on SQLite exactly the values 1..N; on MongoDB two
// concurrent Hits may both observe the other's event). Counters live until
// the end of their window and are then removed by DeleteExpired.
// Implementations are safe for concurrent use.
type RateStore interface {
	// Hit records one event for key in the window containing now and
	// returns the window's count including this event, and the end of the
	// window (when the count starts again from zero).
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (count int64, resetAt time.Time, err error)
	// Peek returns the count of the window containing now, and its end,
	// without recording anything. A key never hit in the window counts 0.
	Peek(ctx context.Context, key string, window time.Duration, now time.Time) (count int64, resetAt time.Time, err error)
}

// RateWindow returns the fixed window of the given length containing now:
// its start (a multiple of window since the Unix epoch, in milliseconds, the
// precision every backend keeps) and its end. A window shorter than one
// millisecond is treated as one millisecond.
func RateWindow(now time.Time, window time.Duration) (start, end time.Time) {
	w := max(window.Milliseconds(), 1)
	ms := now.UnixMilli()
	s := ms - ms%w
	if ms < 0 && ms%w != 0 { // before 1970: floor, not truncation toward zero
		s -= w
	}
	return time.UnixMilli(s).UTC(), time.UnixMilli(s + w).UTC()
}

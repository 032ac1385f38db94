package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/unilogin/unilogin/session"
)

var _ session.RateStore = (*Store)(nil)

// Hit is one upsert (INSERT ... ON CONFLICT DO UPDATE SET n = n + 1
// RETURNING n): atomic, so concurrent hits, also from other processes on
// the same file, are each counted once and each see a distinct count.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	start, end := session.RateWindow(now, window)
	var n int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO rate_counters (key, window_ms, window_start, n, expires_at)
		VALUES (?, ?, ?, 1, ?)
		ON CONFLICT (key, window_ms, window_start) DO UPDATE SET n = n + 1
		RETURNING n`,
		key, windowMillis(window), millis(start), millis(end)).Scan(&n)
	if err != nil {
		return 0, time.Time{}, wrap("rate hit", err)
	}
	return n, end, nil
}

// Peek reads the counter of the current window; a missing row is 0.
func (s *Store) Peek(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	start, end := session.RateWindow(now, window)
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT n FROM rate_counters WHERE key = ? AND window_ms = ? AND window_start = ?`,
		key, windowMillis(window), millis(start)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, end, nil
	}
	if err != nil {
		return 0, time.Time{}, wrap("rate peek", err)
	}
	return n, end, nil
}

func windowMillis(w time.Duration) int64 { return max(w.Milliseconds(), 1) }

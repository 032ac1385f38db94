package oauth

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/unilogin/unilogin/accounts/mfa"
)

// Quota is the state of one rate-limit counter as the RateLimit header
// fields of draft-ietf-httpapi-ratelimit-headers (-07) describe it.
type Quota struct {
	Limit, Remaining int64
	Reset            time.Duration // until the counter's window ends
	Window           time.Duration
}

// SetHeaders writes q as RateLimit-Limit, -Remaining, -Reset (seconds)
// and RateLimit-Policy ("limit;w=window").
func (q Quota) SetHeaders(h http.Header) {
	h.Set("RateLimit-Limit", strconv.FormatInt(q.Limit, 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(max(q.Remaining, 0), 10))
	h.Set("RateLimit-Reset", strconv.FormatInt(Seconds(q.Reset), 10))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", q.Limit, int64(q.Window/time.Second)))
}

// Seconds is d in whole seconds, rounded up and at least 1: "retry now"
// invites a loop.
func Seconds(d time.Duration) int64 {
	return max(int64(math.Ceil(d.Seconds())), 1)
}

// RateLimitError is the refusal of a rate limit: ErrRateLimited (it
// unwraps to it) with the counter that refused, whose window ends in
// Quota.Reset. The limiter returns it and writes nothing; the JSON writer
// and the page renderer set Retry-After and the RateLimit fields from it
// (through Classify).
type RateLimitError struct {
	Quota Quota
}

func (e *RateLimitError) Error() string { return ErrRateLimited.Error() }
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// retryHint is what a refusal tells the client: when to retry (at least a
// second, even when the window has just ended) and the counter that
// refused (nil when the limit has none to show).
func retryHint(err error, status int) (time.Duration, *Quota) {
	var rl *RateLimitError
	var mrl *mfa.RateLimitError
	switch {
	case errors.As(err, &rl):
		q := rl.Quota
		return max(q.Reset, time.Second), &q
	case errors.As(err, &mrl):
		return max(mrl.RetryAfter, time.Second), nil
	case status > http.StatusInternalServerError:
		return 5 * time.Second, nil // an outage: retrying soon may help
	}
	return 0, nil
}

// SetRetryHeaders writes the headers cl asks for: Retry-After (whole
// seconds) and the refusing counter's RateLimit fields.
func SetRetryHeaders(h http.Header, cl Class) {
	if cl.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(Seconds(cl.RetryAfter), 10))
	}
	if cl.Quota != nil {
		cl.Quota.SetHeaders(h)
	}
}

package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// Rate is one limit: at most Limit events per Window. A Limit of 0 turns
// the limit off.
type Rate struct {
	Limit  int64
	Window time.Duration
}

func (r Rate) on() bool { return r.Limit > 0 && r.Window > 0 }

// RateLimits configure abuse protection (docs/http-api.md, Operations;
// docs/security.md). The zero value turns every limit off. Counters are
// fixed windows kept in the database (session.RateStore), so every instance
// on one database enforces one limit.
type RateLimits struct {
	// Store keeps the counters (the session store: every session.Store
	// keeps them). Required when a limit is on.
	Store session.RateStore
	// PasswordPerIP counts failed password grants per client address.
	PasswordPerIP Rate
	// PasswordPerAccountIP counts failed password grants per user name and
	// client address; unknown user names count exactly like known ones.
	PasswordPerAccountIP Rate
	// PasswordPerAccount counts failed password grants per user name from
	// every address: a looser ceiling that slows a distributed attack.
	PasswordPerAccount Rate
	// PasswordChecksPerIP counts every password check per client address,
	// successful or not: sign-ins and current_password confirmations. It
	// bounds how much of the hashing gate one address can take.
	PasswordChecksPerIP Rate
	// PasswordSignInsPerAccount counts successful password checks per
	// account. Only someone who knows the password can spend it, so it can
	// never lock anyone else out.
	PasswordSignInsPerAccount Rate
	// PasswordSlowdown is how long a check waits before bcrypt when it is let
	// through an exhausted PasswordPerAccount ceiling because its address has
	// not failed recently (docs/security.md, "No lockout"). 0: no wait.
	PasswordSlowdown time.Duration
	// SignupPerIP counts POST /signup requests per client address.
	SignupPerIP Rate
	// BrowserLoginPerIP counts GET /auth/{provider}/login per client
	// address, and the callbacks separately with the same limit.
	BrowserLoginPerIP Rate
	// EmailPerAddress and EmailPerIP count the requests that send an
	// e-mail link to a typed address (POST /password/forgot and
	// /verify-email/resend, together) per address, whether or not it
	// belongs to an account, and per client address.
	EmailPerAddress, EmailPerIP Rate
}

func (r RateLimits) any() bool {
	return r.PasswordPerIP.on() || r.PasswordPerAccountIP.on() || r.PasswordPerAccount.on() ||
		r.SignupPerIP.on() || r.BrowserLoginPerIP.on() || r.PasswordChecksPerIP.on() || r.PasswordSignInsPerAccount.on() ||
		r.EmailPerAddress.on() || r.EmailPerIP.on()
}

// Limit names: the keys' prefixes and the label of unilogin_rate_limited_total.
const (
	LimitTokenIP        = "token_ip"
	LimitTokenAccountIP = "token_account_ip"
	LimitTokenAccount   = "token_account"
	LimitChecksIP       = "password_checks_ip"
	LimitSignInsAccount = "password_signins_account"
	LimitSignupIP       = "signup_ip"
	LimitLoginIP        = "login_ip"
	LimitCallbackIP     = "callback_ip"
	LimitEmailAddress   = "email_address"
	LimitEmailIP        = "email_ip"
)

// Limiter decides the rate limits of requests (docs/security.md): its
// checks return nil (the RateLimit-* fields of the client's counter set),
// a *oauth.RateLimitError (ErrRateLimited with the counter that refused and
// when its window ends) or oauth.ErrUnavailable (the counters cannot be
// read), and the caller answers in its format: the refusal carries what
// the answer's Retry-After and RateLimit-* fields say. A nil *Limiter (every
// limit off) lets everything through.
type Limiter struct {
	limits  RateLimits
	now     func() time.Time
	log     *slog.Logger
	metrics LimitMetrics
}

// LimitMetrics counts refusals (api.Metrics is one).
type LimitMetrics interface {
	RateLimited(limit string)
}

// NewLimiter returns the limiter of limits, nil when no limit is on.
func NewLimiter(limits RateLimits, now func() time.Time, log *slog.Logger, m LimitMetrics) (*Limiter, error) {
	if !limits.any() {
		return nil, nil
	}
	if limits.Store == nil {
		return nil, errors.New("middleware: rate limits are on but RateLimits.Store is nil")
	}
	return &Limiter{limits: limits, now: now, log: log, metrics: m}, nil
}

// rateKey is one counter: a limit and the hashed identity it counts. The
// address or user name is hashed so that the database holds neither, and
// the key has a bounded length whatever the request sent.
type rateKey struct {
	name string
	rate Rate
	key  string
}

func newRateKey(name string, rate Rate, parts ...string) rateKey {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return rateKey{name: name, rate: rate, key: name + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])}
}

// rateState is a counter's value in its current window.
type rateState struct {
	rateKey
	count int64
	reset time.Time
}

func (st rateState) exhausted() bool { return st.count >= st.rate.Limit }

// clientAddr is the address a limit counts: gin's ClientIP (X-Forwarded-For
// only from Options.TrustedProxies), IPv4-mapped addresses as IPv4, and
// IPv6 by /64, the block one subscriber usually gets.
func clientAddr(c *gin.Context) string {
	ip := c.ClientIP()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// quota is st as the RateLimit header fields describe it.
func (st rateState) quota(now time.Time) oauth.Quota {
	return oauth.Quota{Limit: st.rate.Limit, Remaining: st.rate.Limit - st.count, Reset: st.reset.Sub(now), Window: st.rate.Window}
}

// setRateHeaders describes the counter st of a request let through (a
// refusal carries its counter to the writer instead).
func setRateHeaders(c *gin.Context, st rateState, now time.Time) {
	st.quota(now).SetHeaders(c.Writer.Header())
}

// tooMany is the refusal by the exhausted counter st: it counts and logs
// it, and writes nothing (the caller answers from the error).
func (l *Limiter) tooMany(c *gin.Context, st rateState, now time.Time) error {
	l.metrics.RateLimited(st.name)
	Logger(l.log, c).Info("rate limited", slog.String("limit", st.name), slog.String("client_ip", c.ClientIP()))
	return &oauth.RateLimitError{Quota: st.quota(now)}
}

// rateStoreFailed logs a counter store failure; the request gets 503.
func (l *Limiter) rateStoreFailed(c *gin.Context, err error) error {
	Logger(l.log, c).Error("rate limit store failed", slog.String("error", err.Error()))
	return oauth.ErrUnavailable
}

// --- password checks: sign-ins and current_password ---

// PasswordGuard holds the counters of one password check: read before any
// bcrypt work, counted after it (failures, successes) or before it (every
// check per address).
type PasswordGuard struct {
	l        *Limiter
	now      time.Time
	failures []rateState // per address, per account+address, per account
	success  *rateState  // per account, successful checks only
	shown    []rateState // what the RateLimit-* fields may describe
}

// GuardPassword reads the limits of one password check by the client for
// the account named by account (a user name as typed, or an account key
// for a signed-in user) and refuses it (429) when one is exhausted. Known
// and unknown user names take exactly the same path. A nil guard (limits
// off) is valid.
//
// The failure ceiling per account (PasswordPerAccount) is the one limit
// that others can fill: when it is exhausted, an address with no failure in
// its per-address and per-account+address counters is still let through,
// after PasswordSlowdown, so the owner's correct password from a clean
// address works during a distributed attack (docs/security.md, "No lockout").
//
// Failures and successes are counted after the check (only the outcome
// says which), so requests already past the check when a counter fills are
// still evaluated: the overshoot is at most the checks in flight, which
// the admission gate bounds. Every check per address is counted before
// bcrypt, atomically, so it is never exceeded.
func (l *Limiter) GuardPassword(c *gin.Context, account string) (*PasswordGuard, error) {
	if l == nil {
		return nil, nil
	}
	addr, user := clientAddr(c), accounts.NormalizeEmail(account)
	g := &PasswordGuard{l: l, now: l.now()}
	ctx := c.Request.Context()
	peek := func(k rateKey) (rateState, error) {
		n, reset, err := l.limits.Store.Peek(ctx, k.key, k.rate.Window, g.now)
		return rateState{rateKey: k, count: n, reset: reset}, err
	}
	var blocked *rateState
	block := func(st rateState) {
		if blocked == nil || st.reset.After(blocked.reset) {
			blocked = &st
		}
	}
	var ceiling *rateState
	clean := true // no failure from this address recently
	for _, k := range []rateKey{
		newRateKey(LimitTokenIP, l.limits.PasswordPerIP, addr),
		newRateKey(LimitTokenAccountIP, l.limits.PasswordPerAccountIP, user, addr),
		newRateKey(LimitTokenAccount, l.limits.PasswordPerAccount, user),
	} {
		if !k.rate.on() {
			continue
		}
		st, err := peek(k)
		if err != nil {
			return nil, l.rateStoreFailed(c, err)
		}
		g.failures = append(g.failures, st)
		switch {
		case k.name == LimitTokenAccount:
			if st.exhausted() {
				ceiling = &st
			}
			continue // never shown unless refusing
		case st.count > 0:
			clean = false
		}
		g.shown = append(g.shown, st)
		if st.exhausted() {
			block(st)
		}
	}
	if ceiling != nil && !clean {
		block(*ceiling)
	}
	if k := newRateKey(LimitSignInsAccount, l.limits.PasswordSignInsPerAccount, user); k.rate.on() {
		st, err := peek(k)
		if err != nil {
			return nil, l.rateStoreFailed(c, err)
		}
		g.success = &st
		if st.exhausted() {
			block(st)
		}
	}
	if blocked != nil {
		return nil, l.tooMany(c, *blocked, g.now)
	}
	if k := newRateKey(LimitChecksIP, l.limits.PasswordChecksPerIP, addr); k.rate.on() {
		// Peek, then count; a check whose own count went past the limit
		// (it lost a race for the last slot) is refused too.
		st, err := peek(k)
		over := st.exhausted()
		if err == nil && !over {
			st.count, st.reset, err = l.limits.Store.Hit(ctx, k.key, k.rate.Window, g.now)
			over = st.count > k.rate.Limit
		}
		if err != nil {
			return nil, l.rateStoreFailed(c, err)
		}
		if over {
			st.count = min(st.count, k.rate.Limit)
			return nil, l.tooMany(c, st, g.now)
		}
		g.shown = append(g.shown, st)
	}
	if ceiling != nil && l.limits.PasswordSlowdown > 0 {
		// Let through, but slowly: a distributed attacker gets at most one
		// guess per clean address, each costing this wait.
		t := time.NewTimer(l.limits.PasswordSlowdown)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	g.headers(c)
	return g, nil
}

// Done counts the outcome of the check: a failure (wrong password, unknown
// or disabled user: ErrInvalidCredentials) in every failure counter, a
// success in the account's success counter; other outcomes (the gate
// refused, the store failed) count nothing. A store failure here is
// logged: the answer is decided already. The count survives the client
// hanging up, so that dropping the connection once the guess is made
// cannot dodge it.
func (g *PasswordGuard) Done(c *gin.Context, err error) {
	if g == nil {
		return
	}
	var states []*rateState
	switch {
	case errors.Is(err, accounts.ErrInvalidCredentials):
		for i := range g.failures {
			states = append(states, &g.failures[i])
		}
	case err == nil && g.success != nil:
		states = append(states, g.success)
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 10*time.Second)
	defer cancel()
	for _, st := range states {
		n, reset, herr := g.l.limits.Store.Hit(ctx, st.key, st.rate.Window, g.now)
		if herr != nil {
			Logger(g.l.log, c).Error("rate limit store failed", slog.String("error", herr.Error()))
			continue
		}
		st.count, st.reset = n, reset
		for i := range g.shown {
			if g.shown[i].key == st.key {
				g.shown[i].count, g.shown[i].reset = n, reset
			}
		}
	}
	g.headers(c)
}

// headers describe the client's own limit with the fewest attempts left.
// The per-account counters are left out (their counts would tell a caller
// how often others failed on, or signed in to, that account) unless one
// is refusing.
func (g *PasswordGuard) headers(c *gin.Context) {
	var best *rateState
	for i := range g.shown {
		st := &g.shown[i]
		if best == nil || st.rate.Limit-st.count < best.rate.Limit-best.count {
			best = st
		}
	}
	if best != nil {
		setRateHeaders(c, *best, g.now)
	}
}

// --- signup and browser logins: every request ---

// The rates the per-address limits count against, for PerIP and PerKey
// (one configured rate may serve several limit names: the browser's
// provider login and callback share BrowserLoginPerIP).
func SignupRate(r RateLimits) Rate       { return r.SignupPerIP }
func BrowserLoginRate(r RateLimits) Rate { return r.BrowserLoginPerIP }
func EmailIPRate(r RateLimits) Rate      { return r.EmailPerIP }
func EmailAddressRate(r RateLimits) Rate { return r.EmailPerAddress }

// PerIP is the decision of the limit name for this request: it counts
// every request of the route per client address and returns nil when the
// request may go on (RateLimit-* headers set), a *oauth.RateLimitError
// when the limit is exhausted or oauth.ErrUnavailable when
// the counters cannot be read. It peeks first, so a flood past the limit
// writes nothing, then counts; a request that loses a race for the last
// slot is refused too, so concurrent requests never pass the limit. The
// caller writes the answer: JSON for the API, a page for the hosted pages.
func (l *Limiter) PerIP(c *gin.Context, name string, rate func(RateLimits) Rate) error {
	return l.PerKey(c, name, rate, clientAddr(c))
}

// PerKey is PerIP counting per key (an e-mail address, normalized by the
// caller) instead of the client address.
func (l *Limiter) PerKey(c *gin.Context, name string, rate func(RateLimits) Rate, key string) error {
	if l == nil || !rate(l.limits).on() {
		return nil
	}
	k := newRateKey(name, rate(l.limits), key)
	now := l.now()
	n, reset, err := l.limits.Store.Peek(c.Request.Context(), k.key, k.rate.Window, now)
	over := n >= k.rate.Limit
	if err == nil && !over {
		n, reset, err = l.limits.Store.Hit(c.Request.Context(), k.key, k.rate.Window, now)
		over = n > k.rate.Limit
	}
	if err != nil {
		return l.rateStoreFailed(c, err)
	}
	st := rateState{rateKey: k, count: n, reset: reset}
	if over {
		return l.tooMany(c, st, now)
	}
	setRateHeaders(c, st, now)
	return nil
}

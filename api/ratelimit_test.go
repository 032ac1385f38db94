package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session"
)

// behindProxy: the test's own connections (loopback) are the trusted
// proxy, so X-Forwarded-For picks the client address.
func behindProxy(c *config.Config) { c.HTTP.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} }

func from(ip string) []string { return []string{"X-Forwarded-For", ip} }

func passwordGrant(e *apitest.Env, user, password string, header ...string) apitest.Response {
	e.T.Helper()
	return e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}, header...)
}

// want429 checks the contract's 429: rate_limited, Retry-After in seconds
// within the window, and the RateLimit header fields agreeing with it.
func want429(t *testing.T, r apitest.Response, limit int64, window time.Duration) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", r.Status, r.Body)
	}
	if code := r.ErrCode(t); code != "rate_limited" {
		t.Fatalf("error %q, want rate_limited", code)
	}
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > int(window/time.Second) {
		t.Fatalf("Retry-After %q, want 1..%d seconds", r.Header.Get("Retry-After"), int(window/time.Second))
	}
	for h, want := range map[string]string{
		"RateLimit-Limit":     strconv.FormatInt(limit, 10),
		"RateLimit-Remaining": "0",
		"RateLimit-Reset":     strconv.Itoa(ra),
		"RateLimit-Policy":    fmt.Sprintf("%d;w=%d", limit, int(window/time.Second)),
		"Cache-Control":       "no-store",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

// TestFailedPasswordGrantLimits: the contract's defaults, on both stores.
func TestFailedPasswordGrantLimits(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rl := config.Default().RateLimits
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b, Mutate: apitest.WithLimits(rl, behindProxy)})
			e.Signup("kim@example.com", apitest.Password)
			attacker, victim := "203.0.113.7", "198.51.100.20"

			// 10 failures per account and address, each counted in the headers.
			for i := 1; i <= 10; i++ {
				r := passwordGrant(e, "kim@example.com", "wrong password", from(attacker)...)
				if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
					t.Fatalf("failure %d: %d %s", i, r.Status, r.Body)
				}
				if got, want := r.Header.Get("RateLimit-Remaining"), strconv.Itoa(10-i); got != want {
					t.Fatalf("failure %d: RateLimit-Remaining %q, want %q", i, got, want)
				}
			}
			// The 11th is refused before the password is looked at: even
			// the right one, and whatever the case of the user name.
			want429(t, passwordGrant(e, "KIM@example.com ", apitest.Password, from(attacker)...), 10, 15*time.Minute)
			// Another address still signs in to the same account.
			e.MustTokens(passwordGrant(e, "kim@example.com", apitest.Password, from(victim)...))

			// Unknown accounts are limited exactly alike: a 429 reveals nothing.
			for i := 1; i <= 10; i++ {
				if r := passwordGrant(e, "nobody@example.com", "wrong password", from("203.0.113.8")...); r.Status != http.StatusBadRequest {
					t.Fatalf("unknown user, failure %d: %d %s", i, r.Status, r.Body)
				}
			}
			want429(t, passwordGrant(e, "nobody@example.com", "wrong password", from("203.0.113.8")...), 10, 15*time.Minute)

			// 20 failures from one address, whatever the names: every name
			// is refused there now.
			for i := range 10 {
				if r := passwordGrant(e, fmt.Sprintf("guess%d@example.com", i), "wrong password", from(attacker)...); r.Status != http.StatusBadRequest {
					t.Fatalf("failure %d from the address: %d %s", 11+i, r.Status, r.Body)
				}
			}
			want429(t, passwordGrant(e, "zed@example.com", "wrong password", from(attacker)...), 20, 5*time.Minute)

			// Successful sign-ins count nothing toward the failure limits
			// (they have their own, TestAllPasswordChecksLimited).
			e.Signup("lee@example.com", apitest.Password)
			for i := range 15 {
				if r := passwordGrant(e, "lee@example.com", apitest.Password, from("192.0.2.50")...); r.Status != http.StatusOK {
					t.Fatalf("successful sign-in %d: %d %s", i+1, r.Status, r.Body)
				}
			}

			// Once the windows have passed, the attacker's address may try again.
			e.Clock.Advance(15 * time.Minute)
			e.MustTokens(passwordGrant(e, "kim@example.com", apitest.Password, from(attacker)...))
		})
	}
}

// TestSpoofedForwardedForDoesNotChangeTheKey: without trusted proxies, a
// client cannot escape its limit by inventing X-Forwarded-For addresses;
// through a trusted proxy, only the address the proxy appended counts.
func TestSpoofedForwardedForDoesNotChangeTheKey(t *testing.T) {
	rl := config.RateLimits{PasswordPerAccountIP: config.Rate{Limit: 3, Window: 15 * time.Minute}}
	t.Run("untrusted peer", func(t *testing.T) {
		e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(rl)})
		for i := range 3 {
			passwordGrant(e, "kim@example.com", "wrong password", "X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i), "X-Real-IP", fmt.Sprintf("10.1.0.%d", i))
		}
		want429(t, passwordGrant(e, "kim@example.com", "wrong password", "X-Forwarded-For", "10.9.9.9", "X-Real-IP", "10.8.8.8"), 3, 15*time.Minute)
	})
	t.Run("untrusted peer, other proxy trusted", func(t *testing.T) {
		e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(rl, func(c *config.Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8"} })})
		for i := range 3 {
			passwordGrant(e, "kim@example.com", "wrong password", from(fmt.Sprintf("192.0.2.%d", i))...)
		}
		want429(t, passwordGrant(e, "kim@example.com", "wrong password", from("192.0.2.99")...), 3, 15*time.Minute)
	})
	t.Run("trusted proxy, spoofed prefix", func(t *testing.T) {
		e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(rl, behindProxy)})
		// The client sent "X-Forwarded-For: <anything>"; the proxy appended
		// the real address. Only the rightmost untrusted address counts.
		for i := range 3 {
			passwordGrant(e, "kim@example.com", "wrong password", from(fmt.Sprintf("192.0.2.%d, 203.0.113.7", i))...)
		}
		want429(t, passwordGrant(e, "kim@example.com", "wrong password", from("192.0.2.99, 203.0.113.7")...), 3, 15*time.Minute)
		// And a different real address is a different key.
		if r := passwordGrant(e, "kim@example.com", "wrong password", from("192.0.2.1, 203.0.113.8")...); r.Status != http.StatusBadRequest {
			t.Fatalf("another client behind the proxy: %d %s", r.Status, r.Body)
		}
	})
}

// TestClientAddressKey drives the handler with RemoteAddr set directly:
// IPv4-mapped IPv6 is IPv4, and IPv6 addresses share a key per /64.
func TestClientAddressKey(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{PasswordPerIP: config.Rate{Limit: 2, Window: 5 * time.Minute}})})
	grant := func(remote string) int {
		form := url.Values{"grant_type": {"password"}, "username": {"x@example.com"}, "password": {"wrong password"}}
		req := httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "192.0.2.1") // untrusted: ignored
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		remote string
		want   int
	}{
		{"198.51.100.9:1111", 400},
		{"[::ffff:198.51.100.9]:2222", 400}, // the same IPv4 client
		{"198.51.100.9:3333", 429},
		{"198.51.100.10:1111", 400},
		{"[2001:db8:1:2::1]:1", 400},
		{"[2001:db8:1:2:ffff::9]:1", 400}, // same /64
		{"[2001:db8:1:2::77]:1", 429},
		{"[2001:db8:1:3::1]:1", 400}, // the next /64
	} {
		if got := grant(tc.remote); got != tc.want {
			t.Errorf("from %s: %d, want %d", tc.remote, got, tc.want)
		}
	}
}

// TestAccountCeilingAcrossAddresses: one address cannot lock the account
// (its own limit comes first); many addresses together hit the per-account
// ceiling, which then refuses every address that failed recently but lets
// a clean one through (docs/security.md, "No lockout").
func TestAccountCeilingAcrossAddresses(t *testing.T) {
	rl := config.RateLimits{PasswordPerAccountIP: config.Rate{Limit: 3, Window: 15 * time.Minute}, PasswordPerAccount: config.Rate{Limit: 7, Window: 15 * time.Minute}}
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(rl, behindProxy)})
	e.Signup("kim@example.com", apitest.Password)
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		for range 3 {
			passwordGrant(e, "kim@example.com", "wrong password", from(ip)...)
		}
		want429(t, passwordGrant(e, "kim@example.com", "wrong password", from(ip)...), 3, 15*time.Minute)
	}
	// Six failures: the owner still gets in from elsewhere...
	e.MustTokens(passwordGrant(e, "kim@example.com", apitest.Password, from("198.51.100.1")...))
	// The seventh failure reaches the ceiling: addresses that failed are
	// refused, even with the right password...
	passwordGrant(e, "kim@example.com", "wrong password", from("192.0.2.3")...)
	want429(t, passwordGrant(e, "kim@example.com", apitest.Password, from("192.0.2.3")...), 7, 15*time.Minute)
	// ...while the owner's clean address still signs in.
	e.MustTokens(passwordGrant(e, "kim@example.com", apitest.Password, from("198.51.100.1")...))
	// Other accounts are not affected.
	e.Signup("lee@example.com", apitest.Password)
	e.MustTokens(passwordGrant(e, "lee@example.com", apitest.Password, from("192.0.2.3")...))
}

// TestRateLimitSharedAcrossInstances: two API servers on one MongoDB
// database enforce one limit.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	db := apitest.MongoDB(t)
	shared := apitest.Backend{Name: "mongodb-shared", Open: func(t testing.TB) (accounts.Store, session.Store) {
		return apitest.MongoStores(t, db)
	}}
	rl := config.Default().RateLimits
	a := apitest.NewEnv(t, apitest.EnvOptions{Backend: shared, Mutate: apitest.WithLimits(rl)})
	b := apitest.NewEnv(t, apitest.EnvOptions{Backend: shared, Mutate: apitest.WithLimits(rl)})
	a.Signup("kim@example.com", apitest.Password)
	for i := range 10 {
		e := []*apitest.Env{a, b}[i%2]
		if r := passwordGrant(e, "kim@example.com", "wrong password"); r.Status != http.StatusBadRequest {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	want429(t, passwordGrant(a, "kim@example.com", apitest.Password), 10, 15*time.Minute)
	want429(t, passwordGrant(b, "kim@example.com", apitest.Password), 10, 15*time.Minute)
}

func TestSignupLimit(t *testing.T) {
	rl := config.RateLimits{SignupPerIP: config.Rate{Limit: 3, Window: 10 * time.Minute}}
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(rl, behindProxy)})
	ip := "203.0.113.9"
	// Every attempt counts, whatever its outcome.
	for i, body := range []map[string]string{
		{"email": "a@example.com", "password": apitest.Password},
		{"email": "a@example.com", "password": apitest.Password}, // 409
		{"email": "not an email", "password": apitest.Password},  // 400
	} {
		r := e.PostJSON("/signup", body, from(ip)...)
		if r.Status == http.StatusTooManyRequests {
			t.Fatalf("signup %d refused too early", i+1)
		}
		if got := r.Header.Get("RateLimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Fatalf("signup %d: RateLimit-Remaining %q", i+1, got)
		}
	}
	want429(t, e.PostJSON("/signup", map[string]string{"email": "b@example.com", "password": apitest.Password}, from(ip)...), 3, 10*time.Minute)
	// Other addresses are unaffected; the window's end frees this one.
	if r := e.PostJSON("/signup", map[string]string{"email": "b@example.com", "password": apitest.Password}, from("203.0.113.10")...); r.Status != http.StatusCreated {
		t.Fatalf("signup from another address: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(10 * time.Minute)
	if r := e.PostJSON("/signup", map[string]string{"email": "c@example.com", "password": apitest.Password}, from(ip)...); r.Status != http.StatusCreated {
		t.Fatalf("signup after the window: %d %s", r.Status, r.Body)
	}
}

func TestBrowserLoginLimit(t *testing.T) {
	rl := config.RateLimits{BrowserLoginPerIP: config.Rate{Limit: 3, Window: 10 * time.Minute}}
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Mutate: apitest.WithLimits(rl)})
	app := apitest.PublicApp()
	for range 3 {
		fe.SignIn("corp", app) // one login and one callback each
	}
	r := fe.Fetch(apitest.BrowserClient(t), fe.LoginURL("corp", app))
	want429(t, r, 3, 10*time.Minute)
	// The callbacks have their own counter, also at 3 now.
	r = fe.Fetch(apitest.BrowserClient(t), fe.CallbackURL("corp")+"?state=x&code=y")
	want429(t, r, 3, 10*time.Minute)
	// Unlimited routes are not affected.
	if r := fe.Get("/auth/providers"); r.Status != http.StatusOK {
		t.Fatalf("/auth/providers: %d", r.Status)
	}
}

// failingRates is a session store whose rate counters are down.
type failingRates struct{ session.Store }

var errRatesDown = errors.New("rates down")

func (failingRates) Hit(context.Context, string, time.Duration, time.Time) (int64, time.Time, error) {
	return 0, time.Time{}, errRatesDown
}

func (failingRates) Peek(context.Context, string, time.Duration, time.Time) (int64, time.Time, error) {
	return 0, time.Time{}, errRatesDown
}

// TestRateStoreDown: when the counters cannot be read, limited requests
// fail closed with 503 (no unlimited guessing while the database is sick);
// other routes are unaffected.
func TestRateStoreDown(t *testing.T) {
	sqlite := apitest.SQLiteBackend()
	down := apitest.Backend{Name: "sqlite, counters down", Open: func(t testing.TB) (accounts.Store, session.Store) {
		as, ss := sqlite.Open(t)
		return as, failingRates{ss}
	}}
	e := apitest.NewEnv(t, apitest.EnvOptions{Backend: down, Mutate: apitest.WithLimits(config.Default().RateLimits)})
	for _, r := range []apitest.Response{
		passwordGrant(e, "kim@example.com", apitest.Password),
		e.PostJSON("/signup", map[string]string{"email": "a@example.com", "password": apitest.Password}),
	} {
		if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		if strings.Contains(string(r.Body), errRatesDown.Error()) {
			t.Fatalf("the cause leaked: %s", r.Body)
		}
	}
	if r := e.Get("/.well-known/jwks.json"); r.Status != http.StatusOK {
		t.Fatalf("jwks: %d", r.Status)
	}
}

// TestNoLimitsByDefault: with rate_limits.enabled false (every env's
// default) nothing is limited.
func TestNoLimitsByDefault(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	for range 12 {
		if r := passwordGrant(e, "kim@example.com", "wrong password"); r.Status != http.StatusBadRequest || r.Header.Get("RateLimit-Limit") != "" {
			t.Fatalf("%d %v", r.Status, r.Header)
		}
	}
}

// TestOverloadedGate: with every bcrypt slot busy and the queue full, a
// sign-in fails fast with 503 while refresh, JWKS and /users/me (which
// never hash) keep working.
func TestOverloadedGate(t *testing.T) {
	g := accounts.NewGate(1, accounts.NoQueue)
	e := apitest.NewEnv(t, apitest.EnvOptions{Gate: g})
	_, tk := e.NewUser("kim@example.com")
	release, err := g.Acquire(t.Context()) // the storm holds the only slot
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	r := passwordGrant(e, "kim@example.com", apitest.Password)
	if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "temporarily_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sign-in while overloaded: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/signup", map[string]string{"email": "new@example.com", "password": apitest.Password}); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("signup while overloaded: %d %s", r.Status, r.Body)
	}
	next := e.MustTokens(e.Refresh(tk.RefreshToken))
	if r := e.Get("/users/me", apitest.Bearer(next.AccessToken)...); r.Status != http.StatusOK {
		t.Fatalf("/users/me while overloaded: %d %s", r.Status, r.Body)
	}
	if r := e.Get("/.well-known/jwks.json"); r.Status != http.StatusOK {
		t.Fatalf("jwks while overloaded: %d", r.Status)
	}
	release()
	e.Login("kim@example.com", apitest.Password)
}

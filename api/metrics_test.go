package api_test

import (
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

func TestMetricsAfterScriptedFlow(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env

	_, tk := e.NewUser("mia@example.com")
	if r := e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"mia@example.com"}, "password": {"not the password at all"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	next := e.MustTokens(e.Refresh(tk.RefreshToken))
	if r := e.Get("/users/me", apitest.Bearer(next.AccessToken)...); r.Status != http.StatusOK {
		t.Fatalf("/users/me: %d %s", r.Status, r.Body)
	}
	// Reuse of the spent token after the grace window revokes the session.
	e.Clock.Advance(11 * time.Second)
	if r := e.Refresh(tk.RefreshToken); r.Status != http.StatusBadRequest {
		t.Fatalf("reuse: %d %s", r.Status, r.Body)
	}
	// A provider sign-in, redeemed with the authorization_code grant.
	fe.SignIn("google", apitest.PublicApp())
	// An unknown path and an odd method: neither may become a label value.
	e.Get("/no/such/path/4711")
	e.Do("FROB", "/token", "", nil)

	m := e.Metrics()
	want := map[string]float64{
		`unilogin_logins_total{method="password",outcome="success"}`:                                             1,
		`unilogin_logins_total{method="password",outcome="failure"}`:                                             1,
		`unilogin_logins_total{method="google",outcome="success"}`:                                               1,
		`unilogin_tokens_issued_total{grant="password"}`:                                                         1,
		`unilogin_tokens_issued_total{grant="refresh_token"}`:                                                    1,
		`unilogin_tokens_issued_total{grant="authorization_code"}`:                                               1,
		`unilogin_refresh_reuse_detected_total`:                                                                  1,
		`unilogin_provider_requests_total{outcome="success",provider="google"}`:                                  1,
		`unilogin_provider_request_duration_seconds_count{provider="google"}`:                                    1,
		`unilogin_http_request_duration_seconds_count{code="200",method="POST",route="/token"}`:                  3,
		`unilogin_http_request_duration_seconds_count{code="400",method="POST",route="/token"}`:                  2,
		`unilogin_http_request_duration_seconds_count{code="201",method="POST",route="/signup"}`:                 1,
		`unilogin_http_request_duration_seconds_count{code="200",method="GET",route="/users/me"}`:                1,
		`unilogin_http_request_duration_seconds_count{code="302",method="GET",route="/auth/:provider/callback"}`: 1,
		`unilogin_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"}`:                1,
		`unilogin_build_info{goversion="` + runtime.Version() + `",version="unknown"}`:                           1,
	}
	for series, v := range want {
		got, ok := m[series]
		if !ok {
			t.Errorf("missing series %s", series)
		} else if got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
	// The odd method is folded into OTHER, whatever route it hit.
	var other bool
	for series := range m {
		if strings.HasPrefix(series, "unilogin_http_request_duration_seconds_count{") && strings.Contains(series, `method="OTHER"`) {
			other = true
		}
		if strings.Contains(series, "4711") || strings.Contains(series, "FROB") {
			t.Errorf("a raw path or method became a label value: %s", series)
		}
	}
	if !other {
		t.Error(`no HTTP series with method="OTHER" for the FROB request`)
	}
	// The Go and process collectors are registered.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := m[name]; !ok && (name != "process_cpu_seconds_total" || runtime.GOOS == "linux") {
			t.Errorf("missing %s", name)
		}
	}
}

// Each Server has its own registry: two in one process do not collide and
// do not share counts.
func TestMetricsRegistryPerServer(t *testing.T) {
	a := apitest.NewEnv(t, apitest.EnvOptions{})
	b := apitest.NewEnv(t, apitest.EnvOptions{Version: "v9.9.9"})
	a.Signup("ann@example.com", apitest.Password)
	a.Login("ann@example.com", apitest.Password)
	if got := a.Metrics()[`unilogin_tokens_issued_total{grant="password"}`]; got != 1 {
		t.Errorf("server a: tokens issued = %v, want 1", got)
	}
	mb := b.Metrics()
	if _, ok := mb[`unilogin_tokens_issued_total{grant="password"}`]; ok {
		t.Error("server b counts server a's tokens")
	}
	if mb[`unilogin_build_info{goversion="`+runtime.Version()+`",version="v9.9.9"}`] != 1 {
		t.Error("server b: build_info does not carry its version")
	}
}

// The rate limiter's refusals count in unilogin_rate_limited_total by limit
// and, for the password grant, as a rate_limited login.
func TestMetricsRateLimited(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{PasswordPerIP: config.Rate{Limit: 1, Window: time.Minute}})})
	e.Signup("rex@example.com", apitest.Password)
	for i, want := range []int{http.StatusBadRequest, http.StatusTooManyRequests} {
		r := e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"rex@example.com"}, "password": {"not the password at all"}})
		if r.Status != want {
			t.Fatalf("attempt %d: %d %s, want %d", i+1, r.Status, r.Body, want)
		}
	}
	m := e.Metrics()
	for series, v := range map[string]float64{
		`unilogin_logins_total{method="password",outcome="failure"}`:      1,
		`unilogin_logins_total{method="password",outcome="rate_limited"}`: 1,
		`unilogin_rate_limited_total{limit="token_ip"}`:                   1,
	} {
		if m[series] != v {
			t.Errorf("%s = %v, want %v", series, m[series], v)
		}
	}
}

// Hosted-page password sign-ins count under the API's labels: method
// "password" (never "pwd"), and a refusal by the rate limiter as
// outcome "rate_limited", so one alert query covers both.
func TestMetricsHostedSigninSameLabels(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: apitest.WithLimits(config.RateLimits{PasswordPerIP: config.Rate{Limit: 2, Window: time.Minute}})})
	e.Signup("hal@example.com", apitest.Password)
	b := apitest.NewBrowser(t, e)
	b.Get("/signin")
	form := func(password string) url.Values {
		return url.Values{"email": {"hal@example.com"}, "password": {password}}
	}
	apitest.IsPage(t, b.Post("/signin", form("not the password at all")), 400, apitest.GenericSignin)
	if r := b.Post("/signin", form(apitest.Password)); r.Status != http.StatusSeeOther {
		t.Fatalf("correct password: %d %s", r.Status, r.Body)
	}
	b.Get("/signin")
	apitest.IsPage(t, b.Post("/signin", form("not the password either")), 400, apitest.GenericSignin)
	apitest.IsPage(t, b.Post("/signin", form("and not this one")), 429)

	m := e.Metrics()
	for series, v := range map[string]float64{
		`unilogin_logins_total{method="password",outcome="failure"}`:      2,
		`unilogin_logins_total{method="password",outcome="success"}`:      1,
		`unilogin_logins_total{method="password",outcome="rate_limited"}`: 1,
		`unilogin_rate_limited_total{limit="token_ip"}`:                   1,
	} {
		if m[series] != v {
			t.Errorf("%s = %v, want %v", series, m[series], v)
		}
	}
	for series := range m {
		if strings.Contains(series, `method="pwd"`) {
			t.Errorf("hosted pages use another label value: %s", series)
		}
	}
}

// With MetricsToken, /metrics needs that bearer token; with NoMetricsRoute
// it is not on this handler at all (cmd serves it on its own listener).
func TestMetricsBearerTokenAndRouteOff(t *testing.T) {
	const token = "metrics-token-0123456789abcdef"
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Metrics.Token = token }})
	for name, hdr := range map[string][]string{
		"none":      nil,
		"wrong":     apitest.Bearer("metrics-token-0123456789abcdeX"),
		"basic":     {"Authorization", "Basic " + token},
		"truncated": apitest.Bearer(token[:10]),
	} {
		r := e.Get("/metrics", hdr...)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Bearer") ||
			!strings.Contains(string(r.Body), `"error":"invalid_token"`) {
			t.Errorf("%s: %d %q %s", name, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
		}
		if strings.Contains(string(r.Body), token) || strings.Contains(string(r.Body), "go_goroutines") {
			t.Errorf("%s: the 401 leaks: %s", name, r.Body)
		}
	}
	r := e.Get("/metrics", apitest.Bearer(token)...)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "unilogin_build_info") {
		t.Fatalf("right token: %d %.200s", r.Status, r.Body)
	}

	off := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Metrics.Addr = "127.0.0.1:0" }})
	if r := off.Get("/metrics"); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"error":"not_found"`) {
		t.Errorf("NoMetricsRoute: %d %s", r.Status, r.Body)
	}
}

// The password step of a user with a second factor counts as a right
// password, and the MFA grant is counted on its own: method "mfa" in
// unilogin_logins_total, grant "mfa" in unilogin_tokens_issued_total.
func TestMetricsCountTheSecondStep(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	u := enrolTOTP(e, "ines@example.com") // one password grant before TOTP
	tok := mfaToken(e, u.email, nil)      // the second: 403 mfa_required
	if r := mfaStep(e, tok, "otp", "000000"); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong code: %d %s", r.Status, r.Body)
	}
	if r := mfaStep(e, tok, "otp", apitest.TOTPCode(t, u.Secret, e.Clock.Now())); r.Status != http.StatusOK {
		t.Fatalf("right code: %d %s", r.Status, r.Body)
	}
	m := e.Metrics()
	for series, want := range map[string]float64{
		`unilogin_logins_total{method="password",outcome="success"}`: 2,
		`unilogin_logins_total{method="password",outcome="failure"}`: 0,
		`unilogin_logins_total{method="mfa",outcome="failure"}`:      1,
		`unilogin_logins_total{method="mfa",outcome="success"}`:      1,
		`unilogin_tokens_issued_total{grant="password"}`:             1,
		`unilogin_tokens_issued_total{grant="mfa"}`:                  1,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
}

package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/api/prom"
	"github.com/unilogin/unilogin/providers"
)

// MethodPassword is the method label of password sign-ins, at /token and on
// the hosted pages alike; providers use their AMR ("google", "oidc:<id>").
const MethodPassword = "password"

// MethodMFA is the method label of the second step of a sign-in (a TOTP
// or recovery code after the password), at /token and on the hosted
// /signin/mfa page.
const MethodMFA = "mfa"

// Metrics are the Prometheus metrics of one Server, registered on a
// registry the caller owns (never the global default one), so that tests
// can build many servers in one process. Every label has a bounded set of
// values: routes are gin's route patterns, never raw paths.
type Metrics struct {
	reg *prom.Registry

	logins           *prom.CounterVec
	tokensIssued     *prom.CounterVec
	refreshReuse     *prom.Counter
	rateLimited      *prom.CounterVec
	providerRequests *prom.CounterVec
	providerDuration *prom.HistogramVec
	httpDuration     *prom.HistogramVec
	buildInfo        *prom.GaugeVec

	// DBDuration is unilogin_db_operation_duration_seconds{store,op}. The
	// api does not observe it itself: cmd wraps the stores with timing
	// decorators that do.
	DBDuration *prom.HistogramVec
}

// NewMetrics creates the collectors and registers them, with the Go and
// process collectors, on reg. One Metrics per registry: a second one on
// the same registry makes every scrape panic (a programming error).
func NewMetrics(reg *prom.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		logins: prom.NewCounterVec(prom.CounterOpts{
			Name: "unilogin_logins_total",
			Help: `Sign-in attempts by method (password, mfa, google, github, oidc:<id>) and outcome (success, failure, rate_limited, error).`,
		}, []string{"method", "outcome"}),
		tokensIssued: prom.NewCounterVec(prom.CounterOpts{
			Name: "unilogin_tokens_issued_total",
			Help: "Token pairs issued at /token, by grant type.",
		}, []string{"grant"}),
		refreshReuse: prom.NewCounter(prom.CounterOpts{
			Name: "unilogin_refresh_reuse_detected_total",
			Help: "Spent refresh tokens presented outside the grace window; each revoked its whole session.",
		}),
		rateLimited: prom.NewCounterVec(prom.CounterOpts{
			Name: "unilogin_rate_limited_total",
			Help: "Requests refused with 429, by limit.",
		}, []string{"limit"}),
		providerRequests: prom.NewCounterVec(prom.CounterOpts{
			Name: "unilogin_provider_requests_total",
			Help: "Code exchanges with upstream identity providers, by provider and outcome (success, rejected, unavailable, error).",
		}, []string{"provider", "outcome"}),
		providerDuration: prom.NewHistogramVec(prom.HistogramOpts{
			Name:    "unilogin_provider_request_duration_seconds",
			Help:    "Duration of a code exchange with an upstream provider (token request, ID token check, user info).",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider"}),
		httpDuration: prom.NewHistogramVec(prom.HistogramOpts{
			Name:    "unilogin_http_request_duration_seconds",
			Help:    `HTTP requests by method, route pattern ("unmatched" for unknown paths) and status code.`,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "code"}),
		buildInfo: prom.NewGaugeVec(prom.GaugeOpts{
			Name: "unilogin_build_info",
			Help: "Always 1; the labels say which build is running.",
		}, []string{"version", "goversion"}),
		DBDuration: prom.NewHistogramVec(prom.HistogramOpts{
			Name:    "unilogin_db_operation_duration_seconds",
			Help:    "Duration of store operations, by store (accounts, sessions) and operation (the Store method).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"store", "op"}),
	}
	reg.MustRegister(m.logins, m.tokensIssued, m.refreshReuse, m.rateLimited, m.providerRequests,
		m.providerDuration, m.httpDuration, m.buildInfo, m.DBDuration,
		prom.GoCollector(), prom.ProcessCollector())
	return m
}

// Registry is the registry the collectors are on.
func (m *Metrics) Registry() *prom.Registry { return m.reg }

// Login counts one sign-in attempt. method is "password", "google",
// "github" or "oidc:<id>" (a provider's AMR); outcome one of the oauth.Outcome*
// constants. The rate limiter calls it with oauth.OutcomeRateLimited when it
// refuses a password grant or a browser login before it is evaluated.
func (m *Metrics) Login(method, outcome string) {
	m.logins.WithLabelValues(method, outcome).Inc()
}

// RateLimited counts one request refused with 429 by the named limit
// (e.g. "token_ip", "token_account", "signup_ip", "login_ip"). It is the
// hook for the rate limiter; the limit names must be a fixed set.
func (m *Metrics) RateLimited(limit string) {
	m.rateLimited.WithLabelValues(limit).Inc()
}

// Metrics returns the server's collectors (cmd hands DBDuration to its
// store decorators; the rate limiter calls RateLimited and Login).
func (s *Server) Metrics() *Metrics { return s.metrics }

// serveMetrics is GET /metrics: the Prometheus text format from the
// server's own registry, behind
// Options.MetricsToken when one is set.
func (s *Server) serveMetrics() gin.HandlerFunc {
	return gin.WrapH(s.metrics.Handler(s.opts.MetricsToken))
}

// Handler serves the collectors in the Prometheus exposition format. With a
// token, a request must carry "Authorization: Bearer <token>" (RFC 6750
// §2.1), compared in constant time; otherwise it gets 401 invalid_token.
// cmd mounts it on the separate metrics listener too.
func (m *Metrics) Handler(token string) http.Handler {
	return RequireBearer(token, m.reg.Handler())
}

// RequireBearer wraps h so that, when token is not empty, only requests
// with that bearer token reach it (the metrics and pprof endpoints).
func RequireBearer(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics", error="invalid_token"`)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": oauth.CodeInvalidToken, "error_description": "this endpoint needs the metrics bearer token"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// tokenResult is called once per /token request with its grant type and
// result: it counts issued pairs by grant and password logins by outcome.
func (m *Metrics) tokenResult(grant string, err error) {
	switch grant {
	case "password", "refresh_token", "authorization_code", "client_credentials":
	case mfaGrantType:
		grant = MethodMFA
	default:
		return // unknown grant types are not a label value
	}
	if err == nil {
		m.tokensIssued.WithLabelValues(grant).Inc()
	}
	switch {
	case grant == "password" && errors.As(err, new(*mfaRequiredError)):
		// The password was right; the second step is counted on its own,
		// as on the hosted pages.
		m.Login(MethodPassword, oauth.OutcomeSuccess)
	case grant == "password":
		m.Login(MethodPassword, LoginOutcome(err))
	case grant == MethodMFA:
		m.Login(MethodMFA, LoginOutcome(err))
	}
}

// loginOutcome is the login outcome of a sign-in's result.
func LoginOutcome(err error) string {
	if err == nil {
		return oauth.OutcomeSuccess
	}
	return oauth.Classify(err).Outcome()
}

// providerLogin counts a browser sign-in that reached the callback, by the
// provider's AMR; err is how it failed (nil on success).
func (m *Metrics) ProviderLogin(amr string, err error) {
	m.Login(amr, LoginOutcome(err))
}

// exchange calls p.Exchange and records unilogin_provider_requests_total
// and unilogin_provider_request_duration_seconds around it.
func (m *Metrics) Exchange(ctx context.Context, p providers.Provider, req providers.AuthRequest, code string) (providers.Identity, error) {
	start := time.Now()
	ident, err := p.Exchange(ctx, req, code)
	m.providerDuration.WithLabelValues(p.ID()).Observe(time.Since(start).Seconds())
	outcome := "success"
	if err != nil {
		outcome = oauth.Classify(err).ProviderOutcome()
	}
	m.providerRequests.WithLabelValues(p.ID(), outcome).Inc()
	return ident, err
}

// setBuildInfo sets unilogin_build_info{version,goversion} to 1.
func (m *Metrics) setBuildInfo(version string) {
	if version == "" {
		version = "unknown"
	}
	m.buildInfo.WithLabelValues(version, runtime.Version()).Set(1)
}

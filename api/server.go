package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// Client is an app registered in configuration.
type Client struct {
	ID           string
	Secret       string // empty: a public client (PKCE required)
	RedirectURIs []string
}

// Options configure the HTTP layer. The caller (cmd) builds them from config.
type Options struct {
	Issuer string
	// Clients are the registered apps.
	Clients []Client
	// PasswordGrant enables grant_type=password at /token.
	PasswordGrant bool
	// Permissions maps a user's roles to their permissions.
	Permissions func(roles []string) []string
	// Roles are the configured role names: PUT /admin/users/{id}/roles
	// refuses any other.
	Roles []string
	// AllPermissions lists every configured permission (scopes_supported).
	AllPermissions []string
	// MaxBodyBytes limits request bodies (default 64 KiB).
	MaxBodyBytes int64
	// TrustedProxies may set X-Forwarded-For; none by default.
	TrustedProxies []string
	// JWKSMaxAge is the Cache-Control max-age of the JWKS.
	JWKSMaxAge time.Duration
	// LinkByEmail is the linking policy for provider sign-ins.
	LinkByEmail bool
	Logger      *slog.Logger
	// Version is reported by /healthz.
	Version string
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Metrics are the Prometheus collectors served at /metrics; default:
	// NewMetrics on a fresh registry of this Server's own.
	Metrics *Metrics
	// MetricsToken, when set, is the bearer token GET /metrics requires.
	MetricsToken string
	// NoMetricsRoute leaves /metrics off this handler: cmd serves it on a
	// separate listener (Metrics.Handler) instead.
	NoMetricsRoute bool
	// RateLimits limit password grants, signups and browser logins per
	// client address and account (ratelimit.go); the zero value: none.
	RateLimits RateLimits
	// CORSOrigins are the browser origins allowed to call the API (exact
	// scheme://host[:port]); none by default.
	CORSOrigins []string
	// HSTS sends Strict-Transport-Security (set when serving TLS); it is
	// also sent whenever the issuer is https.
	HSTS bool
	// Branding styles the hosted pages (pages.go; docs/hosted-ui.md).
	Branding Branding
}

// Deps are the domain services the handlers call.
type Deps struct {
	Accounts  *accounts.Service
	Sessions  *session.Manager
	Providers *providers.Registry // may be nil: no providers
	Sealer    *session.Sealer
	// Audit keeps the audit log of the admin API; nil: the accounts store,
	// which must then implement accounts.AuditStore.
	Audit accounts.AuditStore
}

// Server is the HTTP API.
type Server struct {
	opts     Options
	accounts *accounts.Service
	sessions *session.Manager
	provs    *providers.Registry
	clients  map[string]*Client
	engine   *gin.Engine
	draining atomic.Bool
	flow     *flowCodec
	metrics  *Metrics
	admin    *accounts.Admin
	rl       *RateLimits     // nil: no rate limits
	cors     map[string]bool // allowed origins
	pages    *pages          // hosted pages (pages.go)
}

// New builds the router.
func New(ctx context.Context, deps Deps, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Permissions == nil {
		opts.Permissions = func([]string) []string { return nil }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.JWKSMaxAge <= 0 {
		opts.JWKSMaxAge = 5 * time.Minute
	}
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	opts.Metrics.setBuildInfo(opts.Version)
	s := &Server{opts: opts, accounts: deps.Accounts, sessions: deps.Sessions, provs: deps.Providers, clients: map[string]*Client{}}
	s.metrics = opts.Metrics
	for i := range opts.Clients {
		c := opts.Clients[i]
		s.clients[c.ID] = &c
	}
	if s.provs == nil {
		reg, err := providers.NewRegistry()
		if err != nil {
			return nil, err
		}
		s.provs = reg
	}
	flow, err := newFlowCodec(ctx, deps.Sessions, deps.Sealer)
	if err != nil {
		return nil, err
	}
	s.flow = flow
	if err := s.initPages(); err != nil { // pages.go: hosted sign-in and account pages
		return nil, err
	}
	if err := s.initAdmin(deps); err != nil {
		return nil, err
	}
	if err := s.initRateLimits(deps); err != nil {
		return nil, err
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.ContextWithFallback = true
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	if len(opts.TrustedProxies) == 0 {
		e.ForwardedByClientIP = false
	}
	e.Use(s.requestID, s.observeHTTP, s.recoverer, s.accessLog, securityHeaders, s.limitBody)
	if opts.HSTS || strings.HasPrefix(opts.Issuer, "https://") {
		e.Use(hsts)
	}
	if len(opts.CORSOrigins) > 0 {
		s.cors = map[string]bool{}
		for _, o := range opts.CORSOrigins {
			s.cors[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
		}
		e.Use(s.corsHeaders)
	}
	e.NoRoute(func(c *gin.Context) { writeError(c, http.StatusNotFound, codeNotFound, "no such endpoint") })
	e.NoMethod(func(c *gin.Context) {
		writeError(c, http.StatusMethodNotAllowed, codeInvalidRequest, "method not allowed")
	})
	s.engine = e
	s.routes()
	return s, nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

// Handler returns the http.Handler serving the API.
func (s *Server) Handler() http.Handler { return s.engine }

// Drain makes /readyz answer 503 so load balancers stop sending traffic.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) routes() {
	e := s.engine
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if !s.opts.NoMetricsRoute {
		e.GET("/metrics", s.serveMetrics())
	}
	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/.well-known/openid-configuration", s.metadata)
	e.GET("/.well-known/oauth-authorization-server", s.metadata)

	e.POST("/signup", s.limitPerIP(limitSignupIP, func(r RateLimits) Rate { return r.SignupPerIP }), s.signup)
	e.POST("/token", s.token)
	e.POST("/revoke", s.revoke)

	me := e.Group("/", s.bearer)
	me.POST("/logout", s.logout)
	me.GET("/users/me", s.me)
	me.POST("/users/me/password", s.changePassword)
	me.GET("/users/me/sessions", s.listSessions)
	me.DELETE("/users/me/sessions/:id", s.endSession)
	me.POST("/users/me/identities/:provider", s.startLink)
	me.DELETE("/users/me/identities/:provider", s.unlink)

	e.GET("/auth/providers", s.listProviders)
	browser := func(r RateLimits) Rate { return r.BrowserLoginPerIP }
	e.GET("/auth/:provider/login", s.limitPerIP(limitLoginIP, browser), s.providerLogin)
	e.GET("/auth/:provider/callback", s.limitPerIP(limitCallbackIP, browser), s.providerCallback)

	s.adminRoutes(e)
	s.pageRoutes(e) // pages.go
}

// --- middleware ---

type ctxKey int

const loggerKey ctxKey = iota

func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Header("X-Request-ID", id)
	c.Set("request_id", id)
	// The hashing gate shares bcrypt fairly between client addresses.
	c.Request = c.Request.WithContext(accounts.WithClientAddress(c.Request.Context(), c.ClientIP()))
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

// log returns the logger with the request id.
func (s *Server) log(c *gin.Context) *slog.Logger {
	return s.opts.Logger.With(slog.String("request_id", c.GetString("request_id")))
}

func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log(c).Error("panic", slog.Any("panic", v))
			writeError(c, http.StatusInternalServerError, codeServerError, "internal server error")
		}
	}()
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	// Only the route pattern is logged: query strings carry codes and state.
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.log(c).Info("request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("client_ip", c.ClientIP()),
	)
}

func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > s.opts.MaxBodyBytes {
		writeError(c, http.StatusRequestEntityTooLarge, codeInvalidRequest, "request body too large")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	c.Next()
}

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	// Nothing an auth server answers may be cached unless the handler says
	// so (JWKS, metadata); RFC 6749 §5.1 requires it for token responses.
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	c.Next()
}

// hsts is RFC 6797: browsers use https for the host for a year. It is on
// when unilogin serves TLS itself or its issuer is https (TLS terminated
// by a proxy); over plain http browsers ignore it.
func hsts(c *gin.Context) {
	c.Header("Strict-Transport-Security", "max-age=31536000")
	c.Next()
}

// CORS (Fetch standard, "CORS protocol"): only the configured origins, each
// echoed exactly, never "*". The API authenticates with bearer tokens, not
// cookies, so credentials are never allowed.
const (
	corsAllowMethods  = "GET, POST, PUT, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-ID"
	corsExposeHeaders = "Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, WWW-Authenticate, X-Request-ID"
)

// corsHeaders answers preflight requests itself (204; the CORS headers
// only for an allowed origin) and adds Access-Control-Allow-Origin to the
// responses to allowed origins. Every response varies by Origin, so that a
// cache never hands one origin's answer to another.
func (s *Server) corsHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	origin := c.GetHeader("Origin")
	allowed := origin != "" && s.cors[origin]
	if c.Request.Method == http.MethodOptions && origin != "" && c.GetHeader("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
		}
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	}
	c.Next()
}

// cacheable replaces the default no-store with a public max-age.
func cacheable(c *gin.Context, maxAge time.Duration) {
	c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge/time.Second)))
	c.Writer.Header().Del("Pragma")
}

// isUnavailable reports errors that mean "try again later": timeouts,
// cancellations and network failures talking to the database.
func isUnavailable(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne)
}

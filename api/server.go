package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/api/openapi"
	"github.com/unilogin/unilogin/api/prom"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// Client is an app registered in configuration.
type Client struct {
	ID           string
	Secret       string // empty: a public client (PKCE required)
	RedirectURIs []string
	// Name is shown on the hosted pages; empty: the id.
	Name string
	// PostLogoutRedirectURIs are where RP-initiated logout may return to.
	PostLogoutRedirectURIs []string
	// GrantTypes are all the grants the client may use at /token, the
	// password grant's default and third-party rule already applied
	// (config.Client.AllowedGrants).
	GrantTypes []string
	// Scopes are the permissions of its client_credentials tokens.
	Scopes []string
	// Consent: a third-party app (consent page; refresh tokens only with
	// offline_access).
	Consent bool
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
	Logger     *slog.Logger
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
	// client address and account (api/middleware/ratelimit.go); the zero
	// value: none.
	RateLimits middleware.RateLimits
	// CORSOrigins are the browser origins allowed to call the API (exact
	// scheme://host[:port]); none by default.
	CORSOrigins []string
	// HSTS sends Strict-Transport-Security (set when serving TLS or when
	// the issuer is https).
	HSTS bool
}

// Deps are the domain services the handlers call.
type Deps struct {
	Accounts  *accounts.Service
	Sessions  *session.Manager
	Providers *providers.Registry // may be nil: no providers
	// Admin is the administration use cases behind /admin (the one Admin
	// of the process: the CLI's users commands use the same).
	Admin  *accounts.Admin
	Sealer *session.Sealer
	// Recovery is the e-mail flows (recovery.go); nil: their routes answer
	// 404.
	Recovery *accounts.Recovery
	// MFA is the second factors and passkeys (mfa.go); nil: their routes
	// answer 404 and no sign-in asks for a second factor.
	MFA *mfa.Service
	// Bearer, when set, reads a bearer check's session and user in one
	// query (users.go); nil: two reads.
	Bearer BearerReader
	// Refresh, when set, does the common step of a refresh grant with the
	// read of the user in one statement (token.go); nil: the session
	// store's step, then a read of the user.
	Refresh RefreshAdvancer
	// Codes redeems the authorization codes of the browser flow at POST
	// /token (the same Service the hosted pages issue them with).
	Codes *authcode.Service
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
	flow     *FlowCodec
	metrics  *Metrics
	admin    *accounts.Admin
	codes    *authcode.Service
	limiter  *middleware.Limiter        // nil: no rate limits
	recovery *accounts.Recovery         // nil: no e-mail flows
	rpLogout gin.HandlerFunc            // POST /logout without Authorization (endsession.go)
	mfa      *mfa.Service               // nil: no second factors
	forms    map[string]gin.HandlerFunc // HandleForm (recovery.go)

	// bearerReader is Deps.Bearer.
	bearerReader BearerReader
	// refreshAdvancer is Deps.Refresh.
	refreshAdvancer RefreshAdvancer
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
		opts.Metrics = NewMetrics(prom.NewRegistry())
	}
	opts.Metrics.setBuildInfo(opts.Version)
	s := &Server{opts: opts, accounts: deps.Accounts, sessions: deps.Sessions, provs: deps.Providers, clients: map[string]*Client{}}
	s.metrics = opts.Metrics
	s.recovery = deps.Recovery
	s.mfa = deps.MFA
	s.bearerReader = deps.Bearer
	s.refreshAdvancer = deps.Refresh
	s.codes = deps.Codes
	for i := range opts.Clients {
		c := opts.Clients[i]
		if _, taken := s.clients[c.ID]; taken {
			return nil, fmt.Errorf("api: client id %q is registered twice (%q is reserved for the hosted account pages)", c.ID, "unilogin-account")
		}
		s.clients[c.ID] = &c
	}
	if s.provs == nil {
		reg, err := providers.NewRegistry()
		if err != nil {
			return nil, err
		}
		s.provs = reg
	}
	flow, err := NewFlowCodec(ctx, deps.Sessions, deps.Sealer)
	if err != nil {
		return nil, err
	}
	s.flow = flow
	if err := s.initAdmin(deps); err != nil {
		return nil, err
	}
	limiter, err := middleware.NewLimiter(opts.RateLimits, opts.Now, opts.Logger, s.metrics)
	if err != nil {
		return nil, err
	}
	s.limiter = limiter

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
	e.Use(middleware.RequestID, middleware.ClientAddress, middleware.Locale, middleware.ObserveHTTP(s.metrics.httpDuration), middleware.Recover(opts.Logger),
		middleware.AccessLog(opts.Logger), middleware.SecurityHeaders, middleware.LimitBody(opts.MaxBodyBytes))
	if opts.HSTS {
		e.Use(middleware.HSTS)
	}
	if len(opts.CORSOrigins) > 0 {
		e.Use(middleware.CORS(opts.CORSOrigins))
	}
	e.NoRoute(func(c *gin.Context) { oauth.WriteError(c, http.StatusNotFound, oauth.CodeNotFound, "no such endpoint") })
	e.NoMethod(func(c *gin.Context) {
		oauth.WriteError(c, http.StatusMethodNotAllowed, oauth.CodeInvalidRequest, "method not allowed")
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
	e.GET("/openapi.json", gin.WrapH(openapi.Handler()))
	e.GET("/readyz", s.readyz)
	if !s.opts.NoMetricsRoute {
		e.GET("/metrics", s.serveMetrics())
	}
	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/.well-known/openid-configuration", s.metadata)
	e.GET("/.well-known/oauth-authorization-server", s.metadata)

	e.POST("/signup", s.LimitPerIP(middleware.LimitSignupIP, middleware.SignupRate), s.signup)
	e.POST("/token", s.token)
	e.POST("/revoke", s.revoke)
	e.POST("/introspect", s.introspect)

	e.POST("/logout", s.endSessionOrBearer, s.bearer, s.logout) // endsession.go
	me := e.Group("/", s.bearer)
	me.GET("/users/me", s.me)
	me.GET("/userinfo", s.userinfo)
	e.POST("/userinfo", s.formAccessToken, s.bearer, s.userinfo) // the token may come in the body
	me.POST("/users/me/password", s.changePassword)
	me.GET("/users/me/sessions", s.listSessions)
	me.DELETE("/users/me/sessions/:id", s.endSession)
	me.POST("/users/me/identities/:provider", s.startLink)
	me.DELETE("/users/me/identities/:provider", s.unlink)

	e.GET("/auth/providers", s.listProviders)

	s.adminRoutes(e)
	s.recoveryRoutes(e, me) // recovery.go
	s.mfaRoutes(e, me)      // mfa.go
}

// log returns the logger with the request id.
func (s *Server) log(c *gin.Context) *slog.Logger { return middleware.Logger(s.opts.Logger, c) }

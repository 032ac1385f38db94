package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/api/hosted"
	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
)

// Server is the whole service: the Core, the identity providers and the
// HTTP handler.
type Server struct {
	*Core
	Providers *providers.Registry
	api       *api.Server
}

// New assembles the service from cfg (which must have passed Validate):
// Open, then the identity providers (the configured ones, or
// opts.Providers), then the HTTP handler with every middleware, limit and
// gate production has. Run starts the background work; Close closes the
// stores.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Server, error) {
	// The server's store calls pass the database guard (guard.go): a
	// deadline, a bound on calls in flight, fail-fast during an outage.
	core, err := open(ctx, cfg, opts, newDBGuard(cfg.Database.Timeout))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		_ = core.Close(context.Background())
		return nil, err
	}
	var reg *providers.Registry
	if opts.Providers != nil {
		reg, err = providers.NewRegistry(opts.Providers...)
	} else {
		reg, err = buildProviders(ctx, cfg, core.log) // providers.go
	}
	if err != nil {
		return fail(err)
	}
	core.Metrics.Registry().MustRegister(providerUpGauge(reg)) // providers.go
	o := apiOptions(cfg, core.log)
	o.Version = opts.Version
	o.Now = opts.Now
	o.Metrics = core.Metrics
	o.RateLimits.Store = core.rates
	// One code service: the hosted flow issues the codes, POST /token and
	// the account page redeem them.
	codes := authcode.New(core.Sessions, core.Accounts, core.Admin)
	srv, err := api.New(ctx, api.Deps{Accounts: core.Accounts, Sessions: core.Sessions, Admin: core.Admin,
		Providers: reg, Sealer: core.Sealer, Recovery: core.Recovery, MFA: core.MFA, Bearer: core.bearer, Codes: codes,
		Refresh: core.refresh}, o)
	if err != nil {
		return fail(err)
	}
	pages, err := hosted.New(hosted.Deps{API: srv, Codes: codes, Accounts: core.Accounts, Sessions: core.Sessions, Providers: reg, MFA: core.MFA,
		Recovery: core.Recovery},
		hostedOptions(cfg))
	if err != nil {
		return fail(err)
	}
	srv.Mount(pages.Routes) // the hosted pages behind the same middleware
	return &Server{Core: core, Providers: reg, api: srv}, nil
}

// Handler is the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler { return s.api.Handler() }

// Drain makes /readyz answer 503 so load balancers stop sending traffic.
func (s *Server) Drain() { s.api.Drain() }

// Run does the background work until ctx ends: the sweeper deletes
// expired sessions, tokens, codes, claims, counters and keys every
// sweep_interval. (Signing keys rotate as they are used, in the keyring.)
func (s *Server) Run(ctx context.Context) {
	go s.RunMail(ctx) // recovery.go
	go s.sweep(ctx, "expired e-mail links", func(ctx context.Context) (int, error) {
		return s.store.SweepEmailTokens(ctx, s.now())
	})
	s.sweep(ctx, "expired records", s.Sessions.Sweep)
}

// sweep calls f every sweep_interval until ctx ends and logs what it
// deleted (what names it).
func (s *Server) sweep(ctx context.Context, what string, f func(context.Context) (int, error)) {
	every := s.Config.SweepInterval
	if every <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := f(ctx); err != nil {
				s.log.Warn("sweeping "+what, "error", err.Error())
			} else if n > 0 {
				s.log.Debug("swept "+what, "count", n)
			}
		}
	}
}

func apiOptions(cfg *config.Config, log *slog.Logger) api.Options {
	clients := make([]api.Client, 0, len(cfg.Clients)+1)
	for _, cl := range cfg.Clients {
		clients = append(clients, api.Client{ID: cl.ID, Secret: cl.Secret, RedirectURIs: cl.RedirectURIs,
			Name: cl.Name, PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs, GrantTypes: cl.AllowedGrants(), Scopes: cl.Scopes, Consent: cl.Consent})
	}
	// The hosted account pages' built-in client (api/hosted).
	clients = append(clients, api.Client{ID: hosted.AccountClientID, RedirectURIs: []string{hosted.AccountCallbackURL(cfg.Issuer)},
		GrantTypes: (&config.Client{}).AllowedGrants()})
	return api.Options{
		Issuer:         cfg.Issuer,
		Clients:        clients,
		PasswordGrant:  cfg.PasswordGrant.On(),
		Permissions:    cfg.Permissions,
		Roles:          cfg.RoleNames(),
		AllPermissions: cfg.AllPermissions(),
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		TrustedProxies: cfg.HTTP.TrustedProxies,
		JWKSMaxAge:     cfg.Keys.JWKSMaxAge,
		Logger:         log,
		RateLimits:     rateLimits(cfg.RateLimits),
		// The metrics listener (cmd/unilogin) serves /metrics instead when
		// metrics.addr is set.
		MetricsToken:   cfg.Metrics.Token,
		NoMetricsRoute: cfg.Metrics.Addr != "",
		CORSOrigins:    cfg.HTTP.CORSOrigins,
		HSTS:           cfg.HTTP.TLS.CertFile != "" || cfg.SecureCookies(),
	}
}

// hostedOptions are the hosted pages' options from cfg.
func hostedOptions(cfg *config.Config) hosted.Options {
	return hosted.Options{
		Issuer:         cfg.Issuer,
		AllPermissions: cfg.AllPermissions(),
		LinkByEmail:    cfg.Linking.LinkByEmail(),
		Branding:       hosted.Branding(cfg.Branding.Effective()),
		SecureCookies:  cfg.SecureCookies(),
		CallbackURL:    cfg.CallbackURL,
		// second factors (config mfa)
		MFAForProviders: cfg.MFA.ForProviders(),
	}
}

// rateLimits converts config's limits; disabled: none (the zero value).
func rateLimits(r config.RateLimits) middleware.RateLimits {
	if !r.On() {
		return middleware.RateLimits{}
	}
	rate := func(x config.Rate) middleware.Rate { return middleware.Rate{Limit: int64(x.Limit), Window: x.Window} }
	return middleware.RateLimits{
		PasswordPerIP:        rate(r.PasswordPerIP),
		PasswordPerAccountIP: rate(r.PasswordPerAccountIP),
		PasswordPerAccount:   rate(r.PasswordPerAccount),
		SignupPerIP:          rate(r.SignupPerIP),
		BrowserLoginPerIP:    rate(r.BrowserLoginPerIP),

		PasswordChecksPerIP:       rate(r.PasswordChecksPerIP),
		PasswordSignInsPerAccount: rate(r.PasswordSignInsPerAccount),
		PasswordSlowdown:          r.PasswordSlowdown,
		EmailPerAddress:           rate(r.EmailPerAddress),
		EmailPerIP:                rate(r.EmailPerIP),
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	path, code, ok := commonFlags("serve", args, stdout, stderr, nil)
	if !ok {
		return code
	}
	cfg, ok := loadConfig(path, stderr)
	if !ok {
		return exitConfig
	}
	log := newLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("unilogin stopped", "error", err.Error())
		return exitError
	}
	return exitOK
}

// serve runs the server until ctx ends, then drains: /readyz turns 503,
// the listener closes, in-flight requests get cfg.HTTP.ShutdownTimeout to
// finish, and the database is closed. ready, when set, receives the bound
// address once listening (tests).
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready chan<- string) error {
	metrics := newMetrics() // instrument.go
	c, err := openCore(ctx, cfg, log, guardStores(metrics.DBDuration, newDBGuard(cfg.Database.Timeout)))
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(cctx); err != nil {
			log.Warn("closing the database", "error", err.Error())
		}
	}()
	reg, err := buildProviders(ctx, cfg, log)
	if err != nil {
		return err
	}
	metrics.Registry().MustRegister(providerUpGauge(reg))
	opts := withMetrics(apiOptions(cfg, log), metrics)
	opts.MetricsToken, opts.NoMetricsRoute = cfg.Metrics.Token, cfg.Metrics.Addr != "" // metricsserver.go
	// The rate-limit counters live in the session store (the timing
	// wrapper passes session.RateStore through, so their queries are timed).
	opts.RateLimits.Store, _ = c.stores.sessions.(session.RateStore)
	srv, err := api.New(ctx, api.Deps{Accounts: c.accounts, Sessions: c.sessions, Providers: reg, Sealer: c.sealer}, opts)
	if err != nil {
		return err
	}

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	tlsOn := cfg.HTTP.TLS.CertFile != ""
	if tlsOn {
		certs, err := newCertReloader(cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile, log) // tls.go
		if err != nil {
			ln.Close()
			return err
		}
		certs.reloadOnSIGHUP(ctx)
		hs.TLSConfig = certs.tlsConfig()
	}

	ms, err := startMetricsServer(cfg, metrics, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer ms.Shutdown(context.Background()) // after the drain below, or on an early return

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go c.sessions.RunSweeper(sweepCtx, cfg.SweepInterval, func(n int, err error) {
		if err != nil {
			log.Warn("sweeping expired records", "error", err.Error())
		} else if n > 0 {
			log.Debug("swept expired records", "count", n)
		}
	})

	log.Info("unilogin listening", "addr", ln.Addr().String(), "store", c.stores.kind, "issuer", cfg.Issuer,
		"tls", tlsOn, "providers", len(reg.List()), "version", buildVersion())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", cfg.HTTP.ShutdownTimeout.String())
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("unilogin stopped")
	return nil
}

func apiOptions(cfg *config.Config, log *slog.Logger) api.Options {
	clients := make([]api.Client, 0, len(cfg.Clients))
	for _, cl := range cfg.Clients {
		clients = append(clients, api.Client{ID: cl.ID, Secret: cl.Secret, RedirectURIs: cl.RedirectURIs})
	}
	var all []string
	for _, perms := range cfg.Roles {
		all = append(all, perms...)
	}
	return api.Options{
		Issuer:         cfg.Issuer,
		Clients:        clients,
		PasswordGrant:  cfg.PasswordGrant.On(),
		Permissions:    cfg.Permissions,
		Roles:          roleNames(cfg), // users.go
		AllPermissions: all,
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		TrustedProxies: cfg.HTTP.TrustedProxies,
		JWKSMaxAge:     cfg.Keys.JWKSMaxAge,
		LinkByEmail:    cfg.Linking.LinkByEmail(),
		Logger:         log,
		Version:        buildVersion(),
		RateLimits:     rateLimits(cfg.RateLimits),
		CORSOrigins:    cfg.HTTP.CORSOrigins,
		HSTS:           cfg.HTTP.TLS.CertFile != "",
		Branding: api.Branding{
			ProductName: cfg.Branding.ProductName, LogoURL: cfg.Branding.LogoURL, AccentColor: cfg.Branding.AccentColor,
		},
	}
}

// rateLimits converts config's limits; disabled: none (the zero value).
func rateLimits(r config.RateLimits) api.RateLimits {
	if !r.On() {
		return api.RateLimits{}
	}
	rate := func(x config.Rate) api.Rate { return api.Rate{Limit: int64(x.Limit), Window: x.Window} }
	return api.RateLimits{
		PasswordPerIP:        rate(r.PasswordPerIP),
		PasswordPerAccountIP: rate(r.PasswordPerAccountIP),
		PasswordPerAccount:   rate(r.PasswordPerAccount),
		SignupPerIP:          rate(r.SignupPerIP),
		BrowserLoginPerIP:    rate(r.BrowserLoginPerIP),

		PasswordChecksPerIP:       rate(r.PasswordChecksPerIP),
		PasswordSignInsPerAccount: rate(r.PasswordSignInsPerAccount),
		PasswordSlowdown:          r.PasswordSlowdown,
	}
}

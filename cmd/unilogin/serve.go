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

	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/config"
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
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Version: buildVersion()})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(cctx); err != nil {
			log.Warn("closing the database", "error", err.Error())
		}
	}()

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

	ms, err := startMetricsServer(cfg, srv.Metrics, log) // metricsserver.go
	if err != nil {
		ln.Close()
		return err
	}
	defer ms.Shutdown(context.Background()) // after the drain below, or on an early return

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go srv.Run(sweepCtx)

	log.Info("unilogin listening", "addr", ln.Addr().String(), "store", srv.StoreKind, "issuer", cfg.Issuer,
		"tls", tlsOn, "providers", len(srv.Providers.List()), "version", buildVersion())
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

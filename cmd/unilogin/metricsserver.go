package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/config"
)

// metricsServer is the optional separate listener for /metrics (and, when
// metrics.pprof is on, /debug/pprof), so the public listener need not
// expose them (docs/operations.md#metrics).
type metricsServer struct {
	hs   *http.Server
	ln   net.Listener
	errc chan error
}

// metricsHandler is the separate listener's handler: /metrics, pprof when
// enabled, both behind the metrics token when one is set.
func metricsHandler(cfg config.Metrics, m *api.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(cfg.Token))
	if cfg.Pprof {
		prof := http.NewServeMux()
		prof.HandleFunc("/debug/pprof/", pprof.Index) // also the named profiles (heap, goroutine, ...)
		prof.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		prof.HandleFunc("/debug/pprof/profile", pprof.Profile)
		prof.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		prof.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/debug/pprof/", api.RequireBearer(cfg.Token, prof))
	}
	return mux
}

// startMetricsServer listens on cfg.Metrics.Addr; nil when it is not set.
func startMetricsServer(cfg *config.Config, m *api.Metrics, log *slog.Logger) (*metricsServer, error) {
	if cfg.Metrics.Addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", cfg.Metrics.Addr, err)
	}
	ms := &metricsServer{ln: ln, errc: make(chan error, 1), hs: &http.Server{
		Handler:           metricsHandler(cfg.Metrics, m),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      2 * time.Minute, // a CPU profile runs 30 s by default
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() { ms.errc <- ms.hs.Serve(ln) }()
	log.Info("metrics listening", "addr", ln.Addr().String(), "pprof", cfg.Metrics.Pprof, "token", cfg.Metrics.Token != "")
	return ms, nil
}

// Addr is the bound address.
func (ms *metricsServer) Addr() string { return ms.ln.Addr().String() }

// Shutdown stops the listener after the main one has drained.
func (ms *metricsServer) Shutdown(ctx context.Context) error {
	if ms == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ms.hs.Shutdown(ctx); err != nil {
		ms.hs.Close() // a profile still running
		return fmt.Errorf("metrics shutdown: %w", err)
	}
	if err := <-ms.errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

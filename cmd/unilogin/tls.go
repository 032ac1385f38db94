package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// certCheckInterval is how often, at most, a TLS handshake looks at the
// certificate files' modification times.
const certCheckInterval = 5 * time.Second

// certReloader serves the certificate of http.tls.cert_file/key_file and
// replaces it, without a restart, when the files change (checked at most
// every certCheckInterval, on a handshake) or on SIGHUP. A failed reload
// (e.g. the key written after the certificate, so they do not match yet)
// keeps the previous certificate and is retried at the next check.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time
	interval          time.Duration

	cert      atomic.Pointer[tls.Certificate]
	nextCheck atomic.Int64 // unix nanoseconds of the next mtime check

	mu     sync.Mutex // serialises reloads
	loaded fileStamp  // of the files behind cert
}

// fileStamp identifies a version of the two files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func stampFiles(certFile, keyFile string) (fileStamp, error) {
	ci, err := os.Stat(certFile)
	if err != nil {
		return fileStamp{}, err
	}
	ki, err := os.Stat(keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certMod: ci.ModTime(), keyMod: ki.ModTime(), certSize: ci.Size(), keySize: ki.Size()}, nil
}

// newCertReloader loads the pair once; an unusable pair at start-up is an error.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now, interval: certCheckInterval}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads both files now. On error the current certificate stays.
func (r *certReloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

func (r *certReloader) reloadLocked() error {
	// Stamp before reading: a write landing in between makes the stamp
	// older than the files, so the next check loads them again.
	st, err := stampFiles(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&cert)
	r.loaded = st
	return nil
}

// maybeReload reloads when the files changed since the last load. At most
// one caller per interval looks at the files; the others go on at once.
func (r *certReloader) maybeReload() {
	now := r.now().UnixNano()
	next := r.nextCheck.Load()
	if now < next || !r.nextCheck.CompareAndSwap(next, now+int64(r.interval)) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := stampFiles(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn("TLS certificate files unreadable; keeping the current certificate", "error", err.Error())
		return
	}
	if st == r.loaded {
		return
	}
	if err := r.reloadLocked(); err != nil {
		r.log.Warn("TLS certificate changed but does not load; keeping the current one", "error", err.Error())
		return
	}
	r.log.Info("TLS certificate reloaded", "cert_file", r.certFile)
}

// GetCertificate is tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.maybeReload()
	c := r.cert.Load()
	if c == nil {
		return nil, errors.New("tls: no certificate loaded")
	}
	return c, nil
}

// tlsConfig is the server's TLS configuration: TLS 1.2 or later, the
// certificate from the reloader (http.Server adds h2 and http/1.1 ALPN).
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

// watch reloads on every value from signals until ctx ends.
func (r *certReloader) watch(ctx context.Context, signals <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-signals:
			if err := r.Reload(); err != nil {
				r.log.Warn("SIGHUP: TLS certificate reload failed; keeping the current one", "error", err.Error())
			} else {
				r.log.Info("SIGHUP: TLS certificate reloaded", "cert_file", r.certFile)
			}
		}
	}
}

// reloadOnSIGHUP runs watch on SIGHUP until ctx ends.
func (r *certReloader) reloadOnSIGHUP(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		defer signal.Stop(ch)
		r.watch(ctx, ch)
	}()
}

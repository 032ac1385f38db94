// Package servertest starts the whole service, as api/server assembles it
// for `unilogin serve`, on an httptest server whose URL is the issuer. The
// API, browser and example-app tests use it, so they run the middleware,
// limits and hashing gate that production runs, and every exchange is
// validated against the OpenAPI description.
package servertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/unilogin/unilogin/api/openapi/validate"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/config"
)

// Instance is a running service.
type Instance struct {
	*server.Server
	// URL is the issuer: the httptest server's base URL.
	URL string
}

// Start serves the service on httptest until the test ends. The
// configuration is config.Default with the issuer set to the server's URL,
// a temporary data directory and bcrypt cost 4; configure (may be nil)
// changes it further before the service is built. opts injects stores,
// providers, clock or logger.
func Start(t testing.TB, configure func(*config.Config), opts server.Options) *Instance {
	t.Helper()
	lh := &lazyHandler{}
	hs := httptest.NewServer(lh)
	t.Cleanup(hs.Close)
	cfg := config.Default()
	cfg.Issuer = hs.URL
	cfg.DataDir = t.TempDir()
	cfg.Passwords.BcryptCost = 4
	if configure != nil {
		configure(cfg)
	}
	s, err := server.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The mail worker delivers (to <data_dir>/outbox) as in production;
	// the sweeper does not run, so tests decide what expires.
	mailCtx, stopMail := context.WithCancel(context.Background())
	mailDone := make(chan struct{})
	go func() { defer close(mailDone); s.RunMail(mailCtx) }()
	t.Cleanup(func() {
		hs.Close() // in-flight requests first, then the stores and the gate
		stopMail()
		<-mailDone
		s.Close(context.Background())
	})
	// Every request and response through the test server is checked
	// against the OpenAPI description (api/openapi): the JSON API's
	// answers cannot drift from the document.
	ov, err := validate.Shared()
	if err != nil {
		t.Fatal(err)
	}
	lh.set(ov.Middleware(t, s.Handler()))
	return &Instance{Server: s, URL: hs.URL}
}

// lazyHandler lets the server start before its handler exists (its URL is
// the issuer).
type lazyHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (l *lazyHandler) set(h http.Handler) { l.mu.Lock(); l.h = h; l.mu.Unlock() }

func (l *lazyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.RLock()
	h := l.h
	l.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// Do sends req with the default client and returns the answer's status and
// body; a transport error fails the test.
func Do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Get is Do of a GET of url, with the bearer token unless it is empty.
func Get(t testing.TB, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return Do(t, req)
}

package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/unilogin/unilogin/config"
)

// cmdHealthcheck is `unilogin healthcheck`: GET /healthz of the local
// server, exit 0 when it answers 200 and 1 otherwise. Container images
// without curl use it as their HEALTHCHECK (docs/deployment.md).
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var target string
	var timeout time.Duration
	path, code, ok := commonFlags("healthcheck", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&target, "url", "", "URL to probe (default: /healthz on http.addr, on the loopback address when it binds all)")
		fs.DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	})
	if !ok {
		return code
	}
	if target == "" {
		// The listener's settings only: a file with problems elsewhere
		// does not make a running server unhealthy.
		cfg, problems := config.Check(path, os.Getenv, os.ReadFile)
		if cfg == nil {
			fmt.Fprintf(stderr, "unilogin healthcheck: %s\n", problems[0])
			return exitConfig
		}
		target = healthzURL(cfg.HTTP)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(stderr, "unilogin healthcheck: %v\n", err)
		return exitUsage
	}
	// A probe of this host's own listener by its loopback address cannot
	// match the certificate (issued for the public name); it sends no
	// credentials and reads only the status. Any other host is verified.
	loopback := req.URL.Hostname() == "localhost" || net.ParseIP(req.URL.Hostname()).IsLoopback()
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: loopback}, //nolint:gosec // loopback liveness probe only
	}}
	res, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "unilogin healthcheck: %v\n", err)
		return exitError
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "unilogin healthcheck: %s answered %s\n", target, res.Status)
		return exitError
	}
	fmt.Fprintf(stdout, "ok: %s\n", target)
	return exitOK
}

// healthzURL is /healthz on the configured listener; an address that
// binds every interface (":8080", "0.0.0.0:8080", "[::]:8080") is probed
// on the loopback address.
func healthzURL(h config.HTTP) string {
	host, port, err := net.SplitHostPort(h.Addr)
	if err != nil {
		host, port = "", "8080"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if h.TLS.CertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
}

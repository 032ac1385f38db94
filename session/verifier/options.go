package verifier

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Defaults of the options below.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultMinRefetchInterval = 30 * time.Second
	DefaultMaxAge             = 5 * time.Minute
	DefaultMinMaxAge          = time.Minute
	DefaultMaxMaxAge          = 24 * time.Hour

	// fetchTimeout bounds one metadata or JWKS request made in the
	// background of Verify (New uses its own context).
	fetchTimeout = 10 * time.Second
	// maxDocumentSize bounds the metadata and JWKS bodies read.
	maxDocumentSize = 1 << 20
	// maxTokenSize rejects absurd tokens before any decoding.
	maxTokenSize = 16 << 10
)

// supportedAlgorithms are the asymmetric JWS algorithms a Verifier can be
// pinned to (RFC 7518 §3.1, RFC 8037 §3.1). HS* and "none" are never allowed.
var supportedAlgorithms = map[string]bool{
	"ES256": true, "ES384": true, "ES512": true,
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"EdDSA": true,
}

// Option configures New.
type Option func(*config)

type config struct {
	httpClient    *http.Client
	jwksURL       string
	algorithms    []string
	leeway        time.Duration
	minRefetch    time.Duration
	defaultMaxAge time.Duration
	minMaxAge     time.Duration
	maxMaxAge     time.Duration
	now           func() time.Time
	lazy          bool
}

func defaultConfig() config {
	return config{
		httpClient:    &http.Client{Timeout: fetchTimeout},
		algorithms:    []string{"ES256"},
		leeway:        DefaultLeeway,
		minRefetch:    DefaultMinRefetchInterval,
		defaultMaxAge: DefaultMaxAge,
		minMaxAge:     DefaultMinMaxAge,
		maxMaxAge:     DefaultMaxMaxAge,
		now:           time.Now,
	}
}

// WithHTTPClient sets the client used for the metadata and JWKS requests
// (default: http.Client with a 10 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(cfg *config) { cfg.httpClient = c } }

// WithJWKSURL skips discovery and fetches the JWKS from u directly.
func WithJWKSURL(u string) Option { return func(cfg *config) { cfg.jwksURL = u } }

// WithAlgorithms pins the accepted JWS algorithms (default ES256). A token
// whose alg is not listed is rejected before any key is looked up.
func WithAlgorithms(algs ...string) Option {
	return func(cfg *config) { cfg.algorithms = append([]string(nil), algs...) }
}

// WithLeeway sets the clock skew tolerated on exp, iat and nbf (default 30 s).
func WithLeeway(d time.Duration) Option { return func(cfg *config) { cfg.leeway = d } }

// WithMinRefetchInterval sets how often, at most, an unknown kid or a failed
// fetch may cause a JWKS request (default 30 s).
func WithMinRefetchInterval(d time.Duration) Option {
	return func(cfg *config) { cfg.minRefetch = d }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(cfg *config) { cfg.now = now } }

// WithDefaultMaxAge sets how long a JWKS is cached when its response has no
// Cache-Control max-age (default 5 min).
func WithDefaultMaxAge(d time.Duration) Option { return func(cfg *config) { cfg.defaultMaxAge = d } }

// WithMaxAgeBounds clamps the JWKS cache lifetime, whether it comes from
// Cache-Control or the default (default [1 min, 24 h]). no-store, no-cache and
// max-age=0 count as 0 and so become lo.
func WithMaxAgeBounds(lo, hi time.Duration) Option {
	return func(cfg *config) { cfg.minMaxAge, cfg.maxMaxAge = lo, hi }
}

// WithLazyStart lets New succeed while the issuer is unreachable; discovery
// and the JWKS fetch then happen on first use, and Verify returns
// ErrJWKSUnavailable until they succeed.
func WithLazyStart() Option { return func(cfg *config) { cfg.lazy = true } }

// validate reports every problem at once.
func (c *config) validate(issuer, audience string) error {
	var errs []error
	if u, err := url.Parse(issuer); issuer == "" || err != nil || !u.IsAbs() || u.Host == "" ||
		(u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("issuer %q is not an absolute http(s) URL", issuer))
	}
	if audience == "" {
		errs = append(errs, errors.New("audience is empty"))
	}
	if c.httpClient == nil {
		errs = append(errs, errors.New("http client is nil"))
	}
	if c.now == nil {
		errs = append(errs, errors.New("clock is nil"))
	}
	if c.jwksURL != "" {
		if err := checkFetchURL(c.jwksURL); err != nil {
			errs = append(errs, fmt.Errorf("jwks URL: %w", err))
		}
	}
	if len(c.algorithms) == 0 {
		errs = append(errs, errors.New("no algorithms allowed"))
	}
	for _, a := range c.algorithms {
		if !supportedAlgorithms[a] {
			errs = append(errs, fmt.Errorf("algorithm %q not supported (asymmetric JWS algorithms only)", a))
		}
	}
	if c.leeway < 0 || c.minRefetch < 0 || c.defaultMaxAge < 0 || c.minMaxAge < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if c.maxMaxAge < c.minMaxAge {
		errs = append(errs, fmt.Errorf("max-age bounds inverted: [%v, %v]", c.minMaxAge, c.maxMaxAge))
	}
	if len(errs) > 0 {
		return fmt.Errorf("verifier: invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

func checkFetchURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

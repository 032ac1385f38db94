package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keySet is one immutable JWKS snapshot. It is swapped atomically as a whole.
type keySet struct {
	byKID   map[string][]publicKey // RFC 7517 §4.5 lets kids repeat (e.g. one per alg)
	expires time.Time              // stale from then on
}

type publicKey struct {
	alg string // the JWK's "alg", "" when unset
	key any    // *ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey
}

// find returns the key published under kid that may verify alg, or why not.
func (ks *keySet) find(kid, alg string) (any, error) {
	cands, ok := ks.byKID[kid]
	if !ok {
		return nil, errUnknownKIDInner
	}
	for _, k := range cands {
		if k.fits(alg) {
			return k.key, nil
		}
	}
	return nil, errKeyMismatch
}

// fits reports whether the key may verify a token of alg: the JWK's own alg,
// when set, must be alg, and the key type and curve must be the ones alg is
// defined for (RFC 7518 §3). This is what stops an RS/ES/HS confusion even if
// a kid were shared.
func (k publicKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg && (alg != "EdDSA" || k.alg != "Ed25519") {
		return false
	}
	switch key := k.key.(type) {
	case *ecdsa.PublicKey:
		curve := key.Curve.Params().Name
		return alg == "ES256" && curve == "P-256" ||
			alg == "ES384" && curve == "P-384" ||
			alg == "ES512" && curve == "P-521"
	case *rsa.PublicKey:
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return true
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// privateMembers are JWK members that only private or symmetric keys have
// (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). A JWKS must not carry them.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

const (
	minRSABits = 2048
	maxRSABits = 8192
)

// parseJWKS decodes a JWK Set (RFC 7517 §5) into the usable signing keys.
// Keys are decoded one by one with go-jose, and a key that is unsupported,
// malformed, private or symmetric, not for signing ("use" other than "sig"),
// without kid, or an RSA key outside [2048, 8192] bits is skipped, as §5
// advises, instead of failing the whole set. A set with no usable key is an
// error, so that a broken response never replaces good cached keys.
func parseJWKS(body []byte) (map[string][]publicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := make(map[string][]publicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil || hasAny(members, privateMembers) {
			continue
		}
		var jwk jose.JSONWebKey
		if jwk.UnmarshalJSON(raw) != nil || !jwk.Valid() || !jwk.IsPublic() {
			continue
		}
		if jwk.KeyID == "" || (jwk.Use != "" && jwk.Use != "sig") {
			continue
		}
		switch key := jwk.Key.(type) {
		case *rsa.PublicKey:
			if bits := key.N.BitLen(); bits < minRSABits || bits > maxRSABits {
				continue
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			continue
		}
		keys[jwk.KeyID] = append(keys[jwk.KeyID], publicKey{alg: jwk.Algorithm, key: jwk.Key})
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no usable signing key")
	}
	return keys, nil
}

func hasAny(m map[string]json.RawMessage, names []string) bool {
	for _, n := range names {
		if _, ok := m[n]; ok {
			return true
		}
	}
	return false
}

// lifetime is how long a response may be cached (RFC 9111 §5.2.2):
// max-age minus Age, 0 for no-store/no-cache, else def; then clamped.
func lifetime(h http.Header, def, lo, hi time.Duration) time.Duration {
	d := def
	for _, v := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return lo
			case "max-age":
				n, err := strconv.ParseUint(strings.Trim(val, `"`), 10, 63)
				if errors.Is(err, strconv.ErrRange) {
					n, err = math.MaxInt64, nil // RFC 9111 §1.2.2: too large means "very long"
				}
				if err != nil {
					return lo // invalid max-age counts as stale (RFC 9111 §4.2.1)
				}
				d = time.Duration(min(n, uint64(hi/time.Second))) * time.Second
				if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
					d -= time.Duration(min(age, int64(hi/time.Second))) * time.Second
				}
			}
		}
	}
	return max(lo, min(d, hi))
}

// get fetches url and returns its body (at most maxDocumentSize bytes) and
// headers; a status other than 200 is an error of type *statusError.
func (v *Verifier) get(ctx context.Context, u string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, nil, &statusError{url: u, code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", u, err)
	}
	if len(body) > maxDocumentSize {
		return nil, nil, fmt.Errorf("%s: response larger than %d bytes", u, maxDocumentSize)
	}
	return body, resp.Header, nil
}

type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: status %d", e.url, e.code) }

// metadataURLs lists where the issuer's metadata may be, in the order tried:
// unilogin's <issuer>/.well-known/oauth-authorization-server, the RFC 8414
// §3.1 form (well-known segment before the issuer's path) when the issuer has
// a path, and OpenID Connect Discovery §4's <issuer>/.well-known/openid-configuration.
func metadataURLs(issuer string) []string {
	base := strings.TrimSuffix(issuer, "/")
	urls := []string{base + "/.well-known/oauth-authorization-server"}
	if u, err := url.Parse(issuer); err == nil && strings.Trim(u.Path, "/") != "" {
		p := *u
		p.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
		p.RawPath, p.RawQuery, p.Fragment = "", "", ""
		urls = append(urls, p.String())
	}
	return append(urls, base+"/.well-known/openid-configuration")
}

// discover fetches the issuer's metadata and returns its jwks_uri. The
// document's issuer must equal ours exactly (RFC 8414 §3.3), else an attacker
// serving another issuer's keys at our URL would be trusted. A missing
// document (non-200) moves on to the next URL; anything else stops.
func (v *Verifier) discover(ctx context.Context) (string, error) {
	var missing []string
	for _, u := range metadataURLs(v.issuer) {
		body, _, err := v.get(ctx, u)
		var se *statusError
		if errors.As(err, &se) {
			missing = append(missing, err.Error())
			continue
		}
		if err != nil {
			return "", fmt.Errorf("discovery: %w", err)
		}
		var md struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &md); err != nil {
			return "", fmt.Errorf("discovery: %s: decode: %w", u, err)
		}
		if md.Issuer != v.issuer {
			return "", fmt.Errorf("discovery: %s: issuer %q does not match %q", u, md.Issuer, v.issuer)
		}
		if err := checkFetchURL(md.JWKSURI); err != nil {
			return "", fmt.Errorf("discovery: %s: jwks_uri: %w", u, err)
		}
		if strings.HasPrefix(v.issuer, "https:") && !strings.HasPrefix(md.JWKSURI, "https:") {
			return "", fmt.Errorf("discovery: %s: jwks_uri %q is not https", u, md.JWKSURI)
		}
		return md.JWKSURI, nil
	}
	return "", fmt.Errorf("discovery: no metadata document (%s)", strings.Join(missing, "; "))
}

// load discovers the JWKS URL if needed and fetches and parses the JWKS.
func (v *Verifier) load(ctx context.Context) (*keySet, error) {
	v.mu.Lock()
	jwksURL := v.jwksURL
	v.mu.Unlock()
	if jwksURL == "" {
		u, err := v.discover(ctx)
		if err != nil {
			return nil, err
		}
		v.mu.Lock()
		v.jwksURL = u
		v.mu.Unlock()
		jwksURL = u
	}
	fetched := v.cfg.now()
	body, h, err := v.get(ctx, jwksURL)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", jwksURL, err)
	}
	ttl := lifetime(h, v.cfg.defaultMaxAge, v.cfg.minMaxAge, v.cfg.maxMaxAge)
	return &keySet{byKID: keys, expires: fetched.Add(ttl)}, nil
}

// fetchCall is one JWKS fetch that any number of callers may wait for.
type fetchCall struct {
	done chan struct{}
	err  error
}

// startFetchLocked starts a background fetch, or returns the one under way
// (single flight). v.mu must be held.
func (v *Verifier) startFetchLocked() *fetchCall {
	if v.inflight != nil {
		return v.inflight
	}
	c := &fetchCall{done: make(chan struct{})}
	v.inflight = c
	v.lastAttempt = v.cfg.now()
	go v.runFetch(c)
	return c
}

// runFetch runs detached from any caller's context, so that one caller giving
// up does not fail the fetch for the others; fetchTimeout bounds it.
func (v *Verifier) runFetch(c *fetchCall) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	ks, err := v.load(ctx)
	v.mu.Lock()
	if err == nil {
		v.keys.Store(ks)
	}
	v.lastErr = err
	v.inflight = nil
	v.mu.Unlock()
	c.err = err
	close(c.done)
}

// wait waits for c or for ctx.
func (c *fetchCall) wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// currentKeys returns keys to verify with. Fresh cached keys are returned at
// once (the hot path: one atomic load). Stale or missing keys are refetched,
// callers sharing one fetch; if that fails the stale keys are used
// (stale-if-error), and after a failure no new attempt is made within the
// minimum refetch interval.
func (v *Verifier) currentKeys(ctx context.Context) (*keySet, error) {
	now := v.cfg.now()
	if ks := v.keys.Load(); ks != nil && now.Before(ks.expires) {
		return ks, nil
	}
	v.mu.Lock()
	ks := v.keys.Load()
	if ks != nil && now.Before(ks.expires) {
		v.mu.Unlock()
		return ks, nil
	}
	if v.inflight == nil && v.lastErr != nil && now.Sub(v.lastAttempt) < v.cfg.minRefetch {
		err := v.lastErr
		v.mu.Unlock()
		if ks != nil {
			return ks, nil
		}
		return nil, unavailable(err)
	}
	c := v.startFetchLocked()
	v.mu.Unlock()

	if err := c.wait(ctx); err != nil {
		if ks != nil {
			return ks, nil // stale-if-error, or the caller stopped waiting
		}
		return nil, unavailable(err)
	}
	return v.keys.Load(), nil
}

// refreshForUnknownKID is called when ks had no key for a token's kid. It
// returns a newer key set to retry with, or nil. It fetches at most once per
// minimum refetch interval, however many tokens with unknown kids arrive.
func (v *Verifier) refreshForUnknownKID(ctx context.Context, ks *keySet) *keySet {
	v.mu.Lock()
	if cur := v.keys.Load(); cur != ks {
		v.mu.Unlock()
		return cur // replaced meanwhile by another caller's fetch
	}
	c := v.inflight
	if c == nil {
		if !v.lastAttempt.IsZero() && v.cfg.now().Sub(v.lastAttempt) < v.cfg.minRefetch {
			v.mu.Unlock()
			return nil
		}
		c = v.startFetchLocked()
	}
	v.mu.Unlock()
	if c.wait(ctx) != nil {
		return nil
	}
	if cur := v.keys.Load(); cur != ks {
		return cur
	}
	return nil
}

package verifier

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

const testAudience = "https://api.example.com"

// testKeys are generated once per test binary (RSA generation is slow).
type testKeys struct {
	ec    *ecdsa.PrivateKey // P-256, kid "ec1", JWK alg ES256
	ec2   *ecdsa.PrivateKey // P-256, kid "ec2", published only by rotation tests
	ec384 *ecdsa.PrivateKey // P-384, kid "ec384", no JWK alg
	rsa   *rsa.PrivateKey   // 2048 bits, kid "rsa1", JWK alg RS256
	ed    ed25519.PrivateKey
	ghost *ecdsa.PrivateKey // P-256, never published
}

var keys = sync.OnceValue(func() *testKeys {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	k := &testKeys{}
	var err error
	k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ec2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.ghost, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

// defaultJWKS is what the test issuer publishes unless a test changes it.
func defaultJWKS() []jose.JSONWebKey {
	k := keys()
	return []jose.JSONWebKey{
		{Key: k.ec.Public(), KeyID: "ec1", Algorithm: "ES256", Use: "sig"},
		{Key: k.ec384.Public(), KeyID: "ec384", Use: "sig"},
		{Key: k.rsa.Public(), KeyID: "rsa1", Algorithm: "RS256", Use: "sig"},
		{Key: k.ed.Public(), KeyID: "ed1", Algorithm: "EdDSA", Use: "sig"},
	}
}

// testIssuer serves RFC 8414 metadata and a JWKS and counts the requests.
type testIssuer struct {
	srv *httptest.Server
	URL string

	jwksFetches atomic.Int64
	metaFetches atomic.Int64

	mu           sync.Mutex
	jwks         []byte
	cacheControl string
	jwksStatus   int    // 0: 200
	metaIssuer   string // "" : the server's URL
	oauthMissing bool   // 404 on oauth-authorization-server
	gate         chan struct{}
	entered      chan struct{}
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	ti := &testIssuer{cacheControl: "public, max-age=300"}
	ti.setKeys(t, defaultJWKS()...)
	mux := http.NewServeMux()
	meta := func(w http.ResponseWriter, r *http.Request) {
		ti.metaFetches.Add(1)
		ti.mu.Lock()
		iss := ti.metaIssuer
		ti.mu.Unlock()
		if iss == "" {
			iss = ti.URL
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":         iss,
			"jwks_uri":       ti.URL + "/.well-known/jwks.json",
			"token_endpoint": ti.URL + "/token",
		})
	}
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		missing := ti.oauthMissing
		ti.mu.Unlock()
		if missing {
			ti.metaFetches.Add(1)
			http.NotFound(w, r)
			return
		}
		meta(w, r)
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", meta)
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		ti.jwksFetches.Add(1)
		ti.mu.Lock()
		body, cc, status, gate, entered := ti.jwks, ti.cacheControl, ti.jwksStatus, ti.gate, ti.entered
		ti.mu.Unlock()
		if entered != nil {
			select {
			case entered <- struct{}{}:
			default:
			}
		}
		if gate != nil {
			<-gate
		}
		if status != 0 && status != http.StatusOK {
			http.Error(w, "down", status)
			return
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(body)
	})
	ti.srv = httptest.NewServer(mux)
	ti.URL = ti.srv.URL
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) setKeys(t testing.TB, ks ...jose.JSONWebKey) {
	t.Helper()
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	ti.mu.Lock()
	ti.jwks = body
	ti.mu.Unlock()
}

func (ti *testIssuer) setRaw(body string) {
	ti.mu.Lock()
	ti.jwks = []byte(body)
	ti.mu.Unlock()
}

func (ti *testIssuer) set(f func(ti *testIssuer)) {
	ti.mu.Lock()
	f(ti)
	ti.mu.Unlock()
}

// newClock is a settable clock for WithClock.
func newClock() *testkit.Clock { return testkit.NewClock(time.Unix(1_800_000_000, 0)) }

// claimsAt returns the claims unilogin issues, for a token issued at now.
func claimsAt(iss string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":            iss,
		"sub":            "user-1",
		"aud":            []string{testAudience},
		"exp":            now.Add(15 * time.Minute).Unix(),
		"iat":            now.Unix(),
		"jti":            "tok-1",
		"sid":            "sess-1",
		"amr":            []string{"pwd"},
		"email":          "ada@example.com",
		"email_verified": true,
		"roles":          []string{"member", "editor"},
		"scope":          "profile:read posts:write",
		"client_id":      "demo-app",
	}
}

// sign signs claims with golang-jwt the way unilogin does (typ at+jwt, kid).
// hdr entries override header fields; a nil value deletes the field.
func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims, hdr map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = kid
	for k, v := range hdr {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// jwk is a published signing key.
func jwk(key any, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}
}

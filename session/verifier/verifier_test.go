package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// setup starts a test issuer and a Verifier on it with a fake clock.
func setup(t testing.TB, opts ...Option) (*testIssuer, *testkit.Clock, *Verifier) {
	t.Helper()
	ti := newTestIssuer(t)
	clk := newClock()
	v, err := New(context.Background(), ti.URL, testAudience, append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return ti, clk, v
}

type tokenFunc func(t testing.TB, iss string, now time.Time) string

// signed returns a tokenFunc signing claims (modified by mod) with golang-jwt.
func signed(m jwt.SigningMethod, key func() any, kid string, mod func(jwt.MapClaims), hdr map[string]any) tokenFunc {
	return func(t testing.TB, iss string, now time.Time) string {
		c := claimsAt(iss, now)
		if mod != nil {
			mod(c)
		}
		return sign(t, m, key(), kid, c, hdr)
	}
}

func ecKey() any    { return keys().ec }
func ec384Key() any { return keys().ec384 }
func rsaKey() any   { return keys().rsa }
func edKey() any    { return keys().ed }

func set(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
func del(k string) func(jwt.MapClaims)        { return func(c jwt.MapClaims) { delete(c, k) } }

// shift returns a modifier moving a time claim by d from now.
func shift(k string, d time.Duration) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) { c[k] = time.Unix(c["iat"].(int64), 0).Add(d).Unix() }
}

// raw builds a token by hand from header, claims and signature bytes.
func raw(hdr map[string]any, mod func(jwt.MapClaims), sig func(signingInput string) []byte) tokenFunc {
	return func(t testing.TB, iss string, now time.Time) string {
		c := claimsAt(iss, now)
		if mod != nil {
			mod(c)
		}
		in := b64JSON(t, hdr) + "." + b64JSON(t, c)
		return in + "." + b64(sig(in))
	}
}

func hs256(secret []byte) func(string) []byte {
	return func(in string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return m.Sum(nil)
	}
}

func pemOf(pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// rawXY is the JWK's x||y, the other form an HS256 forger might try.
func rawXY(pub *ecdsa.PublicKey) []byte {
	b, err := pub.Bytes() // 0x04 || x || y
	if err != nil {
		panic(err)
	}
	return b[1:]
}

// tamper re-encodes the payload of a valid token with mod applied, keeping
// the header and signature.
func tamper(base tokenFunc, mod func(map[string]any)) tokenFunc {
	return func(t testing.TB, iss string, now time.Time) string {
		parts := strings.Split(base(t, iss, now), ".")
		p, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(p, &c); err != nil {
			t.Fatal(err)
		}
		mod(c)
		parts[1] = b64JSON(t, c)
		return strings.Join(parts, ".")
	}
}

func constant(s string) tokenFunc { return func(testing.TB, string, time.Time) string { return s } }

func TestVerify(t *testing.T) {
	ti, clk, vES := setup(t)
	all := []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"}
	vAll, err := New(context.Background(), ti.URL, testAudience, WithClock(clk.Now), WithAlgorithms(all...))
	if err != nil {
		t.Fatal(err)
	}
	vRS, err := New(context.Background(), ti.URL, testAudience, WithClock(clk.Now), WithAlgorithms("RS256"))
	if err != nil {
		t.Fatal(err)
	}
	vNoLeeway, err := New(context.Background(), ti.URL, testAudience, WithClock(clk.Now), WithLeeway(0))
	if err != nil {
		t.Fatal(err)
	}
	k := keys()
	valid := signed(jwt.SigningMethodES256, ecKey, "ec1", nil, nil)
	es256Hdr := map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": "ec1"}
	ecSig := func(in string) []byte { // a genuine ES256 signature, raw r||s
		s, err := jwt.SigningMethodES256.Sign(in, k.ec)
		if err != nil {
			panic(err)
		}
		return s
	}

	tests := []struct {
		name  string
		v     *Verifier
		token tokenFunc
		want  error // nil: valid
	}{
		{"valid ES256", vES, valid, nil},
		{"valid ES256, all algs allowed", vAll, valid, nil},
		{"valid RS256", vAll, signed(jwt.SigningMethodRS256, rsaKey, "rsa1", nil, nil), nil},
		{"valid EdDSA", vAll, signed(jwt.SigningMethodEdDSA, edKey, "ed1", nil, nil), nil},
		{"valid ES384 (JWK without alg)", vAll, signed(jwt.SigningMethodES384, ec384Key, "ec384", nil, nil), nil},
		{"typ application/at+jwt", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"typ": "application/at+jwt"}), nil},
		{"typ upper case", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"typ": "AT+JWT"}), nil},
		{"aud plain string", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("aud", testAudience), nil), nil},
		{"aud among several", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("aud", []string{"other", testAudience}), nil), nil},
		{"expired within leeway", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("exp", -20*time.Second), nil), nil},
		{"iat slightly ahead (within leeway)", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("iat", 20*time.Second), nil), nil},
		{"nbf slightly ahead (within leeway)", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("nbf", 20*time.Second), nil), nil},

		// Algorithm attacks.
		{"alg none", vES, raw(map[string]any{"alg": "none", "typ": "at+jwt", "kid": "ec1"}, nil, func(string) []byte { return nil }), errAlgorithm},
		{"alg none, all algs allowed", vAll, raw(map[string]any{"alg": "none", "typ": "at+jwt", "kid": "ec1"}, nil, func(string) []byte { return nil }), errAlgorithm},
		{"alg None", vES, raw(map[string]any{"alg": "None", "typ": "at+jwt", "kid": "ec1"}, nil, func(string) []byte { return nil }), errAlgorithm},
		{"alg missing", vES, raw(map[string]any{"typ": "at+jwt", "kid": "ec1"}, nil, ecSig), errAlgorithm},
		{"alg not a string", vES, raw(map[string]any{"alg": 256, "typ": "at+jwt", "kid": "ec1"}, nil, ecSig), errAlgorithm},
		{"HS256 keyed with EC public key PEM", vAll, raw(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": "ec1"}, nil, hs256(pemOf(k.ec.Public()))), errAlgorithm},
		{"HS256 keyed with EC JWK x||y", vAll, raw(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": "ec1"}, nil, hs256(rawXY(&k.ec.PublicKey))), errAlgorithm},
		{"HS256 keyed with RSA public key PEM", vAll, raw(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": "rsa1"}, nil, hs256(pemOf(k.rsa.Public()))), errAlgorithm},
		{"RS256 when only ES256 allowed", vES, signed(jwt.SigningMethodRS256, rsaKey, "rsa1", nil, nil), errAlgorithm},
		{"ES256 when only RS256 allowed", vRS, valid, errAlgorithm},
		{"EdDSA when only ES256 allowed", vES, signed(jwt.SigningMethodEdDSA, edKey, "ed1", nil, nil), errAlgorithm},
		{"ES256 with an RSA kid", vAll, signed(jwt.SigningMethodES256, ecKey, "rsa1", nil, nil), errKeyMismatch},
		{"RS256 with an EC kid", vAll, signed(jwt.SigningMethodRS256, rsaKey, "ec1", nil, nil), errKeyMismatch},
		{"EdDSA with an EC kid", vAll, signed(jwt.SigningMethodEdDSA, edKey, "ec1", nil, nil), errKeyMismatch},
		{"PS256 with a key published for RS256", vAll, signed(jwt.SigningMethodPS256, rsaKey, "rsa1", nil, nil), errKeyMismatch},
		{"ES256 with a P-384 kid", vAll, signed(jwt.SigningMethodES256, ecKey, "ec384", nil, nil), errKeyMismatch},

		// Header.
		{"typ JWT", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"typ": "JWT"}), errType},
		{"typ missing", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"typ": nil}), errType},
		{"typ not a string", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"typ": 1}), errType},
		{"kid missing", vES, signed(jwt.SigningMethodES256, ecKey, "", nil, map[string]any{"kid": nil}), errNoKID},
		{"kid empty", vES, signed(jwt.SigningMethodES256, ecKey, "", nil, nil), errNoKID},
		{"kid not a string", vES, signed(jwt.SigningMethodES256, ecKey, "", nil, map[string]any{"kid": 1}), errNoKID},
		{"crit header", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"crit": []string{"exp"}}), errCrit},

		// Claims.
		{"wrong iss", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("iss", "https://evil.example.com"), nil), errIssuer},
		{"iss with trailing slash", vES, func(t testing.TB, iss string, now time.Time) string {
			return signed(jwt.SigningMethodES256, ecKey, "ec1", set("iss", iss+"/"), nil)(t, iss, now)
		}, errIssuer},
		{"iss missing", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", del("iss"), nil), errIssuer},
		{"wrong aud", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("aud", []string{"https://other.example.com"}), nil), errAudience},
		{"aud missing", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", del("aud"), nil), errNoAudience},
		{"aud empty array", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("aud", []string{}), nil), errNoAudience},
		{"aud not strings", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("aud", []int{1}), nil), errMalformed},
		{"expired beyond leeway", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("exp", -31*time.Second), nil), ErrExpired},
		{"expired 1s ago, no leeway", vNoLeeway, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("exp", -time.Second), nil), ErrExpired},
		{"expiring now, no leeway", vNoLeeway, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("exp", 0), nil), ErrExpired},
		{"iat 1s ahead, no leeway", vNoLeeway, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("iat", time.Second), nil), errIatFuture},
		{"expired long ago", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("exp", -24*time.Hour), nil), ErrExpired},
		{"exp fractional", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", func(c jwt.MapClaims) { c["exp"] = float64(c["exp"].(int64)) + 0.5 }, nil), nil},
		{"exp absurdly large", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("exp", 1e300), nil), errMalformed},
		{"iat absurdly small", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("iat", -1e300), nil), errMalformed},
		{"aud null", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("aud", nil), nil), errNoAudience},
		{"exp missing", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", del("exp"), nil), errNoExp},
		{"exp not a number", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("exp", "tomorrow"), nil), errMalformed},
		{"exp a numeric string", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", func(c jwt.MapClaims) { c["exp"] = strconv.FormatInt(c["exp"].(int64), 10) }, nil), errMalformed},
		{"iat a numeric string", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", func(c jwt.MapClaims) { c["iat"] = strconv.FormatInt(c["iat"].(int64), 10) }, nil), errMalformed},
		{"nbf a numeric string", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", set("nbf", "1000000000"), nil), errMalformed},
		{"crit empty list", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", nil, map[string]any{"crit": []string{}}), errCrit},
		{"iat missing", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", del("iat"), nil), errNoIat},
		{"iat in the future", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("iat", 2*time.Minute), nil), errIatFuture},
		{"nbf in the future", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", shift("nbf", 2*time.Minute), nil), errNotYetValid},
		{"sub missing", vES, signed(jwt.SigningMethodES256, ecKey, "ec1", del("sub"), nil), errNoSubject},

		// Signature and format.
		{"tampered roles", vES, tamper(valid, func(c map[string]any) { c["roles"] = []string{"admin"} }), errSignature},
		{"tampered sub", vES, tamper(valid, func(c map[string]any) { c["sub"] = "user-2" }), errSignature},
		{"tampered exp", vES, tamper(valid, func(c map[string]any) { c["exp"] = c["exp"].(float64) + 3600 }), errSignature},
		{"signature of another token", vES, func(t testing.TB, iss string, now time.Time) string {
			a := strings.Split(valid(t, iss, now), ".")
			b := strings.Split(signed(jwt.SigningMethodES256, ecKey, "ec1", set("sub", "user-2"), nil)(t, iss, now), ".")
			return a[0] + "." + a[1] + "." + b[2]
		}, errSignature},
		{"signature by an unpublished key under a known kid", vES, func(t testing.TB, iss string, now time.Time) string {
			return sign(t, jwt.SigningMethodES256, keys().ghost, "ec1", claimsAt(iss, now), nil)
		}, errSignature},
		{"DER signature instead of r||s", vES, raw(es256Hdr, nil, func(in string) []byte {
			d := sha256.Sum256([]byte(in))
			s, err := ecdsa.SignASN1(rand.Reader, k.ec, d[:])
			if err != nil {
				panic(err)
			}
			return s
		}), errSignature},
		{"empty signature", vES, raw(es256Hdr, nil, func(string) []byte { return nil }), errSignature},
		{"truncated signature", vES, func(t testing.TB, iss string, now time.Time) string {
			s := valid(t, iss, now)
			return s[:len(s)-4]
		}, ErrInvalidToken},
		{"truncated to two segments", vES, func(t testing.TB, iss string, now time.Time) string {
			s := valid(t, iss, now)
			return s[:strings.LastIndexByte(s, '.')]
		}, errMalformed},
		{"padded base64", vES, func(t testing.TB, iss string, now time.Time) string {
			p := strings.Split(valid(t, iss, now), ".")
			return p[0] + "." + p[1] + "." + base64.URLEncoding.EncodeToString(mustDecode(p[2]))
		}, errMalformed},
		{"extra segment", vES, func(t testing.TB, iss string, now time.Time) string { return valid(t, iss, now) + ".x" }, errMalformed},
		{"empty", vES, constant(""), errMalformed},
		{"garbage", vES, constant("garbage"), errMalformed},
		{"dots", vES, constant(".."), errMalformed},
		{"a.b.c", vES, constant("a.b.c"), errMalformed},
		{"header not JSON", vES, constant(b64([]byte("{nope")) + "." + b64([]byte("{}")) + ".c2ln"), errMalformed},
		{"payload not JSON", vES, func(t testing.TB, iss string, now time.Time) string {
			return b64JSON(t, es256Hdr) + "." + b64([]byte("[1,2")) + ".c2ln"
		}, errMalformed},
		{"too large", vES, constant(strings.Repeat("a", maxTokenSize+1)), errTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token(t, ti.URL, clk.Now())
			c, err := tc.v.Verify(context.Background(), token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "user-1" {
					t.Errorf("Subject = %q", c.Subject)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token; want %v", tc.want)
			}
			t.Logf("rejected: %v", err)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidToken) {
				t.Errorf("err = %v; want %v (and ErrInvalidToken)", err, tc.want)
			}
			if c != nil {
				t.Errorf("claims returned with an error")
			}
			if len(token) > 20 && strings.Contains(err.Error(), token[:20]) {
				t.Errorf("error echoes the token: %v", err)
			}
		})
	}
	if n := ti.jwksFetches.Load(); n != 4 {
		t.Errorf("JWKS fetched %d times, want 4 (one per Verifier, no refetch)", n)
	}
}

func mustDecode(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestVerifyClaims(t *testing.T) {
	ti, clk, v := setup(t)
	now := clk.Now()
	c, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, now), nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{
		Issuer: ti.URL, Subject: "user-1", Audience: []string{testAudience},
		ExpiresAt: now.Add(15 * time.Minute), IssuedAt: now,
		ID: "tok-1", SessionID: "sess-1", AMR: []string{"pwd"},
		Email: "ada@example.com", EmailVerified: true,
		Roles: []string{"member", "editor"}, Scope: "profile:read posts:write",
		Permissions: []string{"profile:read", "posts:write"}, ClientID: "demo-app",
	}
	got, _ := json.Marshal(c)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("claims\n got %s\nwant %s", got, exp)
	}
	for _, tc := range []struct {
		f    func(string) bool
		arg  string
		want bool
	}{
		{c.HasRole, "editor", true}, {c.HasRole, "admin", false}, {c.HasRole, "", false},
		{c.HasPermission, "posts:write", true}, {c.HasPermission, "posts", false},
		{c.HasPermission, "profile:read posts:write", false}, {c.HasPermission, "", false},
	} {
		if got := tc.f(tc.arg); got != tc.want {
			t.Errorf("Has*(%q) = %v, want %v", tc.arg, got, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	ctx := context.Background()
	t.Run("discovery via oauth-authorization-server", func(t *testing.T) {
		ti := newTestIssuer(t)
		if _, err := New(ctx, ti.URL, testAudience); err != nil {
			t.Fatal(err)
		}
		if m, j := ti.metaFetches.Load(), ti.jwksFetches.Load(); m != 1 || j != 1 {
			t.Errorf("metadata fetched %d times, JWKS %d; want 1, 1", m, j)
		}
	})
	t.Run("falls back to openid-configuration", func(t *testing.T) {
		ti := newTestIssuer(t)
		ti.set(func(ti *testIssuer) { ti.oauthMissing = true })
		if _, err := New(ctx, ti.URL, testAudience); err != nil {
			t.Fatal(err)
		}
		if m := ti.metaFetches.Load(); m != 2 {
			t.Errorf("metadata fetched %d times, want 2", m)
		}
	})
	t.Run("WithJWKSURL skips discovery", func(t *testing.T) {
		ti := newTestIssuer(t)
		if _, err := New(ctx, ti.URL, testAudience, WithJWKSURL(ti.URL+"/.well-known/jwks.json")); err != nil {
			t.Fatal(err)
		}
		if m := ti.metaFetches.Load(); m != 0 {
			t.Errorf("metadata fetched %d times, want 0", m)
		}
	})

	fails := []struct {
		name    string
		prepare func(ti *testIssuer) (issuer string)
		opts    []Option
		want    error  // matched with errors.Is, when set
		msg     string // substring of the error
	}{
		{"issuer mismatch in metadata", func(ti *testIssuer) string {
			ti.set(func(ti *testIssuer) { ti.metaIssuer = "https://evil.example.com" })
			return ti.URL
		}, nil, ErrJWKSUnavailable, "does not match"},
		{"issuer with trailing slash vs metadata", func(ti *testIssuer) string { return ti.URL + "/" }, nil, ErrJWKSUnavailable, "does not match"},
		{"no metadata", func(ti *testIssuer) string { return ti.URL + "/nowhere" }, nil, ErrJWKSUnavailable, "no metadata document"},
		{"JWKS 500", func(ti *testIssuer) string {
			ti.set(func(ti *testIssuer) { ti.jwksStatus = 500 })
			return ti.URL
		}, nil, ErrJWKSUnavailable, "status 500"},
		{"JWKS not JSON", func(ti *testIssuer) string { ti.setRaw("<html>"); return ti.URL }, nil, ErrJWKSUnavailable, "decode JWKS"},
		{"JWKS with only unusable keys", func(ti *testIssuer) string {
			ti.setRaw(`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"},{"kty":"EC","crv":"P-256","kid":"bad","x":"AA","y":"AA"},{"kty":"XYZ","kid":"new"}]}`)
			return ti.URL
		}, nil, ErrJWKSUnavailable, "no usable signing key"},
		{"server unreachable", func(ti *testIssuer) string { ti.srv.Close(); return ti.URL }, nil, ErrJWKSUnavailable, "discovery"},
		{"HS256 not allowed", func(ti *testIssuer) string { return ti.URL }, []Option{WithAlgorithms("ES256", "HS256")}, nil, `"HS256" not supported`},
		{"none not allowed", func(ti *testIssuer) string { return ti.URL }, []Option{WithAlgorithms("none")}, nil, `"none" not supported`},
		{"no algorithms", func(ti *testIssuer) string { return ti.URL }, []Option{WithAlgorithms()}, nil, "no algorithms"},
		{"relative issuer", func(ti *testIssuer) string { return "login.example.com" }, nil, nil, "not an absolute"},
		{"bad max-age bounds", func(ti *testIssuer) string { return ti.URL }, []Option{WithMaxAgeBounds(time.Hour, time.Minute)}, nil, "inverted"},
	}
	for _, tc := range fails {
		t.Run(tc.name, func(t *testing.T) {
			ti := newTestIssuer(t)
			iss := tc.prepare(ti)
			v, err := New(ctx, iss, testAudience, tc.opts...)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if v != nil {
				t.Error("New returned a Verifier with an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v; want %v", err, tc.want)
			}
			t.Logf("New: %v", err)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v; want it to say %q", err, tc.msg)
			}
		})
	}
	t.Run("empty audience", func(t *testing.T) {
		if _, err := New(ctx, "https://login.example.com", ""); err == nil || !strings.Contains(err.Error(), "audience") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestMetadataURLs(t *testing.T) {
	got := metadataURLs("https://login.example.com/tenant1")
	want := []string{
		"https://login.example.com/tenant1/.well-known/oauth-authorization-server",
		"https://login.example.com/.well-known/oauth-authorization-server/tenant1",
		"https://login.example.com/tenant1/.well-known/openid-configuration",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := metadataURLs("https://login.example.com"); len(got) != 2 {
		t.Errorf("got %q", got)
	}
}

func TestUnknownKid(t *testing.T) {
	ti, clk, v := setup(t)
	ctx := context.Background()
	ghost := func() string {
		return sign(t, jwt.SigningMethodES256, keys().ghost, "ghost", claimsAt(ti.URL, clk.Now()), nil)
	}
	clk.Advance(DefaultMinRefetchInterval) // the start-up fetch no longer blocks a refetch

	_, err := v.Verify(ctx, ghost())
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v; want ErrUnknownKey", err)
	}
	if n := ti.jwksFetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (start-up + one refetch)", n)
	}

	// Within the interval, unknown kids cause no fetch at all, concurrently or not.
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, ghost()); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("err = %v; want ErrUnknownKey", err)
			}
		})
	}
	wg.Wait()
	if n := ti.jwksFetches.Load(); n != 2 {
		t.Fatalf("after a flood: JWKS fetched %d times, want 2", n)
	}
	// Known keys still verify during the flood's aftermath.
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)); err != nil {
		t.Fatal(err)
	}

	// After the interval, one more refetch.
	clk.Advance(DefaultMinRefetchInterval)
	_, _ = v.Verify(ctx, ghost())
	_, _ = v.Verify(ctx, ghost())
	if n := ti.jwksFetches.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times, want 3", n)
	}
}

func TestUnknownKidFloodConcurrent(t *testing.T) {
	ti, clk, v := setup(t)
	clk.Advance(DefaultMinRefetchInterval)
	token := sign(t, jwt.SigningMethodES256, keys().ghost, "ghost", claimsAt(ti.URL, clk.Now()), nil)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), token); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("err = %v; want ErrUnknownKey", err)
			}
		})
	}
	wg.Wait()
	if n := ti.jwksFetches.Load(); n > 2 {
		t.Fatalf("100 concurrent unknown kids: JWKS fetched %d times, want at most 2", n)
	}
}

func TestKeyRotation(t *testing.T) {
	ti, clk, v := setup(t)
	ctx := context.Background()
	k := keys()
	old := sign(t, jwt.SigningMethodES256, k.ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)

	// A new key is published; a token signed with it arrives.
	ti.setKeys(t, append(defaultJWKS(), jwk(k.ec2.Public(), "ec2", "ES256"))...)
	clk.Advance(time.Minute)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, k.ec2, "ec2", claimsAt(ti.URL, clk.Now()), nil)); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if n := ti.jwksFetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("token of the old key: %v", err)
	}

	// The old key is withdrawn; once the cache is stale its tokens fail.
	ti.setKeys(t, jwk(k.ec2.Public(), "ec2", "ES256"))
	clk.Advance(5 * time.Minute)
	old = sign(t, jwt.SigningMethodES256, k.ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)
	if _, err := v.Verify(ctx, old); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("token of a withdrawn key: err = %v; want ErrUnknownKey", err)
	}
}

func TestJWKSDownAfterStart(t *testing.T) {
	ti, clk, v := setup(t)
	ctx := context.Background()
	ti.set(func(ti *testIssuer) { ti.jwksStatus = 503 })
	clk.Advance(10 * time.Minute) // cache (max-age 300) is stale
	for i := range 3 {
		if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)); err != nil {
			t.Fatalf("verify %d with the endpoint down: %v", i, err)
		}
	}
	if n := ti.jwksFetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (no retry within the refetch interval)", n)
	}
	// An unknown kid does not hammer the failing endpoint either.
	_, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, keys().ghost, "ghost", claimsAt(ti.URL, clk.Now()), nil))
	if !errors.Is(err, ErrUnknownKey) {
		t.Errorf("err = %v; want ErrUnknownKey", err)
	}
	if n := ti.jwksFetches.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
	// After the interval it tries again, and recovers.
	ti.set(func(ti *testIssuer) { ti.jwksStatus = 0 })
	clk.Advance(DefaultMinRefetchInterval)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)); err != nil {
		t.Fatal(err)
	}
	if n := ti.jwksFetches.Load(); n != 3 {
		t.Errorf("JWKS fetched %d times, want 3", n)
	}
}

func TestLazyStart(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newClock()
	ctx := context.Background()
	ti.set(func(ti *testIssuer) { ti.jwksStatus = 502 })
	v, err := New(ctx, ti.URL, testAudience, WithClock(clk.Now), WithLazyStart())
	if err != nil {
		t.Fatalf("lazy New: %v", err)
	}
	if n := ti.jwksFetches.Load() + ti.metaFetches.Load(); n != 0 {
		t.Errorf("lazy New made %d requests", n)
	}
	token := func() string {
		return sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)
	}
	_, err = v.Verify(ctx, token())
	if !errors.Is(err, ErrJWKSUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v; want ErrJWKSUnavailable only", err)
	}
	if !strings.Contains(err.Error(), "status 502") {
		t.Errorf("err = %v; want the cause", err)
	}
	ti.set(func(ti *testIssuer) { ti.jwksStatus = 0 })
	if _, err = v.Verify(ctx, token()); !errors.Is(err, ErrJWKSUnavailable) {
		t.Errorf("within the refetch interval: err = %v; want ErrJWKSUnavailable", err)
	}
	if n := ti.jwksFetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
	clk.Advance(DefaultMinRefetchInterval)
	if _, err = v.Verify(ctx, token()); err != nil {
		t.Fatal(err)
	}
	if m := ti.metaFetches.Load(); m != 1 {
		t.Errorf("metadata fetched %d times, want 1 (kept once discovered)", m)
	}
}

func TestCacheMaxAge(t *testing.T) {
	tests := []struct {
		cacheControl string
		fresh        time.Duration // no refetch at this age
		stale        time.Duration // refetch at this age
	}{
		{"public, max-age=120", 119 * time.Second, 120 * time.Second},
		{"", DefaultMaxAge - time.Second, DefaultMaxAge},
		{"no-store", DefaultMinMaxAge - time.Second, DefaultMinMaxAge},
		{"public, max-age=5", DefaultMinMaxAge - time.Second, DefaultMinMaxAge},
		{"max-age=999999999", DefaultMaxMaxAge - time.Second, DefaultMaxMaxAge},
	}
	for _, tc := range tests {
		t.Run(tc.cacheControl, func(t *testing.T) {
			ti := newTestIssuer(t)
			ti.set(func(ti *testIssuer) { ti.cacheControl = tc.cacheControl })
			clk := newClock()
			start := clk.Now()
			v, err := New(context.Background(), ti.URL, testAudience, WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			verify := func() {
				t.Helper()
				tok := sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)
				if _, err := v.Verify(context.Background(), tok); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(tc.fresh)
			verify()
			if n := ti.jwksFetches.Load(); n != 1 {
				t.Fatalf("at age %v: JWKS fetched %d times, want 1", tc.fresh, n)
			}
			clk.Advance(start.Add(tc.stale).Sub(clk.Now()))
			verify()
			verify()
			if n := ti.jwksFetches.Load(); n != 2 {
				t.Fatalf("at age %v: JWKS fetched %d times, want 2", tc.stale, n)
			}
		})
	}
}

func TestLifetime(t *testing.T) {
	tests := []struct {
		cc, age string
		want    time.Duration
	}{
		{"", "", 5 * time.Minute},
		{"public, max-age=600", "", 10 * time.Minute},
		{"max-age=600", "120", 8 * time.Minute},
		{"public, max-age=\"600\"", "", 10 * time.Minute},
		{"MAX-AGE=600", "", 10 * time.Minute},
		{"no-cache", "", time.Minute},
		{"max-age=600, no-store", "", time.Minute},
		{"max-age=0", "", time.Minute},
		{"max-age=-1", "", time.Minute},
		{"max-age=abc", "", time.Minute},
		{"max-age=99999999999999999999", "", 24 * time.Hour},
		{"max-age=9999999", "", 24 * time.Hour},
		{"private", "", 5 * time.Minute},
	}
	for _, tc := range tests {
		h := make(map[string][]string)
		if tc.cc != "" {
			h["Cache-Control"] = []string{tc.cc}
		}
		if tc.age != "" {
			h["Age"] = []string{tc.age}
		}
		if got := lifetime(h, DefaultMaxAge, DefaultMinMaxAge, DefaultMaxMaxAge); got != tc.want {
			t.Errorf("lifetime(%q, Age %q) = %v, want %v", tc.cc, tc.age, got, tc.want)
		}
	}
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	k := keys()
	good, _ := json.Marshal(jwk(k.ec.Public(), "ec1", "ES256"))
	priv, _ := json.Marshal(jwk(k.ec, "ecpriv", "ES256"))
	enc, _ := json.Marshal(jwk(k.ec2.Public(), "enc", "ES256"))
	encUse := strings.Replace(string(enc), `"use":"sig"`, `"use":"enc"`, 1)
	noKID, _ := json.Marshal(jwk(k.ec2.Public(), "", "ES256"))
	body := `{"keys":[` + string(good) + `,` + string(priv) + `,` + encUse + `,` + string(noKID) +
		`,{"kty":"oct","kid":"hmac","k":"c2VjcmV0"},{"kty":"OKP","crv":"X25519","kid":"x","x":"AA"},{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"},{"kty":"PQ","kid":"future"}]}`
	got, err := parseJWKS([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got["ec1"]) != 1 {
		t.Errorf("keys = %v; want only ec1", got)
	}
}

func TestSingleFlight(t *testing.T) {
	ti, clk, v := setup(t)
	entered, gate := make(chan struct{}, 1), make(chan struct{})
	ti.set(func(ti *testIssuer) { ti.entered, ti.gate = entered, gate })
	clk.Advance(10 * time.Minute) // stale
	token := sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)

	const n = 50
	var started, done sync.WaitGroup
	started.Add(n)
	for range n {
		done.Go(func() {
			started.Done()
			if _, err := v.Verify(context.Background(), token); err != nil {
				t.Error(err)
			}
		})
	}
	<-entered
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let the callers pile up on the fetch
	close(gate)
	done.Wait()
	if got := ti.jwksFetches.Load(); got != 2 {
		t.Errorf("%d concurrent callers on a stale cache: JWKS fetched %d times, want 2", n, got)
	}
}

func TestCallerGivesUpOnFetch(t *testing.T) {
	ti := newTestIssuer(t)
	gate := make(chan struct{})
	ti.set(func(ti *testIssuer) { ti.gate = gate })
	defer close(gate)
	v, err := New(context.Background(), ti.URL, testAudience, WithLazyStart(), WithJWKSURL(ti.URL+"/.well-known/jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = v.Verify(ctx, "x.y.z")
	if !errors.Is(err, ErrJWKSUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v; want ErrJWKSUnavailable wrapping the deadline", err)
	}
}

func TestConcurrentVerify(t *testing.T) {
	ti, clk, v := setup(t, WithMinRefetchInterval(time.Second), WithMaxAgeBounds(time.Second, time.Hour))
	ti.set(func(ti *testIssuer) { ti.cacheControl = "max-age=1" })
	k := keys()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				switch {
				case g == 0 && i%10 == 0:
					clk.Advance(700 * time.Millisecond) // caches go stale now and then
				case g == 1 && i == 25:
					ti.setKeys(t, append(defaultJWKS(), jwk(k.ec2.Public(), "ec2", "ES256"))...)
				}
				key, kid := k.ec, "ec1"
				if g%2 == 1 {
					key, kid = k.ghost, "ghost"
				}
				tok := sign(t, jwt.SigningMethodES256, key, kid, claimsAt(ti.URL, clk.Now()), nil)
				_, err := v.Verify(ctx, tok)
				if kid == "ec1" && err != nil {
					t.Errorf("valid token: %v", err)
				}
				if kid == "ghost" && !errors.Is(err, ErrUnknownKey) {
					t.Errorf("ghost token: err = %v", err)
				}
			}
		})
	}
	wg.Wait()
}

package session

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testSigner returns a Manager whose keyring holds one in-memory ES256 key
// (no store is needed while the snapshot is fresh) and that key.
func testSigner(t *testing.T) (*Manager, *Key) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	k := &Key{SigningKey: SigningKey{ID: "k1", Algorithm: ES256, CreatedAt: now, ActiveAt: now.Add(-time.Minute)}, private: priv, method: jwt.SigningMethodES256}
	kr := &Keyring{opts: KeyringOptions{Algorithm: ES256, ReloadInterval: time.Hour, Now: time.Now}, missMin: time.Hour}
	kr.set = &keySet{keys: []*Key{k}, byID: map[string]*Key{k.ID: k}, loadedAt: now}
	opts := Options{Issuer: "https://issuer.test"}
	opts.defaults()
	return &Manager{keys: kr, opts: opts}, k
}

// TestParseAccessRefusesCritAndStringDates: a genuinely signed token with a
// crit header (RFC 7515 §4.1.11) or with exp, iat or nbf given as a string
// holding a number is refused; the same token without them is accepted.
func TestParseAccessRefusesCritAndStringDates(t *testing.T) {
	m, k := testSigner(t)
	now := time.Now()
	sign := func(mod func(jwt.MapClaims), hdr map[string]any) string {
		c := jwt.MapClaims{
			"iss": m.opts.Issuer, "aud": m.opts.Audience, "sub": "u1", "sid": "s1",
			"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": "j1",
		}
		if mod != nil {
			mod(c)
		}
		tok := jwt.NewWithClaims(k.method, c)
		tok.Header["typ"] = AccessTokenType
		tok.Header["kid"] = k.ID
		for n, v := range hdr {
			tok.Header[n] = v
		}
		s, err := tok.SignedString(k.private)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	asString := func(name string) func(jwt.MapClaims) {
		return func(c jwt.MapClaims) {
			v, ok := c[name].(int64)
			if !ok {
				v = now.Unix()
			}
			c[name] = strconv.FormatInt(v, 10) // "exp":"1700000000"
		}
	}
	if _, err := m.ParseAccess(t.Context(), sign(nil, nil)); err != nil {
		t.Fatalf("genuine token: %v", err)
	}
	if _, err := m.ParseAccess(t.Context(), sign(func(c jwt.MapClaims) { c["nbf"] = now.Unix() }, nil)); err != nil {
		t.Fatalf("genuine token with nbf: %v", err)
	}
	for name, tok := range map[string]string{
		"crit":       sign(nil, map[string]any{"crit": []string{"x-ext"}, "x-ext": true}),
		"crit empty": sign(nil, map[string]any{"crit": []string{}}),
		"exp string": sign(asString("exp"), nil),
		"iat string": sign(asString("iat"), nil),
		"nbf string": sign(asString("nbf"), nil),
	} {
		if _, err := m.ParseAccess(t.Context(), tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

// Key.sign makes the JWS jwt.Token.SignedString makes (the same header and
// payload, a signature that verifies), for each type, from a cached header.
func TestKeySignMatchesTheJWTLibrary(t *testing.T) {
	_, k := testSigner(t)
	claims := jwt.MapClaims{"sub": "u1", "scope": "openid", "exp": 1700000000}
	for _, typ := range []string{AccessTokenType, IDTokenType, AccessTokenType} {
		signed, err := k.sign(typ, claims)
		if err != nil {
			t.Fatal(err)
		}
		lib := jwt.NewWithClaims(k.method, claims)
		lib.Header["typ"], lib.Header["kid"] = typ, k.ID
		want, err := lib.SigningString()
		if err != nil {
			t.Fatal(err)
		}
		i := strings.LastIndexByte(signed, '.')
		if signed[:i] != want {
			t.Fatalf("%s: signing string %q, the library's %q", typ, signed[:i], want)
		}
		sig, err := base64.RawURLEncoding.DecodeString(signed[i+1:])
		if err != nil {
			t.Fatal(err)
		}
		if err := k.method.Verify(want, sig, k.Public()); err != nil {
			t.Fatalf("%s: signature: %v", typ, err)
		}
	}
}

package api_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/unilogin/unilogin/api/apitest"
)

func TestBadInputGetsAClear4xx(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("kim@example.com", apitest.Password)
	form := "application/x-www-form-urlencoded"
	big := strings.Repeat("a", 70<<10)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	cases := []struct {
		Name, method, path, ctype, Body string
		Header                          []string
		Status                          int
		code                            string
	}{
		{"signup malformed JSON", "POST", "/signup", "application/json", `{"email":`, nil, 400, "invalid_request"},
		{"signup truncated", "POST", "/signup", "application/json", `{"email":"a@b.co","password":"xx`, nil, 400, "invalid_request"},
		{"signup wrong type", "POST", "/signup", "application/json", `{"email":5,"password":"long enough pw"}`, nil, 400, "invalid_request"},
		{"signup array body", "POST", "/signup", "application/json", `[1,2]`, nil, 400, "invalid_request"},
		{"signup deeply nested", "POST", "/signup", "application/json", `{"email":` + deep[:30000] + `}`, nil, 400, "invalid_request"},
		{"signup trailing data", "POST", "/signup", "application/json", `{"email":"a@b.co","password":"long enough pw"} {}`, nil, 400, "invalid_request"},
		{"signup wrong content type", "POST", "/signup", "text/plain", `{"email":"a@b.co","password":"long enough pw"}`, nil, 400, "invalid_request"},
		{"signup form body", "POST", "/signup", form, `email=a@b.co&password=longenoughpw`, nil, 400, "invalid_request"},
		{"signup missing password", "POST", "/signup", "application/json", `{"email":"a@b.co"}`, nil, 400, "invalid_request"},
		{"signup invalid email", "POST", "/signup", "application/json", `{"email":"not an email","password":"long enough pw"}`, nil, 400, "invalid_request"},
		{"signup display-name email", "POST", "/signup", "application/json", `{"email":"Kim <k@example.com>","password":"long enough pw"}`, nil, 400, "invalid_request"},
		{"signup short password", "POST", "/signup", "application/json", `{"email":"a@b.co","password":"seven77"}`, nil, 400, "invalid_request"},
		{"signup common password", "POST", "/signup", "application/json", `{"email":"a@b.co","password":"password123"}`, nil, 400, "invalid_request"},
		{"signup 257 characters", "POST", "/signup", "application/json", `{"email":"a@b.co","password":"` + strings.Repeat("ü", 257) + `"}`, nil, 400, "invalid_request"},
		{"signup taken email", "POST", "/signup", "application/json", `{"email":"KIM@example.com","password":"long enough pw"}`, nil, 409, "email_taken"},
		{"signup oversized", "POST", "/signup", "application/json", `{"email":"` + big + `"}`, nil, 413, "invalid_request"},
		{"token oversized", "POST", "/token", form, "grant_type=password&username=" + big, nil, 413, "invalid_request"},
		{"token JSON body", "POST", "/token", "application/json", `{"grant_type":"password"}`, nil, 400, "invalid_request"},
		{"token no content type", "POST", "/token", "", `grant_type=password`, nil, 400, "invalid_request"},
		{"token bad encoding", "POST", "/token", form, `grant_type=password&username=%zz`, nil, 400, "invalid_request"},
		{"token missing grant_type", "POST", "/token", form, `username=kim@example.com`, nil, 400, "invalid_request"},
		{"token unsupported grant", "POST", "/token", form, `grant_type=implicit`, nil, 400, "unsupported_grant_type"},
		{"token client_credentials without a client", "POST", "/token", form, `grant_type=client_credentials`, nil, 401, "invalid_client"},
		{"token implicit-looking grant", "POST", "/token", form, `grant_type=urn:ietf:params:oauth:grant-type:device_code`, nil, 400, "unsupported_grant_type"},
		{"token repeated parameter", "POST", "/token", form, `grant_type=password&grant_type=refresh_token`, nil, 400, "invalid_request"},
		{"token missing password", "POST", "/token", form, `grant_type=password&username=kim@example.com`, nil, 400, "invalid_request"},
		{"token wrong password", "POST", "/token", form, `grant_type=password&username=kim@example.com&password=nope+nope+nope`, nil, 400, "invalid_grant"},
		{"token unknown user", "POST", "/token", form, `grant_type=password&username=nobody@example.com&password=nope+nope+nope`, nil, 400, "invalid_grant"},
		{"token unknown client", "POST", "/token", form, `grant_type=password&username=kim@example.com&password=x&client_id=nope`, nil, 401, "invalid_client"},
		{"token wrong client secret", "POST", "/token", form, `grant_type=password&username=kim@example.com&password=x`, []string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, "wrong")}, 401, "invalid_client"},
		{"token two client auth methods", "POST", "/token", form, `grant_type=password&client_secret=x`, []string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)}, 400, "invalid_request"},
		{"token missing refresh_token", "POST", "/token", form, `grant_type=refresh_token`, nil, 400, "invalid_request"},
		{"token unknown refresh_token", "POST", "/token", form, `grant_type=refresh_token&refresh_token=abc`, nil, 400, "invalid_grant"},
		{"token huge refresh_token", "POST", "/token", form, `grant_type=refresh_token&refresh_token=` + strings.Repeat("x", 4000), nil, 400, "invalid_grant"},
		{"token unknown code", "POST", "/token", form, `grant_type=authorization_code&code=abc&redirect_uri=` + url.QueryEscape(apitest.AppRedirect) + `&client_id=` + apitest.PublicClientID, nil, 400, "invalid_grant"},
		{"token code without client", "POST", "/token", form, `grant_type=authorization_code&code=abc&redirect_uri=x`, nil, 400, "invalid_request"},
		{"revoke without token", "POST", "/revoke", form, ``, nil, 400, "invalid_request"},
		{"revoke wrong content type", "POST", "/revoke", "application/json", `{}`, nil, 400, "invalid_request"},
		{"me without token", "GET", "/users/me", "", ``, nil, 401, "invalid_token"},
		{"me with basic auth", "GET", "/users/me", "", ``, []string{"Authorization", "Basic Zm9vOmJhcg=="}, 401, "invalid_token"},
		{"me with garbage token", "GET", "/users/me", "", ``, []string{"Authorization", "Bearer garbage"}, 401, "invalid_token"},
		{"me with 3 garbage parts", "GET", "/users/me", "", ``, []string{"Authorization", "Bearer a.b.c"}, 401, "invalid_token"},
		{"unknown route", "GET", "/nope", "", ``, nil, 404, "not_found"},
		{"wrong method", "GET", "/token", "", ``, nil, 405, "invalid_request"},
		{"password change malformed", "POST", "/users/me/password", "application/json", `{`, nil, 401, "invalid_token"},
		{"unknown provider", "GET", "/auth/nope/login", "", ``, nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			r := e.Do(tc.method, tc.path, tc.ctype, strings.NewReader(tc.Body), tc.Header...)
			if r.Status != tc.Status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.Status, r.Body)
			}
			if code := r.ErrCode(t); code != tc.code {
				t.Fatalf("error %q, want %q", code, tc.code)
			}
			if tc.Status == 401 && tc.code == "invalid_token" && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("no WWW-Authenticate: Bearer header")
			}
			if tc.path == "/token" && r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("token error without Cache-Control: no-store")
			}
		})
	}
	// RFC 6750 §3.1: no token at all -> no error attribute in the challenge.
	if h := e.Get("/users/me").Header.Get("WWW-Authenticate"); strings.Contains(h, "error=") {
		t.Fatalf("challenge without a token carries an error: %s", h)
	}
	if h := e.Get("/users/me", "Authorization", "Bearer x").Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
		t.Fatalf("challenge for a bad token: %s", h)
	}
}

// TestForgedAccessTokensAreRefused covers the classic JWT attacks against
// our own bearer check.
func TestForgedAccessTokensAreRefused(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("lou@example.com", apitest.Password)
	good := e.Login("lou@example.com", apitest.Password).AccessToken
	parts := strings.Split(good, ".")
	var header map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &header)
	var claims jwt.MapClaims
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(pb, &claims)
	kid := header["kid"].(string)

	var set jose.JSONWebKeySet
	_ = json.Unmarshal(e.Get("/.well-known/jwks.json").Body, &set)
	pub := set.Key(kid)[0].Key.(*ecdsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		mut(c)
		return c
	}
	hs256 := func(key []byte, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tk.Header["kid"], tk.Header["typ"] = kid, "at+jwt"
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := map[string]string{
		"alg none":                 enc(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}) + "." + parts[1] + ".",
		"HS256 with the PEM key":   hs256(pemKey, claims),
		"HS256 with the DER key":   hs256(der, claims),
		"tampered payload":         parts[0] + "." + enc(with(func(c jwt.MapClaims) { c["roles"] = []string{"admin"} })) + "." + parts[2],
		"wrong typ":                enc(map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid}) + "." + parts[1] + "." + parts[2],
		"unknown kid":              enc(map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": "nope"}) + "." + parts[1] + "." + parts[2],
		"RS256 header on EC key":   enc(map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": kid}) + "." + parts[1] + "." + parts[2],
		"signature stripped":       parts[0] + "." + parts[1] + ".",
		"truncated":                good[:len(good)-10],
		"two tokens concatenated":  good + good,
		"whitespace inside":        parts[0] + ". " + parts[1] + "." + parts[2],
		"empty segments":           "..",
		"non-base64 payload":       parts[0] + ".!!!." + parts[2],
		"payload not JSON":         parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + parts[2],
		"HS256 wrong iss (forged)": hs256(pemKey, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.Get("/users/me", apitest.Bearer(tok)...)
			if r.Status != http.StatusUnauthorized || r.ErrCode(t) != "invalid_token" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	// Expired: the clock moves past exp (15 min) and the leeway.
	e.Clock.Advance(16 * time.Minute)
	if r := e.Get("/users/me", apitest.Bearer(good)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", r.Status)
	}
}

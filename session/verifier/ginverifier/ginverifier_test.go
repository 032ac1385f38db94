package ginverifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/unilogin/unilogin/session/verifier"
)

const audience = "https://api.example.com"

// setup serves a JWKS with one ES256 key and returns a Verifier on it and a
// function signing tokens with that key (exp relative to now).
func setup(t *testing.T) (*verifier.Verifier, func(exp time.Duration) string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	issuer := "https://login.example.com"
	v, err := verifier.New(context.Background(), issuer, audience, verifier.WithJWKSURL(srv.URL+"/jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	return v, func(exp time.Duration) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"iss": issuer, "sub": "user-1", "aud": []string{audience},
			"exp": now.Add(exp).Unix(), "iat": now.Add(-time.Hour).Unix(),
			"sid": "s1", "amr": []string{"github"},
			"roles": []string{"member"}, "scope": "profile:read posts:write",
		})
		tok.Header["typ"] = "at+jwt"
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func TestGinMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	v, sign := setup(t)
	valid, expired := sign(15*time.Minute), sign(-time.Minute)

	r := gin.New()
	hello := func(c *gin.Context) {
		cl, ok := Claims(c)
		if !ok {
			t.Error("handler reached without claims")
			return
		}
		c.String(http.StatusOK, cl.Subject)
	}
	api := r.Group("/api", Middleware(v))
	api.GET("/me", hello)
	api.GET("/member", RequireRole("member"), hello)
	api.GET("/admin", RequireRole("admin"), hello)
	api.GET("/posts", RequirePermission("posts:write"), hello)
	api.GET("/users", RequirePermission("users:admin"), hello)
	r.GET("/unprotected", RequireRole("member"), hello) // misconfigured: no Middleware

	tests := []struct {
		name, path string
		auth       []string
		status     int
		challenge  string
		body       errorBody
	}{
		{"valid", "/api/me", []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"lower-case scheme", "/api/me", []string{"BEARER " + valid}, 200, "", errorBody{}},
		{"no header", "/api/me", nil, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"wrong scheme", "/api/me", []string{"Basic dXNlcjpwYXNz"}, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"expired", "/api/me", []string{"Bearer " + expired}, 401,
			`Bearer error="invalid_token", error_description="token expired"`, errorBody{"invalid_token", "token expired"}},
		{"tampered", "/api/me", []string{"Bearer " + valid[:len(valid)-8] + "AAAAAAAA"}, 401,
			`Bearer error="invalid_token", error_description="invalid signature"`, errorBody{"invalid_token", "invalid signature"}},
		{"garbage", "/api/me", []string{"Bearer x.y.z"}, 401,
			`Bearer error="invalid_token", error_description="malformed token"`, errorBody{"invalid_token", "malformed token"}},
		{"two headers", "/api/me", []string{"Bearer " + valid, "Bearer " + valid}, 400,
			`Bearer error="invalid_request", error_description="more than one Authorization header"`,
			errorBody{"invalid_request", "more than one Authorization header"}},
		{"role present", "/api/member", []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"role missing", "/api/admin", []string{"Bearer " + valid}, 403,
			`Bearer error="insufficient_scope", error_description="missing role admin"`,
			errorBody{"insufficient_scope", "missing role admin"}},
		{"permission present", "/api/posts", []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"permission missing", "/api/users", []string{"Bearer " + valid}, 403,
			`Bearer error="insufficient_scope", error_description="missing permission users:admin", scope="users:admin"`,
			errorBody{"insufficient_scope", "missing permission users:admin"}},
		{"role check without middleware", "/unprotected", []string{"Bearer " + valid}, 401, "Bearer",
			errorBody{"invalid_token", "missing bearer token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			for _, a := range tc.auth {
				req.Header.Add("Authorization", a)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if tc.status == http.StatusOK {
				if rec.Body.String() != "user-1" {
					t.Errorf("body = %q", rec.Body)
				}
				return
			}
			var got errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if got != tc.body {
				t.Errorf("body = %+v, want %+v", got, tc.body)
			}
			if strings.Contains(rec.Body.String(), valid[:30]) {
				t.Error("response echoes the token")
			}
		})
	}
}

// The gin and net/http middlewares must answer identically.
func TestSameAsNetHTTP(t *testing.T) {
	gin.SetMode(gin.TestMode)
	v, sign := setup(t)
	r := gin.New()
	r.GET("/x", Middleware(v), RequirePermission("users:admin"), func(c *gin.Context) { c.Status(200) })
	std := v.Middleware(verifier.RequirePermission("users:admin")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	for _, auth := range []string{"", "Bearer junk", "Bearer " + sign(-time.Hour), "Bearer " + sign(time.Hour)} {
		req := func() *http.Request {
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			return req
		}
		a, b := httptest.NewRecorder(), httptest.NewRecorder()
		r.ServeHTTP(a, req())
		std.ServeHTTP(b, req())
		if a.Code != b.Code || a.Body.String() != b.Body.String() ||
			a.Header().Get("WWW-Authenticate") != b.Header().Get("WWW-Authenticate") ||
			a.Header().Get("Content-Type") != b.Header().Get("Content-Type") {
			t.Errorf("auth %.20q: gin %d %q %q; net/http %d %q %q", auth,
				a.Code, a.Header().Get("WWW-Authenticate"), a.Body,
				b.Code, b.Header().Get("WWW-Authenticate"), b.Body)
		}
	}
}

package verifier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func TestMiddleware(t *testing.T) {
	ti, clk, v := setup(t)
	valid := sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now()), nil)
	expired := sign(t, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, clk.Now().Add(-time.Hour)), nil)
	down := func() *Verifier { // never reached its JWKS
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		v, err := New(context.Background(), gone.URL, testAudience, WithLazyStart())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}()

	okHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		if !ok {
			t.Error("handler reached without claims")
			return
		}
		_, _ = w.Write([]byte(c.Subject))
	})
	chain := func(v *Verifier, mws ...func(http.Handler) http.Handler) http.Handler {
		var h http.Handler = okHandler
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		if v != nil {
			h = v.Middleware(h)
		}
		return h
	}

	tests := []struct {
		name      string
		handler   http.Handler
		auth      []string
		status    int
		challenge string    // WWW-Authenticate, exact
		body      errorBody // for errors
	}{
		{"valid token", chain(v), []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"scheme in lower case", chain(v), []string{"bearer " + valid}, 200, "", errorBody{}},
		{"several spaces", chain(v), []string{"Bearer   " + valid}, 200, "", errorBody{}},
		{"no header", chain(v), nil, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"empty header", chain(v), []string{""}, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"scheme only", chain(v), []string{"Bearer"}, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"wrong scheme", chain(v), []string{"Basic dXNlcjpwYXNz"}, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"token without scheme", chain(v), []string{valid}, 401, "Bearer", errorBody{"invalid_token", "missing bearer token"}},
		{"expired token", chain(v), []string{"Bearer " + expired}, 401,
			`Bearer error="invalid_token", error_description="token expired"`, errorBody{"invalid_token", "token expired"}},
		{"garbage token", chain(v), []string{"Bearer not-a-jwt"}, 401,
			`Bearer error="invalid_token", error_description="malformed token"`, errorBody{"invalid_token", "malformed token"}},
		{"two Authorization headers", chain(v), []string{"Bearer " + valid, "Bearer " + expired}, 400,
			`Bearer error="invalid_request", error_description="more than one Authorization header"`,
			errorBody{"invalid_request", "more than one Authorization header"}},
		{"keys unavailable", chain(down), []string{"Bearer " + valid}, 503, "",
			errorBody{"temporarily_unavailable", "token cannot be verified right now"}},
		{"role present", chain(v, RequireRole("editor")), []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"role missing", chain(v, RequireRole("admin")), []string{"Bearer " + valid}, 403,
			`Bearer error="insufficient_scope", error_description="missing role admin"`,
			errorBody{"insufficient_scope", "missing role admin"}},
		{"permission present", chain(v, RequirePermission("posts:write")), []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"permission missing", chain(v, RequirePermission("users:admin")), []string{"Bearer " + valid}, 403,
			`Bearer error="insufficient_scope", error_description="missing permission users:admin", scope="users:admin"`,
			errorBody{"insufficient_scope", "missing permission users:admin"}},
		{"both checks pass", chain(v, RequireRole("member"), RequirePermission("profile:read")), []string{"Bearer " + valid}, 200, "", errorBody{}},
		{"role check without Middleware", chain(nil, RequireRole("member")), []string{"Bearer " + valid}, 401, "Bearer",
			errorBody{"invalid_token", "missing bearer token"}},
		{"role check, no token", chain(v, RequireRole("member")), nil, 401, "Bearer",
			errorBody{"invalid_token", "missing bearer token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			for _, a := range tc.auth {
				req.Header.Add("Authorization", a)
			}
			rec := httptest.NewRecorder()
			tc.handler.ServeHTTP(rec, req)
			checkResponse(t, rec, tc.status, tc.challenge, tc.body, tc.auth)
		})
	}
}

// checkResponse checks an error response, or a 200 from the test handler.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder, status int, challenge string, body errorBody, auth []string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate = %q, want %q", got, challenge)
	}
	if status == http.StatusOK {
		if rec.Body.String() != "user-1" {
			t.Errorf("body = %q, want the handler's", rec.Body)
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var got errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if got != body {
		t.Errorf("body = %+v, want %+v", got, body)
	}
	for _, a := range auth {
		if _, tok, ok := strings.Cut(a, " "); ok && len(tok) > 8 && strings.Contains(rec.Body.String()+rec.Header().Get("WWW-Authenticate"), tok) {
			t.Error("response echoes the token")
		}
	}
}

func TestQuoteSafe(t *testing.T) {
	if got := quoteSafe("a\"b\\c\nd é"); got != `a?b?c?d ?` {
		t.Errorf("quoteSafe = %q", got)
	}
	rec := httptest.NewRecorder()
	WriteError(rec, &InsufficientScopeError{Permission: `x", error="evil`})
	if got := rec.Header().Get("WWW-Authenticate"); strings.Count(got, `"`) != 6 {
		t.Errorf("WWW-Authenticate = %q: attribute injection", got)
	}
}

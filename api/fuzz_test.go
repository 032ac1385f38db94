package api_test

// Fuzz targets for every parser of untrusted input the API owns. `go test`
// runs only the seeds; `make fuzz` (or go test -fuzz '^FuzzX$' ./api/)
// explores. Each target serves requests with the real router over the
// embedded store, in process (no network), so an iteration is cheap.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/unilogin/unilogin/api/apitest"
)

// serve runs one request through the router and checks what every answer
// must satisfy: no 5xx (a panic would be a 500 from the recoverer), and an
// error body in the contract's shape.
func serve(t *testing.T, e *apitest.Env, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["error"] == "" {
			t.Fatalf("%d without the contract's error object: %q", rec.Code, rec.Body.Bytes())
		}
	}
	return rec
}

// FuzzSignupBody: any body and content type at POST /signup is 201, 400,
// 409 or 413, never a 5xx; a 201 stored exactly the email it was sent.
func FuzzSignupBody(f *testing.F) {
	e := apitest.NewEnv(f, apitest.EnvOptions{})
	for _, s := range []struct{ ctype, Body string }{
		{"application/json", `{"email":"a@example.com","password":"correct horse battery"}`},
		{"application/json", `{"email":"a@example.com","password":"correct horse battery","name":"Ann"}`},
		{"application/json", `{"email":"a@example.com"}`},
		{"application/json", `{"email":5,"password":[]}`},
		{"application/json", `{"email":"a@b.co","password":"\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00"}`},
		{"application/json", `{"email":"a@b.co","password":"\ud800xxxxxxxx"}`},
		{"application/json", "{\"email\":\"\xff@b.co\"}"},
		{"application/json", `[[[[[[[[[[]]]]]]]]]]`},
		{"application/json", `{"email":"a@b.co"} {}`},
		{"application/json; charset=utf-8", `{"email":1e400}`},
		{"application/x-www-form-urlencoded", "email=a@b.co&password=x"},
		{"text/plain", ""},
		{"", "{}"},
	} {
		f.Add(s.ctype, []byte(s.Body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		req := httptest.NewRequest("POST", "/signup", bytes.NewReader(body))
		if ctype != "" {
			req.Header["Content-Type"] = []string{ctype}
		}
		rec := serve(t, e, req)
		switch rec.Code {
		case http.StatusCreated:
			var in struct{ Email string }
			var out struct{ Email *string }
			if json.Unmarshal(body, &in) != nil || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Email == nil ||
				*out.Email != strings.TrimSpace(in.Email) || !utf8.ValidString(*out.Email) {
				t.Fatalf("201 for %q stored %s", body, rec.Body.Bytes())
			}
		case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// FuzzTokenForm: any form body at POST /token is never a 5xx, and only a
// correct password grant (or a valid refresh token, which the fuzzer cannot
// guess) is a 200.
func FuzzTokenForm(f *testing.F) {
	e := apitest.NewEnv(f, apitest.EnvOptions{})
	e.Signup("kim@example.com", apitest.Password)
	good := url.Values{"grant_type": {"password"}, "username": {"kim@example.com"}, "password": {apitest.Password}}.Encode()
	for _, s := range []string{
		good,
		"grant_type=password&username=kim%40example.com&password=wrong",
		"grant_type=refresh_token&refresh_token=abc",
		"grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&client_id=spa",
		"grant_type=password&grant_type=password",
		"grant_type=%zz",
		"a=%00&b=%ff",
		";;;&&&===",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := serve(t, e, req)
		if rec.Code == http.StatusOK {
			form, err := url.ParseQuery(body)
			if err != nil || form.Get("grant_type") != "password" || form.Get("password") != apitest.Password ||
				!strings.EqualFold(strings.TrimSpace(form.Get("username")), "kim@example.com") {
				t.Fatalf("200 for %q", body)
			}
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("/token answer without Cache-Control: no-store")
		}
	})
}

// FuzzBearerToken: any Authorization header at GET /users/me is 200 or
// 401, never a 5xx; a 200 needs a three-part JWS whose signed content is
// the genuine token's (base64 may have non-canonical spellings of it).
func FuzzBearerToken(f *testing.F) {
	e := apitest.NewEnv(f, apitest.EnvOptions{})
	e.Signup("kim@example.com", apitest.Password)
	good := e.Login("kim@example.com", apitest.Password).AccessToken
	parts := strings.Split(good, ".")
	for _, s := range []string{
		"Bearer " + good,
		"bearer " + good,
		"Bearer  " + good + " ",
		"Bearer " + parts[0] + "." + parts[1] + ".",
		"Bearer " + parts[0] + ".e30." + parts[2],
		"Bearer eyJhbGciOiJub25lIn0.e30.",
		"Bearer a.b.c",
		"Bearer ....",
		"Bearer",
		"Basic Zm9vOmJhcg==",
		"Bearer " + strings.Repeat("A", 5000),
		"",
	} {
		f.Add(s)
	}
	decoded := func(tok string) [][]byte {
		var out [][]byte
		for _, p := range strings.Split(tok, ".") {
			b, err := base64.RawURLEncoding.DecodeString(p)
			if err != nil {
				return nil
			}
			out = append(out, b)
		}
		return out
	}
	want := decoded(good)
	f.Fuzz(func(t *testing.T, authz string) {
		req := httptest.NewRequest("GET", "/users/me", nil)
		if authz != "" {
			req.Header["Authorization"] = []string{authz}
		}
		rec := serve(t, e, req)
		switch rec.Code {
		case http.StatusOK:
			tok := authzToken(authz)
			if got := decoded(tok); len(got) != 3 || !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("200 for a token that is not the genuine one: %q", authz)
			}
		case http.StatusUnauthorized:
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without a Bearer challenge")
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
		// The session layer's parser, directly.
		if _, err := e.Sessions.ParseAccess(t.Context(), authz); err == nil {
			if got := decoded(authz); len(got) != 3 || !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("ParseAccess accepted %q", authz)
			}
		}
	})
}

// authzToken is the token of an Authorization header, as bearerToken reads it.
func authzToken(h string) string {
	_, rest, _ := strings.Cut(h, " ")
	return strings.TrimSpace(rest)
}

// FuzzRedirectURI: the router never redirects to what is not exactly a
// registered string of the registered client (checkRedirect itself:
// FuzzCheckRedirect).
func FuzzRedirectURI(f *testing.F) {
	e := apitest.NewFlowEnv(f, apitest.FlowEnvOptions{}).Env
	for _, s := range [][2]string{
		{apitest.PublicClientID, apitest.AppRedirect},
		{apitest.PublicClientID, "http://127.0.0.1:9999/cb"},
		{apitest.PublicClientID, apitest.AppRedirect + "/"},
		{apitest.PublicClientID, apitest.AppRedirect + "?x=1"},
		{apitest.PublicClientID, apitest.AppRedirect + "#f"},
		{apitest.PublicClientID, "HTTPS://app.example.com/callback"},
		{apitest.PublicClientID, "https://app.example.com/callback/../callback"},
		{apitest.PublicClientID, "https://app.example.com%2fcallback"},
		{apitest.PublicClientID, "https://app.example.com.evil.example/callback"},
		{apitest.PublicClientID, "https://evil.example@app.example.com/callback"},
		{apitest.PublicClientID, " " + apitest.AppRedirect},
		{apitest.PublicClientID, "http://127.0.0.1:9998/cb"},
		{apitest.TestClientID, apitest.AppRedirect},
		{"", apitest.AppRedirect},
		{"nope", apitest.AppRedirect},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, clientID, redirectURI string) {
		cl, known := e.Cfg.Client(clientID)
		exact := known && clientID != "" && slices.Contains(cl.RedirectURIs, redirectURI)
		// Through the router, an unregistered redirect is shown, never followed.
		if !exact {
			q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}}
			rec := serve(t, e, httptest.NewRequest("GET", "/auth/corp/login?"+q.Encode(), nil))
			if rec.Code == http.StatusFound || rec.Header().Get("Location") != "" {
				t.Fatalf("redirected to %q", rec.Header().Get("Location"))
			}
		}
	})
}

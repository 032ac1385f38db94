package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

// TestHostileBodiesGet4xx adds to TestBadInputGetsAClear4xx: encodings,
// control characters, numbers and shapes a JSON or form parser may choke on.
// None may be a 5xx, and each is the contract's error object.
func TestHostileBodiesGet4xx(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	const js, form = "application/json", "application/x-www-form-urlencoded"
	cases := []struct {
		Name, method, path, ctype, Body string
		Status                          int
		code                            string
	}{
		{"invalid UTF-8 in the email", "POST", "/signup", js, "{\"email\":\"a\xff@example.com\",\"password\":\"" + apitest.Password + "\"}", 400, "invalid_request"},
		{"invalid UTF-8 in the password", "POST", "/signup", js, "{\"email\":\"u1@example.com\",\"password\":\"correct \xc3\x28 horse battery\"}", 400, "invalid_request"},
		{"invalid UTF-8 outside strings", "POST", "/signup", js, "{\xff\"email\":1}", 400, "invalid_request"},
		{"UTF-16 body", "POST", "/signup", "application/json; charset=utf-16", "\xff\xfe{\x00\"\x00e\x00\"\x00:\x001\x00}\x00", 400, "invalid_request"},
		{"raw NUL in a string", "POST", "/signup", js, "{\"email\":\"a\x00@example.com\",\"password\":\"" + apitest.Password + "\"}", 400, "invalid_request"},
		{"escaped NUL in the email", "POST", "/signup", js, `{"email":"a\u0000@example.com","password":"` + apitest.Password + `"}`, 400, "invalid_request"},
		{"lone surrogate in the email", "POST", "/signup", js, `{"email":"a\ud800@example.com","password":"` + apitest.Password + `"}`, 400, "invalid_request"},
		{"huge number", "POST", "/signup", js, `{"email":1e999999,"password":"x"}`, 400, "invalid_request"},
		{"huge integer name", "POST", "/signup", js, `{"email":"u2@example.com","password":"` + apitest.Password + `","name":123456789012345678901234567890}`, 400, "invalid_request"},
		{"null body", "POST", "/signup", js, `null`, 400, "invalid_request"},
		{"string body", "POST", "/signup", js, `"hello"`, 400, "invalid_request"},
		{"nested objects", "POST", "/signup", js, `{"email":{"a":{"b":{"c":[1,2,{"d":null}]}}}}`, 400, "invalid_request"},
		{"deep nesting, objects", "POST", "/signup", js, strings.Repeat(`{"a":`, 10001) + strings.Repeat("}", 10001), 400, "invalid_request"},
		{"duplicate keys", "POST", "/signup", js, `{"email":"u3@example.com","email":"x","password":"` + apitest.Password + `"}`, 400, "invalid_request"},
		{"empty body", "POST", "/signup", js, ``, 400, "invalid_request"},
		{"whitespace only", "POST", "/signup", js, "  \n\t ", 400, "invalid_request"},
		{"truncated escape", "POST", "/signup", js, `{"email":"\u12`, 400, "invalid_request"},
		{"bad content-type parameters", "POST", "/signup", `application/json; charset="`, `{}`, 400, "invalid_request"},
		{"form: invalid UTF-8", "POST", "/token", form, "grant_type=password&username=%ff%fe&password=%c3%28xxxxxxxx", 400, "invalid_grant"},
		{"form: NUL bytes", "POST", "/token", form, "grant_type=password&username=a%00b&password=x%00y", 400, "invalid_grant"},
		{"form: semicolon separator", "POST", "/token", form, "grant_type=password;username=a", 400, "invalid_request"},
		{"form: truncated escape", "POST", "/token", form, "grant_type=password&username=a%2", 400, "invalid_request"},
		{"form: raw binary", "POST", "/token", form, "\x00\x01\x02\xff=\xfe", 400, "invalid_request"},
		{"form: 10k parameters", "POST", "/token", form, strings.Repeat("a=1&", 10000) + "grant_type=password", 400, "invalid_request"},
		{"revoke: NUL token", "POST", "/revoke", form, "token=%00", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			r := e.Do(tc.method, tc.path, tc.ctype, strings.NewReader(tc.Body))
			if r.Status != tc.Status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.Status, r.Body)
			}
			if tc.code != "" {
				if code := r.ErrCode(t); code != tc.code {
					t.Fatalf("error %q, want %q", code, tc.code)
				}
			}
		})
	}
}

// TestCORS: only listed origins are echoed, never "*", never with
// credentials; preflights are answered for the API routes.
func TestCORS(t *testing.T) {
	const app, evil = "https://app.example.com", "https://evil.example"
	e := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.HTTP.CORSOrigins = []string{app, "http://localhost:3000"} }})
	preflight := func(origin, path string) apitest.Response {
		return e.Do("OPTIONS", path, "", nil, "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization, content-type")
	}
	for _, path := range []string{"/token", "/signup", "/revoke", "/users/me", "/users/me/sessions/abc", "/logout"} {
		r := preflight(app, path)
		if r.Status != http.StatusNoContent {
			t.Fatalf("preflight %s: %d %s", path, r.Status, r.Body)
		}
		h := r.Header
		if h.Get("Access-Control-Allow-Origin") != app || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
			t.Fatalf("preflight %s headers: %v", path, h)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("preflight %s allows credentials", path)
		}
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Fatalf("preflight %s without Vary: Origin", path)
		}
	}
	// An unlisted origin: no CORS headers at all (the browser refuses).
	for _, origin := range []string{evil, "null", "https://app.example.com.evil.example", "http://app.example.com", "https://APP.example.com:443"} {
		r := preflight(origin, "/token")
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("preflight from %s allowed: %q", origin, got)
		}
		r = e.Get("/.well-known/jwks.json", "Origin", origin)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" || r.Status != http.StatusOK {
			t.Fatalf("GET from %s: %d, Access-Control-Allow-Origin %q", origin, r.Status, got)
		}
	}
	// Actual requests from a listed origin: echoed, with the headers a
	// client needs exposed; errors too (a 400 must be readable).
	r := e.PostForm("/token", nil, "Origin", app)
	if r.Status != http.StatusBadRequest || r.Header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("POST /token from %s: %d %v", app, r.Status, r.Header)
	}
	// Every response varies by Origin, with or without one, so a cache never
	// serves one origin's answer to another.
	if v := strings.Join(e.Get("/.well-known/jwks.json").Header.Values("Vary"), ","); !strings.Contains(v, "Origin") {
		t.Fatalf("JWKS without Vary: Origin (%q)", v)
	}
	// A plain OPTIONS (not a preflight) is not swallowed.
	if r := e.Do("OPTIONS", "/token", "", nil); r.Status != http.StatusMethodNotAllowed {
		t.Fatalf("plain OPTIONS: %d", r.Status)
	}

	// Without configured origins, nothing is ever allowed.
	plain := apitest.NewEnv(t, apitest.EnvOptions{})
	if r := plain.Do("OPTIONS", "/token", "", nil, "Origin", app, "Access-Control-Request-Method", "POST"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS without configuration: %v", r.Header)
	}
}

// TestHSTS: Strict-Transport-Security when serving TLS (Options.HSTS) or
// when the issuer is https; never on a plain-http development issuer.
func TestHSTS(t *testing.T) {
	on := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.HTTP.TLS.CertFile = "tls.crt" }})
	for _, path := range []string{"/healthz", "/.well-known/jwks.json", "/nope"} {
		if got := on.Get(path).Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Fatalf("%s: Strict-Transport-Security %q", path, got)
		}
	}
	https := apitest.NewEnv(t, apitest.EnvOptions{Mutate: func(c *config.Config) { c.Issuer = "https://login.example.com" }})
	if got := https.Get("/healthz").Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Fatalf("https issuer: Strict-Transport-Security %q", got)
	}
	off := apitest.NewEnv(t, apitest.EnvOptions{})
	if got := off.Get("/healthz").Header.Get("Strict-Transport-Security"); got != "" {
		t.Fatalf("http issuer: Strict-Transport-Security %q", got)
	}
}

// A password escaped as a surrogate pair is accepted unaltered.
func TestEscapedSurrogatePair(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	if r := e.Do("POST", "/signup", "application/json", strings.NewReader(`{"email":"emoji@example.com","password":"correct horse \ud83d\ude00"}`)); r.Status != http.StatusCreated {
		t.Fatalf("signup with an escaped pair: %d %s", r.Status, r.Body)
	}
	e.Login("emoji@example.com", "correct horse 😀")
}

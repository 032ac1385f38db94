package openapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/openapi"
	"github.com/unilogin/unilogin/api/openapi/validate"
	apiserver "github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/oidc"
	"github.com/unilogin/unilogin/providers/providertest"
)

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	// NewValidator checks the document against the OpenAPI 3.1 meta-schema.
	if _, err := validate.NewValidator(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/signup", "/token", "/revoke", "/introspect", "/logout", "/users/me", "/userinfo", "/users/me/password",
		"/users/me/sessions", "/users/me/sessions/{id}", "/users/me/identities/{provider}", "/auth/providers",
		"/auth/{provider}/login", "/auth/{provider}/callback", "/admin/users", "/admin/users/{id}",
		"/admin/users/{id}/roles", "/admin/users/{id}/disable", "/admin/users/{id}/enable",
		"/admin/users/{id}/sessions", "/admin/audit", "/healthz", "/readyz", "/metrics",
		"/.well-known/jwks.json", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
		"/openapi.json"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("the document lacks %s", p)
		}
	}
}

func TestHandlerServesTheDocument(t *testing.T) {
	rec := httptest.NewRecorder()
	openapi.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), openapi.Document()) {
		t.Fatal("served body is not the embedded document")
	}
}

// TestValidatorCatchesDrift: answers that break the document are reported.
func TestValidatorCatchesDrift(t *testing.T) {
	v, err := validate.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *http.Request { return httptest.NewRequest("GET", path, nil) }
	preflight := func(path string) *http.Request {
		r := httptest.NewRequest("OPTIONS", path, nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "POST")
		return r
	}
	jsonHdr := func(extra ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Cache-Control": {"no-store"}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	good := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
	}{
		{"healthz", get("/healthz"), 200, jsonHdr(), `{"status":"ok","version":"dev"}`},
		{"unknown path", get("/nope"), 404, jsonHdr(), `{"error":"not_found","error_description":"no such endpoint"}`},
		{"wrong method", get("/token"), 405, jsonHdr("Allow", "POST"), `{"error":"invalid_request","error_description":"method not allowed"}`},
		{"CORS preflight", preflight("/token"), 204, http.Header{"Access-Control-Allow-Origin": {"https://app.example.com"}}, ""},
	}
	for _, c := range good {
		if err := v.ValidateResponse(c.req, c.status, c.header, []byte(c.body)); err != nil {
			t.Errorf("%s: valid answer refused: %v", c.name, err)
		}
	}
	bad := []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
	}{
		{"undocumented status", get("/healthz"), 418, jsonHdr(), `{"status":"ok","version":"dev"}`},
		{"missing field", get("/healthz"), 200, jsonHdr(), `{"status":"ok"}`},
		{"unknown error code", get("/users/me"), 401, jsonHdr("WWW-Authenticate", `Bearer realm="unilogin"`), `{"error":"nope","error_description":"x"}`},
		{"no WWW-Authenticate", get("/users/me"), 401, jsonHdr(), `{"error":"invalid_token","error_description":"x"}`},
		{"no Retry-After", httptest.NewRequest("POST", "/signup", nil), 429, jsonHdr(), `{"error":"rate_limited","error_description":"x"}`},
		{"cacheable no-store", get("/users/me/sessions"), 200, jsonHdr("Cache-Control", "public"), `{"sessions":[]}`},
		{"body on 204", httptest.NewRequest("POST", "/logout", nil), 204, jsonHdr(), `{}`},
		{"unknown path not 404", get("/nope"), 200, jsonHdr(), `{}`},
		{"wrong method without Allow", get("/token"), 405, jsonHdr(), `{"error":"invalid_request","error_description":"method not allowed"}`},
		{"preflight with a body", preflight("/token"), 204, http.Header{}, "x"},
		{"OPTIONS that is no preflight", httptest.NewRequest("OPTIONS", "/token", nil), 204, http.Header{}, ""},
		{"wrong content type", get("/healthz"), 200, http.Header{"Content-Type": {"text/html"}, "Cache-Control": {"no-store"}}, `{"status":"ok","version":"dev"}`},
	}
	for _, c := range bad {
		if err := v.ValidateResponse(c.req, c.status, c.header, []byte(c.body)); err == nil {
			t.Errorf("%s: an answer that breaks the document was accepted", c.name)
		}
	}
	form := func(body string) *http.Request {
		r := httptest.NewRequest("POST", "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	if err := v.ValidateRequest(form("grant_type=password&username=a%40example.com&password=x")); err != nil {
		t.Errorf("valid token request refused: %v", err)
	}
	if err := v.ValidateRequest(form("grant_type=password&username=a%40example.com")); err == nil {
		t.Error("password grant without password accepted")
	}
	r := httptest.NewRequest("POST", "/signup", strings.NewReader(`{"email":1}`))
	r.Header.Set("Content-Type", "application/json")
	if err := v.ValidateRequest(r); err == nil {
		t.Error("signup with a number as email accepted")
	}
}

// ---- a real server ----
//
// The service as production assembles it (api/server/servertest), whose
// handler already checks every exchange against the document.

const (
	clientID, clientSecret = "web", "web-secret-0123456789"
	publicClient           = "spa"
	appRedirect            = "https://app.example.com/callback"
)

type server struct {
	t     *testing.T
	v     *validate.Validator
	url   string
	corp  *providertest.OIDCServer
	admin *accounts.Admin
	inst  *servertest.Instance

	mu   sync.Mutex
	seen map[string]bool // operations called, "METHOD /template"
}

func newServer(t *testing.T, v *validate.Validator) *server {
	t.Helper()
	corp := providertest.NewOIDC(t, providertest.WithClient("corp-client", "corp-secret"))
	cp, err := oidc.New(context.Background(), oidc.Config{ID: "corp", Name: "Corp SSO", Issuer: corp.URL, ClientID: corp.ClientID,
		ClientSecret: corp.ClientSecret, RedirectURL: "http://placeholder.invalid/auth/corp/callback"})
	if err != nil {
		t.Fatal(err)
	}
	inst := servertest.Start(t, func(c *config.Config) {
		c.Clients = []config.Client{
			{ID: clientID, Secret: clientSecret, RedirectURIs: []string{appRedirect}},
			{ID: publicClient, RedirectURIs: []string{appRedirect}},
		}
		c.Roles = map[string][]string{"admin": {"users:admin"}, "member": {"profile:read"}}
		c.DefaultRoles = []string{"member"}
		c.HTTP.MaxBodyBytes = 4096
		c.RateLimits.SignupPerIP = config.Rate{Limit: 10, Window: time.Hour}
	}, apiserver.Options{Providers: []providers.Provider{cp}, Version: "test"})
	return &server{t: t, v: v, url: inst.URL, corp: corp, admin: inst.Admin, inst: inst, seen: map[string]bool{}}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("%d: not a JSON object: %q", a.status, a.body)
	}
	return m
}

func (s *server) doWith(c *http.Client, method, path, contentType, body string, header ...string) answer {
	s.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = s.url + path
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if p, ok := s.v.Operation(req); ok {
		s.mu.Lock()
		s.seen[method+" "+p] = true
		s.mu.Unlock()
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *server) do(method, path, contentType, body string, header ...string) answer {
	s.t.Helper()
	return s.doWith(noRedirect(), method, path, contentType, body, header...)
}

func (s *server) json(method, path string, v any, header ...string) answer {
	s.t.Helper()
	b, _ := json.Marshal(v)
	return s.do(method, path, "application/json", string(b), header...)
}

func (s *server) form(path string, f url.Values, header ...string) answer {
	s.t.Helper()
	return s.do("POST", path, "application/x-www-form-urlencoded", f.Encode(), header...)
}

func (s *server) expect(a answer, status int, what string) answer {
	s.t.Helper()
	if a.status != status {
		s.t.Fatalf("%s: status %d, want %d: %s", what, a.status, status, a.body)
	}
	return a
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func (s *server) tokens(a answer) tokens {
	s.t.Helper()
	s.expect(a, 200, "token")
	var tk tokens
	if err := json.Unmarshal(a.body, &tk); err != nil {
		s.t.Fatal(err)
	}
	return tk
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestAPIExchangesMatchTheDocument runs every endpoint of the JSON API,
// success and error paths, against a real server whose handler is wrapped
// by Validator.Middleware: each response (and each accepted request) is
// checked against openapi.json.
func TestAPIExchangesMatchTheDocument(t *testing.T) {
	v, err := validate.Shared()
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, v)

	// Operations and well-known documents.
	s.expect(s.do("GET", "/healthz", "", ""), 200, "healthz")
	s.expect(s.do("GET", "/readyz", "", ""), 200, "readyz")
	s.expect(s.do("GET", "/metrics", "", ""), 200, "metrics")
	jwks := s.expect(s.do("GET", "/.well-known/jwks.json", "", ""), 200, "jwks")
	if len(jwks.json(t)["keys"].([]any)) == 0 {
		t.Fatal("jwks has no keys")
	}
	s.expect(s.do("GET", "/.well-known/openid-configuration", "", ""), 200, "openid-configuration")
	s.expect(s.do("GET", "/.well-known/oauth-authorization-server", "", ""), 200, "oauth metadata")
	s.expect(s.do("GET", "/openapi.json", "", ""), 200, "openapi.json")
	provs := s.expect(s.do("GET", "/auth/providers", "", ""), 200, "providers").json(t)
	if fmt.Sprint(provs["providers"]) != "[map[id:corp name:Corp SSO]]" {
		t.Fatalf("providers = %v", provs["providers"])
	}

	// Sign-up and the token endpoint.
	const pw, pw2 = "correct horse battery", "another long passphrase"
	user := s.expect(s.json("POST", "/signup", map[string]string{"email": "kim@example.com", "password": pw, "name": "Kim"}), 201, "signup").json(t)
	s.expect(s.json("POST", "/signup", map[string]string{"email": "KIM@example.com", "password": pw}), 409, "signup taken")
	s.expect(s.json("POST", "/signup", map[string]string{"email": "not-an-address", "password": pw}), 400, "signup bad email")
	s.expect(s.json("POST", "/signup", map[string]string{"email": "lee@example.com", "password": "short"}), 400, "signup short password")
	s.expect(s.do("POST", "/signup", "text/plain", "{}"), 400, "signup wrong content type")
	s.expect(s.do("POST", "/signup", "application/json", `{"email":`), 400, "signup truncated JSON")
	s.expect(s.do("POST", "/signup", "application/json", `{"email":"`+strings.Repeat("a", 5000)+`"}`), 413, "signup too large")

	login := func(email, password string, extra ...string) answer {
		f := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return s.form("/token", f)
	}
	tk := s.tokens(login("kim@example.com", pw))
	s.expect(login("kim@example.com", "wrong password!"), 400, "wrong password")
	s.expect(s.form("/token", url.Values{"grant_type": {"password"}, "username": {"kim@example.com"}}), 400, "no password")
	s.expect(s.form("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}), 400, "unsupported grant")
	s.expect(s.form("/token", url.Values{"grant_type": {"client_credentials"}}), 401, "client_credentials without a client")
	s.expect(s.form("/token", url.Values{}), 400, "no grant_type")
	s.expect(s.form("/token", url.Values{"grant_type": {"password"}, "username": {"kim@example.com"}, "password": {pw}},
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(clientID+":wrong"))), 401, "bad client")
	confidential := s.tokens(s.form("/token", url.Values{"grant_type": {"password"}, "username": {"kim@example.com"}, "password": {pw}},
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret))))
	s.expect(s.form("/introspect", url.Values{"token": {confidential.Access}, "client_id": {clientID}, "client_secret": {clientSecret}}), 200, "introspect")
	s.expect(s.form("/introspect", url.Values{"token": {"nope"}, "client_id": {clientID}, "client_secret": {clientSecret}}), 200, "introspect inactive")
	s.expect(s.form("/introspect", url.Values{"token": {confidential.Access}}), 401, "introspect without client")
	s.expect(s.form("/revoke", url.Values{"token": {confidential.Refresh}, "client_id": {clientID}, "client_secret": {clientSecret}}), 200, "revoke with client")
	refreshed := s.tokens(s.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}}))
	s.expect(s.form("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}}), 400, "bad refresh")
	tk = refreshed

	// The signed-in user.
	me := s.expect(s.do("GET", "/users/me", "", "", bearer(tk.Access)...), 200, "me").json(t)
	if me["id"] != user["id"] {
		t.Fatalf("me = %v, signed up %v", me["id"], user["id"])
	}
	s.expect(s.do("GET", "/users/me", "", ""), 401, "me without token")
	s.expect(s.do("GET", "/users/me", "", "", "Authorization", "Basic abc"), 401, "me other scheme")
	s.expect(s.do("GET", "/users/me", "", "", bearer("garbage")...), 401, "me bad token")
	s.expect(s.do("GET", "/userinfo", "", "", bearer(tk.Access)...), 200, "userinfo")
	s.expect(s.do("POST", "/userinfo", "", "", bearer(tk.Access)...), 200, "userinfo POST")
	s.expect(s.do("GET", "/userinfo", "", ""), 401, "userinfo without token")
	other := s.tokens(login("kim@example.com", pw))
	sessions := s.expect(s.do("GET", "/users/me/sessions", "", "", bearer(tk.Access)...), 200, "sessions").json(t)["sessions"].([]any)
	if len(sessions) < 2 {
		t.Fatalf("sessions = %v", sessions)
	}
	var otherID string
	for _, x := range sessions {
		if m := x.(map[string]any); m["current"] == false {
			otherID = m["id"].(string)
		}
	}
	s.expect(s.do("DELETE", "/users/me/sessions/"+otherID, "", "", bearer(tk.Access)...), 204, "end session")
	s.expect(s.do("DELETE", "/users/me/sessions/"+otherID, "", "", bearer(tk.Access)...), 404, "end session again")
	s.expect(s.form("/revoke", url.Values{"token": {other.Refresh}}), 200, "revoke ended")
	s.expect(s.form("/revoke", url.Values{}), 400, "revoke without token")
	s.expect(s.json("POST", "/users/me/password", map[string]string{"new_password": pw2}, bearer(tk.Access)...), 403, "password without current")
	s.expect(s.json("POST", "/users/me/password", map[string]string{"current_password": "wrong one!!", "new_password": pw2}, bearer(tk.Access)...), 400, "password wrong current")
	s.expect(s.json("POST", "/users/me/password", map[string]string{"current_password": pw, "new_password": pw2}, bearer(tk.Access)...), 204, "password change")

	// Linking a provider identity: the whole flow, then unlink.
	verifier := providers.NewPKCEVerifier()
	linkReq := map[string]string{"client_id": publicClient, "redirect_uri": appRedirect, "state": "st-1",
		"code_challenge": s256(verifier), "code_challenge_method": "S256", "current_password": pw2}
	s.expect(s.json("POST", "/users/me/identities/nope", linkReq, bearer(tk.Access)...), 404, "link unknown provider")
	s.expect(s.json("POST", "/users/me/identities/corp", map[string]string{"client_id": publicClient, "redirect_uri": appRedirect}, bearer(tk.Access)...), 400, "link without PKCE")
	noProof := map[string]string{"client_id": publicClient, "redirect_uri": appRedirect, "code_challenge": s256(verifier), "code_challenge_method": "S256"}
	s.expect(s.json("POST", "/users/me/identities/corp", noProof, bearer(tk.Access)...), 403, "link without re-authentication")
	start := s.expect(s.json("POST", "/users/me/identities/corp", linkReq, bearer(tk.Access)...), 200, "link start").json(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	toProvider := s.expect(s.doWith(browser, "GET", start["authorization_url"].(string), "", ""), 302, "provider login")
	back := providertest.Authorize(t, toProvider.header.Get("Location"))
	toApp := s.expect(s.doWith(browser, "GET", back.String(), "", ""), 302, "provider callback")
	appURL, err := url.Parse(toApp.header.Get("Location"))
	if err != nil || appURL.Query().Get("code") == "" {
		t.Fatalf("callback redirected to %q, want a code", toApp.header.Get("Location"))
	}
	s.expect(s.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {"bogus"}, "redirect_uri": {appRedirect},
		"client_id": {publicClient}, "code_verifier": {verifier}}), 400, "bad code")
	linked := s.tokens(s.form("/token", url.Values{"grant_type": {"authorization_code"}, "code": {appURL.Query().Get("code")},
		"redirect_uri": {appRedirect}, "client_id": {publicClient}, "code_verifier": {verifier}}))
	s.expect(s.do("GET", "/auth/corp/callback?state=forged", "", ""), 400, "callback without flow")
	s.expect(s.do("GET", "/auth/nope/login?client_id=spa&redirect_uri="+url.QueryEscape(appRedirect), "", ""), 404, "login unknown provider")
	s.expect(s.do("GET", "/auth/corp/login?client_id=evil&redirect_uri="+url.QueryEscape(appRedirect), "", ""), 400, "login unknown client")
	s.expect(s.do("GET", "/auth/corp/login?client_id=spa&redirect_uri="+url.QueryEscape(appRedirect), "", ""), 302, "login without PKCE (redirected error)")
	s.expect(s.do("DELETE", "/users/me/identities/corp", "", "", bearer(linked.Access)...), 204, "unlink")
	s.expect(s.do("DELETE", "/users/me/identities/corp", "", "", bearer(linked.Access)...), 404, "unlink again")

	// Administration: promote kim from the CLI side, then use the API.
	if _, err := s.admin.SetRoles(context.Background(), accounts.Actor{ID: "cli:test"}, user["id"].(string), []string{"member", "admin"}); err != nil {
		t.Fatal(err)
	}
	s.expect(s.do("GET", "/admin/users", "", "", bearer(tk.Access)...), 403, "admin without permission")
	admin := s.tokens(login("kim@example.com", pw2))
	lee := s.expect(s.json("POST", "/signup", map[string]string{"email": "lee@example.com", "password": pw}), 201, "signup lee").json(t)
	leeID := lee["id"].(string)
	ah := bearer(admin.Access)
	s.expect(s.do("GET", "/admin/users?limit=1", "", "", ah...), 200, "admin list")
	s.expect(s.do("GET", "/admin/users?email=lee", "", "", ah...), 200, "admin search")
	s.expect(s.do("GET", "/admin/users?limit=0", "", "", ah...), 400, "admin bad limit")
	s.expect(s.do("GET", "/admin/users/"+leeID, "", "", ah...), 200, "admin get")
	s.expect(s.do("GET", "/admin/users/nobody", "", "", ah...), 404, "admin get unknown")
	s.expect(s.json("PUT", "/admin/users/"+leeID+"/roles", map[string][]string{"roles": {"member", "admin"}}, ah...), 200, "admin roles")
	s.expect(s.json("PUT", "/admin/users/"+leeID+"/roles", map[string][]string{"roles": {"emperor"}}, ah...), 400, "admin unknown role")
	s.expect(s.do("POST", "/admin/users/"+leeID+"/disable", "", "", ah...), 200, "admin disable")
	s.expect(s.do("POST", "/admin/users/"+leeID+"/enable", "", "", ah...), 200, "admin enable")
	s.expect(s.do("DELETE", "/admin/users/"+leeID+"/sessions", "", "", ah...), 204, "admin end sessions")
	s.expect(s.do("GET", "/admin/audit?limit=5", "", "", ah...), 200, "admin audit")
	s.expect(s.do("POST", "/admin/users/"+leeID+"/verify-email", "", "", ah...), 202, "admin resend verification")
	s.expect(s.do("POST", "/admin/users/"+leeID+"/password-reset", "", "", ah...), 202, "admin send reset")
	s.expect(s.do("POST", "/admin/users/"+leeID+"/email-verified", "", "", ah...), 200, "admin mark verified")
	s.expect(s.do("DELETE", "/admin/users/"+leeID, "", "", ah...), 204, "admin delete")
	s.expect(s.do("POST", "/admin/users/"+leeID+"/disable", "", "", ah...), 404, "admin disable deleted")

	// Second factors (api's tests walk them with a fake clock; here only
	// exchanges that need no second time step).
	mo := s.expect(s.json("POST", "/signup", map[string]string{"email": "mo@example.com", "password": pw}), 201, "signup mo").json(t)
	moTk := s.tokens(login("mo@example.com", pw))
	mh := bearer(moTk.Access)
	enrol := s.expect(s.do("POST", "/users/me/mfa/totp", "", "", mh...), 200, "totp enrol").json(t)
	s.expect(s.json("POST", "/users/me/mfa/totp/confirm", map[string]string{"code": "12345"}, mh...), 400, "totp confirm wrong code")
	first, err := totp.GenerateCode(enrol["secret"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	codes := s.expect(s.json("POST", "/users/me/mfa/totp/confirm", map[string]string{"code": first}, mh...), 200, "totp confirm").json(t)
	s.expect(s.do("POST", "/users/me/mfa/totp", "", "", mh...), 409, "totp enrol again")
	s.expect(s.do("GET", "/users/me", "", "", mh...), 200, "me with totp")
	mfaToken := s.expect(login("mo@example.com", pw), 403, "password grant with totp").json(t)["mfa_token"].(string)
	const mfaGrant = "urn:unilogin:params:oauth:grant-type:mfa"
	s.expect(s.form("/token", url.Values{"grant_type": {mfaGrant}, "mfa_token": {mfaToken}, "otp": {"12345"}}), 400, "mfa grant wrong code")
	recovery := codes["recovery_codes"].([]any)
	s.tokens(s.form("/token", url.Values{"grant_type": {mfaGrant}, "mfa_token": {mfaToken}, "recovery_code": {recovery[0].(string)}}))
	s.expect(s.json("POST", "/users/me/mfa/recovery-codes", map[string]string{"code": "12345"}, mh...), 400, "recovery codes wrong code")
	s.expect(s.json("DELETE", "/users/me/mfa/totp", map[string]string{}, mh...), 403, "totp remove without proof")
	s.expect(s.json("DELETE", "/users/me/mfa/totp", map[string]string{"recovery_code": recovery[1].(string)}, mh...), 204, "totp remove")
	s.expect(s.do("DELETE", "/admin/users/"+mo["id"].(string)+"/mfa", "", "", ah...), 204, "admin reset mfa")
	s.expect(s.do("DELETE", "/admin/users/nobody/mfa", "", "", ah...), 404, "admin reset mfa unknown")

	// The e-mail flows (their happy paths are walked in api's tests, which
	// read the links from the outbox): the answers that need no link.
	s.expect(s.json("POST", "/password/forgot", map[string]string{"email": "kim@example.com"}), 202, "forgot")
	s.expect(s.json("POST", "/password/reset", map[string]string{"token": "bad", "new_password": pw}), 400, "reset bad token")
	s.expect(s.json("POST", "/verify-email", map[string]string{"token": "bad"}), 400, "verify bad token")
	s.expect(s.json("POST", "/verify-email/resend", map[string]string{"email": "nobody@example.com"}), 202, "resend")
	s.expect(s.json("POST", "/confirm-email", map[string]string{"token": "bad"}), 400, "confirm bad token")
	s.expect(s.do("POST", "/users/me/verify-email", "", "", bearer(tk.Access)...), 202, "request verification")
	s.expect(s.json("POST", "/users/me/email", map[string]string{"email": "kim2@example.com"}, bearer(tk.Access)...), 403, "change without password")
	s.expect(s.json("DELETE", "/users/me", map[string]string{}, bearer(tk.Access)...), 403, "delete without password")

	// Logout, then the token is refused.
	s.expect(s.do("POST", "/logout", "", "", bearer(tk.Access)...), 204, "logout")
	s.expect(s.do("POST", "/logout", "", "", bearer(tk.Access)...), 401, "logout again")
	// Without Authorization, /logout is the RP-initiated logout (HTML pages).
	s.expect(s.do("GET", "/logout", "", ""), 200, "RP logout, not signed in")
	s.expect(s.do("GET", "/logout?id_token_hint=junk", "", ""), 400, "RP logout, bad hint")
	s.expect(s.form("/logout", url.Values{"state": {"x"}}), 200, "RP logout by POST, not signed in")

	// The router's own answers.
	s.expect(s.do("GET", "/no/such/endpoint", "", ""), 404, "unknown path")
	s.expect(s.do("GET", "/token", "", ""), 405, "wrong method")
	s.expect(s.do("PUT", "/users/me", "", ""), 405, "wrong method on bearer route")

	// Draining for shutdown: /readyz answers 503 with the Error body.
	s.inst.Drain()
	if m := s.expect(s.do("GET", "/readyz", "", ""), 503, "readyz draining").json(t); m["error"] != "temporarily_unavailable" {
		t.Fatalf("readyz while draining: %v", m)
	}

	// Rate limit: sign-ups per address (10 per hour here; those above count,
	// the bad ones, which count as well).
	var last answer
	for i := 0; i < 12 && last.status != http.StatusTooManyRequests; i++ {
		last = s.json("POST", "/signup", map[string]string{"email": fmt.Sprintf("u%d@example.com", i), "password": pw})
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("sign-up limit never refused: %d %s", last.status, last.body)
	}

	// Every operation of the document was exercised: a new one needs a case here.
	s.mu.Lock()
	defer s.mu.Unlock()
	if ops := v.Operations(); len(ops) < 28 {
		t.Fatalf("the document lists %d operations, want the 28 of docs/http-api.md at least: %v", len(ops), ops)
	}
	for _, op := range v.Operations() {
		if !s.seen[op] {
			t.Errorf("no exchange exercises %s", op)
		}
	}
}

// fakeTB records what the middleware reports.
type fakeTB struct {
	mu   sync.Mutex
	errs []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// TestMiddlewareReports: a drifting answer fails the test; a malformed
// request is only checked when the server accepted it.
func TestMiddlewareReports(t *testing.T) {
	v, err := validate.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		status     int
		respBody   string
		reqBody    string
		wantReport bool
	}{
		{"accepted valid request", 201, `{"id":"u1","email":"a@example.com","email_verified":false,"name":"","roles":[],"permissions":[],"has_password":true,"disabled":false,"created_at":"2026-05-01T12:00:00Z","updated_at":"2026-05-01T12:00:00Z","identities":[]}`, `{"email":"a@example.com","password":"long enough pw"}`, false},
		{"accepted malformed request", 201, `{"id":"u1","email":"a@example.com","email_verified":false,"name":"","roles":[],"permissions":[],"has_password":true,"disabled":false,"created_at":"2026-05-01T12:00:00Z","updated_at":"2026-05-01T12:00:00Z","identities":[]}`, `{"email":7}`, true},
		{"refused malformed request", 400, `{"error":"invalid_request","error_description":"field \"email\" must be a string"}`, `{"email":7}`, false},
		{"response missing a field", 201, `{"id":"u1"}`, `{"email":"a@example.com","password":"long enough pw"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := &fakeTB{}
			h := v.Middleware(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if b, _ := io.ReadAll(r.Body); string(b) != c.reqBody {
					t.Errorf("handler got body %q, want %q", b, c.reqBody)
				}
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(c.status)
				io.WriteString(w, c.respBody)
			}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/signup", strings.NewReader(c.reqBody))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rec, req)
			if rec.Code != c.status || rec.Body.String() != c.respBody {
				t.Fatalf("middleware changed the answer: %d %q", rec.Code, rec.Body)
			}
			if got := len(tb.errs) > 0; got != c.wantReport {
				t.Fatalf("reported = %v (%q), want %v", got, tb.errs, c.wantReport)
			}
		})
	}
}

// TestValidatorConcurrentUse: test servers serve requests in parallel
// through one shared Validator (run with -race).
func TestValidatorConcurrentUse(t *testing.T) {
	v, err := validate.Shared()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 4 {
				r := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=refresh_token&refresh_token=rt"+fmt.Sprint(i, j)))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if err := v.ValidateRequest(r); err != nil {
					errs <- err
				}
				h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
				if err := v.ValidateResponse(httptest.NewRequest("GET", "/users/me/sessions", nil), 200, h, []byte(`{"sessions":[]}`)); err != nil {
					errs <- err
				}
				if err := v.ValidateResponse(httptest.NewRequest("GET", "/users/me/sessions", nil), 200, h, []byte(`{}`)); err == nil {
					errs <- fmt.Errorf("goroutine %d: a body without sessions was accepted", i)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

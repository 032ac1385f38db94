package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/config"
)

const svcClientID, svcSecret = "reports", "reports-secret-0123456789"

// clientsEnv has the usual test clients plus a service that may use
// client_credentials, a client limited to the password grant, one with
// password and refresh, and a third-party app.
func clientsEnv(t *testing.T) *env {
	return newEnv(t, envOptions{clients: []config.Client{
		{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{appRedirect}},
		{ID: publicClientID, RedirectURIs: []string{appRedirect}},
		{ID: svcClientID, Secret: svcSecret, GrantTypes: []string{"client_credentials"}, Scopes: []string{"docs:read", "docs:write"}},
		{ID: "pw-only", Secret: "pw-secret-0123456789", GrantTypes: []string{"password"}},
		{ID: "pw-refresh", GrantTypes: []string{"password", "refresh_token"}},
		{ID: "third", Secret: "third-secret-0123456789", RedirectURIs: []string{appRedirect}, Consent: true},
	}})
}

func TestClientCredentialsGrant(t *testing.T) {
	e := clientsEnv(t)
	svc := []string{"Authorization", basicAuthHeader(svcClientID, svcSecret)}
	cc := func(scope string, hdr ...string) response {
		f := url.Values{"grant_type": {"client_credentials"}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return e.postForm("/token", f, hdr...)
	}
	for _, tc := range []struct{ scope, want string }{
		{"", "docs:read docs:write"},
		{"docs:read", "docs:read"},
		{"docs:write docs:read docs:write", "docs:write docs:read"},
	} {
		r := cc(tc.scope, svc...)
		m := r.json(t)
		if r.status != http.StatusOK || m["scope"] != tc.want || m["token_type"] != "Bearer" || m["expires_in"] == nil || m["access_token"] == "" {
			t.Fatalf("scope %q: %d %s", tc.scope, r.status, r.body)
		}
		if _, ok := m["refresh_token"]; ok {
			t.Fatalf("client_credentials returned a refresh token: %s", r.body)
		}
		if _, ok := m["id_token"]; ok {
			t.Fatalf("client_credentials returned an ID token: %s", r.body)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", r.header.Get("Cache-Control"))
		}
		claims, err := e.sessions.ParseAccess(context.Background(), m["access_token"].(string))
		if err != nil || claims.Subject != svcClientID || claims.ClientID != svcClientID || claims.SessionID != "" || claims.Scope != tc.want {
			t.Fatalf("access token claims %+v, %v", claims, err)
		}
	}
	// client_secret_post works the same.
	if r := e.postForm("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {svcClientID}, "client_secret": {svcSecret}}); r.status != http.StatusOK {
		t.Fatalf("client_secret_post: %d %s", r.status, r.body)
	}
	for name, tc := range map[string]struct {
		r      response
		status int
		code   string
	}{
		"scope outside the client's": {cc("users:admin", svc...), 400, "invalid_scope"},
		"unknown scope":              {cc("docs:read nope", svc...), 400, "invalid_scope"},
		"openid":                     {cc("openid", svc...), 400, "invalid_scope"},
		"client without the grant":   {cc("", "Authorization", basicAuthHeader(testClientID, testClientSecret)), 400, "unauthorized_client"},
		"public client":              {e.postForm("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {publicClientID}}), 400, "unauthorized_client"},
		"no client":                  {cc(""), 401, "invalid_client"},
		"wrong secret":               {cc("", "Authorization", basicAuthHeader(svcClientID, "wrong")), 401, "invalid_client"},
		"service, password grant": {e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {"a@example.com"}, "password": {"x"}}, svc...),
			400, "unauthorized_client"},
		"service, code grant": {e.postForm("/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {appRedirect}}, svc...),
			400, "unauthorized_client"},
		"service, refresh grant": {e.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, svc...),
			400, "unauthorized_client"},
	} {
		if tc.r.status != tc.status || tc.r.errCode(t) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, tc.r.status, tc.r.body, tc.status, tc.code)
		}
	}
}

// A client-credentials token introspects as active until it expires,
// whatever /revoke is asked; a user's token turns inactive right after
// /revoke.
func TestIntrospectClientCredentialsAndRevoke(t *testing.T) {
	e := clientsEnv(t)
	e.signup("rv@example.com", "correct horse battery")
	svc := []string{"Authorization", basicAuthHeader(svcClientID, svcSecret)}
	web := []string{"Authorization", basicAuthHeader(testClientID, testClientSecret)}
	tok := e.postForm("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"docs:read"}}, svc...).json(t)["access_token"].(string)
	ask := func(token string, hdr []string) map[string]any {
		t.Helper()
		r := e.postForm("/introspect", url.Values{"token": {token}, "token_type_hint": {"access_token"}}, hdr...)
		if r.status != http.StatusOK {
			t.Fatalf("introspect: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	for _, caller := range [][]string{svc, web} {
		m := ask(tok, caller)
		if m["active"] != true || m["sub"] != svcClientID || m["client_id"] != svcClientID || m["scope"] != "docs:read" ||
			m["token_type"] != "access_token" || m["iss"] != e.url || m["exp"] == nil || m["iat"] == nil || m["sid"] != nil {
			t.Fatalf("introspect client token: %v", m)
		}
	}
	if r := e.postForm("/revoke", url.Values{"token": {tok}}, svc...); r.status != http.StatusOK {
		t.Fatalf("revoke client token: %d %s", r.status, r.body)
	}
	if m := ask(tok, web); m["active"] != true {
		t.Fatalf("a client token turned inactive before expiry: %v", m)
	}
	// A client token names no user: it opens no user endpoint.
	if r := e.get("/userinfo", bearer(tok)...); r.status != http.StatusUnauthorized {
		t.Fatalf("userinfo with a client token: %d %s", r.status, r.body)
	}
	e.clock.Advance(e.sessions.AccessTTL() + time.Minute) // past exp and the leeway
	if m := ask(tok, web); len(m) != 1 || m["active"] != false {
		t.Fatalf("expired client token: %v", m)
	}

	// A user's refresh and access tokens: inactive right after /revoke.
	r := e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {"rv@example.com"}, "password": {"correct horse battery"}}, web...)
	pair := e.mustTokens(r)
	if ask(pair.RefreshToken, web)["active"] != true || ask(pair.AccessToken, web)["active"] != true {
		t.Fatal("fresh tokens not active")
	}
	if m := ask(pair.RefreshToken, svc); m["active"] != false {
		t.Fatalf("another client's refresh token: %v", m)
	}
	if r := e.postForm("/revoke", url.Values{"token": {pair.RefreshToken}}, web...); r.status != http.StatusOK {
		t.Fatalf("revoke: %d", r.status)
	}
	for _, token := range []string{pair.RefreshToken, pair.AccessToken} {
		if m := ask(token, web); len(m) != 1 || m["active"] != false {
			t.Fatalf("after /revoke: %v", m)
		}
	}
}

// grant_types governs the grants at /token; the password grant stays
// open to first-party clients with the default list.
func TestClientGrantTypes(t *testing.T) {
	e := clientsEnv(t)
	e.signup("gt@example.com", "correct horse battery")
	pw := func(hdr []string, form url.Values) response {
		f := url.Values{"grant_type": {"password"}, "username": {"gt@example.com"}, "password": {"correct horse battery"}}
		for k, v := range form {
			f[k] = v
		}
		return e.postForm("/token", f, hdr...)
	}
	// Default list: password allowed, with a refresh token.
	e.mustTokens(pw([]string{"Authorization", basicAuthHeader(testClientID, testClientSecret)}, nil))
	// password only: a token, no refresh token.
	r := pw([]string{"Authorization", basicAuthHeader("pw-only", "pw-secret-0123456789")}, nil)
	if m := r.json(t); r.status != http.StatusOK || m["access_token"] == nil || m["refresh_token"] != nil {
		t.Fatalf("password-only client: %d %s", r.status, r.body)
	}
	// password and refresh_token: both, and the refresh works.
	tk := e.mustTokens(pw(nil, url.Values{"client_id": {"pw-refresh"}}))
	if r := e.postForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}, "client_id": {"pw-refresh"}}); r.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	// A third-party app never uses the password grant (RFC 9700 §2.4).
	r = pw([]string{"Authorization", basicAuthHeader("third", "third-secret-0123456789")}, nil)
	if r.status != http.StatusBadRequest || r.errCode(t) != "unauthorized_client" {
		t.Fatalf("password grant for a consent client: %d %s", r.status, r.body)
	}
	// An unknown grant type stays unsupported_grant_type, whoever asks.
	r = e.postForm("/token", url.Values{"grant_type": {"implicit"}}, "Authorization", basicAuthHeader(svcClientID, svcSecret))
	if r.status != http.StatusBadRequest || r.errCode(t) != "unsupported_grant_type" {
		t.Fatalf("unknown grant: %d %s", r.status, r.body)
	}
}

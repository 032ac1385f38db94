package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/config"
)

const svcClientID, svcSecret = "reports", "reports-secret-0123456789"

// clientsEnv has the usual test clients plus a service that may use
// client_credentials, a client limited to the password grant, one with
// password and refresh, and a third-party app.
func clientsEnv(t *testing.T) *apitest.Env {
	return apitest.NewEnv(t, apitest.EnvOptions{Clients: []config.Client{
		{ID: apitest.TestClientID, Secret: apitest.TestClientSecret, RedirectURIs: []string{apitest.AppRedirect}},
		{ID: apitest.PublicClientID, RedirectURIs: []string{apitest.AppRedirect}},
		{ID: svcClientID, Secret: svcSecret, GrantTypes: []string{"client_credentials"}, Scopes: []string{"docs:read", "docs:write"}},
		{ID: "pw-only", Secret: "pw-secret-0123456789", GrantTypes: []string{"password"}},
		{ID: "pw-refresh", GrantTypes: []string{"password", "refresh_token"}},
		{ID: "third", Secret: "third-secret-0123456789", RedirectURIs: []string{apitest.AppRedirect}, Consent: true},
	}})
}

func TestClientCredentialsGrant(t *testing.T) {
	e := clientsEnv(t)
	svc := []string{"Authorization", apitest.BasicAuthHeader(svcClientID, svcSecret)}
	cc := func(scope string, hdr ...string) apitest.Response {
		f := url.Values{"grant_type": {"client_credentials"}}
		if scope != "" {
			f.Set("scope", scope)
		}
		return e.PostForm("/token", f, hdr...)
	}
	for _, tc := range []struct{ scope, want string }{
		{"", "docs:read docs:write"},
		{"docs:read", "docs:read"},
		{"docs:write docs:read docs:write", "docs:write docs:read"},
	} {
		r := cc(tc.scope, svc...)
		m := r.JSON(t)
		if r.Status != http.StatusOK || m["scope"] != tc.want || m["token_type"] != "Bearer" || m["expires_in"] == nil || m["access_token"] == "" {
			t.Fatalf("scope %q: %d %s", tc.scope, r.Status, r.Body)
		}
		if _, ok := m["refresh_token"]; ok {
			t.Fatalf("client_credentials returned a refresh token: %s", r.Body)
		}
		if _, ok := m["id_token"]; ok {
			t.Fatalf("client_credentials returned an ID token: %s", r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		claims, err := e.Sessions.ParseAccess(context.Background(), m["access_token"].(string))
		if err != nil || claims.Subject != svcClientID || claims.ClientID != svcClientID || claims.SessionID != "" || claims.Scope != tc.want {
			t.Fatalf("access token claims %+v, %v", claims, err)
		}
	}
	// client_secret_post works the same.
	if r := e.PostForm("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {svcClientID}, "client_secret": {svcSecret}}); r.Status != http.StatusOK {
		t.Fatalf("client_secret_post: %d %s", r.Status, r.Body)
	}
	for name, tc := range map[string]struct {
		r      apitest.Response
		Status int
		code   string
	}{
		"scope outside the client's": {cc("users:admin", svc...), 400, "invalid_scope"},
		"unknown scope":              {cc("docs:read nope", svc...), 400, "invalid_scope"},
		"openid":                     {cc("openid", svc...), 400, "invalid_scope"},
		"client without the grant":   {cc("", "Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)), 400, "unauthorized_client"},
		"public client":              {e.PostForm("/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {apitest.PublicClientID}}), 400, "unauthorized_client"},
		"no client":                  {cc(""), 401, "invalid_client"},
		"wrong secret":               {cc("", "Authorization", apitest.BasicAuthHeader(svcClientID, "wrong")), 401, "invalid_client"},
		"service, password grant": {e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"a@example.com"}, "password": {"x"}}, svc...),
			400, "unauthorized_client"},
		"service, code grant": {e.PostForm("/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {apitest.AppRedirect}}, svc...),
			400, "unauthorized_client"},
		"service, refresh grant": {e.PostForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, svc...),
			400, "unauthorized_client"},
	} {
		if tc.r.Status != tc.Status || tc.r.ErrCode(t) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, tc.r.Status, tc.r.Body, tc.Status, tc.code)
		}
	}
}

// A client-credentials token introspects as active until it expires,
// whatever /revoke is asked; a user's token turns inactive right after
// /revoke.
func TestIntrospectClientCredentialsAndRevoke(t *testing.T) {
	e := clientsEnv(t)
	e.Signup("rv@example.com", "correct horse battery")
	svc := []string{"Authorization", apitest.BasicAuthHeader(svcClientID, svcSecret)}
	web := []string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)}
	tok := e.PostForm("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"docs:read"}}, svc...).JSON(t)["access_token"].(string)
	ask := func(token string, hdr []string) map[string]any {
		t.Helper()
		r := e.PostForm("/introspect", url.Values{"token": {token}, "token_type_hint": {"access_token"}}, hdr...)
		if r.Status != http.StatusOK {
			t.Fatalf("introspect: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	for _, caller := range [][]string{svc, web} {
		m := ask(tok, caller)
		if m["active"] != true || m["sub"] != svcClientID || m["client_id"] != svcClientID || m["scope"] != "docs:read" ||
			m["token_type"] != "access_token" || m["iss"] != e.URL || m["exp"] == nil || m["iat"] == nil || m["sid"] != nil {
			t.Fatalf("introspect client token: %v", m)
		}
	}
	if r := e.PostForm("/revoke", url.Values{"token": {tok}}, svc...); r.Status != http.StatusOK {
		t.Fatalf("revoke client token: %d %s", r.Status, r.Body)
	}
	if m := ask(tok, web); m["active"] != true {
		t.Fatalf("a client token turned inactive before expiry: %v", m)
	}
	// A client token names no user: it opens no user endpoint.
	if r := e.Get("/userinfo", apitest.Bearer(tok)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("userinfo with a client token: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(e.Sessions.AccessTTL() + time.Minute) // past exp and the leeway
	if m := ask(tok, web); len(m) != 1 || m["active"] != false {
		t.Fatalf("expired client token: %v", m)
	}

	// A user's refresh and access tokens: inactive right after /revoke.
	r := e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"rv@example.com"}, "password": {"correct horse battery"}}, web...)
	pair := e.MustTokens(r)
	if ask(pair.RefreshToken, web)["active"] != true || ask(pair.AccessToken, web)["active"] != true {
		t.Fatal("fresh tokens not active")
	}
	if m := ask(pair.RefreshToken, svc); m["active"] != false {
		t.Fatalf("another client's refresh token: %v", m)
	}
	if r := e.PostForm("/revoke", url.Values{"token": {pair.RefreshToken}}, web...); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
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
	e.Signup("gt@example.com", "correct horse battery")
	grant := func(hdr []string, form url.Values) apitest.Response {
		f := url.Values{"grant_type": {"password"}, "username": {"gt@example.com"}, "password": {"correct horse battery"}}
		for k, v := range form {
			f[k] = v
		}
		return e.PostForm("/token", f, hdr...)
	}
	// Default list: password allowed, with a refresh token.
	e.MustTokens(grant([]string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)}, nil))
	// password only: a token, no refresh token.
	r := grant([]string{"Authorization", apitest.BasicAuthHeader("pw-only", "pw-secret-0123456789")}, nil)
	if m := r.JSON(t); r.Status != http.StatusOK || m["access_token"] == nil || m["refresh_token"] != nil {
		t.Fatalf("password-only client: %d %s", r.Status, r.Body)
	}
	// password and refresh_token: both, and the refresh works.
	tk := e.MustTokens(grant(nil, url.Values{"client_id": {"pw-refresh"}}))
	if r := e.PostForm("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}, "client_id": {"pw-refresh"}}); r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	// A third-party app never uses the password grant (RFC 9700 §2.4).
	r = grant([]string{"Authorization", apitest.BasicAuthHeader("third", "third-secret-0123456789")}, nil)
	if r.Status != http.StatusBadRequest || r.ErrCode(t) != "unauthorized_client" {
		t.Fatalf("password grant for a consent client: %d %s", r.Status, r.Body)
	}
	// An unknown grant type stays unsupported_grant_type, whoever asks.
	r = e.PostForm("/token", url.Values{"grant_type": {"implicit"}}, "Authorization", apitest.BasicAuthHeader(svcClientID, svcSecret))
	if r.Status != http.StatusBadRequest || r.ErrCode(t) != "unsupported_grant_type" {
		t.Fatalf("unknown grant: %d %s", r.Status, r.Body)
	}
}

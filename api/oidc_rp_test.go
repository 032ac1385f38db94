package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/unilogin/unilogin/api/apitest"
)

// rpSignIn drives a stock relying party (go-oidc discovery from the
// issuer alone, x/oauth2 with PKCE and a nonce) through the hosted
// sign-in page, and returns the callback URL the browser was sent to.
func rpSignIn(t *testing.T, e *apitest.Env, conf *oauth2.Config, state, verifier, nonce, email, password string) *url.URL {
	t.Helper()
	b := apitest.NewBrowser(t, e)
	r := b.Get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	apitest.IsPage(t, r, http.StatusOK, `id="password"`)
	form := apitest.FormFields(r.Body)
	if form.Get("nonce") != nonce || !strings.Contains(form.Get("scope"), "openid") {
		t.Fatalf("the sign-in form does not carry the request's nonce and scope: %v", form)
	}
	form.Set("email", email)
	form.Set("password", password)
	r = b.Post("/signin", form)
	if r.Status != http.StatusFound && r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// rpOpenIDTokens signs email in through a stock relying party with scope
// openid alone and returns the token response of the code exchange.
func rpOpenIDTokens(t *testing.T, e *apitest.Env, email string) *oauth2.Token {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	provider, err := oidc.NewProvider(ctx, e.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: apitest.PublicClientID, RedirectURL: apitest.AppRedirect, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()
	cb := rpSignIn(t, e, conf, "s", verifier, "n-"+verifier[:8], email, "correct horse battery")
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestOIDCStockRelyingParty(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	uid := e.Signup("rp@example.com", "correct horse battery")
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	provider, err := oidc.NewProvider(ctx, e.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: apitest.PublicClientID, RedirectURL: apitest.AppRedirect, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	verifier, nonce, state := oauth2.GenerateVerifier(), "n-"+oauth2.GenerateVerifier()[:16], "st-123"

	cb := rpSignIn(t, e, conf, state, verifier, nonce, "rp@example.com", "correct horse battery")
	q := cb.Query()
	if q.Get("iss") != e.URL || q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback %s: want code, state and iss (RFC 9207)", cb)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		t.Fatal("no id_token in the token response")
	}
	idv := provider.Verifier(&oidc.Config{ClientID: apitest.PublicClientID, Now: e.Clock.Now})
	idt, err := idv.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Subject != uid || idt.Nonce != nonce || idt.Issuer != e.URL {
		t.Fatalf("ID token sub %q nonce %q iss %q", idt.Subject, idt.Nonce, idt.Issuer)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken + "x"); err == nil {
		t.Fatal("at_hash matched another access token")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Name          string `json:"name"`
		SID           string `json:"sid"`
		AuthTime      int64  `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "rp@example.com" || claims.EmailVerified == nil || claims.Name != "Test User" || claims.SID == "" || claims.AuthTime == 0 {
		t.Fatalf("ID token claims %+v", claims)
	}

	// UserInfo, found by discovery, with the access token.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uiClaims map[string]any
	if err := ui.Claims(&uiClaims); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != uid || ui.Email != "rp@example.com" || uiClaims["name"] != "Test User" || uiClaims["email_verified"] == nil {
		t.Fatalf("userinfo %v", uiClaims)
	}

	// A refresh of this session gets a new ID token, without the nonce.
	e.Clock.Advance(1)
	nt, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	rawID2, _ := nt.Extra("id_token").(string)
	idt2, err := idv.Verify(ctx, rawID2)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if idt2.Subject != uid || idt2.Nonce != "" || idt2.VerifyAccessToken(nt.AccessToken) != nil {
		t.Fatalf("refreshed ID token sub %q nonce %q", idt2.Subject, idt2.Nonce)
	}

	// RP-initiated logout at the end_session_endpoint found by discovery:
	// back to the registered URI with state, and the session is over.
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil || meta.EndSession != e.URL+"/logout" {
		t.Fatalf("end_session_endpoint %q, %v", meta.EndSession, err)
	}
	end := meta.EndSession + "?" + url.Values{"id_token_hint": {rawID2}, "post_logout_redirect_uri": {apitest.PostLogoutURI}, "state": {"st-bye"}}.Encode()
	res, err := apitest.NoRedirectClient().Get(end)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != apitest.PostLogoutURI+"?state=st-bye" {
		t.Fatalf("end session: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(nt)); err == nil {
		t.Fatal("userinfo still answers after the RP-initiated logout")
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: nt.RefreshToken}).Token(); err == nil {
		t.Fatal("the session still refreshes after the RP-initiated logout")
	}
}

func TestOIDCAuthorizeWithoutOpenID(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("plain@example.com", "correct horse battery")
	a := apitest.PublicApp()
	b := apitest.NewBrowser(t, e)
	q := apitest.AuthorizeQuery(a)
	r := b.Get("/authorize?" + q.Encode())
	form := apitest.FormFields(r.Body)
	form.Set("email", "plain@example.com")
	form.Set("password", "correct horse battery")
	cb, err := url.Parse(b.Post("/signin", form).Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Query().Get("iss") != e.URL {
		t.Fatalf("callback %s lacks iss", cb)
	}
	fe := &apitest.FlowEnv{Env: e}
	tk := fe.Redeem(a, cb.Query().Get("code")).JSON(t)
	if _, ok := tk["id_token"]; ok || tk["access_token"] == nil {
		t.Fatalf("token response without openid: %v", tk)
	}
}

func TestOIDCAuthorizeUnknownScope(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	a := apitest.PublicApp()
	for _, scope := range []string{"openid bogus", "users:admin nope"} {
		q := apitest.AuthorizeQuery(a)
		q.Set("scope", scope)
		r := apitest.NewBrowser(t, e).Get("/authorize?" + q.Encode())
		u, err := url.Parse(r.Header.Get("Location"))
		if r.Status != http.StatusFound || err != nil {
			t.Fatalf("scope %q: %d %s", scope, r.Status, r.Body)
		}
		if got := u.Query(); got.Get("error") != "invalid_scope" || got.Get("iss") != e.URL || got.Get("state") != a.State {
			t.Fatalf("scope %q: redirect %s", scope, u)
		}
	}
	// A permission or an OIDC scope is accepted: the sign-in form.
	q := apitest.AuthorizeQuery(a)
	q.Set("scope", "openid email profile:read")
	apitest.IsPage(t, apitest.NewBrowser(t, e).Get("/authorize?"+q.Encode()), http.StatusOK, `name="scope" value="openid email profile:read"`)
}

func TestUserInfoScopeAndChecks(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	uid := e.Signup("ui@example.com", "correct horse battery")
	tok := rpOpenIDTokens(t, e, "ui@example.com")
	authz := []string{"Authorization", "Bearer " + tok.AccessToken}
	// openid alone: sub and nothing else, by GET and by POST.
	for _, method := range []string{"GET", "POST"} {
		r := e.Do(method, "/userinfo", "", nil, authz...)
		if got := r.JSON(t); r.Status != http.StatusOK || len(got) != 1 || got["sub"] != uid {
			t.Fatalf("%s /userinfo with scope openid: %d %v", method, r.Status, got)
		}
	}
	// No token, another scheme, a bad token: 401 invalid_token with WWW-Authenticate.
	for name, hdr := range map[string][]string{"none": nil, "basic": {"Authorization", "Basic abc"}, "garbage": {"Authorization", "Bearer garbage"}} {
		r := e.Do("GET", "/userinfo", "", nil, hdr...)
		if r.Status != http.StatusUnauthorized || r.JSON(t)["error"] != "invalid_token" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%s: %d %s %q", name, r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
		}
	}
	// The session ended: the still-unexpired token is refused.
	if r := e.Do("POST", "/logout", "", nil, authz...); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := e.Do("GET", "/userinfo", "", nil, authz...); r.Status != http.StatusUnauthorized {
		t.Fatalf("userinfo after logout: %d %s", r.Status, r.Body)
	}
}

func TestOIDCDiscoveryDocuments(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		r := e.Do("GET", p, "", nil)
		m := r.JSON(t)
		if m["userinfo_endpoint"] != e.URL+"/userinfo" || m["authorization_response_iss_parameter_supported"] != true {
			t.Fatalf("%s: %s", p, r.Body)
		}
		str := func(k string) string {
			var out []string
			for _, v := range m[k].([]any) {
				out = append(out, v.(string))
			}
			return strings.Join(out, " ")
		}
		if got := str("scopes_supported"); !strings.HasPrefix(got, "openid profile email offline_access ") || !strings.Contains(got, "users:admin") {
			t.Errorf("%s scopes_supported %q", p, got)
		}
		if got := str("id_token_signing_alg_values_supported"); got != str("access_token_signing_alg_values_supported") || got == "" {
			t.Errorf("%s id_token_signing_alg_values_supported %q", p, got)
		}
		for k, want := range map[string]string{"response_modes_supported": "query", "subject_types_supported": "public",
			"prompt_values_supported": "none login consent select_account", "grant_types_supported": "authorization_code refresh_token client_credentials password urn:unilogin:params:oauth:grant-type:mfa",
			"token_endpoint_auth_methods_supported": "client_secret_basic client_secret_post none",
			"claims_supported":                      "sub iss aud exp iat auth_time nonce at_hash sid amr email email_verified name"} {
			if got := str(k); got != want {
				t.Errorf("%s %s = %q, want %q", p, k, got, want)
			}
		}
		if m["introspection_endpoint"] != e.URL+"/introspect" || m["end_session_endpoint"] != e.URL+"/logout" {
			t.Errorf("%s introspection_endpoint %v, end_session_endpoint %v", p, m["introspection_endpoint"], m["end_session_endpoint"])
		}
	}
}

func TestOIDCPromptAndMaxAge(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("pr@example.com", "correct horse battery")
	a := apitest.PublicApp()
	b := apitest.NewBrowser(t, e)
	get := func(extra url.Values) apitest.Response {
		q := apitest.AuthorizeQuery(a)
		for k, v := range extra {
			q[k] = v
		}
		return b.Get("/authorize?" + q.Encode())
	}
	redirected := func(r apitest.Response) url.Values {
		t.Helper()
		u, err := url.Parse(r.Header.Get("Location"))
		if r.Status != http.StatusFound || err != nil {
			t.Fatalf("want a redirect to the app: %d %s", r.Status, r.Body)
		}
		return u.Query()
	}
	// No hosted session: prompt=none cannot show the form.
	if q := redirected(get(url.Values{"prompt": {"none"}})); q.Get("error") != "login_required" || q.Get("iss") != e.URL {
		t.Fatalf("prompt=none without a session: %v", q)
	}
	for _, bad := range []url.Values{{"prompt": {"none login"}}, {"max_age": {"-1"}}, {"max_age": {"1h"}}} {
		if q := redirected(get(bad)); q.Get("error") != "invalid_request" {
			t.Fatalf("%v: %v", bad, q)
		}
	}
	form := apitest.FormFields(get(nil).Body)
	form.Set("email", "pr@example.com")
	form.Set("password", "correct horse battery")
	if q := redirected(b.Post("/signin", form)); q.Get("code") == "" {
		t.Fatalf("sign-in: %v", q)
	}
	// Signed in: prompt=none answers with a code; prompt=login and an
	// exceeded max_age show the form again.
	if q := redirected(get(url.Values{"prompt": {"none"}})); q.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v", q)
	}
	apitest.IsPage(t, get(url.Values{"prompt": {"login"}}), http.StatusOK, `id="password"`)
	if q := redirected(get(url.Values{"max_age": {"3600"}})); q.Get("code") == "" {
		t.Fatalf("max_age not exceeded: %v", q)
	}
	e.Clock.Advance(2 * time.Hour)
	apitest.IsPage(t, get(url.Values{"max_age": {"3600"}}), http.StatusOK, `id="password"`)
	if q := redirected(get(url.Values{"prompt": {"none"}, "max_age": {"3600"}})); q.Get("error") != "login_required" {
		t.Fatalf("prompt=none with an old session and max_age: %v", q)
	}
}

func TestIntrospect(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	uid := e.Signup("in@example.com", "correct horse battery")
	tok := rpOpenIDTokens(t, e, "in@example.com")
	basic := []string{"Authorization", apitest.BasicAuthHeader(apitest.TestClientID, apitest.TestClientSecret)}
	ask := func(token string, hdr ...string) apitest.Response {
		return e.PostForm("/introspect", url.Values{"token": {token}}, hdr...)
	}
	r := ask(tok.AccessToken, basic...)
	got := r.JSON(t)
	if r.Status != http.StatusOK || got["active"] != true || got["sub"] != uid || got["client_id"] != apitest.PublicClientID ||
		got["token_type"] != "access_token" || got["iss"] != e.URL || got["sid"] == nil || got["exp"] == nil || !strings.Contains(got["scope"].(string), "openid") {
		t.Fatalf("introspect access token: %d %s", r.Status, r.Body)
	}
	// Another client's refresh token is inactive to the caller; junk too: active false alone.
	for _, token := range []string{tok.RefreshToken, "junk"} {
		if r := ask(token, basic...); r.Status != http.StatusOK || string(r.Body) != `{"active":false}` {
			t.Fatalf("introspect %q: %d %s", token, r.Status, r.Body)
		}
	}
	// Without client authentication, or as a public client: 401 invalid_client.
	for name, r := range map[string]apitest.Response{
		"none":   ask(tok.AccessToken),
		"public": e.PostForm("/introspect", url.Values{"token": {tok.AccessToken}, "client_id": {apitest.PublicClientID}}),
		"wrong":  ask(tok.AccessToken, "Authorization", apitest.BasicAuthHeader(apitest.TestClientID, "wrong")),
	} {
		if r.Status != http.StatusUnauthorized || r.JSON(t)["error"] != "invalid_client" {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// The session ended: the access token is no longer active.
	if r := e.Do("POST", "/logout", "", nil, "Authorization", "Bearer "+tok.AccessToken); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := ask(tok.AccessToken, basic...); string(r.Body) != `{"active":false}` {
		t.Fatalf("after logout: %s", r.Body)
	}
}

// The provider flow carries the app's scope and nonce to the code as well.
func TestOIDCProviderFlowCarriesScopeAndNonce(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	a := apitest.PublicApp()
	q := a.LoginQuery()
	q.Set("scope", "openid email")
	q.Set("nonce", "provider-nonce")
	u := fe.RunFlow(apitest.BrowserClient(t), fe.URL+"/auth/google/login?"+q.Encode())
	if u.Query().Get("iss") != fe.URL {
		t.Fatalf("callback %s lacks iss", u)
	}
	tk := fe.Redeem(a, fe.AppCode(u, a)).JSON(t)
	raw, _ := tk["id_token"].(string)
	provider, err := oidc.NewProvider(oidc.ClientContext(context.Background(), http.DefaultClient), fe.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: apitest.PublicClientID, Now: fe.Clock.Now}).Verify(context.Background(), raw)
	if err != nil || idt.Nonce != "provider-nonce" {
		t.Fatalf("ID token %v: %v", idt, err)
	}
	// An unknown scope is refused before the provider is involved.
	q.Set("scope", "openid bogus")
	r := fe.Fetch(apitest.BrowserClient(t), fe.URL+"/auth/google/login?"+q.Encode())
	if got := fe.Location(r).Query(); got.Get("error") != "invalid_scope" || got.Get("iss") != fe.URL {
		t.Fatalf("unknown scope at the provider login: %v", got)
	}
}

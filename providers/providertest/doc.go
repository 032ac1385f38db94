// Package providertest runs fake upstream identity providers on
// net/http/httptest for tests of unilogin: NewOIDC starts a Google-style
// OpenID Connect provider (discovery, authorization, token, JWKS and
// userinfo endpoints, signing real ID tokens with a fresh key), NewGitHub
// starts a GitHub look-alike (OAuth web flow plus /user and /user/emails).
//
// Both fakes verify what they receive the way a strict upstream does
// (client authentication, redirect_uri, single-use codes, the PKCE
// verifier) and record it, so tests can assert on it. Their authorization
// endpoints behave like a user who consents at once: they answer with a 302
// to redirect_uri?code=...&state=.... Misbehaviour is switched on per server
// with SetBehavior; the next user to sign in is chosen with SetUser.
//
// A typical test of a provider implementation:
//
//	fake := providertest.NewOIDC(t)
//	fake.SetUser(providertest.OIDCUser{Subject: "u1", Email: "a@example.com", EmailVerified: new(true)})
//	p, _ := oidc.New(ctx, oidc.Config{ID: "corp", Issuer: fake.URL, ClientID: fake.ClientID, ClientSecret: fake.ClientSecret})
//	req := providers.NewAuthRequest("http://localhost/auth/corp/callback")
//	code, state := providertest.AuthorizeCode(t, p.AuthCodeURL(req)) // plays the browser at the fake
//	id, err := p.Exchange(ctx, req, code)
//
// The tests of a provider implementation declare a Harness (the fake to
// start, the provider's default config on it, its constructor) and run its
// checks, which every provider must pass: FullFlow (what a sign-in sends
// upstream), ExchangeErrors (a table of exchanges that must fail),
// CodeIsSingleUse, AccessDenied and SlowExchange.
//
// An API test can point unilogin's provider configuration at the fake
// (issuer = fake.URL for OIDC and Google; base_url = fake.URL and
// api_url = fake.APIURL for GitHub), GET /auth/{id}/login on unilogin, pass
// the Location to Authorize, and GET the returned callback URL on unilogin
// with the flow cookie.
//
// Servers are closed by t.Cleanup; a Delay in progress is cut short then,
// so a slow fake never makes a test hang.
package providertest

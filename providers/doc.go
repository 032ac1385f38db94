// Package providers owns what every upstream identity provider looks like to
// the rest of unilogin: the Provider interface, the AuthRequest a browser
// flow binds to one login attempt, the Identity an upstream vouches for, the
// errors an exchange can end in, and the Registry of enabled providers built
// once at start-up.
//
// Implementations live in subpackages: oidc (generic OpenID Connect),
// google (OIDC with Google's issuer and hosted-domain rules) and github
// (OAuth 2.0 plus the REST API). Fakes for tests live in providertest.
//
// This package and its subpackages import nothing else of unilogin; the
// wiring code converts configuration into each subpackage's Config.
//
// A browser flow (RFC 6749 §4.1 with PKCE, RFC 7636, and OpenID Connect Core
// §3.1) runs like this:
//
//	req := providers.NewAuthRequest(callbackURL) // fresh state, nonce, PKCE verifier
//	// store req in the flow cookie, then redirect the browser to:
//	url := p.AuthCodeURL(req)
//	// ... on GET /auth/{id}/callback:
//	if err := providers.FromCallbackError(q.Get("error"), q.Get("error_description")); err != nil { ... }
//	// compare q.Get("state") with req.State (constant time) — Exchange does NOT check state
//	id, err := p.Exchange(ctx, req, q.Get("code"))
//
// Errors from Exchange are classified for the HTTP layer: check the
// sentinels ErrAccessDenied, ErrUnavailable and ErrInvalidIDToken with
// errors.Is first, then *UpstreamError with errors.As.
package providers

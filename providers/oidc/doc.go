// Package oidc is a providers.Provider for any OpenID Connect provider,
// built on github.com/coreos/go-oidc/v3 (imported as gooidc) and
// golang.org/x/oauth2.
//
// New runs discovery (OpenID Connect Discovery 1.0) once, at start-up,
// with a timeout, and fails with an error naming the provider id and
// issuer. Exchange runs the authorization code grant with PKCE (RFC 6749
// §4.1.3, RFC 7636 §4.5) and verifies the ID token as OpenID Connect Core
// §3.1.3.7 requires: signature against the provider's JWKS, iss, aud
// (the client id), exp, and the nonce of the AuthRequest. It does NOT check
// the state parameter: the callback handler does.
//
// The google package wraps this one; its hosted-domain rule is a
// Config.CheckClaims hook.
package oidc

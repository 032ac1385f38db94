package providers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
)

// AuthRequest binds one login attempt at an upstream provider. The caller
// creates it with NewAuthRequest when the browser starts the flow, keeps it
// (in the flow cookie) until the callback, and passes the same value to
// AuthCodeURL and Exchange.
type AuthRequest struct {
	// State is sent as the OAuth state parameter (RFC 6749 §10.12). The
	// callback handler compares it; providers never do.
	State string
	// Nonce is sent to OIDC providers and must come back in the ID token
	// (OpenID Connect Core §3.1.2.1, §3.1.3.7). GitHub ignores it.
	Nonce string
	// PKCEVerifier is the RFC 7636 code_verifier; its S256 challenge goes in
	// the authorization URL and the verifier itself with the code.
	PKCEVerifier string
	// RedirectURL is our callback, <issuer>/auth/<id>/callback. Empty means
	// the provider's configured RedirectURL.
	RedirectURL string
}

// NewAuthRequest returns an AuthRequest with fresh random State, Nonce and
// PKCEVerifier (32 bytes from crypto/rand each, base64url) for redirectURL.
func NewAuthRequest(redirectURL string) AuthRequest {
	return AuthRequest{
		State:        RandomString(),
		Nonce:        RandomString(),
		PKCEVerifier: NewPKCEVerifier(),
		RedirectURL:  redirectURL,
	}
}

// NewPKCEVerifier returns a fresh RFC 7636 §4.1 code_verifier: 32 random
// bytes, base64url without padding (43 characters).
func NewPKCEVerifier() string { return RandomString() }

// RandomString returns 32 bytes from crypto/rand as unpadded base64url
// (43 characters), suitable for state and nonce values.
func RandomString() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Identity is what an upstream provider vouches for after a successful
// exchange.
type Identity struct {
	// Provider is the provider's id ("google", "github", or a generic OIDC
	// entry's id).
	Provider string
	// Subject is the upstream's stable user id: the OIDC sub claim, or
	// GitHub's numeric user id in decimal. Never a login name or e-mail.
	Subject string
	// Email may be empty when the upstream has no usable address.
	Email string
	// EmailVerified is true only when the upstream says so: for OIDC the
	// email_verified claim is true (a missing claim is not verified); for
	// GitHub the address is primary and verified.
	EmailVerified bool
	Name          string
	AvatarURL     string
}

// Provider is one upstream identity provider. Implementations are safe for
// concurrent use.
type Provider interface {
	// ID is the id used in paths (/auth/{id}/...) and in Identity.Provider.
	ID() string
	// Name is the display name shown on login pages.
	Name() string
	// AMR is the authentication method reference put in our tokens:
	// "google", "github" or "oidc:<id>".
	AMR() string
	// AuthCodeURL returns the upstream authorization URL carrying
	// req.State, req.Nonce (OIDC), the S256 challenge of req.PKCEVerifier
	// and the redirect URI.
	AuthCodeURL(req AuthRequest) string
	// Exchange redeems code with req's PKCE verifier and redirect URI and
	// returns the verified identity. It does NOT check req.State: the
	// callback handler does, before calling Exchange.
	Exchange(ctx context.Context, req AuthRequest, code string) (Identity, error)
}

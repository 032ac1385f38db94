package providertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// OIDCUser is the user who signs in at the OIDC fake; its fields become ID
// token claims. Zero fields are left out of the token.
type OIDCUser struct {
	Subject string
	Email   string
	// EmailVerified is the email_verified claim; nil leaves the claim out.
	// Write new(true) or new(false).
	EmailVerified *bool
	Name          string
	Picture       string
	// HD is Google's hosted-domain claim.
	HD string
	// Extra claims, added last (they may override the ones above).
	Extra map[string]any
}

// DefaultOIDCUser is who signs in until SetUser is called. Read it in
// assertions; do not modify it (every fake starts from it).
var DefaultOIDCUser = OIDCUser{
	Subject:       "110169484474386276334",
	Email:         "alice@example.com",
	EmailVerified: new(true),
	Name:          "Alice Example",
	Picture:       "https://example.com/alice.png",
}

// OIDCBehavior switches misbehaviour of the OIDC fake on. The zero value
// is a well-behaved provider.
type OIDCBehavior struct {
	// DenyAccess: /authorize redirects with error=access_denied and state.
	DenyAccess bool

	// ID token defects, each failing verification at the client.
	WrongNonce    bool // nonce claim differs from the one sent
	WrongAudience bool // aud is another client
	WrongIssuer   bool // iss is another issuer
	Expired       bool // exp (and iat) in the past
	BadSignature  bool // signed with a key that is not in the JWKS (same kid)
	NoIDToken     bool // the token response has no id_token

	// TokenStatus, when non-zero, makes /token answer this status with
	// {"error":"server_error"} (use 500, 502, 503 ...).
	TokenStatus int
	// TokenError, when non-empty, makes /token answer 400 with this OAuth
	// error code (e.g. "invalid_grant").
	TokenError string
	// DiscoveryStatus, when non-zero, makes discovery answer this status.
	DiscoveryStatus int
	// DiscoveryIssuer, when non-empty, is advertised as issuer by
	// discovery instead of URL (an issuer mismatch).
	DiscoveryIssuer string
	// JWKSStatus, when non-zero, makes /jwks answer this status.
	JWKSStatus int
	// JWKSDelay makes only /jwks wait this long (in addition to Delay).
	JWKSDelay time.Duration

	// Delay makes the back-channel endpoints (discovery, /token, /jwks,
	// /userinfo) wait this long before answering, or until the request's
	// context ends or the server closes. /authorize is never delayed.
	Delay time.Duration
}

func (b OIDCBehavior) delay() time.Duration { return b.Delay }

// OIDCServer is a fake OpenID Connect provider. Its endpoints are
//
//	GET  /.well-known/openid-configuration
//	GET  /authorize   (a consenting user: 302 to redirect_uri?code=&state=)
//	POST /token       (authorization_code grant; client_secret_basic or _post; PKCE S256)
//	GET  /jwks
//	GET  /userinfo    (bearer access token)
type OIDCServer struct {
	alg       jose.SignatureAlgorithm
	kid       string
	signer    jose.Signer
	badSigner jose.Signer
	jwks      jose.JSONWebKeySet

	fake[OIDCUser, OIDCBehavior]
}

// NewOIDC starts a fake OIDC provider with a fresh signing key (ECDSA
// P-256, ES256, unless WithRS256). It is closed by t.Cleanup.
func NewOIDC(t testing.TB, opts ...Option) *OIDCServer {
	t.Helper()
	s := &OIDCServer{kid: randomToken("key-")[:16], fake: newFake[OIDCUser, OIDCBehavior](DefaultOIDCUser, opts)}
	key, bad, alg, err := newKeys(s.opts.rs256)
	if err != nil {
		t.Fatalf("providertest: generate keys: %v", err)
	}
	s.alg = alg
	if s.signer, err = newSigner(alg, key, s.kid); err != nil {
		t.Fatalf("providertest: %v", err)
	}
	if s.badSigner, err = newSigner(alg, bad, s.kid); err != nil {
		t.Fatalf("providertest: %v", err)
	}
	s.jwks = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: key.Public(), KeyID: s.kid, Algorithm: string(alg), Use: "sig",
	}}}

	s.serve(t, map[string]http.HandlerFunc{
		"GET /.well-known/openid-configuration": s.discovery,
		"GET /authorize":                        s.authorize(oidcAuthorize),
		"POST /token":                           s.token,
		"GET /jwks":                             s.keys,
		"GET /userinfo":                         s.userinfo,
	})
	return s
}

func newKeys(rs256 bool) (key, bad crypto.Signer, alg jose.SignatureAlgorithm, err error) {
	gen := func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
	alg = jose.ES256
	if rs256 {
		gen = func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }
		alg = jose.RS256
	}
	if key, err = gen(); err != nil {
		return nil, nil, "", err
	}
	if bad, err = gen(); err != nil {
		return nil, nil, "", err
	}
	return key, bad, alg, nil
}

func newSigner(alg jose.SignatureAlgorithm, key crypto.Signer, kid string) (jose.Signer, error) {
	return jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(alg)}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
}

func (s *OIDCServer) discovery(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r) {
		return
	}
	b := s.Behavior()
	if b.DiscoveryStatus != 0 {
		http.Error(w, http.StatusText(b.DiscoveryStatus), b.DiscoveryStatus)
		return
	}
	issuer := s.URL
	if b.DiscoveryIssuer != "" {
		issuer = b.DiscoveryIssuer
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                s.URL + "/authorize",
		"token_endpoint":                        s.URL + "/token",
		"jwks_uri":                              s.URL + "/jwks",
		"userinfo_endpoint":                     s.URL + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(s.alg)},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code"},
		"claims_supported":                      []string{"iss", "aud", "sub", "exp", "iat", "nonce", "email", "email_verified", "name", "picture", "hd"},
	})
}

// oidcAuthorize are the rules of the authorization endpoint (RFC 6749
// §4.1.1, OpenID Connect Core §3.1.2): a wrong client_id or redirect_uri is
// a 400 page.
var oidcAuthorize = authorizeRules[OIDCBehavior]{
	unknownClient: http.StatusBadRequest,
	badRedirect:   "invalid redirect_uri",
	refuse: func(ar AuthorizeRequest, b OIDCBehavior) (string, string) {
		switch {
		case ar.ResponseType != "code":
			return "unsupported_response_type", "only response_type=code"
		case !strings.Contains(" "+ar.Scope+" ", " openid "):
			return "invalid_scope", "scope must contain openid"
		case ar.CodeChallenge == "" || ar.CodeChallengeMethod != "S256":
			return "invalid_request", "PKCE with code_challenge_method=S256 is required"
		case b.DenyAccess:
			return "access_denied", "The user denied the request"
		}
		return "", ""
	},
	newCode: func() string { return randomToken("code-") },
}

// token is the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID
// Connect Core §3.1.3).
func (s *OIDCServer) token(w http.ResponseWriter, r *http.Request) {
	tr, parsed, b, ok := s.receiveToken(r)
	if !ok {
		return
	}
	switch {
	case b.TokenStatus != 0:
		oauthError(w, b.TokenStatus, "server_error", "fake failure")
		return
	case b.TokenError != "":
		oauthError(w, http.StatusBadRequest, b.TokenError, "fake failure")
		return
	case !parsed:
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	case tr.AuthMethod == "" || tr.ClientID != s.ClientID || !equal(tr.ClientSecret, s.ClientSecret):
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	case tr.GrantType != "authorization_code":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	g := s.takeGrant(tr.Code)
	now := time.Now()
	if code, desc := g.redeem(tr, now); code != "" {
		oauthError(w, http.StatusBadRequest, code, desc)
		return
	}

	resp := map[string]any{
		"access_token": randomToken("at-"),
		"token_type":   "Bearer",
		"expires_in":   3600,
		"scope":        g.scope,
	}
	if !b.NoIDToken {
		idToken, err := s.idToken(g, b, now)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		resp["id_token"] = idToken
	}
	s.issueToken(resp["access_token"].(string), g.user)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

func (s *OIDCServer) idToken(g *grant[OIDCUser], b OIDCBehavior, now time.Time) (string, error) {
	claims := userClaims(g.user)
	claims["iss"] = s.URL
	claims["aud"] = s.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if b.WrongIssuer {
		claims["iss"] = "https://issuer.invalid"
	}
	if b.WrongAudience {
		claims["aud"] = "another-client"
	}
	if b.WrongNonce {
		claims["nonce"] = "not-" + g.nonce
	}
	if b.Expired {
		claims["iat"] = now.Add(-2 * time.Hour).Unix()
		claims["exp"] = now.Add(-time.Hour).Unix()
	}
	signer := s.signer
	if b.BadSignature {
		signer = s.badSigner
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func userClaims(u OIDCUser) map[string]any {
	c := map[string]any{"sub": u.Subject}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	set("email", u.Email)
	set("name", u.Name)
	set("picture", u.Picture)
	set("hd", u.HD)
	if u.EmailVerified != nil {
		c["email_verified"] = *u.EmailVerified
	}
	maps.Copy(c, u.Extra)
	return c
}

func (s *OIDCServer) keys(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r) || !s.hold(r, s.Behavior().JWKSDelay) {
		return
	}
	if st := s.Behavior().JWKSStatus; st != 0 {
		http.Error(w, http.StatusText(st), st)
		return
	}
	writeJSON(w, http.StatusOK, s.jwks)
}

// userinfo is OpenID Connect Core §5.3, with a bearer token from /token.
func (s *OIDCServer) userinfo(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r) {
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	u, known := s.tokenUser(tok)
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, userClaims(u))
}

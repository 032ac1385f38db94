package oidc

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/unilogin/unilogin/providers"
)

// Defaults.
const (
	// DefaultDiscoveryTimeout bounds discovery in New.
	DefaultDiscoveryTimeout = 10 * time.Second
	// DefaultHTTPTimeout is the timeout of the HTTP client used when
	// Config.HTTPClient is nil, and of JWKS fetches whose client has none.
	DefaultHTTPTimeout = 30 * time.Second
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{gooidc.ScopeOpenID, "email", "profile"}

// Config configures one OpenID Connect provider.
type Config struct {
	// ID is used in paths and as Identity.Provider. Required.
	ID string
	// Name is the display name; default ID.
	Name string
	// Issuer is the issuer URL; discovery reads
	// Issuer + "/.well-known/openid-configuration" and the document's
	// issuer must equal it. Required.
	Issuer       string
	ClientID     string // required
	ClientSecret string
	// Scopes default to DefaultScopes; "openid" is added when missing.
	Scopes []string
	// RedirectURL is used when AuthRequest.RedirectURL is empty.
	RedirectURL string
	// HTTPClient makes every request to the provider; default a client
	// with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// DiscoveryTimeout bounds discovery in New; default
	// DefaultDiscoveryTimeout.
	DiscoveryTimeout time.Duration
	// InsecureSkipEmailVerified reports every e-mail address from this
	// provider as verified, whatever email_verified says. Only for
	// providers that vouch for addresses without sending the claim.
	InsecureSkipEmailVerified bool
	// AMR is the authentication method reference; default "oidc:" + ID.
	AMR string
	// AuthParams are added to every authorization URL (e.g. Google's hd,
	// or prompt=select_account). They cannot override the parameters
	// Provider sets itself.
	AuthParams map[string]string
	// CheckClaims, when set, is called with every verified ID token's
	// claims; an error it returns ends Exchange, wrapped, so it should wrap
	// a providers sentinel (usually providers.ErrAccessDenied).
	CheckClaims func(claims map[string]any) error
}

// Provider is an OpenID Connect provider. It is safe for concurrent use.
type Provider struct {
	providers.Base
	issuer                    string
	prefix                    string // of error messages: oidc "<id>"
	authParams                map[string]string
	verifier                  *gooidc.IDTokenVerifier
	upstream                  *gooidc.Provider // for the UserInfo endpoint
	hasUserInfo               bool
	client                    *http.Client
	insecureSkipEmailVerified bool
	checkClaims               func(map[string]any) error
}

var _ providers.Provider = (*Provider)(nil)

// reserved are the authorization parameters AuthParams cannot override.
var reserved = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method"}

// New validates cfg and runs discovery at cfg.Issuer, bounded by
// cfg.DiscoveryTimeout and ctx. Every error names the provider id; a
// discovery error also names the issuer, and wraps providers.ErrUnavailable
// when the issuer could not be reached.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	timeout := cfg.DiscoveryTimeout
	if timeout <= 0 {
		timeout = DefaultDiscoveryTimeout
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	gp, err := gooidc.NewProvider(gooidc.ClientContext(dctx, withStatusCheck(client, "discovery", true)), cfg.Issuer)
	if err != nil {
		if providers.IsTransport(err) && !errors.Is(err, providers.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("oidc: provider %q: discovery at %s: %w", cfg.ID, cfg.Issuer, err)
	}
	var meta struct {
		UserInfo    string   `json:"userinfo_endpoint"`
		JWKSURI     string   `json:"jwks_uri"`
		Algs        []string `json:"id_token_signing_alg_values_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := gp.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: provider %q: discovery at %s: %w", cfg.ID, cfg.Issuer, err)
	}
	ep := gp.Endpoint()
	if meta.JWKSURI == "" || ep.AuthURL == "" || ep.TokenURL == "" {
		return nil, fmt.Errorf("oidc: provider %q: discovery at %s: jwks_uri, authorization_endpoint and token_endpoint are required", cfg.ID, cfg.Issuer)
	}
	ep.AuthStyle = authStyle(meta.AuthMethods)

	remote := gooidc.NewRemoteKeySet(gooidc.ClientContext(context.Background(), withStatusCheck(client, "JWKS", false)), meta.JWKSURI)
	verifier := gooidc.NewVerifier(cfg.Issuer, keySet{remote: remote}, &gooidc.Config{
		ClientID:             cfg.ClientID,
		SupportedSigningAlgs: signingAlgs(meta.Algs),
	})

	p := &Provider{
		prefix:                    fmt.Sprintf("oidc %q", cfg.ID),
		issuer:                    cfg.Issuer,
		authParams:                maps.Clone(cfg.AuthParams),
		verifier:                  verifier,
		upstream:                  gp,
		hasUserInfo:               meta.UserInfo != "",
		client:                    client,
		insecureSkipEmailVerified: cfg.InsecureSkipEmailVerified,
		checkClaims:               cfg.CheckClaims,
		Base: providers.NewBase(cfg.ID, cmp.Or(cfg.Name, cfg.ID), cmp.Or(cfg.AMR, "oidc:"+cfg.ID), oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       scopes(cfg.Scopes),
		}),
	}
	return p, nil
}

func validate(cfg Config) error {
	var errs []error
	if cfg.ID == "" {
		errs = append(errs, errors.New("id is required"))
	}
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client_id is required"))
	}
	for k := range cfg.AuthParams {
		if slices.Contains(reserved, k) {
			errs = append(errs, fmt.Errorf("auth param %q is set by the provider itself", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("oidc: provider %q: %w", cfg.ID, err)
	}
	return nil
}

func scopes(s []string) []string {
	if len(s) == 0 {
		return slices.Clone(DefaultScopes)
	}
	if slices.Contains(s, gooidc.ScopeOpenID) {
		return slices.Clone(s)
	}
	return append([]string{gooidc.ScopeOpenID}, s...)
}

// authStyle picks client authentication at the token endpoint from
// discovery (RFC 8414 §2: the default is client_secret_basic), so x/oauth2
// never has to guess by retrying with a single-use code.
func authStyle(methods []string) oauth2.AuthStyle {
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	if slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// signingAlgs keeps the advertised algorithms go-oidc can verify; none
// leaves go-oidc's default (RS256, the algorithm OIDC requires).
func signingAlgs(advertised []string) []string {
	known := []string{
		gooidc.RS256, gooidc.RS384, gooidc.RS512,
		gooidc.ES256, gooidc.ES384, gooidc.ES512,
		gooidc.PS256, gooidc.PS384, gooidc.PS512, gooidc.EdDSA,
	}
	var algs []string
	for _, a := range advertised {
		if slices.Contains(known, a) {
			algs = append(algs, a)
		}
	}
	return algs
}

// Issuer is the verified issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// AuthCodeURL implements providers.Provider: the authorization request of
// OpenID Connect Core §3.1.2.1 with response_type=code, state, nonce,
// redirect_uri and the RFC 7636 S256 challenge of req.PKCEVerifier, plus
// Config.AuthParams.
func (p *Provider) AuthCodeURL(req providers.AuthRequest) string {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(req.PKCEVerifier),
		gooidc.Nonce(req.Nonce),
	}
	for k, v := range p.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return p.OAuth2(req).AuthCodeURL(req.State, opts...)
}

// Exchange implements providers.Provider. It redeems code with req's PKCE
// verifier and redirect URI, verifies the ID token (signature, iss, aud,
// exp, nonce == req.Nonce) and reads sub, email, email_verified, name and
// picture. It does NOT check req.State.
//
// Errors: token endpoint OAuth errors are *providers.UpstreamError;
// unreachable, slow or failing upstreams (token endpoint or JWKS) wrap
// providers.ErrUnavailable; any ID token defect wraps
// providers.ErrInvalidIDToken; Config.CheckClaims errors are wrapped as
// returned.
func (p *Provider) Exchange(ctx context.Context, req providers.AuthRequest, code string) (providers.Identity, error) {
	if req.Nonce == "" || req.PKCEVerifier == "" {
		return providers.Identity{}, fmt.Errorf("%s: AuthRequest without nonce or PKCE verifier", p.prefix)
	}
	if code == "" {
		return providers.Identity{}, fmt.Errorf("%s: %w", p.prefix, providers.NewUpstreamError("invalid_request", "callback without code"))
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.OAuth2(req).Exchange(ctx, code, oauth2.VerifierOption(req.PKCEVerifier))
	if err != nil {
		return providers.Identity{}, fmt.Errorf("%s: token exchange: %w", p.prefix, providers.ClassifyTokenError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return providers.Identity{}, fmt.Errorf("%s: %w: token response without id_token", p.prefix, providers.ErrInvalidIDToken)
	}

	var keyErr error
	idt, err := p.verifier.Verify(context.WithValue(ctx, keySetErrKey{}, &keyErr), raw)
	if err != nil {
		if keyErr != nil && providers.IsTransport(keyErr) {
			if !errors.Is(keyErr, providers.ErrUnavailable) {
				keyErr = fmt.Errorf("%w: %w", providers.ErrUnavailable, keyErr)
			}
			return providers.Identity{}, fmt.Errorf("%s: fetch signing keys: %w", p.prefix, keyErr)
		}
		return providers.Identity{}, fmt.Errorf("%s: %w: %w", p.prefix, providers.ErrInvalidIDToken, err)
	}
	// OpenID Connect Core §3.1.3.7 step 11; go-oidc leaves the nonce to us.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(req.Nonce)) != 1 {
		return providers.Identity{}, fmt.Errorf("%s: %w: nonce mismatch", p.prefix, providers.ErrInvalidIDToken)
	}
	if idt.Subject == "" {
		return providers.Identity{}, fmt.Errorf("%s: %w: no sub claim", p.prefix, providers.ErrInvalidIDToken)
	}
	// §3.1.3.8: at_hash is optional in the code flow; check it when present.
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return providers.Identity{}, fmt.Errorf("%s: %w: %w", p.prefix, providers.ErrInvalidIDToken, err)
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return providers.Identity{}, fmt.Errorf("%s: %w: %w", p.prefix, providers.ErrInvalidIDToken, err)
	}
	if p.checkClaims != nil {
		if err := p.checkClaims(claims); err != nil {
			return providers.Identity{}, fmt.Errorf("%s: %w", p.prefix, err)
		}
	}
	if err := p.fillFromUserInfo(ctx, tok, idt.Subject, claims); err != nil {
		return providers.Identity{}, err
	}
	return p.identity(idt.Subject, claims), nil
}

// fillFromUserInfo completes an ID token without an e-mail address from the
// UserInfo endpoint: OpenID Connect Core §5.4 lets a provider return the email and
// profile claims there only, when it also issues an access token. Its sub
// must be the ID token's (§5.3.4); ID token claims are never overridden.
func (p *Provider) fillFromUserInfo(ctx context.Context, tok *oauth2.Token, sub string, claims map[string]any) error {
	if _, ok := claims["email"]; ok || !p.hasUserInfo || tok.AccessToken == "" {
		return nil // the ID token has the address; profile claims are cosmetic
	}
	ui, err := p.upstream.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		if providers.IsTransport(err) {
			return fmt.Errorf("%s: userinfo: %w: %w", p.prefix, providers.ErrUnavailable, err)
		}
		return fmt.Errorf("%s: userinfo: %w", p.prefix, providers.NewUpstreamError("userinfo_failed", err.Error()))
	}
	if ui.Subject != sub {
		return fmt.Errorf("%s: %w: userinfo sub differs from the ID token's", p.prefix, providers.ErrInvalidIDToken)
	}
	var extra map[string]any
	if err := ui.Claims(&extra); err != nil {
		return fmt.Errorf("%s: userinfo: %w", p.prefix, providers.NewUpstreamError("userinfo_malformed", err.Error()))
	}
	// email and email_verified travel together: never pair the ID token's
	// flag with another source's address.
	claims["email"], claims["email_verified"] = extra["email"], extra["email_verified"]
	for _, k := range []string{"name", "preferred_username", "picture"} {
		if _, ok := claims[k]; !ok {
			claims[k] = extra[k]
		}
	}
	return nil
}

func (p *Provider) identity(sub string, claims map[string]any) providers.Identity {
	id := providers.Identity{
		Provider:  p.ID(),
		Subject:   sub,
		Email:     str(claims["email"]),
		Name:      str(claims["name"]),
		AvatarURL: str(claims["picture"]),
	}
	if id.Name == "" {
		id.Name = str(claims["preferred_username"])
	}
	if id.Email != "" {
		id.EmailVerified = p.insecureSkipEmailVerified || truthy(claims["email_verified"])
	}
	return id
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// truthy reads email_verified: a JSON boolean, or the string "true" that
// some providers send. Anything else, a missing claim included, is false.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

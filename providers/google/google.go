package google

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/oidc"
)

// Fixed identity of the provider.
const (
	ID            = "google"
	AMR           = "google"
	DefaultName   = "Google"
	DefaultIssuer = "https://accounts.google.com"
)

// Config configures Google sign-in.
type Config struct {
	ClientID     string // required
	ClientSecret string
	// Issuer defaults to DefaultIssuer; tests point it at a fake.
	Issuer string
	// Name is the display name; default DefaultName.
	Name string
	// Scopes default to openid email profile.
	Scopes []string
	// RedirectURL is used when AuthRequest.RedirectURL is empty.
	RedirectURL string
	// HTTPClient makes every request to Google; see oidc.Config.
	HTTPClient *http.Client
	// DiscoveryTimeout bounds discovery in New; see oidc.Config.
	DiscoveryTimeout time.Duration
	// HostedDomains, when non-empty, admits only accounts whose verified hd
	// claim is one of these domains (compared case-insensitively).
	HostedDomains []string
	// InsecureSkipEmailVerified: see oidc.Config. Google always sends
	// email_verified, so this is never needed.
	InsecureSkipEmailVerified bool
}

// Provider is Google sign-in. It is safe for concurrent use.
type Provider struct {
	oidc    *oidc.Provider
	domains []string
}

var _ providers.Provider = (*Provider)(nil)

// New runs discovery at cfg.Issuer (default DefaultIssuer); see oidc.New.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	p := &Provider{}
	for _, d := range cfg.HostedDomains {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" && !slices.Contains(p.domains, d) {
			p.domains = append(p.domains, d)
		}
	}
	oc := oidc.Config{
		ID:                        ID,
		Name:                      cmp.Or(cfg.Name, DefaultName),
		AMR:                       AMR,
		Issuer:                    cmp.Or(cfg.Issuer, DefaultIssuer),
		ClientID:                  cfg.ClientID,
		ClientSecret:              cfg.ClientSecret,
		Scopes:                    cfg.Scopes,
		RedirectURL:               cfg.RedirectURL,
		HTTPClient:                cfg.HTTPClient,
		DiscoveryTimeout:          cfg.DiscoveryTimeout,
		InsecureSkipEmailVerified: cfg.InsecureSkipEmailVerified,
	}
	if len(p.domains) > 0 {
		oc.CheckClaims = p.checkHostedDomain
	}
	if len(p.domains) == 1 {
		// A hint for the account chooser only; the claim is what counts.
		oc.AuthParams = map[string]string{"hd": p.domains[0]}
	}
	inner, err := oidc.New(ctx, oc)
	if err != nil {
		return nil, err
	}
	p.oidc = inner
	return p, nil
}

// checkHostedDomain enforces HostedDomains on the verified claims.
func (p *Provider) checkHostedDomain(claims map[string]any) error {
	hd, _ := claims["hd"].(string)
	if hd == "" {
		return fmt.Errorf("google: account outside any hosted domain: %w", providers.ErrAccessDenied)
	}
	if !slices.Contains(p.domains, strings.ToLower(hd)) {
		return fmt.Errorf("google: hosted domain %q not allowed: %w", hd, providers.ErrAccessDenied)
	}
	return nil
}

// ID implements providers.Provider; it is always "google".
func (p *Provider) ID() string { return p.oidc.ID() }

// Name implements providers.Provider.
func (p *Provider) Name() string { return p.oidc.Name() }

// AMR implements providers.Provider; it is always "google".
func (p *Provider) AMR() string { return p.oidc.AMR() }

// AuthCodeURL implements providers.Provider; see oidc.Provider.AuthCodeURL.
func (p *Provider) AuthCodeURL(req providers.AuthRequest) string { return p.oidc.AuthCodeURL(req) }

// Exchange implements providers.Provider; see oidc.Provider.Exchange. An
// account outside HostedDomains fails with an error wrapping
// providers.ErrAccessDenied.
func (p *Provider) Exchange(ctx context.Context, req providers.AuthRequest, code string) (providers.Identity, error) {
	return p.oidc.Exchange(ctx, req, code)
}

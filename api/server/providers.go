package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/github"
	"github.com/unilogin/unilogin/providers/google"
	"github.com/unilogin/unilogin/providers/oidc"
)

// buildProviders builds every enabled provider once, at start-up. A
// provider that cannot be built stops start-up with a message naming it,
// unless its config says optional: then it is logged and left disabled.
func buildProviders(ctx context.Context, cfg *config.Config, log *slog.Logger) (*providers.Registry, error) {
	var list []providers.Provider
	add := func(key string, p *config.Provider, build func() (providers.Provider, error)) error {
		if !p.Enabled() {
			return nil
		}
		prov, err := build()
		if err != nil {
			if p.Optional {
				log.Warn("identity provider disabled: it could not be set up", "provider", key, "error", err.Error())
				return nil
			}
			return fmt.Errorf("%s: %w", key, err)
		}
		list = append(list, prov)
		return nil
	}
	if p := cfg.Providers.Google; p != nil {
		err := add("providers.google", p, func() (providers.Provider, error) {
			return google.New(ctx, google.Config{
				ClientID: p.ClientID, ClientSecret: p.ClientSecret, Issuer: p.Issuer, Name: p.Name, Scopes: p.Scopes,
				RedirectURL: cfg.CallbackURL(google.ID), HostedDomains: p.HostedDomains,
				InsecureSkipEmailVerified: p.InsecureSkipEmailVerified,
			})
		})
		if err != nil {
			return nil, err
		}
	}
	if p := cfg.Providers.GitHub; p != nil {
		err := add("providers.github", p, func() (providers.Provider, error) {
			return github.New(github.Config{
				ClientID: p.ClientID, ClientSecret: p.ClientSecret, Name: p.Name, Scopes: p.Scopes,
				BaseURL: p.BaseURL, APIURL: p.APIURL, RedirectURL: cfg.CallbackURL(github.DefaultID),
			})
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range cfg.Providers.OIDC {
		p := &cfg.Providers.OIDC[i]
		err := add(fmt.Sprintf("providers.oidc[%d] (%s)", i, p.ID), p, func() (providers.Provider, error) {
			return oidc.New(ctx, oidc.Config{
				ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
				Scopes: p.Scopes, RedirectURL: cfg.CallbackURL(p.ID), InsecureSkipEmailVerified: p.InsecureSkipEmailVerified,
			})
		})
		if err != nil {
			return nil, err
		}
	}
	return providers.NewRegistry(list...)
}

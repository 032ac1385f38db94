package server

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/unilogin/unilogin/api/prom"

	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/github"
	"github.com/unilogin/unilogin/providers/google"
	"github.com/unilogin/unilogin/providers/oidc"
)

// Discovery retry backoff: the first retry after providerRetryMin, doubling
// up to providerRetryMax (with up to 20% jitter, so instances do not knock
// on a recovering upstream in step).
var (
	providerRetryMin = time.Second
	providerRetryMax = time.Minute
)

// buildProviders builds every enabled provider. An upstream never decides
// whether unilogin starts: a provider whose set-up fails (OIDC discovery:
// unreachable, an error status, a bad document) is registered pending and
// retried in the background with backoff until ctx ends; it becomes usable,
// listed and accepted, as soon as it answers. Only what needs no upstream
// (GitHub's endpoints from config) can fail here, and config check reports
// invalid settings before that.
func buildProviders(ctx context.Context, cfg *config.Config, log *slog.Logger) (*providers.Registry, error) {
	type entry struct {
		key, id string
		build   func(context.Context) (providers.Provider, error)
	}
	var list []entry
	if p := cfg.Providers.Google; p != nil && p.Enabled() {
		list = append(list, entry{"providers.google", google.ID, func(ctx context.Context) (providers.Provider, error) {
			return google.New(ctx, google.Config{
				ClientID: p.ClientID, ClientSecret: p.ClientSecret, Issuer: p.Issuer, Name: p.Name, Scopes: p.Scopes,
				RedirectURL: cfg.CallbackURL(google.ID), HostedDomains: p.HostedDomains,
				InsecureSkipEmailVerified: p.InsecureSkipEmailVerified,
			})
		}})
	}
	var ready []providers.Provider
	if p := cfg.Providers.GitHub; p != nil && p.Enabled() {
		prov, err := github.New(github.Config{
			ClientID: p.ClientID, ClientSecret: p.ClientSecret, Name: p.Name, Scopes: p.Scopes,
			BaseURL: p.BaseURL, APIURL: p.APIURL, RedirectURL: cfg.CallbackURL(github.DefaultID),
		})
		if err != nil {
			return nil, fmt.Errorf("providers.github: %w", err)
		}
		ready = append(ready, prov)
	}
	for i := range cfg.Providers.OIDC {
		p := &cfg.Providers.OIDC[i]
		if !p.Enabled() {
			continue
		}
		list = append(list, entry{fmt.Sprintf("providers.oidc[%d] (%s)", i, p.ID), p.ID, func(ctx context.Context) (providers.Provider, error) {
			return oidc.New(ctx, oidc.Config{
				ID: p.ID, Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
				Scopes: p.Scopes, RedirectURL: cfg.CallbackURL(p.ID), InsecureSkipEmailVerified: p.InsecureSkipEmailVerified,
			})
		}})
	}
	// First attempts in parallel, each bounded by the discovery timeout.
	errs := make([]error, len(list))
	built := make([]providers.Provider, len(list))
	var wg sync.WaitGroup
	for i, e := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			built[i], errs[i] = e.build(ctx)
		}()
	}
	wg.Wait()
	for i := range list {
		if errs[i] == nil {
			ready = append(ready, built[i])
		}
	}
	reg, err := providers.NewRegistry(ready...)
	if err != nil {
		return nil, err
	}
	for i, e := range list {
		if errs[i] == nil {
			continue
		}
		log.Warn("identity provider not usable yet: retrying in the background", "provider", e.key, "error", errs[i].Error())
		reg.Pending(e.id, errs[i].Error())
		go retryProvider(ctx, reg, log, e.key, e.id, e.build)
	}
	return reg, nil
}

// retryProvider sets a provider up again with backoff until it answers
// (then adds it to reg) or ctx ends.
func retryProvider(ctx context.Context, reg *providers.Registry, log *slog.Logger, key, id string, build func(context.Context) (providers.Provider, error)) {
	wait := providerRetryMin
	for {
		jitter := time.Duration(mrand.Int64N(int64(wait)/5 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait + jitter):
		}
		p, err := build(ctx)
		if err == nil {
			if err := reg.Add(p); err != nil {
				log.Error("identity provider set up but not registered", "provider", key, "error", err.Error())
			} else {
				log.Info("identity provider usable", "provider", key)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		reg.Pending(id, err.Error())
		log.Warn("identity provider still not usable", "provider", key, "error", err.Error(), "retry_in", (2 * wait).String())
		wait = min(2*wait, providerRetryMax)
	}
}

// providerUpGauge exports each configured provider's state as
// unilogin_provider_up{provider} (1 usable, 0 pending).
func providerUpGauge(reg *providers.Registry) prom.Collector {
	return prom.NewGaugeFunc(prom.GaugeOpts{Name: "unilogin_provider_up",
		Help: "1 when the identity provider is usable, 0 while its set-up (OIDC discovery) is being retried."},
		[]string{"provider"}, func(set func(v float64, values ...string)) {
			for _, st := range reg.Statuses() {
				v := 0.0
				if st.Usable {
					v = 1
				}
				set(v, st.ID)
			}
		})
}

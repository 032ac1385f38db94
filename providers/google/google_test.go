package google_test

import (
	"cmp"
	"errors"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/google"
	"github.com/unilogin/unilogin/providers/providertest"
)

const callback = "http://localhost:8080/auth/google/callback"

var harness = providertest.Harness[google.Config, providertest.OIDCBehavior, *providertest.OIDCServer, *google.Provider]{
	Callback: callback,
	NewFake:  providertest.NewOIDC,
	Config: func(f *providertest.OIDCServer) google.Config {
		return google.Config{Issuer: f.URL, ClientID: f.ClientID, ClientSecret: f.ClientSecret}
	},
	Build: google.New,
}

func TestFullFlow(t *testing.T) {
	fake := providertest.NewOIDC(t, providertest.WithRS256())
	fake.SetUser(providertest.OIDCUser{
		Subject: "1089", Email: "bob@gmail.com", EmailVerified: new(true), Name: "Bob", Picture: "https://lh3.example/bob",
	})
	p := harness.Provider(t, fake)
	if p.ID() != "google" || p.AMR() != "google" || p.Name() != "Google" {
		t.Fatalf("ID/AMR/Name = %q %q %q", p.ID(), p.AMR(), p.Name())
	}
	id := harness.FullFlow(t, fake, p, providertest.Sent{Scope: "openid email profile", Nonce: true, AuthMethod: "client_secret_basic"})
	if fake.LastAuthorizeRequest().Query.Has("hd") {
		t.Errorf("auth URL without hosted domains carries hd: %v", fake.LastAuthorizeRequest().Query)
	}
	want := providers.Identity{Provider: "google", Subject: "1089", Email: "bob@gmail.com", EmailVerified: true, Name: "Bob", AvatarURL: "https://lh3.example/bob"}
	if id != want {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
}

func TestHostedDomains(t *testing.T) {
	for _, tc := range []struct {
		name    string
		domains []string
		hd      string
		wantHD  string // hd parameter of the auth URL
		allowed bool
	}{
		{name: "no restriction, consumer account", allowed: true},
		{name: "no restriction, workspace account", hd: "corp.example", allowed: true},
		{name: "one domain, match", domains: []string{"corp.example"}, hd: "corp.example", wantHD: "corp.example", allowed: true},
		{name: "one domain, case-insensitive", domains: []string{" Corp.Example "}, hd: "CORP.example", wantHD: "corp.example", allowed: true},
		{name: "one domain, other domain", domains: []string{"corp.example"}, hd: "evil.example", wantHD: "corp.example"},
		{name: "one domain, consumer account", domains: []string{"corp.example"}, wantHD: "corp.example"},
		{name: "two domains, second matches", domains: []string{"a.example", "b.example"}, hd: "b.example", allowed: true},
		{name: "two domains, none matches", domains: []string{"a.example", "b.example"}, hd: "c.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOIDC(t)
			fake.SetUser(providertest.OIDCUser{Subject: "s", Email: "u@" + cmp.Or(tc.hd, "gmail.com"), EmailVerified: new(true), HD: tc.hd})
			id, err := harness.SignIn(t, harness.Provider(t, fake, func(c *google.Config) { c.HostedDomains = tc.domains }))
			if got := fake.LastAuthorizeRequest().Query.Get("hd"); got != tc.wantHD {
				t.Errorf("auth URL hd = %q, want %q", got, tc.wantHD)
			}
			if tc.allowed {
				if err != nil || id.Subject != "s" {
					t.Fatalf("Exchange = %+v, %v", id, err)
				}
				return
			}
			if !errors.Is(err, providers.ErrAccessDenied) {
				t.Fatalf("err = %v, want ErrAccessDenied", err)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	is := providertest.Is
	harness.ExchangeErrors(t, []providertest.ExchangeCase[google.Config, providertest.OIDCBehavior]{
		{Name: "nonce mismatch", Behavior: providertest.OIDCBehavior{WrongNonce: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "wrong audience", Behavior: providertest.OIDCBehavior{WrongAudience: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "expired", Behavior: providertest.OIDCBehavior{Expired: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "bad signature", Behavior: providertest.OIDCBehavior{BadSignature: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "token 502", Behavior: providertest.OIDCBehavior{TokenStatus: 502}, Check: is(providers.ErrUnavailable)},
	})
}

func TestDiscoveryFailureNamesProvider(t *testing.T) {
	fake := providertest.NewOIDC(t)
	fake.SetBehavior(providertest.OIDCBehavior{DiscoveryStatus: 503})
	_, err := google.New(t.Context(), google.Config{Issuer: fake.URL, ClientID: "x"})
	if err == nil || !strings.Contains(err.Error(), `"google"`) || !strings.Contains(err.Error(), fake.URL) {
		t.Fatalf("err = %v, want one naming google and %s", err, fake.URL)
	}
	if !errors.Is(err, providers.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

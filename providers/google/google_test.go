package google_test

import (
	"cmp"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/google"
	"github.com/unilogin/unilogin/providers/providertest"
)

const callback = "http://localhost:8080/auth/google/callback"

func newProvider(t *testing.T, fake *providertest.OIDCServer, domains ...string) *google.Provider {
	t.Helper()
	p, err := google.New(t.Context(), google.Config{
		Issuer:        fake.URL,
		ClientID:      fake.ClientID,
		ClientSecret:  fake.ClientSecret,
		HostedDomains: domains,
	})
	if err != nil {
		t.Fatalf("google.New: %v", err)
	}
	return p
}

func TestFullFlow(t *testing.T) {
	fake := providertest.NewOIDC(t, providertest.WithRS256())
	fake.SetUser(providertest.OIDCUser{
		Subject: "1089", Email: "bob@gmail.com", EmailVerified: new(true), Name: "Bob", Picture: "https://lh3.example/bob",
	})
	p := newProvider(t, fake)
	if p.ID() != "google" || p.AMR() != "google" || p.Name() != "Google" {
		t.Fatalf("ID/AMR/Name = %q %q %q", p.ID(), p.AMR(), p.Name())
	}
	req := providers.NewAuthRequest(callback)
	authURL := p.AuthCodeURL(req)
	if u, _ := url.Parse(authURL); u.Query().Has("hd") {
		t.Errorf("auth URL without hosted domains carries hd: %s", authURL)
	}
	code, state := providertest.AuthorizeCode(t, authURL)
	if state != req.State {
		t.Fatalf("state = %q", state)
	}
	id, err := p.Exchange(t.Context(), req, code)
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Identity{Provider: "google", Subject: "1089", Email: "bob@gmail.com", EmailVerified: true, Name: "Bob", AvatarURL: "https://lh3.example/bob"}
	if id != want {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
	if tr := fake.LastTokenRequest(); tr.CodeVerifier != req.PKCEVerifier || tr.RedirectURI != callback {
		t.Errorf("token request = %+v", tr)
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
			p := newProvider(t, fake, tc.domains...)
			req := providers.NewAuthRequest(callback)
			code, _ := providertest.AuthorizeCode(t, p.AuthCodeURL(req))
			if got := fake.LastAuthorizeRequest().Query.Get("hd"); got != tc.wantHD {
				t.Errorf("auth URL hd = %q, want %q", got, tc.wantHD)
			}
			id, err := p.Exchange(t.Context(), req, code)
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
	for _, tc := range []struct {
		name     string
		behavior providertest.OIDCBehavior
		want     error
	}{
		{"nonce mismatch", providertest.OIDCBehavior{WrongNonce: true}, providers.ErrInvalidIDToken},
		{"wrong audience", providertest.OIDCBehavior{WrongAudience: true}, providers.ErrInvalidIDToken},
		{"expired", providertest.OIDCBehavior{Expired: true}, providers.ErrInvalidIDToken},
		{"bad signature", providertest.OIDCBehavior{BadSignature: true}, providers.ErrInvalidIDToken},
		{"token 502", providertest.OIDCBehavior{TokenStatus: 502}, providers.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOIDC(t)
			p := newProvider(t, fake)
			req := providers.NewAuthRequest(callback)
			code, _ := providertest.AuthorizeCode(t, p.AuthCodeURL(req))
			fake.SetBehavior(tc.behavior)
			if _, err := p.Exchange(t.Context(), req, code); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
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

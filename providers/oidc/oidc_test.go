package oidc_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/oidc"
	"github.com/unilogin/unilogin/providers/providertest"
)

const callback = "http://localhost:8080/auth/corp/callback"

var harness = providertest.Harness[oidc.Config, providertest.OIDCBehavior, *providertest.OIDCServer, *oidc.Provider]{
	Callback: callback,
	NewFake:  providertest.NewOIDC,
	Config: func(f *providertest.OIDCServer) oidc.Config {
		return oidc.Config{ID: "corp", Name: "Corp SSO", Issuer: f.URL, ClientID: f.ClientID, ClientSecret: f.ClientSecret}
	},
	Build: oidc.New,
}

func TestFullFlow(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []providertest.Option
	}{
		{"ES256", nil},
		{"RS256", []providertest.Option{providertest.WithRS256()}},
		{"registered redirect and custom client", []providertest.Option{
			providertest.WithRedirectURIs(callback), providertest.WithClient("corp-app", "s3cr3t:/+%"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOIDC(t, tc.opts...)
			p := harness.Provider(t, fake)
			if p.ID() != "corp" || p.Name() != "Corp SSO" || p.AMR() != "oidc:corp" || p.Issuer() != fake.URL {
				t.Fatalf("ID/Name/AMR/Issuer = %q %q %q %q", p.ID(), p.Name(), p.AMR(), p.Issuer())
			}
			id := harness.FullFlow(t, fake, p, providertest.Sent{Scope: "openid email profile", Nonce: true, AuthMethod: "client_secret_basic"})
			want := providers.Identity{
				Provider:      "corp",
				Subject:       providertest.DefaultOIDCUser.Subject,
				Email:         providertest.DefaultOIDCUser.Email,
				EmailVerified: true,
				Name:          providertest.DefaultOIDCUser.Name,
				AvatarURL:     providertest.DefaultOIDCUser.Picture,
			}
			if id != want {
				t.Errorf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

func TestExchangeErrors(t *testing.T) {
	upstream, is := providertest.UpstreamErr, providertest.Is
	cases := []providertest.ExchangeCase[oidc.Config, providertest.OIDCBehavior]{
		{Name: "nonce mismatch", Behavior: providertest.OIDCBehavior{WrongNonce: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "nonce of another flow", Tamper: func(r *providers.AuthRequest, _ *string) { r.Nonce = providers.RandomString() }, Check: is(providers.ErrInvalidIDToken)},
		{Name: "wrong audience", Behavior: providertest.OIDCBehavior{WrongAudience: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "expired", Behavior: providertest.OIDCBehavior{Expired: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "bad signature", Behavior: providertest.OIDCBehavior{BadSignature: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "wrong issuer", Behavior: providertest.OIDCBehavior{WrongIssuer: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "no id_token", Behavior: providertest.OIDCBehavior{NoIDToken: true}, Check: is(providers.ErrInvalidIDToken)},
		{Name: "token 500", Behavior: providertest.OIDCBehavior{TokenStatus: 500}, Check: is(providers.ErrUnavailable)},
		{Name: "token 503", Behavior: providertest.OIDCBehavior{TokenStatus: 503}, Check: is(providers.ErrUnavailable)},
		{Name: "token invalid_grant", Behavior: providertest.OIDCBehavior{TokenError: "invalid_grant"}, Check: upstream("invalid_grant")},
		{Name: "jwks 500", Behavior: providertest.OIDCBehavior{JWKSStatus: 500}, Check: is(providers.ErrUnavailable)},
		{Name: "PKCE verifier mismatch", Tamper: func(r *providers.AuthRequest, _ *string) { r.PKCEVerifier = providers.NewPKCEVerifier() }, Check: upstream("invalid_grant")},
		{Name: "redirect_uri mismatch", Tamper: func(r *providers.AuthRequest, _ *string) { r.RedirectURL = "http://localhost:8080/other" }, Check: upstream("invalid_grant")},
		{Name: "unknown code", Tamper: func(_ *providers.AuthRequest, c *string) { *c = "forged" }, Check: upstream("invalid_grant")},
		{Name: "wrong client secret", Config: func(c *oidc.Config) { c.ClientSecret = "wrong" }, Check: upstream("invalid_client")},
		{Name: "empty code", Tamper: func(_ *providers.AuthRequest, c *string) { *c = "" }, Check: upstream("invalid_request")},
		{Name: "check claims hook", Config: func(c *oidc.Config) {
			c.CheckClaims = func(map[string]any) error { return fmt.Errorf("not allowed: %w", providers.ErrAccessDenied) }
		}, Check: is(providers.ErrAccessDenied)},
	}
	harness.ExchangeErrors(t, cases)
}

func TestCodeIsSingleUse(t *testing.T) { harness.CodeIsSingleUse(t, "invalid_grant") }

func TestSlowTokenEndpointRespectsDeadline(t *testing.T) {
	harness.SlowExchange(t, providertest.OIDCBehavior{Delay: time.Minute}, 100*time.Millisecond)
}

func TestSlowJWKSRespectsDeadline(t *testing.T) {
	fake, err := harness.SlowExchange(t, providertest.OIDCBehavior{JWKSDelay: time.Minute}, 200*time.Millisecond)
	if errors.Is(err, providers.ErrInvalidIDToken) {
		t.Fatalf("err = %v: a slow JWKS is not an invalid token", err)
	}
	if fake.TokenRequests() != 1 {
		t.Fatalf("token requests = %d", fake.TokenRequests())
	}
}

func TestEmailVerified(t *testing.T) {
	for _, tc := range []struct {
		name     string
		user     providertest.OIDCUser
		insecure bool
		want     bool
	}{
		{"true", providertest.OIDCUser{Subject: "s", Email: "a@example.com", EmailVerified: new(true)}, false, true},
		{"false", providertest.OIDCUser{Subject: "s", Email: "a@example.com", EmailVerified: new(false)}, false, false},
		{"missing", providertest.OIDCUser{Subject: "s", Email: "a@example.com"}, false, false},
		{"string true", providertest.OIDCUser{Subject: "s", Email: "a@example.com", Extra: map[string]any{"email_verified": "true"}}, false, true},
		{"string false", providertest.OIDCUser{Subject: "s", Email: "a@example.com", Extra: map[string]any{"email_verified": "false"}}, false, false},
		{"number", providertest.OIDCUser{Subject: "s", Email: "a@example.com", Extra: map[string]any{"email_verified": 1}}, false, false},
		{"no email but verified claim", providertest.OIDCUser{Subject: "s", EmailVerified: new(true)}, false, false},
		{"insecure skip, missing", providertest.OIDCUser{Subject: "s", Email: "a@example.com"}, true, true},
		{"insecure skip, false", providertest.OIDCUser{Subject: "s", Email: "a@example.com", EmailVerified: new(false)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOIDC(t)
			fake.SetUser(tc.user)
			id, err := harness.SignIn(t, harness.Provider(t, fake, func(c *oidc.Config) { c.InsecureSkipEmailVerified = tc.insecure }))
			if err != nil {
				t.Fatal(err)
			}
			if id.EmailVerified != tc.want || id.Email != tc.user.Email || id.Subject != "s" {
				t.Errorf("identity = %+v, want EmailVerified %v", id, tc.want)
			}
		})
	}
}

func TestNameFallsBackToPreferredUsername(t *testing.T) {
	fake := providertest.NewOIDC(t)
	fake.SetUser(providertest.OIDCUser{Subject: "s", Extra: map[string]any{"preferred_username": "alice"}})
	id, err := harness.SignIn(t, harness.Provider(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != "alice" || id.Email != "" || id.EmailVerified {
		t.Errorf("identity = %+v", id)
	}
}

func TestAccessDenied(t *testing.T) {
	harness.AccessDenied(t, providertest.OIDCBehavior{DenyAccess: true})
}

func TestAuthCodeURL(t *testing.T) {
	fake := providertest.NewOIDC(t)
	p := harness.Provider(t, fake, func(c *oidc.Config) {
		c.Scopes = []string{"email", "groups"}
		c.AuthParams = map[string]string{"prompt": "select_account"}
		c.RedirectURL = "http://localhost:8080/default/callback"
		c.AMR = "custom"
	})
	if p.AMR() != "custom" {
		t.Errorf("AMR = %q", p.AMR())
	}
	req := providers.NewAuthRequest("")
	u, err := url.Parse(p.AuthCodeURL(req))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"client_id":             fake.ClientID,
		"response_type":         "code",
		"scope":                 "openid email groups",
		"state":                 req.State,
		"nonce":                 req.Nonce,
		"code_challenge":        providertest.S256(req.PKCEVerifier),
		"code_challenge_method": "S256",
		"redirect_uri":          "http://localhost:8080/default/callback",
		"prompt":                "select_account",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if !strings.HasPrefix(u.String(), fake.URL+"/authorize?") {
		t.Errorf("auth URL = %s", u)
	}
}

func TestNewErrors(t *testing.T) {
	closed := httptest.NewServer(nil)
	closed.Close()

	for _, tc := range []struct {
		name     string
		behavior providertest.OIDCBehavior
		cfg      func(c *oidc.Config, fake *providertest.OIDCServer)
		want     []string // substrings of the error
		unavail  bool
	}{
		{name: "discovery 500", behavior: providertest.OIDCBehavior{DiscoveryStatus: 500}, want: []string{`"corp"`, "discovery", "500"}, unavail: true},
		{name: "discovery 404", behavior: providertest.OIDCBehavior{DiscoveryStatus: 404}, want: []string{`"corp"`, "404"}},
		{name: "issuer mismatch", behavior: providertest.OIDCBehavior{DiscoveryIssuer: "https://evil.example"}, want: []string{`"corp"`, "https://evil.example"}},
		{name: "unreachable", cfg: func(c *oidc.Config, _ *providertest.OIDCServer) { c.Issuer = closed.URL }, want: []string{`"corp"`, closed.URL}, unavail: true},
		{name: "slow", behavior: providertest.OIDCBehavior{Delay: time.Minute}, cfg: func(c *oidc.Config, _ *providertest.OIDCServer) {
			c.DiscoveryTimeout = 100 * time.Millisecond
		}, want: []string{`"corp"`, "deadline"}, unavail: true},
		{name: "missing fields", cfg: func(c *oidc.Config, _ *providertest.OIDCServer) { c.Issuer, c.ClientID = "", "" },
			want: []string{`"corp"`, "issuer is required", "client_id is required"}},
		{name: "reserved auth param", cfg: func(c *oidc.Config, _ *providertest.OIDCServer) { c.AuthParams = map[string]string{"nonce": "x"} },
			want: []string{`"nonce"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewOIDC(t)
			fake.SetBehavior(tc.behavior)
			cfg := oidc.Config{ID: "corp", Issuer: fake.URL, ClientID: fake.ClientID, ClientSecret: fake.ClientSecret}
			if tc.cfg != nil {
				tc.cfg(&cfg, fake)
			}
			start := time.Now()
			p, err := oidc.New(t.Context(), cfg)
			if err == nil {
				t.Fatalf("New succeeded: %v", p)
			}
			t.Logf("error: %v", err)
			if time.Since(start) > 5*time.Second {
				t.Errorf("New took %v", time.Since(start))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if errors.Is(err, providers.ErrUnavailable) != tc.unavail {
				t.Errorf("errors.Is(ErrUnavailable) = %v, want %v (%v)", !tc.unavail, tc.unavail, err)
			}
		})
	}
}

func TestExchangeRequiresNonceAndVerifier(t *testing.T) {
	fake := providertest.NewOIDC(t)
	p := harness.Provider(t, fake)
	req, code := providertest.Login(t, p, callback)
	for _, r := range []providers.AuthRequest{
		{State: req.State, Nonce: "", PKCEVerifier: req.PKCEVerifier, RedirectURL: callback},
		{State: req.State, Nonce: req.Nonce, PKCEVerifier: "", RedirectURL: callback},
	} {
		if _, err := p.Exchange(t.Context(), r, code); err == nil {
			t.Errorf("Exchange(%+v) succeeded", r)
		}
	}
	if n := fake.TokenRequests(); n != 0 {
		t.Errorf("token requests = %d, want 0", n)
	}
}

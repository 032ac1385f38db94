package github_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/providers/github"
	"github.com/unilogin/unilogin/providers/providertest"
)

const callback = "http://localhost:8080/auth/github/callback"

var harness = providertest.Harness[github.Config, providertest.GitHubBehavior, *providertest.GitHubServer, *github.Provider]{
	Callback: callback,
	NewFake:  providertest.NewGitHub,
	Config: func(f *providertest.GitHubServer) github.Config {
		return github.Config{ClientID: f.ClientID, ClientSecret: f.ClientSecret, BaseURL: f.URL, APIURL: f.APIURL}
	},
	Build: func(_ context.Context, c github.Config) (*github.Provider, error) { return github.New(c) },
}

func TestFullFlow(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*github.Config)
	}{
		{"explicit API URL", nil},
		{"enterprise API URL derived from base URL", func(c *github.Config) { c.APIURL = "" }},
		{"trailing slashes", func(c *github.Config) { c.BaseURL += "/"; c.APIURL += "/" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewGitHub(t, providertest.WithRedirectURIs(callback))
			p := harness.Provider(t, fake, tc.cfg)
			if p.ID() != "github" || p.Name() != "GitHub" || p.AMR() != "github" {
				t.Fatalf("ID/Name/AMR = %q %q %q", p.ID(), p.Name(), p.AMR())
			}
			id := harness.FullFlow(t, fake, p, providertest.Sent{Scope: "read:user user:email", AuthMethod: "client_secret_post"})
			want := providers.Identity{
				Provider:      "github",
				Subject:       "583231",
				Email:         "octocat@example.com",
				EmailVerified: true,
				Name:          "The Octocat",
				AvatarURL:     providertest.DefaultGitHubUser.AvatarURL,
			}
			if id != want {
				t.Errorf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

func TestIdentityFromUser(t *testing.T) {
	for _, tc := range []struct {
		name         string
		user         providertest.GitHubUser
		wantEmail    string
		wantVerified bool
		wantName     string
	}{
		{
			name:      "primary verified among others",
			user:      providertest.GitHubUser{ID: 1, Login: "a", Name: "A", Emails: []providertest.GitHubEmail{{Email: "x@example.com", Verified: true}, {Email: "a@example.com", Primary: true, Verified: true}}},
			wantEmail: "a@example.com", wantVerified: true, wantName: "A",
		},
		{
			name:     "primary unverified, other verified: no usable email",
			user:     providertest.GitHubUser{ID: 2, Login: "b", Emails: []providertest.GitHubEmail{{Email: "b@example.com", Primary: true}, {Email: "x@example.com", Verified: true}}},
			wantName: "b",
		},
		{
			name:     "no emails, name falls back to login",
			user:     providertest.GitHubUser{ID: 3, Login: "c"},
			wantName: "c",
		},
		{
			name:     "large id",
			user:     providertest.GitHubUser{ID: 1 << 40, Login: "d", Name: "D"},
			wantName: "D",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewGitHub(t)
			fake.SetUser(tc.user)
			id, err := harness.SignIn(t, harness.Provider(t, fake))
			if err != nil {
				t.Fatal(err)
			}
			want := providers.Identity{
				Provider: "github", Subject: strconv.FormatInt(tc.user.ID, 10),
				Email: tc.wantEmail, EmailVerified: tc.wantVerified, Name: tc.wantName,
			}
			if id != want {
				t.Errorf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

func TestExchangeErrors(t *testing.T) {
	upstream, is := providertest.UpstreamErr, providertest.Is
	cases := []providertest.ExchangeCase[github.Config, providertest.GitHubBehavior]{
		{Name: "bad code answered with 200", Tamper: func(_ *providers.AuthRequest, c *string) { *c = "forged" }, Check: upstream("bad_verification_code")},
		{Name: "token error", Behavior: providertest.GitHubBehavior{TokenError: "bad_verification_code"}, Check: upstream("bad_verification_code")},
		{Name: "PKCE verifier mismatch", Tamper: func(r *providers.AuthRequest, _ *string) { r.PKCEVerifier = providers.NewPKCEVerifier() }, Check: upstream("bad_verification_code")},
		{Name: "redirect_uri mismatch", Tamper: func(r *providers.AuthRequest, _ *string) { r.RedirectURL = "http://localhost:8080/other" }, Check: upstream("redirect_uri_mismatch")},
		{Name: "wrong client secret", Config: func(c *github.Config) { c.ClientSecret = "wrong" }, Check: upstream("incorrect_client_credentials")},
		{Name: "token endpoint 500", Behavior: providertest.GitHubBehavior{TokenStatus: 500}, Check: is(providers.ErrUnavailable)},
		{Name: "API 500", Behavior: providertest.GitHubBehavior{APIStatus: 500}, Check: is(providers.ErrUnavailable)},
		{Name: "API 502", Behavior: providertest.GitHubBehavior{APIStatus: 502}, Check: is(providers.ErrUnavailable)},
		{Name: "API 429", Behavior: providertest.GitHubBehavior{APIStatus: 429}, Check: is(providers.ErrUnavailable)},
		{Name: "API 401", Behavior: providertest.GitHubBehavior{APIStatus: 401}, Check: upstream("http_401")},
		{Name: "emails 404 (scope missing)", Behavior: providertest.GitHubBehavior{EmailsStatus: 404}, Check: upstream("http_404")},
		{Name: "emails 503", Behavior: providertest.GitHubBehavior{EmailsStatus: 503}, Check: is(providers.ErrUnavailable)},
		{Name: "API unreachable", Config: func(c *github.Config) { c.APIURL = "http://127.0.0.1:1" }, Check: is(providers.ErrUnavailable)},
		{Name: "empty code", Tamper: func(_ *providers.AuthRequest, c *string) { *c = "" }, Check: upstream("invalid_request")},
	}
	harness.ExchangeErrors(t, cases)
}

func TestCodeIsSingleUse(t *testing.T) { harness.CodeIsSingleUse(t, "bad_verification_code") }

func TestAccessDenied(t *testing.T) {
	harness.AccessDenied(t, providertest.GitHubBehavior{DenyAccess: true})
}

func TestSlowUpstreamRespectsDeadline(t *testing.T) {
	harness.SlowExchange(t, providertest.GitHubBehavior{Delay: time.Minute}, 100*time.Millisecond)
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     github.Config
		wantErr []string
	}{
		{name: "defaults", cfg: github.Config{ClientID: "id", ClientSecret: "s"}},
		{name: "custom id", cfg: github.Config{ID: "ghe", Name: "Corp GitHub", ClientID: "id", ClientSecret: "s", BaseURL: "https://ghe.example"}},
		{name: "missing credentials", cfg: github.Config{}, wantErr: []string{`"github"`, "client_id is required", "client_secret is required"}},
		{name: "bad URLs", cfg: github.Config{ClientID: "id", ClientSecret: "s", BaseURL: "ftp://x", APIURL: "nope"}, wantErr: []string{"base_url", "api_url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := github.New(tc.cfg)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded: %v", p)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAuthCodeURLDefaults(t *testing.T) {
	p, err := github.New(github.Config{ID: "ghe", ClientID: "id", ClientSecret: "s", RedirectURL: "https://login.example/auth/ghe/callback"})
	if err != nil {
		t.Fatal(err)
	}
	req := providers.NewAuthRequest("")
	u, _ := url.Parse(p.AuthCodeURL(req))
	if u.Scheme+"://"+u.Host+u.Path != "https://github.com/login/oauth/authorize" {
		t.Errorf("auth URL = %s", u)
	}
	q := u.Query()
	if q.Get("redirect_uri") != "https://login.example/auth/ghe/callback" || q.Get("state") != req.State ||
		q.Get("client_id") != "id" || q.Get("code_challenge_method") != "S256" || q.Has("nonce") {
		t.Errorf("auth URL query = %v", q)
	}
	if p.ID() != "ghe" || p.AMR() != "github" {
		t.Errorf("ID/AMR = %q %q", p.ID(), p.AMR())
	}
}

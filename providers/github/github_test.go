package github_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
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

func newProvider(t *testing.T, fake *providertest.GitHubServer, mutate ...func(*github.Config)) *github.Provider {
	t.Helper()
	cfg := github.Config{
		ClientID:     fake.ClientID,
		ClientSecret: fake.ClientSecret,
		BaseURL:      fake.URL,
		APIURL:       fake.APIURL,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := github.New(cfg)
	if err != nil {
		t.Fatalf("github.New: %v", err)
	}
	return p
}

func login(t *testing.T, p providers.Provider) (providers.AuthRequest, string) {
	t.Helper()
	req := providers.NewAuthRequest(callback)
	code, state := providertest.AuthorizeCode(t, p.AuthCodeURL(req))
	if state != req.State {
		t.Fatalf("state = %q, want %q", state, req.State)
	}
	return req, code
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
			var mut []func(*github.Config)
			if tc.cfg != nil {
				mut = append(mut, tc.cfg)
			}
			p := newProvider(t, fake, mut...)
			if p.ID() != "github" || p.Name() != "GitHub" || p.AMR() != "github" {
				t.Fatalf("ID/Name/AMR = %q %q %q", p.ID(), p.Name(), p.AMR())
			}
			req, code := login(t, p)
			ar := fake.LastAuthorizeRequest()
			sum := sha256.Sum256([]byte(req.PKCEVerifier))
			if ar.Scope != "read:user user:email" || ar.CodeChallengeMethod != "S256" ||
				ar.CodeChallenge != base64.RawURLEncoding.EncodeToString(sum[:]) || ar.RedirectURI != callback || ar.Nonce != "" {
				t.Errorf("authorize request = %+v", ar)
			}

			id, err := p.Exchange(t.Context(), req, code)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
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
			tr := fake.LastTokenRequest()
			if tr.ClientID != fake.ClientID || tr.ClientSecret != fake.ClientSecret || tr.AuthMethod != "client_secret_post" ||
				tr.CodeVerifier != req.PKCEVerifier || tr.RedirectURI != callback || tr.Code != code {
				t.Errorf("token request = %+v", tr)
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
			p := newProvider(t, fake)
			req, code := login(t, p)
			id, err := p.Exchange(t.Context(), req, code)
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
	for _, tc := range []struct {
		name     string
		behavior providertest.GitHubBehavior
		tamper   func(req *providers.AuthRequest, code *string)
		cfg      func(*github.Config)
		check    func(*testing.T, error)
	}{
		{name: "bad code answered with 200", tamper: func(_ *providers.AuthRequest, c *string) { *c = "forged" }, check: upstream("bad_verification_code")},
		{name: "token error", behavior: providertest.GitHubBehavior{TokenError: "bad_verification_code"}, check: upstream("bad_verification_code")},
		{name: "PKCE verifier mismatch", tamper: func(r *providers.AuthRequest, _ *string) { r.PKCEVerifier = providers.NewPKCEVerifier() }, check: upstream("bad_verification_code")},
		{name: "redirect_uri mismatch", tamper: func(r *providers.AuthRequest, _ *string) { r.RedirectURL = "http://localhost:8080/other" }, check: upstream("redirect_uri_mismatch")},
		{name: "wrong client secret", cfg: func(c *github.Config) { c.ClientSecret = "wrong" }, check: upstream("incorrect_client_credentials")},
		{name: "token endpoint 500", behavior: providertest.GitHubBehavior{TokenStatus: 500}, check: is(providers.ErrUnavailable)},
		{name: "API 500", behavior: providertest.GitHubBehavior{APIStatus: 500}, check: is(providers.ErrUnavailable)},
		{name: "API 502", behavior: providertest.GitHubBehavior{APIStatus: 502}, check: is(providers.ErrUnavailable)},
		{name: "API 429", behavior: providertest.GitHubBehavior{APIStatus: 429}, check: is(providers.ErrUnavailable)},
		{name: "API 401", behavior: providertest.GitHubBehavior{APIStatus: 401}, check: upstream("http_401")},
		{name: "emails 404 (scope missing)", behavior: providertest.GitHubBehavior{EmailsStatus: 404}, check: upstream("http_404")},
		{name: "emails 503", behavior: providertest.GitHubBehavior{EmailsStatus: 503}, check: is(providers.ErrUnavailable)},
		{name: "API unreachable", cfg: func(c *github.Config) { c.APIURL = "http://127.0.0.1:1" }, check: is(providers.ErrUnavailable)},
		{name: "empty code", tamper: func(_ *providers.AuthRequest, c *string) { *c = "" }, check: upstream("invalid_request")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := providertest.NewGitHub(t)
			var mut []func(*github.Config)
			if tc.cfg != nil {
				mut = append(mut, tc.cfg)
			}
			p := newProvider(t, fake, mut...)
			req, code := login(t, p)
			if tc.tamper != nil {
				tc.tamper(&req, &code)
			}
			fake.SetBehavior(tc.behavior)
			id, err := p.Exchange(t.Context(), req, code)
			if err == nil {
				t.Fatalf("Exchange succeeded: %+v", id)
			}
			t.Logf("error: %v", err)
			tc.check(t, err)
		})
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	fake := providertest.NewGitHub(t)
	p := newProvider(t, fake)
	req, code := login(t, p)
	if _, err := p.Exchange(t.Context(), req, code); err != nil {
		t.Fatal(err)
	}
	_, err := p.Exchange(t.Context(), req, code) // the second exchange
	providertest.UpstreamErr("bad_verification_code")(t, err)
}

func TestAccessDenied(t *testing.T) {
	fake := providertest.NewGitHub(t)
	fake.SetBehavior(providertest.GitHubBehavior{DenyAccess: true})
	p := newProvider(t, fake)
	req := providers.NewAuthRequest(callback)
	q := providertest.Authorize(t, p.AuthCodeURL(req)).Query()
	if q.Get("state") != req.State || q.Get("code") != "" {
		t.Fatalf("redirect query = %v", q)
	}
	if err := providers.FromCallbackError(q.Get("error"), q.Get("error_description")); !errors.Is(err, providers.ErrAccessDenied) {
		t.Fatalf("FromCallbackError = %v, want ErrAccessDenied", err)
	}
}

func TestSlowUpstreamRespectsDeadline(t *testing.T) {
	fake := providertest.NewGitHub(t)
	p := newProvider(t, fake)
	req, code := login(t, p)
	fake.SetBehavior(providertest.GitHubBehavior{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Exchange(ctx, req, code)
	if !errors.Is(err, providers.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Exchange took %v", d)
	}
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

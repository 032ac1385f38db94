package github

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/unilogin/unilogin/providers"
)

// Defaults.
const (
	DefaultID      = "github"
	DefaultName    = "GitHub"
	DefaultAMR     = "github"
	DefaultBaseURL = "https://github.com"
	DefaultAPIURL  = "https://api.github.com"
	// DefaultHTTPTimeout is the timeout of the client used when
	// Config.HTTPClient is nil.
	DefaultHTTPTimeout = 30 * time.Second
	// maxBody bounds every API response read.
	maxBody = 1 << 20
	// apiVersion is the REST API version we speak.
	apiVersion = "2022-11-28"
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{"read:user", "user:email"}

// Config configures GitHub or a GitHub Enterprise Server.
type Config struct {
	// ID is used in paths and as Identity.Provider; default DefaultID.
	ID string
	// Name is the display name; default DefaultName.
	Name string
	// AMR is the authentication method reference; default DefaultAMR.
	AMR          string
	ClientID     string // required
	ClientSecret string // required
	// Scopes default to DefaultScopes.
	Scopes []string
	// BaseURL is the web root with /login/oauth/authorize and
	// /login/oauth/access_token; default DefaultBaseURL.
	BaseURL string
	// APIURL is the REST API root: DefaultAPIURL when BaseURL is the
	// default, else BaseURL + "/api/v3" (GitHub Enterprise Server).
	APIURL string
	// RedirectURL is used when AuthRequest.RedirectURL is empty.
	RedirectURL string
	// HTTPClient makes every request to GitHub; default a client with
	// DefaultHTTPTimeout.
	HTTPClient *http.Client
}

// Provider is GitHub sign-in. It is safe for concurrent use.
type Provider struct {
	providers.Base
	prefix string // of error messages: github, or github "<id>"
	apiURL string
	client *http.Client
}

var _ providers.Provider = (*Provider)(nil)

// New validates cfg and returns the provider; it makes no request.
func New(cfg Config) (*Provider, error) {
	id := cmp.Or(cfg.ID, DefaultID)
	base := strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/")
	api := strings.TrimRight(cfg.APIURL, "/")
	if api == "" {
		api = DefaultAPIURL
		if base != DefaultBaseURL {
			api = base + "/api/v3"
		}
	}
	var errs []error
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client_id is required"))
	}
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("client_secret is required"))
	}
	if err := checkURL("base_url", base); err != nil {
		errs = append(errs, err)
	}
	if err := checkURL("api_url", api); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("github: provider %q: %w", id, err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	scopes := slices.Clone(cfg.Scopes)
	if len(scopes) == 0 {
		scopes = slices.Clone(DefaultScopes)
	}
	prefix := "github"
	if id != DefaultID {
		prefix = fmt.Sprintf("github %q", id)
	}
	return &Provider{
		prefix: prefix,
		apiURL: api,
		client: client,
		Base: providers.NewBase(id, cmp.Or(cfg.Name, DefaultName), cmp.Or(cfg.AMR, DefaultAMR), oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:  base + "/login/oauth/authorize",
				TokenURL: base + "/login/oauth/access_token",
				// GitHub documents client_id and client_secret as
				// parameters; never auto-detect (it retries a
				// single-use code).
				AuthStyle: oauth2.AuthStyleInParams,
			},
		}),
	}, nil
}

func checkURL(key, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s %q is not an http(s) URL", key, raw)
	}
	return nil
}

// AuthCodeURL implements providers.Provider: client_id, redirect_uri,
// scope, state and the S256 challenge of req.PKCEVerifier. req.Nonce is
// not used (GitHub is not OpenID Connect).
func (p *Provider) AuthCodeURL(req providers.AuthRequest) string {
	return p.OAuth2(req).AuthCodeURL(req.State, oauth2.S256ChallengeOption(req.PKCEVerifier))
}

// Exchange implements providers.Provider. It redeems code with req's PKCE
// verifier and redirect URI, then reads GET /user and GET /user/emails. It
// does NOT check req.State.
func (p *Provider) Exchange(ctx context.Context, req providers.AuthRequest, code string) (providers.Identity, error) {
	if req.PKCEVerifier == "" {
		return providers.Identity{}, fmt.Errorf("%s: AuthRequest without PKCE verifier", p.prefix)
	}
	if code == "" {
		return providers.Identity{}, fmt.Errorf("%s: %w", p.prefix, providers.NewUpstreamError("invalid_request", "callback without code"))
	}
	tok, err := p.OAuth2(req).Exchange(context.WithValue(ctx, oauth2.HTTPClient, p.client), code, oauth2.VerifierOption(req.PKCEVerifier))
	if err != nil {
		return providers.Identity{}, fmt.Errorf("%s: token exchange: %w", p.prefix, providers.ClassifyTokenError(err))
	}

	var user struct {
		ID        int64   `json:"id"`
		Login     string  `json:"login"`
		Name      *string `json:"name"`
		AvatarURL string  `json:"avatar_url"`
	}
	if err := p.get(ctx, tok.AccessToken, "/user", &user); err != nil {
		return providers.Identity{}, fmt.Errorf("%s: fetch user: %w", p.prefix, err)
	}
	if user.ID <= 0 {
		return providers.Identity{}, fmt.Errorf("%s: fetch user: %w: no numeric id", p.prefix, providers.ErrUnavailable)
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := p.get(ctx, tok.AccessToken, "/user/emails?per_page=100", &emails); err != nil {
		return providers.Identity{}, fmt.Errorf("%s: fetch emails: %w", p.prefix, err)
	}

	id := providers.Identity{
		Provider:  p.ID(),
		Subject:   strconv.FormatInt(user.ID, 10),
		Name:      user.Login,
		AvatarURL: user.AvatarURL,
	}
	if user.Name != nil && *user.Name != "" {
		id.Name = *user.Name
	}
	for _, e := range emails {
		if e.Primary && e.Verified && e.Email != "" {
			id.Email, id.EmailVerified = e.Email, true
			break
		}
	}
	return id, nil
}

// get GETs the API path with the user's token and decodes the JSON answer
// into v, reading at most maxBody bytes.
func (p *Provider) get(ctx context.Context, token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.apiURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("User-Agent", "unilogin")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", providers.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%w: read answer: %w", providers.ErrUnavailable, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp, body)
	}
	if len(body) > maxBody {
		return fmt.Errorf("%w: answer larger than %d bytes", providers.ErrUnavailable, maxBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: decode answer: %w", providers.ErrUnavailable, err)
	}
	return nil
}

// statusError classifies a non-2xx API answer: 5xx and rate limiting
// (429, or 403 with X-RateLimit-Remaining: 0) are ErrUnavailable; other
// answers are *providers.UpstreamError with Code "http_<status>" and
// GitHub's message as Description.
func statusError(resp *http.Response, body []byte) error {
	var msg struct {
		Message string `json:"message"`
	}
	json.Unmarshal(body, &msg) // best effort
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0") {
		return fmt.Errorf("%w: API answered %s", providers.ErrUnavailable, resp.Status)
	}
	return providers.NewUpstreamError("http_"+strconv.Itoa(resp.StatusCode), msg.Message)
}

package providertest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// Default client credentials of a fake, overridable with WithClient.
const (
	DefaultClientID     = "test-client"
	DefaultClientSecret = "test-secret"
)

// codeLifetime is how long an authorization code can be redeemed.
const codeLifetime = time.Minute

// Option configures a fake at construction. Every option applies to both
// fakes unless its documentation says otherwise.
type Option func(*options)

type options struct {
	clientID, clientSecret string
	redirectURIs           []string
	rs256                  bool
}

func newOptions(opts []Option) options {
	o := options{clientID: DefaultClientID, clientSecret: DefaultClientSecret}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClient sets the only client the fake accepts.
func WithClient(id, secret string) Option {
	return func(o *options) { o.clientID, o.clientSecret = id, secret }
}

// WithRedirectURIs restricts the redirect URIs the fake accepts (exact
// match), like a registered OAuth client. Without it, any absolute http or
// https URL is accepted.
func WithRedirectURIs(uris ...string) Option {
	return func(o *options) { o.redirectURIs = append(o.redirectURIs, uris...) }
}

// WithRS256 makes the OIDC fake sign ID tokens with a fresh RSA 2048 key
// (RS256, as Google does) instead of ECDSA P-256 (ES256). Ignored by the
// GitHub fake.
func WithRS256() Option {
	return func(o *options) { o.rs256 = true }
}

// AuthorizeRequest is what a fake's authorization endpoint received.
type AuthorizeRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	// Query holds every parameter, e.g. Google's hd.
	Query url.Values
}

func newAuthorizeRequest(q url.Values) AuthorizeRequest {
	return AuthorizeRequest{
		ClientID:            q.Get("client_id"),
		RedirectURI:         q.Get("redirect_uri"),
		ResponseType:        q.Get("response_type"),
		Scope:               q.Get("scope"),
		State:               q.Get("state"),
		Nonce:               q.Get("nonce"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
		Query:               q,
	}
}

// TokenRequest is what a fake's token endpoint received.
type TokenRequest struct {
	// AuthMethod is how the client authenticated: "client_secret_basic",
	// "client_secret_post" or "" (no credentials).
	AuthMethod   string
	ClientID     string
	ClientSecret string
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	// Accept is the request's Accept header (GitHub answers JSON only when
	// asked).
	Accept string
}

// grant is an issued authorization code.
type grant[U any] struct {
	clientID, redirectURI string
	nonce, scope          string
	challenge             string
	expires               time.Time
	user                  U
}

// Authorize plays the user's browser at a fake's authorization endpoint: it
// GETs authURL without following redirects and returns the redirect target,
// normally our callback URL with code and state, or with error and state
// when the fake denies access. It fails the test when the fake does not
// answer with a redirect.
func Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		t.Fatalf("providertest: authorize: %v", err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("providertest: authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		var body [512]byte
		n, _ := resp.Body.Read(body[:])
		t.Fatalf("providertest: authorize: got %s, want 302: %s", resp.Status, body[:n])
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("providertest: authorize: %v", err)
	}
	return loc
}

// AuthorizeCode is Authorize for the consenting path: it returns the code
// and state of the redirect, failing the test when the redirect carries an
// error instead.
func AuthorizeCode(t testing.TB, authURL string) (code, state string) {
	t.Helper()
	q := Authorize(t, authURL).Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("providertest: authorize: redirected with error=%s (%s)", e, q.Get("error_description"))
	}
	if q.Get("code") == "" {
		t.Fatalf("providertest: authorize: redirect without code")
	}
	return q.Get("code"), q.Get("state")
}

// wait sleeps for d, or until the request's context ends or the server
// closes. It reports whether the handler should go on.
func wait(r *http.Request, closing <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
	case <-closing:
	}
	return false
}

func randomToken(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// S256 is the PKCE code challenge of verifier (RFC 7636, section 4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthError writes an RFC 6749 §5.2 error response.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// checkRedirectURI validates redirect_uri at the authorization endpoint.
func (o options) checkRedirectURI(raw string) bool {
	if len(o.redirectURIs) > 0 {
		return slices.Contains(o.redirectURIs, raw)
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Fragment == ""
}

// redirectTo answers the browser with a 302 to redirectURI plus params.
func redirectTo(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI) // validated by checkRedirectURI
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// readTokenRequest parses a token request and the client's credentials
// (RFC 6749 §2.3.1: HTTP Basic with form-encoded id and secret, or the
// client_id and client_secret body parameters).
func readTokenRequest(r *http.Request) (TokenRequest, bool) {
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return TokenRequest{}, false
	}
	tr := TokenRequest{
		GrantType:    r.PostForm.Get("grant_type"),
		Code:         r.PostForm.Get("code"),
		RedirectURI:  r.PostForm.Get("redirect_uri"),
		CodeVerifier: r.PostForm.Get("code_verifier"),
		Accept:       r.Header.Get("Accept"),
	}
	if id, secret, ok := r.BasicAuth(); ok {
		tr.AuthMethod = "client_secret_basic"
		tr.ClientID, _ = url.QueryUnescape(id)
		tr.ClientSecret, _ = url.QueryUnescape(secret)
		if r.PostForm.Get("client_secret") != "" {
			return tr, false // two methods at once, RFC 6749 §2.3
		}
	} else if r.PostForm.Has("client_secret") {
		tr.AuthMethod = "client_secret_post"
		tr.ClientID = r.PostForm.Get("client_id")
		tr.ClientSecret = r.PostForm.Get("client_secret")
	} else {
		tr.ClientID = r.PostForm.Get("client_id")
	}
	return tr, true
}

// redeem checks a token request against the grant of its code. It returns
// an RFC 6749 §5.2 error code and description, or "" when all is well.
func (g *grant[U]) redeem(tr TokenRequest, now time.Time) (code, description string) {
	switch {
	case g == nil:
		return "invalid_grant", "unknown, expired or already used code"
	case now.After(g.expires):
		return "invalid_grant", "code expired"
	case tr.ClientID != g.clientID:
		return "invalid_grant", "code was issued to another client"
	case tr.RedirectURI != g.redirectURI:
		return "invalid_grant", "redirect_uri does not match the authorization request"
	case g.challenge != "" && tr.CodeVerifier == "":
		return "invalid_grant", "code_verifier required"
	case g.challenge != "" && !equal(S256(tr.CodeVerifier), g.challenge):
		return "invalid_grant", "code_verifier does not match the code_challenge"
	}
	return "", ""
}

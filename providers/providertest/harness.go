package providertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/unilogin/unilogin/providers"
)

// Fake is what a Harness needs of a fake provider: both GitHubServer and
// OIDCServer are one.
type Fake[B any] interface {
	SetBehavior(B)
	LastAuthorizeRequest() AuthorizeRequest
	LastTokenRequest() TokenRequest
	TokenRequests() int
	Credentials() (clientID, clientSecret string)
}

// Harness is what the tests of one provider implementation share: where
// its sign-ins return to, how to start its fake and how to build the
// provider on one. Its methods are the checks every provider must pass,
// so a provider's tests state only the cases that are its own. C is the
// provider's config, B the fake's behaviour switches, F the fake, P the
// provider.
type Harness[C, B any, F Fake[B], P providers.Provider] struct {
	// Callback is the redirect URL of every sign-in.
	Callback string
	// NewFake starts a fake (NewGitHub, NewOIDC).
	NewFake func(t testing.TB, opts ...Option) F
	// Config is the test's default config of a provider on fake.
	Config func(fake F) C
	// Build is the provider's constructor.
	Build func(context.Context, C) (P, error)
}

// Provider builds the provider on fake from the default Config changed by
// mutate (see Configure), failing t when that fails.
func (h Harness[C, B, F, P]) Provider(t testing.TB, fake F, mutate ...func(*C)) P {
	t.Helper()
	p, err := h.Build(t.Context(), Configure(h.Config(fake), mutate...))
	if err != nil {
		t.Fatalf("providertest: build provider: %v", err)
	}
	return p
}

// SignIn runs a whole sign-in at p: the browser part (Login), then the
// exchange of the code.
func (h Harness[C, B, F, P]) SignIn(t testing.TB, p P) (providers.Identity, error) {
	t.Helper()
	req, code := Login(t, p, h.Callback)
	return p.Exchange(t.Context(), req, code)
}

// Sent is what a well-behaved provider sends its upstream in one sign-in,
// beyond what every provider sends (see FullFlow).
type Sent struct {
	// Scope is the authorization request's scope.
	Scope string
	// Nonce is whether the authorization request carries the request's
	// nonce (OpenID Connect) rather than none.
	Nonce bool
	// AuthMethod is how the token request authenticates the client
	// ("client_secret_basic", "client_secret_post").
	AuthMethod string
}

// FullFlow runs a whole sign-in at p on fake, checks what the fake's
// endpoints received, and returns the identity. Every provider sends an
// authorization request with response_type code, the callback, an S256
// PKCE challenge and sent's scope and nonce, then exactly one token request
// with the fake's client credentials (by sent's method), the code, the
// callback and the PKCE verifier.
func (h Harness[C, B, F, P]) FullFlow(t *testing.T, fake F, p P, sent Sent) providers.Identity {
	t.Helper()
	req, code := Login(t, p, h.Callback)
	nonce := ""
	if sent.Nonce {
		nonce = req.Nonce
	}
	if ar := fake.LastAuthorizeRequest(); ar.ResponseType != "code" || ar.Scope != sent.Scope || ar.Nonce != nonce ||
		ar.CodeChallengeMethod != "S256" || ar.CodeChallenge != S256(req.PKCEVerifier) || ar.RedirectURI != h.Callback {
		t.Errorf("authorize request = %+v", ar)
	}
	id, err := p.Exchange(t.Context(), req, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	clientID, secret := fake.Credentials()
	if tr := fake.LastTokenRequest(); tr.ClientID != clientID || tr.ClientSecret != secret || tr.AuthMethod != sent.AuthMethod ||
		tr.GrantType != "authorization_code" || tr.Code != code || tr.RedirectURI != h.Callback || tr.CodeVerifier != req.PKCEVerifier {
		t.Errorf("token request = %+v", tr)
	}
	if n := fake.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	return id
}

// ExchangeErrors runs every case as a subtest: a fresh fake, a provider on
// it with the case's Config, a sign-in, the case's Tamper and Behavior,
// then an exchange that must fail (see ExchangeFails).
func (h Harness[C, B, F, P]) ExchangeErrors(t *testing.T, cases []ExchangeCase[C, B]) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			fake := h.NewFake(t)
			p := h.Provider(t, fake, tc.Config)
			req, code := Login(t, p, h.Callback)
			if tc.Tamper != nil {
				tc.Tamper(&req, &code)
			}
			fake.SetBehavior(tc.Behavior)
			ExchangeFails(t, p, req, code, tc.Check)
		})
	}
}

// CodeIsSingleUse checks that a second exchange of a code fails with the
// provider's upstream error code (see the function CodeIsSingleUse).
func (h Harness[C, B, F, P]) CodeIsSingleUse(t *testing.T, upstreamCode string) {
	CodeIsSingleUse(t, h.Provider(t, h.NewFake(t)), h.Callback, upstreamCode)
}

// AccessDenied checks that a fake switched to deny (the user declines at
// the upstream) redirects back with the request's state and no code, and
// that the callback's error maps to providers.ErrAccessDenied.
func (h Harness[C, B, F, P]) AccessDenied(t *testing.T, deny B) {
	fake := h.NewFake(t)
	p := h.Provider(t, fake)
	fake.SetBehavior(deny)
	req := providers.NewAuthRequest(h.Callback)
	q := Authorize(t, p.AuthCodeURL(req)).Query()
	if q.Get("state") != req.State || q.Get("code") != "" {
		t.Fatalf("redirect query = %v", q)
	}
	if err := providers.FromCallbackError(q.Get("error"), q.Get("error_description")); !errors.Is(err, providers.ErrAccessDenied) {
		t.Fatalf("FromCallbackError = %v, want ErrAccessDenied", err)
	}
}

// SlowExchange signs in, switches the fake to stall, and checks that the
// exchange gives up within d (see ExchangeMeetsDeadline). It returns the
// fake and the error for further checks.
func (h Harness[C, B, F, P]) SlowExchange(t *testing.T, stall B, d time.Duration) (F, error) {
	t.Helper()
	fake := h.NewFake(t)
	p := h.Provider(t, fake)
	req, code := Login(t, p, h.Callback)
	fake.SetBehavior(stall)
	return fake, ExchangeMeetsDeadline(t, p, req, code, d)
}

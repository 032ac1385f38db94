package providertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/unilogin/unilogin/providers"
)

// Login runs the browser part of a sign-in at p (against one of the fakes)
// with callback as the redirect URL, checks that the state came back, and
// returns the request and the code to exchange.
func Login(t testing.TB, p providers.Provider, callback string) (providers.AuthRequest, string) {
	t.Helper()
	req := providers.NewAuthRequest(callback)
	code, state := AuthorizeCode(t, p.AuthCodeURL(req))
	if state != req.State {
		t.Fatalf("state = %q, want %q", state, req.State)
	}
	return req, code
}

// ExchangeFails exchanges code and hands the error to check (UpstreamErr,
// Is). An exchange that succeeds, or returns an identity along with its
// error, fails t.
func ExchangeFails(t *testing.T, p providers.Provider, req providers.AuthRequest, code string, check func(*testing.T, error)) {
	t.Helper()
	id, err := p.Exchange(t.Context(), req, code)
	if err == nil {
		t.Fatalf("Exchange succeeded: %+v", id)
	}
	if id != (providers.Identity{}) {
		t.Errorf("identity on error = %+v", id)
	}
	t.Logf("error: %v", err)
	check(t, err)
}

// CodeIsSingleUse signs in at p, exchanges the code, and checks that a
// second exchange of it fails with the provider's upstream error code.
func CodeIsSingleUse(t *testing.T, p providers.Provider, callback, code string) {
	t.Helper()
	req, c := Login(t, p, callback)
	if _, err := p.Exchange(t.Context(), req, c); err != nil {
		t.Fatal(err)
	}
	ExchangeFails(t, p, req, c, UpstreamErr(code))
}

// ExchangeMeetsDeadline exchanges code under a context that ends after d,
// with an upstream that stalls, and checks that Exchange gives up in time
// with ErrUnavailable wrapping context.DeadlineExceeded. It returns the
// error for further checks.
func ExchangeMeetsDeadline(t *testing.T, p providers.Provider, req providers.AuthRequest, code string, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	start := time.Now()
	_, err := p.Exchange(ctx, req, code)
	if !errors.Is(err, providers.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Exchange took %v", took)
	}
	return err
}

// ExchangeCase is one row of a provider's table of exchanges that must
// fail. C is the provider's config type, B the fake's behaviour switches.
type ExchangeCase[C, B any] struct {
	Name string
	// Config changes the provider's config (nil: the defaults).
	Config func(*C)
	// Behavior is switched on after the sign-in, before the exchange.
	Behavior B
	// Tamper changes the request or code between sign-in and exchange.
	Tamper func(req *providers.AuthRequest, code *string)
	// Check judges the error (UpstreamErr, Is).
	Check func(*testing.T, error)
}

// Configure returns cfg changed by every non-nil mutator, in order: the
// defaults of a provider test with a case's changes.
func Configure[C any](cfg C, mutate ...func(*C)) C {
	for _, m := range mutate {
		if m != nil {
			m(&cfg)
		}
	}
	return cfg
}

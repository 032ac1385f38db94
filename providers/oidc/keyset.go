package oidc

import (
	"context"
	"fmt"
	"net/http"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/unilogin/unilogin/providers"
)

// keySetErrKey is the context key under which Exchange passes a *error
// slot to keySet, so that the key set's own error survives go-oidc's
// Verify, which flattens it into a string.
type keySetErrKey struct{}

// keySet wraps go-oidc's RemoteKeySet and records its error, so that
// Exchange can tell "the JWKS could not be fetched" (ErrUnavailable) from
// "the signature is wrong" (ErrInvalidIDToken).
type keySet struct{ remote gooidc.KeySet }

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if err != nil {
		if slot, ok := ctx.Value(keySetErrKey{}).(*error); ok {
			*slot = err
		}
	}
	return payload, err
}

// statusTransport turns failing answers into transport errors wrapping
// providers.ErrUnavailable, because go-oidc reports a failed discovery or
// JWKS fetch only as text. Discovery fails on 5xx only (a 404 is a wrong
// issuer, not an outage); the JWKS endpoint has no business answering
// anything but 2xx.
type statusTransport struct {
	base    http.RoundTripper
	what    string
	only5xx bool
}

func (t statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	bad := resp.StatusCode >= 500
	if !t.only5xx {
		bad = bad || resp.StatusCode < 200 || resp.StatusCode > 299
	}
	if bad {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s answered %s", providers.ErrUnavailable, t.what, resp.Status)
	}
	return resp, nil
}

// withStatusCheck is a copy of c with statusTransport and, when c has
// none, a timeout (go-oidc fetches keys in the background with a context
// that is never cancelled).
func withStatusCheck(c *http.Client, what string, only5xx bool) *http.Client {
	cp := *c
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = statusTransport{base: base, what: what, only5xx: only5xx}
	if cp.Timeout == 0 {
		cp.Timeout = DefaultHTTPTimeout
	}
	return &cp
}

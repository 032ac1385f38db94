package providers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/unilogin/unilogin/providers"
)

type fakeProvider struct{ id string }

func (f fakeProvider) ID() string                               { return f.id }
func (f fakeProvider) Name() string                             { return strings.ToUpper(f.id) }
func (f fakeProvider) AMR() string                              { return "oidc:" + f.id }
func (f fakeProvider) AuthCodeURL(providers.AuthRequest) string { return "https://example.com/" + f.id }
func (f fakeProvider) Exchange(context.Context, providers.AuthRequest, string) (providers.Identity, error) {
	return providers.Identity{}, nil
}

func ids(ps []providers.Provider) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID())
	}
	return out
}

func TestRegistry(t *testing.T) {
	r, err := providers.NewRegistry(fakeProvider{"corp"}, fakeProvider{"github"}, fakeProvider{"acme"}, fakeProvider{"google"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(r.List())); got != "[google github corp acme]" {
		t.Errorf("List = %s", got)
	}
	if r.Len() != 4 {
		t.Errorf("Len = %d", r.Len())
	}
	if p, ok := r.Get("corp"); !ok || p.ID() != "corp" {
		t.Errorf("Get(corp) = %v, %v", p, ok)
	}
	if _, ok := r.Get("nope"); ok {
		t.Error("Get(nope) found something")
	}
	// List returns a copy.
	l := r.List()
	l[0] = fakeProvider{"x"}
	if r.List()[0].ID() != "google" {
		t.Error("List shares its slice")
	}

	empty, err := providers.NewRegistry()
	if err != nil || empty.Len() != 0 || len(empty.List()) != 0 {
		t.Errorf("empty registry: %v %v", empty, err)
	}
	var nilReg *providers.Registry
	if _, ok := nilReg.Get("google"); ok || nilReg.List() != nil {
		t.Error("nil registry is not empty")
	}
}

func TestRegistryErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		ps   []providers.Provider
		want string
	}{
		{"duplicate", []providers.Provider{fakeProvider{"corp"}, fakeProvider{"corp"}}, `duplicate provider id "corp"`},
		{"nil", []providers.Provider{nil}, "nil"},
		{"empty id", []providers.Provider{fakeProvider{""}}, "invalid id"},
		{"slash", []providers.Provider{fakeProvider{"a/b"}}, "invalid id"},
		{"dot dot", []providers.Provider{fakeProvider{".."}}, "invalid id"},
		{"too long", []providers.Provider{fakeProvider{strings.Repeat("a", 65)}}, "invalid id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := providers.NewRegistry(tc.ps...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewRegistry = %v, %v; want error containing %q", r, err, tc.want)
			}
		})
	}
}

func TestFromCallbackError(t *testing.T) {
	for _, tc := range []struct {
		code, desc  string
		nilErr      bool
		denied      bool
		unavailable bool
		upstream    string
	}{
		{code: "", nilErr: true},
		{code: "access_denied", desc: "The user denied", denied: true},
		{code: "temporarily_unavailable", unavailable: true, upstream: "temporarily_unavailable"},
		{code: "server_error", unavailable: true, upstream: "server_error"},
		{code: "invalid_scope", desc: "bad scope", upstream: "invalid_scope"},
		{code: "invalid_request\r\nforged: log", upstream: "invalid_requestforged: log"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			err := providers.FromCallbackError(tc.code, tc.desc)
			if (err == nil) != tc.nilErr {
				t.Fatalf("err = %v", err)
			}
			if errors.Is(err, providers.ErrAccessDenied) != tc.denied {
				t.Errorf("Is(ErrAccessDenied) = %v (%v)", !tc.denied, err)
			}
			if errors.Is(err, providers.ErrUnavailable) != tc.unavailable {
				t.Errorf("Is(ErrUnavailable) = %v (%v)", !tc.unavailable, err)
			}
			var ue *providers.UpstreamError
			if got := errors.As(err, &ue); got != (tc.upstream != "") || (got && ue.Code != tc.upstream) {
				t.Errorf("As(*UpstreamError) = %v %+v, want code %q", got, ue, tc.upstream)
			}
		})
	}
}

func TestUpstreamErrorIsBounded(t *testing.T) {
	e := providers.NewUpstreamError("x", strings.Repeat("é", 1000))
	if len(e.Description) > 256 || !strings.HasPrefix(e.Error(), "providers: upstream error x: é") {
		t.Errorf("description of %d bytes: %q", len(e.Description), e.Error())
	}
	if got := (&providers.UpstreamError{Code: "invalid_grant"}).Error(); got != "providers: upstream error invalid_grant" {
		t.Errorf("Error() = %q", got)
	}
}

func retrieveError(status int, code string) error {
	return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Status: http.StatusText(status)}, ErrorCode: code}
}

func TestClassifyTokenError(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
		upstream    string
	}{
		{"invalid_grant 400", retrieveError(400, "invalid_grant"), false, "invalid_grant"},
		{"github 200 with error", fmt.Errorf("wrapped: %w", retrieveError(200, "bad_verification_code")), false, "bad_verification_code"},
		{"500 with error", retrieveError(500, "server_error"), true, ""},
		{"503 without error", retrieveError(503, ""), true, ""},
		{"400 temporarily_unavailable", retrieveError(400, "temporarily_unavailable"), true, ""},
		{"404 without error", retrieveError(404, ""), true, ""},
		{"deadline", context.DeadlineExceeded, true, ""},
		{"network", &url.Error{Op: "Post", URL: "https://x", Err: errors.New("connection refused")}, true, ""},
		{"missing access_token", errors.New("oauth2: server response missing access_token"), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := providers.ClassifyTokenError(tc.err)
			if errors.Is(err, providers.ErrUnavailable) != tc.unavailable {
				t.Errorf("Is(ErrUnavailable) = %v (%v)", !tc.unavailable, err)
			}
			var ue *providers.UpstreamError
			if got := errors.As(err, &ue); got != (tc.upstream != "") || (got && ue.Code != tc.upstream) {
				t.Errorf("As(*UpstreamError) = %v %+v, want code %q", got, ue, tc.upstream)
			}
		})
	}
	if providers.ClassifyTokenError(nil) != nil {
		t.Error("ClassifyTokenError(nil) != nil")
	}
	if err := providers.ClassifyTokenError(context.DeadlineExceeded); !errors.Is(err, context.DeadlineExceeded) {
		t.Error("cause lost")
	}
}

func TestNewAuthRequest(t *testing.T) {
	a, b := providers.NewAuthRequest("https://login.example/auth/google/callback"), providers.NewAuthRequest("")
	if a.RedirectURL != "https://login.example/auth/google/callback" {
		t.Errorf("RedirectURL = %q", a.RedirectURL)
	}
	seen := map[string]bool{}
	for _, v := range []string{a.State, a.Nonce, a.PKCEVerifier, b.State, b.Nonce, b.PKCEVerifier} {
		// RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~].
		if len(v) != 43 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("value %q is not 32 bytes of base64url", v)
		}
		if seen[v] {
			t.Errorf("value %q repeated", v)
		}
		seen[v] = true
	}
}

func TestIsTransport(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.Canceled, true},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{&url.Error{Op: "Get", URL: "u", Err: errors.New("refused")}, true},
		{fmt.Errorf("x: %w", providers.ErrUnavailable), true},
		{errors.New("oidc: token is expired"), false},
		{providers.ErrInvalidIDToken, false},
	} {
		if got := providers.IsTransport(tc.err); got != tc.want {
			t.Errorf("IsTransport(%v) = %v", tc.err, got)
		}
	}
}

// A pending provider is neither listed nor found until Add; Statuses shows
// both states.
func TestRegistryPendingThenAdd(t *testing.T) {
	r, err := providers.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	r.Pending("corp", "discovery: 503")
	if _, ok := r.Get("corp"); ok || r.Len() != 0 {
		t.Fatal("a pending provider is usable")
	}
	if st := r.Statuses(); len(st) != 1 || st[0] != (providers.Status{ID: "corp", Error: "discovery: 503"}) {
		t.Fatalf("statuses: %+v", st)
	}
	if err := r.Add(fakeProvider{"corp"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get("corp"); !ok || len(r.List()) != 1 {
		t.Fatal("an added provider is not usable")
	}
	if st := r.Statuses(); len(st) != 1 || !st[0].Usable || st[0].Error != "" {
		t.Fatalf("statuses after Add: %+v", st)
	}
	if err := r.Add(fakeProvider{"corp"}); err == nil {
		t.Fatal("a duplicate Add was accepted")
	}
}

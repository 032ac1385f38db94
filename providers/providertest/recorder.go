package providertest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fake is the state both fakes share: who signs in next, the misbehaviour
// switches, a recorder of what their endpoints received, and the codes and
// access tokens they issued.
type fake[U any, B behavior] struct {
	// URL is the root of the fake's endpoints (for OIDC, the issuer), e.g.
	// http://127.0.0.1:41234 (no trailing slash).
	URL string
	// ClientID and ClientSecret are the only accepted client credentials.
	ClientID     string
	ClientSecret string

	opts    options
	closing chan struct{} // closed when the test ends: delayed requests give up

	mu         sync.Mutex
	behavior   B
	user       U
	lastAuth   AuthorizeRequest
	lastToken  TokenRequest
	tokenCalls int
	grants     map[string]*grant[U]
	tokens     map[string]U // access token -> user
}

func newFake[U any, B behavior](user U, opts []Option) fake[U, B] {
	o := newOptions(opts)
	return fake[U, B]{ClientID: o.clientID, ClientSecret: o.clientSecret, opts: o, closing: make(chan struct{}),
		user: user, grants: make(map[string]*grant[U]), tokens: make(map[string]U)}
}

// serve starts the fake's endpoints (pattern -> handler) and sets URL. It
// is closed by t.Cleanup, which first releases the delayed requests.
func (f *fake[U, B]) serve(t testing.TB, routes map[string]http.HandlerFunc) {
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	srv := httptest.NewServer(mux)
	f.URL = srv.URL
	t.Cleanup(func() {
		close(f.closing)
		srv.Close()
	})
}

// behavior is what the fakes' misbehaviour switches have in common.
type behavior interface {
	// delay is how long every endpoint but the authorize page waits.
	delay() time.Duration
}

// hold delays r by d (see wait).
func (f *fake[U, B]) hold(r *http.Request, d time.Duration) bool { return wait(r, f.closing, d) }

// delay holds r for the behaviour's delay.
func (f *fake[U, B]) delay(r *http.Request) bool { return f.hold(r, f.Behavior().delay()) }

// receiveToken reads and records a token request and holds it for the
// behaviour's delay. It returns the request, whether it parsed, and the
// behaviour to answer with; ok is false when the request gave up
// meanwhile, leaving nothing to answer.
func (f *fake[U, B]) receiveToken(r *http.Request) (tr TokenRequest, parsed bool, b B, ok bool) {
	tr, parsed = readTokenRequest(r)
	f.tokenReceived(tr)
	if !f.delay(r) {
		return tr, parsed, b, false
	}
	return tr, parsed, f.Behavior(), true
}

// locked reads *p under mu.
func locked[T any](mu *sync.Mutex, p *T) T {
	mu.Lock()
	defer mu.Unlock()
	return *p
}

// SetUser chooses who signs in at the next authorization. Codes and tokens
// already issued keep their user.
func (f *fake[U, B]) SetUser(u U) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.user = u
}

// SetBehavior replaces the misbehaviour switches; the zero value restores
// a well-behaved provider.
func (f *fake[U, B]) SetBehavior(b B) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.behavior = b
}

// Behavior returns the current misbehaviour switches.
func (f *fake[U, B]) Behavior() B { return locked(&f.mu, &f.behavior) }

// LastAuthorizeRequest returns what the authorization endpoint last
// received.
func (f *fake[U, B]) LastAuthorizeRequest() AuthorizeRequest { return locked(&f.mu, &f.lastAuth) }

// LastTokenRequest returns what the token endpoint last received.
func (f *fake[U, B]) LastTokenRequest() TokenRequest { return locked(&f.mu, &f.lastToken) }

// TokenRequests returns how many requests the token endpoint has received.
func (f *fake[U, B]) TokenRequests() int { return locked(&f.mu, &f.tokenCalls) }

// Credentials returns the only client credentials the fake accepts.
func (f *fake[U, B]) Credentials() (clientID, clientSecret string) { return f.ClientID, f.ClientSecret }

// authorizeRules are what the authorization endpoints of the fakes do
// differently.
type authorizeRules[B any] struct {
	// unknownClient is the status of the page for a wrong client_id.
	unknownClient int
	// badRedirect is the page text for an unregistered redirect_uri.
	badRedirect string
	// refuse returns the error (code and description) to redirect with,
	// or "" to issue a code.
	refuse  func(ar AuthorizeRequest, b B) (code, description string)
	newCode func() string
}

// authorize is an authorization endpoint with a user who consents at once.
// Problems with client_id or redirect_uri are shown as a page, never
// redirected (RFC 6749, section 4.1.2.1); the others are redirected as
// error=... .
func (f *fake[U, B]) authorize(rules authorizeRules[B]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { f.serveAuthorize(w, r, rules) }
}

func (f *fake[U, B]) serveAuthorize(w http.ResponseWriter, r *http.Request, rules authorizeRules[B]) {
	ar := newAuthorizeRequest(r.URL.Query())
	f.mu.Lock()
	f.lastAuth = ar
	b, user := f.behavior, f.user
	f.mu.Unlock()

	if ar.ClientID != f.ClientID {
		http.Error(w, "unknown client_id", rules.unknownClient)
		return
	}
	if !f.opts.checkRedirectURI(ar.RedirectURI) {
		http.Error(w, rules.badRedirect, http.StatusBadRequest)
		return
	}
	if code, desc := rules.refuse(ar, b); code != "" {
		redirectTo(w, r, ar.RedirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {ar.State}})
		return
	}
	code := rules.newCode()
	f.mu.Lock()
	f.grants[code] = &grant[U]{
		clientID: ar.ClientID, redirectURI: ar.RedirectURI, nonce: ar.Nonce, scope: ar.Scope,
		challenge: ar.CodeChallenge, expires: time.Now().Add(codeLifetime), user: user,
	}
	f.mu.Unlock()
	redirectTo(w, r, ar.RedirectURI, url.Values{"code": {code}, "state": {ar.State}})
}

// tokenReceived records a token request.
func (f *fake[U, B]) tokenReceived(tr TokenRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	f.lastToken = tr
}

// takeGrant removes and returns the grant of code (nil if there is none):
// a code is single use, even when the request fails.
func (f *fake[U, B]) takeGrant(code string) *grant[U] {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.grants[code]
	delete(f.grants, code)
	return g
}

// issueToken makes tok an access token of u.
func (f *fake[U, B]) issueToken(tok string, u U) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[tok] = u
}

// tokenUser returns the user of access token tok.
func (f *fake[U, B]) tokenUser(tok string) (U, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.tokens[tok]
	return u, ok
}

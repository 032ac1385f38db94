package providertest

import "sync"

// fake is the state both fakes share: who signs in next, the misbehaviour
// switches, and a recorder of what their endpoints received. Its mutex
// also guards the fakes' own maps.
type fake[U, B any] struct {
	mu         sync.Mutex
	behavior   B
	user       U
	lastAuth   AuthorizeRequest
	lastToken  TokenRequest
	tokenCalls int
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
func (f *fake[U, B]) Behavior() B {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.behavior
}

// LastAuthorizeRequest returns what the authorization endpoint last
// received.
func (f *fake[U, B]) LastAuthorizeRequest() AuthorizeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAuth
}

// LastTokenRequest returns what the token endpoint last received.
func (f *fake[U, B]) LastTokenRequest() TokenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastToken
}

// TokenRequests returns how many requests the token endpoint has received.
func (f *fake[U, B]) TokenRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

// authorizeReceived records ar and returns the behaviour and user it is
// answered with.
func (f *fake[U, B]) authorizeReceived(ar AuthorizeRequest) (B, U) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAuth = ar
	return f.behavior, f.user
}

// tokenReceived records a token request.
func (f *fake[U, B]) tokenReceived(tr TokenRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	f.lastToken = tr
}

package providers

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Registry holds the enabled providers. Build it at start-up with
// NewRegistry; a provider whose upstream did not answer yet is registered
// Pending and joins with Add once it has been set up (start-up retries it in
// the background), so List and Get only ever see usable providers. Safe for
// concurrent use.
type Registry struct {
	mu      sync.RWMutex
	byID    map[string]Provider
	ordered []Provider
	pending map[string]string // id -> why it is not usable yet
}

// Status is one configured provider's state (readiness, metrics).
type Status struct {
	ID     string `json:"id"`
	Usable bool   `json:"usable"`
	// Error says why a pending provider is not usable yet.
	Error string `json:"error,omitempty"`
}

// Pending records a configured provider that is not usable yet, and why
// (the latest error; never a secret). Add replaces it.
func (r *Registry) Pending(id, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[id]; ok {
		return
	}
	if r.pending == nil {
		r.pending = map[string]string{}
	}
	r.pending[id] = why
}

// Add makes p usable: List and Get return it from now on.
func (r *Registry) Add(p Provider) error {
	if p == nil || !validID(p.ID()) {
		return errors.New("providers: Add: nil provider or invalid id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byID[p.ID()]; dup {
		return fmt.Errorf("providers: duplicate provider id %q", p.ID())
	}
	r.byID[p.ID()] = p
	r.ordered = append(r.ordered, p)
	slices.SortStableFunc(r.ordered, func(a, b Provider) int { return rank(a.ID()) - rank(b.ID()) })
	delete(r.pending, p.ID())
	return nil
}

// Statuses lists every configured provider, usable ones first in display
// order, then the pending ones by id.
func (r *Registry) Statuses() []Status {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Status, 0, len(r.ordered)+len(r.pending))
	for _, p := range r.ordered {
		out = append(out, Status{ID: p.ID(), Usable: true})
	}
	var ids []string
	for id := range r.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, Status{ID: id, Error: r.pending[id]})
	}
	return out
}

// NewRegistry returns a registry of ps. It fails when a provider is nil,
// has an id that cannot be used in a URL path (empty, longer than 64
// bytes, or with characters other than ASCII letters, digits, '-', '_' and
// '.'), or shares its id with another.
//
// List returns "google" first, "github" second, then the others in the
// order given (the configuration order of generic OIDC entries).
func NewRegistry(ps ...Provider) (*Registry, error) {
	r := &Registry{byID: make(map[string]Provider, len(ps))}
	var errs []error
	for i, p := range ps {
		if p == nil {
			errs = append(errs, fmt.Errorf("providers: provider %d is nil", i))
			continue
		}
		id := p.ID()
		if !validID(id) {
			errs = append(errs, fmt.Errorf("providers: provider %d: invalid id %q", i, id))
			continue
		}
		if _, dup := r.byID[id]; dup {
			errs = append(errs, fmt.Errorf("providers: duplicate provider id %q", id))
			continue
		}
		r.byID[id] = p
		r.ordered = append(r.ordered, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortStableFunc(r.ordered, func(a, b Provider) int { return rank(a.ID()) - rank(b.ID()) })
	return r, nil
}

func rank(id string) int {
	switch id {
	case "google":
		return 0
	case "github":
		return 1
	}
	return 2
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return id != "." && id != ".."
}

// Get returns the provider with id.
func (r *Registry) Get(id string) (Provider, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.byID[id]
	return p, ok
}

// List returns the providers in display order: google, github, then the
// rest in registration order. The slice is a copy.
func (r *Registry) List() []Provider {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.ordered)
}

// Len is the number of providers.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.ordered)
}

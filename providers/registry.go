package providers

import (
	"errors"
	"fmt"
	"slices"
)

// Registry holds the enabled providers. Build it once at start-up with
// NewRegistry; it is read-only afterwards and safe for concurrent use.
type Registry struct {
	byID    map[string]Provider
	ordered []Provider
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
	p, ok := r.byID[id]
	return p, ok
}

// List returns the providers in display order: google, github, then the
// rest in registration order. The slice is a copy.
func (r *Registry) List() []Provider {
	if r == nil {
		return nil
	}
	return slices.Clone(r.ordered)
}

// Len is the number of providers.
func (r *Registry) Len() int {
	if r == nil {
		return 0
	}
	return len(r.ordered)
}

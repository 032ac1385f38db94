package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Audit actions of consent (recorded by the HTTP layer).
const (
	ActionConsentGrant  = "consent.grant"  // details: client_id, scope
	ActionConsentRevoke = "consent.revoke" // details: client_id
)

// Consent is what a user allowed a third-party client (OpenID Connect
// Core §3.1.2.4): remembered per user and client until the user revokes
// it ("Apps with access").
type Consent struct {
	UserID   string
	ClientID string
	Scopes   []string // sorted, without duplicates
	// GrantedAt is when the newest of the scopes was first granted.
	GrantedAt time.Time
}

// Covers reports whether every scope in scopes has been granted.
func (c *Consent) Covers(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// ConsentGrant is one granted scope, as a store keeps it: one record per
// (user, client, scope).
type ConsentGrant struct {
	UserID, ClientID, Scope string
	GrantedAt               time.Time
}

// GroupConsents folds grants, ordered by client and then scope, into one
// Consent per client: the stores' reading of their grant records.
func GroupConsents(grants []ConsentGrant) []*Consent {
	var out []*Consent
	for _, g := range grants {
		if n := len(out); n == 0 || out[n-1].ClientID != g.ClientID {
			out = append(out, &Consent{UserID: g.UserID, ClientID: g.ClientID})
		}
		c := out[len(out)-1]
		c.Scopes = append(c.Scopes, g.Scope)
		if g.GrantedAt.After(c.GrantedAt) {
			c.GrantedAt = g.GrantedAt
		}
	}
	return out
}

// ConsentStore keeps consents. It is part of Store.
//
// A consent is a set of (user, client, scope) grants, each a unique-key
// insert, so that concurrent grants need no read-modify-write (which is
// not atomic on every MongoDB-compatible server): two concurrent grants of
// scopes A and B leave the union of A and B, as if one followed the other.
// A revocation racing a grant leaves a subset of what some order of the
// two would leave, never more.
type ConsentStore interface {
	// GrantConsent adds scopes (non-empty values without spaces) to the
	// user's consent for clientID, granted at at; scopes granted before
	// stay, and a scope granted again keeps its first time. ErrNotFound
	// when the user does not exist.
	GrantConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error
	// GetConsent returns the user's consent for clientID; ErrNotFound when
	// there is none.
	GetConsent(ctx context.Context, userID, clientID string) (*Consent, error)
	// ListConsents returns the user's consents ordered by client id.
	ListConsents(ctx context.Context, userID string) ([]*Consent, error)
	// RevokeConsent removes the user's consent for clientID; ErrNotFound
	// when there is none. DeleteUser removes a user's consents too.
	RevokeConsent(ctx context.Context, userID, clientID string) error
}

// Limits on what a consent may hold (a scope string comes from a request).
const (
	maxConsentScopes = 64
	maxConsentValue  = 256
)

// consentScopes validates and de-duplicates the scopes of a grant.
func consentScopes(clientID string, scopes []string) ([]string, error) {
	if clientID == "" || len(clientID) > maxConsentValue {
		return nil, fmt.Errorf("%w: client id", ErrInvalidInput)
	}
	var out []string
	for _, s := range scopes {
		if s == "" || len(s) > maxConsentValue || strings.ContainsAny(s, " \t\r\n") {
			return nil, fmt.Errorf("%w: scope value", ErrInvalidInput)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 || len(out) > maxConsentScopes {
		return nil, fmt.Errorf("%w: between 1 and %d scopes", ErrInvalidInput, maxConsentScopes)
	}
	return out, nil
}

// GrantConsent remembers that the user allowed clientID the scopes (the
// consent page's "allow"); earlier grants to the client stay.
func (s *Service) GrantConsent(ctx context.Context, userID, clientID string, scopes []string) error {
	scopes, err := consentScopes(clientID, scopes)
	if err != nil {
		return err
	}
	return s.store.GrantConsent(ctx, userID, clientID, scopes, s.now().UTC().Truncate(time.Millisecond))
}

// HasConsent reports whether the user has allowed clientID every one of
// scopes before, so the consent page may be skipped (unless prompt=consent).
func (s *Service) HasConsent(ctx context.Context, userID, clientID string, scopes []string) (bool, error) {
	c, err := s.store.GetConsent(ctx, userID, clientID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return c.Covers(scopes), nil
}

// ListConsents returns the apps the user has allowed ("Apps with access").
func (s *Service) ListConsents(ctx context.Context, userID string) ([]*Consent, error) {
	return s.store.ListConsents(ctx, userID)
}

// RevokeConsent withdraws the user's consent for clientID: the next
// authorization request of that client asks again. ErrNotFound when there
// was none. It does not end the client's sessions; the caller decides.
func (s *Service) RevokeConsent(ctx context.Context, userID, clientID string) error {
	return s.store.RevokeConsent(ctx, userID, clientID)
}

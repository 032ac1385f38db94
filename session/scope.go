package session

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The scopes of OpenID Connect (Core §3.1.2.1, §5.4, §11). They are kept
// in a session's granted scope beside the permissions and appear in the
// access token's scope ("openid email docs:read").
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// OIDCScopes lists the OpenID Connect scopes this provider supports, in
// the order discovery publishes them.
var OIDCScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}

// ErrInvalidScope: a requested scope is neither an OpenID Connect scope nor
// a configured permission, or (client credentials) lies outside what the
// client may have. The HTTP layer answers invalid_scope (RFC 6749 §4.1.2.1,
// §5.2).
var ErrInvalidScope = errors.New("session: invalid scope")

// unservedScopes are standard OpenID Connect scopes (Core §5.4) for
// claims this provider does not keep (no postal address, no phone
// number). A request may name them, as Core §3.1.2.1 asks that scope
// values not understood be ignored; they are never granted.
var unservedScopes = []string{"address", "phone"}

// IsOIDCScope reports whether s is one of OIDCScopes.
func IsOIDCScope(s string) bool { return slices.Contains(OIDCScopes, s) }

// HasScope reports whether the space-separated scope contains name.
func HasScope(scope, name string) bool { return slices.Contains(strings.Fields(scope), name) }

// CheckScope returns ErrInvalidScope (naming the first offender) when the
// space-separated requested scope contains a value that is neither an
// OpenID Connect scope (address and phone included, though never granted)
// nor one of permissions, the configured permission set of the deployment
// (not a user's). An empty scope is valid. A
// permission the user lacks is not an error: it is simply not granted
// (grantScope).
func CheckScope(requested string, permissions []string) error {
	for _, s := range strings.Fields(requested) {
		if !IsOIDCScope(s) && !slices.Contains(unservedScopes, s) && !slices.Contains(permissions, s) {
			return fmt.Errorf("%w: %q", ErrInvalidScope, truncate(s, 64))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// splitScope splits a scope into its OpenID Connect scopes and the rest,
// each without duplicates, in the order given; unserved scopes are left out.
func splitScope(scope string) (oidc, perms []string) {
	for _, s := range strings.Fields(scope) {
		if slices.Contains(unservedScopes, s) {
			continue
		}
		if IsOIDCScope(s) {
			if !slices.Contains(oidc, s) {
				oidc = append(oidc, s)
			}
		} else if !slices.Contains(perms, s) {
			perms = append(perms, s)
		}
	}
	return oidc, perms
}

// grantScope is the scope granted for a requested scope to a subject with
// perms (RFC 6749 §3.3 lets us issue less than was asked): the requested
// OpenID Connect scopes (without address and phone, which are never
// granted), followed by every permission of the subject when the request
// names none, else by the requested permissions the subject has. Unknown
// values are dropped here; CheckScope refuses them earlier.
func grantScope(requested string, perms []string) string {
	oidc, asked := splitScope(requested)
	var granted []string
	for _, p := range perms {
		if (len(asked) == 0 || slices.Contains(asked, p)) && !slices.Contains(granted, p) {
			granted = append(granted, p)
		}
	}
	return strings.Join(append(oidc, granted...), " ")
}

// narrowScope narrows a granted scope by the scope of a refresh request
// (RFC 6749 §6: never more than was granted): the OpenID Connect scopes of
// both, and the granted permissions, all of them when narrow names none,
// else those it names. An empty narrow keeps the granted scope.
func narrowScope(granted, narrow string) string {
	if strings.TrimSpace(narrow) == "" {
		return granted
	}
	gOIDC, gPerms := splitScope(granted)
	nOIDC, nPerms := splitScope(narrow)
	var out []string
	for _, s := range gOIDC {
		if slices.Contains(nOIDC, s) {
			out = append(out, s)
		}
	}
	for _, p := range gPerms {
		if len(nPerms) == 0 || slices.Contains(nPerms, p) {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// GrantScope is the scope a subject with perms is granted for a requested
// scope (grantScope): what the consent page lists and remembers.
func GrantScope(requested string, perms []string) string { return grantScope(requested, perms) }

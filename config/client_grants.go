package config

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The grant types a client may list in grant_types (RFC 6749 §4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// DefaultGrantTypes is the grant list of a client that sets none.
var DefaultGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}

// MaxClientNameLen bounds clients[].name, which the hosted pages show.
const MaxClientNameLen = 100

// Grants is the client's grant list: grant_types, or DefaultGrantTypes.
func (cl *Client) Grants() []string {
	if len(cl.GrantTypes) == 0 {
		return slices.Clone(DefaultGrantTypes)
	}
	return slices.Clone(cl.GrantTypes)
}

// AllowedGrants is every grant the client may use at /token: Grants(),
// plus the password grant for a first-party client that lists none; a
// third-party (consent) client never has the password grant, listed or
// not, because it would see the person's password.
func (cl *Client) AllowedGrants() []string {
	g := cl.Grants()
	if cl.Consent {
		return slices.DeleteFunc(g, func(s string) bool { return s == GrantPassword })
	}
	if len(cl.GrantTypes) == 0 {
		g = append(g, GrantPassword)
	}
	return g
}

// oidcScopeNames are the OpenID Connect scopes: a client-credentials token
// has no user, so they are not among the permissions it may carry.
var oidcScopeNames = []string{"openid", "profile", "email", "offline_access", "address", "phone"}

// clientGrants checks what a client may do beyond its id and redirect
// URIs: name, grant_types, scopes and post_logout_redirect_uris.
func (v *validator) clientGrants(path string, cl Client) {
	if cl.Name != "" && (utf8.RuneCountInString(cl.Name) > MaxClientNameLen || !utf8.ValidString(cl.Name) ||
		strings.ContainsFunc(cl.Name, unicode.IsControl)) {
		v.add(path+".name", "must be at most %d characters of text, without control characters", MaxClientNameLen)
	}
	confidential := cl.Secret != "" || cl.SecretFile != ""
	known := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPassword}
	seen := map[string]int{}
	for i, g := range cl.GrantTypes {
		p := fmt.Sprintf("%s.grant_types[%d]", path, i)
		switch j, dup := seen[g]; {
		case !slices.Contains(known, g):
			v.add(p, "unknown grant type %q; use %s", g, strings.Join(known, ", "))
		case dup:
			v.add(p, "duplicate of %s.grant_types[%d]", path, j)
		case g == GrantClientCredentials && !confidential:
			v.add(p, "client_credentials needs a confidential client (set secret)")
		}
		seen[g] = i
	}
	grants := cl.Grants()
	if slices.Contains(grants, GrantRefreshToken) && !slices.Contains(grants, GrantAuthorizationCode) && !slices.Contains(grants, GrantPassword) {
		v.add(path+".grant_types", "refresh_token needs authorization_code or password, the grants that issue refresh tokens")
	}
	if len(cl.Scopes) > 0 && !slices.Contains(grants, GrantClientCredentials) {
		v.add(path+".scopes", "applies only to clients with client_credentials in grant_types")
	}
	scopes := map[string]int{}
	for i, s := range cl.Scopes {
		p := fmt.Sprintf("%s.scopes[%d]", path, i)
		switch j, dup := scopes[s]; {
		case !nameRE.MatchString(s):
			v.add(p, "permission %q must match [a-z0-9_:.-]+", s)
		case slices.Contains(oidcScopeNames, s):
			v.add(p, "%q is an OpenID Connect scope; a client's own token carries permissions only", s)
		case dup:
			v.add(p, "duplicate of %s.scopes[%d]", path, j)
		}
		scopes[s] = i
	}
	v.uriList(path, "post_logout_redirect_uris", cl.PostLogoutRedirectURIs)
}

// uriList checks a client's list of exactly matched URIs (redirect_uris,
// post_logout_redirect_uris): each valid (redirectURIProblem), none twice.
func (v *validator) uriList(path, key string, list []string) {
	seen := map[string]int{}
	for j, u := range list {
		p := fmt.Sprintf("%s.%s[%d]", path, key, j)
		if msg := redirectURIProblem(u); msg != "" {
			v.add(p, "%s", msg)
		}
		if k, dup := seen[u]; dup {
			v.add(p, "duplicate of %s.%s[%d]", path, key, k)
		} else {
			seen[u] = j
		}
	}
}

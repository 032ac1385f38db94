package config

import (
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// Signup controls who may create an account (docs/configuration.md,
// "signup").
type Signup struct {
	// Enabled allows public sign-up (default true). Off: POST /signup is
	// refused, and provider sign-ins reach only existing or linkable users.
	Enabled *bool `yaml:"enabled"`
	// AllowedEmailDomains, when set, limits new accounts (and address
	// changes) to addresses at exactly these domains.
	AllowedEmailDomains []string `yaml:"allowed_email_domains"`
	// RequireVerifiedEmail refuses password sign-in until the address is
	// verified (default false).
	RequireVerifiedEmail *bool `yaml:"require_verified_email"`
}

// On reports whether public sign-up is enabled.
func (s Signup) On() bool { return s.Enabled == nil || *s.Enabled }

// VerifiedEmailRequired reports whether password sign-in needs a verified
// address.
func (s Signup) VerifiedEmailRequired() bool {
	return s.RequireVerifiedEmail != nil && *s.RequireVerifiedEmail
}

// signup checks that every allowed domain is a domain name (an
// internationalized one is accepted in U-label form).
func (v *validator) signup(s Signup) {
	for i, d := range s.AllowedEmailDomains {
		d = strings.TrimSpace(d)
		ascii, err := idna.Registration.ToASCII(strings.ToLower(d))
		if d == "" || err != nil || len(ascii) > 253 || !hostRE.MatchString(ascii) {
			v.add(fmt.Sprintf("signup.allowed_email_domains[%d]", i), "must be a domain name such as example.com (no @, no wildcard), not %q", d)
		}
	}
}

package accounts

import (
	"errors"
	"slices"
	"strings"
)

var (
	// ErrSignupDisabled: public sign-up is switched off (403
	// signup_disabled at POST /signup).
	ErrSignupDisabled = errors.New("accounts: sign-up disabled")
	// ErrSignupRefused: a provider sign-in would create a user, but sign-up
	// is switched off or the address is outside the allowed domains
	// (error=access_denied on the browser redirect).
	ErrSignupRefused = errors.New("accounts: sign-up refused")
	// ErrDomainNotAllowed: the address's domain is not one of the allowed
	// sign-up domains. It comes wrapped in a *ValidationError (400
	// invalid_request).
	ErrDomainNotAllowed = errors.New("accounts: e-mail domain not allowed")
	// ErrEmailNotVerified: the password was right, but sign-in requires a
	// verified address (400 email_not_verified). Returned only after the
	// password was verified, so it tells a wrong password nothing.
	ErrEmailNotVerified = errors.New("accounts: e-mail not verified")
)

// SignupPolicy is the operator's control over who may create an account.
// The zero value lets everyone sign up.
type SignupPolicy struct {
	// Disabled refuses password sign-ups and provider sign-ins that would
	// create a user (existing and linkable users still sign in).
	Disabled bool
	// AllowedDomains, when non-empty, limits new accounts and address
	// changes to addresses at exactly these domains (no subdomains),
	// compared like NormalizeEmail compares domains. A provider sign-in
	// creates a user only with a verified address at one of them.
	AllowedDomains []string
	// RequireVerifiedEmail refuses password sign-in (ErrEmailNotVerified)
	// until the address is verified.
	RequireVerifiedEmail bool
}

// SignupPolicy returns the service's sign-up policy (the hosted pages
// leave out the sign-up link when sign-up is disabled).
func (s *Service) SignupPolicy() SignupPolicy { return s.signup }

// DomainAllowed reports whether email's domain is allowed: always when no
// domains are listed.
func (p SignupPolicy) DomainAllowed(email string) bool {
	if len(p.AllowedDomains) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := normalizeDomain(strings.TrimSpace(email[at+1:]))
	return slices.ContainsFunc(p.AllowedDomains, func(d string) bool {
		return normalizeDomain(strings.TrimSpace(d)) == domain
	})
}

// mayCreate reports whether a provider sign-in may create a user for ext.
func (p SignupPolicy) mayCreate(ext ExternalIdentity) bool {
	if p.Disabled {
		return false
	}
	if len(p.AllowedDomains) == 0 {
		return true
	}
	return ext.Email != "" && ext.EmailVerified && p.DomainAllowed(ext.Email)
}

// checkDomain is the sign-up and address-change check of field's address.
func (p SignupPolicy) checkDomain(field, email string) error {
	if p.DomainAllowed(email) {
		return nil
	}
	return &ValidationError{Field: field, Reason: "must be an address at one of the domains this service accepts", Err: ErrDomainNotAllowed}
}

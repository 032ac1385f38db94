package config

// MFA configures the second factors (docs/configuration.md, "mfa").
type MFA struct {
	// ApplyToProviders asks a user with TOTP on for a code after a
	// provider sign-in too, not only after the password (default false:
	// the provider is trusted to have checked its own second factor).
	ApplyToProviders *bool `yaml:"apply_to_providers"`
}

// ForProviders reports whether a provider sign-in asks for the second
// factor too.
func (m MFA) ForProviders() bool { return m.ApplyToProviders != nil && *m.ApplyToProviders }

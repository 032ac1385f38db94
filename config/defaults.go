package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// Default returns the built-in configuration: with it (and no file or
// environment) the server runs on http://localhost:8080 with the embedded
// store under ./data. Each call returns a fresh value.
func Default() *Config {
	return &Config{
		Issuer:  "http://localhost:8080",
		DataDir: "./data",
		HTTP: HTTP{
			Addr:              ":8080",
			MaxBodyBytes:      64 << 10,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
		},
		SQLite:    SQLite{Synchronous: "normal"},
		MongoDB:   MongoDB{Database: "unilogin"},
		Database:  Database{Timeout: 3 * time.Second},
		Log:       Log{Level: "info", Format: "json"},
		Passwords: Passwords{BcryptCost: 12},
		Tokens: Tokens{
			Algorithm:          "ES256",
			AccessTTL:          15 * time.Minute,
			RefreshIdleTTL:     720 * time.Hour,
			RefreshAbsoluteTTL: 2160 * time.Hour,
			RefreshReuseGrace:  10 * time.Second,
			MaxSessionsPerUser: 100,
			CodeTTL:            60 * time.Second,
		},
		Keys: Keys{
			PrePublish: 10 * time.Minute,
			JWKSMaxAge: 5 * time.Minute,
		},
		Roles: map[string][]string{
			"admin":  {"users:admin"},
			"member": {},
		},
		DefaultRoles:  []string{"member"},
		SweepInterval: 5 * time.Minute,
		Branding:      Branding{ProductName: "unilogin", AccentColor: "#2557d6"},
		Email:         defaultEmail(), // email.go
		RateLimits: RateLimits{
			PasswordPerIP:        Rate{Limit: 20, Window: 5 * time.Minute},
			PasswordPerAccountIP: Rate{Limit: 10, Window: 15 * time.Minute},
			PasswordPerAccount:   Rate{Limit: 100, Window: 15 * time.Minute},
			SignupPerIP:          Rate{Limit: 30, Window: 10 * time.Minute},
			BrowserLoginPerIP:    Rate{Limit: 60, Window: 10 * time.Minute},

			PasswordChecksPerIP:       Rate{Limit: 60, Window: 5 * time.Minute},
			PasswordSignInsPerAccount: Rate{Limit: 20, Window: 5 * time.Minute},
			PasswordSlowdown:          time.Second,
			EmailPerAddress:           Rate{Limit: 5, Window: time.Hour},
			EmailPerIP:                Rate{Limit: 30, Window: time.Hour},
		},
	}
}

// TokenAudience is the `aud` of access tokens: Audience, or the issuer when
// Audience is empty.
func (c *Config) TokenAudience() string {
	if c.Audience != "" {
		return c.Audience
	}
	return c.Issuer
}

// SecureCookies reports whether cookies must carry the Secure attribute,
// which is the case when the issuer is an https URL.
func (c *Config) SecureCookies() bool {
	scheme, _, ok := strings.Cut(c.Issuer, "://")
	return ok && strings.EqualFold(scheme, "https")
}

// CallbackURL is the redirect URI to register at the upstream provider with
// the given id: <issuer>/auth/<id>/callback.
func (c *Config) CallbackURL(providerID string) string {
	return strings.TrimRight(c.Issuer, "/") + "/auth/" + providerID + "/callback"
}

// Client returns the client with the given id. The pointer refers into c.
func (c *Config) Client(id string) (*Client, bool) {
	for i := range c.Clients {
		if c.Clients[i].ID == id {
			return &c.Clients[i], true
		}
	}
	return nil, false
}

// Permissions returns the sorted union of the permissions of roles. Unknown
// roles are ignored.
func (c *Config) Permissions(roles []string) []string {
	out := []string{}
	for _, r := range roles {
		out = append(out, c.Roles[r]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// RoleNames are the configured role names, sorted.
func (c *Config) RoleNames() []string { return slices.Sorted(maps.Keys(c.Roles)) }

// AllPermissions is the sorted union of every role's permissions.
func (c *Config) AllPermissions() []string {
	return c.Permissions(c.RoleNames())
}

// Enabled reports whether the provider is configured: it has a client_id.
// A nil provider is disabled.
func (p *Provider) Enabled() bool { return p != nil && p.ClientID != "" }

// providerEntries yields every configured provider with its key path:
// "providers.google", "providers.github", "providers.oidc[i]".
func (c *Config) providerEntries() iter.Seq2[string, *Provider] {
	return func(yield func(string, *Provider) bool) {
		if c.Providers.Google != nil && !yield("providers.google", c.Providers.Google) {
			return
		}
		if c.Providers.GitHub != nil && !yield("providers.github", c.Providers.GitHub) {
			return
		}
		for i := range c.Providers.OIDC {
			if !yield(fmt.Sprintf("providers.oidc[%d]", i), &c.Providers.OIDC[i]) {
				return
			}
		}
	}
}

// KeyReloadInterval is how often an instance reads the signing-key table
// again, so the longest its JWKS lags a key another instance added (while
// it reaches the database). A verifier's copy is at most this plus
// keys.jwks_max_age old, which keys.pre_publish must cover.
const KeyReloadInterval = 10 * time.Second

// ErrKEKRequired: MongoDB without a key-encryption key. Each instance
// would otherwise generate its own and could not open the keys another
// sealed.
var ErrKEKRequired = errors.New("required when MONGODB_URI (mongodb.uri) is set, so that every instance opens the keys the others sealed: " +
	"set UNILOGIN_KEY_ENCRYPTION_KEY (or UNILOGIN_KEY_ENCRYPTION_KEY_FILE, or keys.encryption_key) to the same 32-byte base64 key on every instance; " +
	"make one with `unilogin keys new-encryption-key`")

// errEncryptionKey never includes the key itself.
var errEncryptionKey = errors.New("must be 32 bytes encoded in base64 (standard or URL alphabet, padded or not)")

// DecodeEncryptionKey returns the 32-byte key of EncryptionKey, or nil and
// no error when it is empty. The error never contains the key.
func (k Keys) DecodeEncryptionKey() ([]byte, error) {
	s := strings.TrimSpace(k.EncryptionKey)
	if s == "" {
		return nil, nil
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errEncryptionKey
}

// SlogLevel maps Level to a slog.Level; unknown or empty levels are Info
// (Validate reports unknown ones).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

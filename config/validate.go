package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Problem is one invalid setting: the YAML key path (e.g.
// "clients[1].redirect_uris[0]") and what is wrong with it. Messages never
// contain secret values.
type Problem struct {
	Path    string
	Message string
}

// String formats the problem as "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Message }

// Limits Validate enforces.
const (
	MinBcryptCost = 4
	MaxBcryptCost = 31
	// MaxAccessTTL bounds access tokens, which apps verify offline and so
	// cannot be revoked before they expire.
	MaxAccessTTL = 24 * time.Hour
	// MaxCodeTTL: RFC 6749 §4.1.2 recommends at most 10 minutes.
	MaxCodeTTL = 10 * time.Minute
)

var (
	// nameRE is the shape of role and permission names.
	nameRE = regexp.MustCompile(`^[a-z0-9_:.-]+$`)
	// oidcIDRE is the shape of a generic OIDC provider id (used in paths).
	oidcIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// Validate checks the whole configuration and returns every problem found,
// in a stable order; nil means it is valid. It does no I/O (files named in
// the configuration are not opened).
func (c *Config) Validate() []Problem {
	v := &validator{}
	v.issuer(c)
	v.http(&c.HTTP)
	v.storage(c)
	v.logging(c.Log)
	v.passwords(c.Passwords)
	v.tokens(c.Tokens)
	v.keys(c.Keys, c.Tokens)
	v.clients(c.Clients)
	v.roles(c.Roles, c.DefaultRoles)
	v.providers(c.Providers)
	v.positive("sweep_interval", c.SweepInterval)
	v.rateLimits(c.RateLimits)
	v.branding(c.Branding)
	v.metrics(c.Metrics, c.HTTP.Addr) // metrics.go
	v.email(&c.Email)                 // email.go
	v.signup(c.Signup)                // signup.go
	return v.problems
}

var accentRE = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// branding checks what the hosted pages put into HTML and CSS.
func (v *validator) branding(b Branding) {
	if utf8.RuneCountInString(b.ProductName) > 60 {
		v.add("branding.product_name", "must be at most 60 characters")
	}
	if !safeLogoURL(b.LogoURL) {
		v.add("branding.logo_url", "must be an https URL or a path on this server starting with /")
	}
	if b.AccentColor != "" && !accentRE.MatchString(b.AccentColor) {
		v.add("branding.accent_color", "must be a hex colour like #2557d6 or #25d, not %q", b.AccentColor)
	}
}

type validator struct{ problems []Problem }

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be greater than 0")
	}
}

func (v *validator) issuer(c *Config) {
	if c.Issuer == "" {
		v.add("issuer", "required")
		return
	}
	if msg := webURLProblem(c.Issuer, func(string) bool { return true }); msg != "" {
		v.add("issuer", "%s", msg)
		return
	}
	if u, _ := url.Parse(c.Issuer); u.Scheme == "http" && !isLocalHost(u.Hostname()) {
		v.add("issuer", "http is allowed only for localhost, 127.0.0.1 or ::1; use https")
	}
	if strings.HasSuffix(c.Issuer, "/") {
		v.add("issuer", "must not end with a slash (URLs are built as <issuer>/path)")
	}
}

func (v *validator) http(h *HTTP) {
	if _, port, err := net.SplitHostPort(h.Addr); err != nil {
		v.add("http.addr", "must be host:port (e.g. :8080 or 127.0.0.1:8080)")
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.add("http.addr", "port must be a number from 0 to 65535")
	}
	for i, p := range h.TrustedProxies {
		if _, err := netip.ParseAddr(p); err == nil {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			v.add(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is neither an IP address nor a CIDR", p)
		}
	}
	for i, o := range h.CORSOrigins {
		if msg := originProblem(o); msg != "" {
			v.add(fmt.Sprintf("http.cors_origins[%d]", i), "%s", msg)
		}
	}
	if h.MaxBodyBytes <= 0 {
		v.add("http.max_body_bytes", "must be greater than 0")
	}
	if h.TLS.CertFile != "" && h.TLS.KeyFile == "" {
		v.add("http.tls.key_file", "required when http.tls.cert_file is set")
	}
	if h.TLS.KeyFile != "" && h.TLS.CertFile == "" {
		v.add("http.tls.cert_file", "required when http.tls.key_file is set")
	}
	v.positive("http.read_header_timeout", h.ReadHeaderTimeout)
	v.positive("http.read_timeout", h.ReadTimeout)
	v.positive("http.write_timeout", h.WriteTimeout)
	v.positive("http.idle_timeout", h.IdleTimeout)
	v.positive("http.shutdown_timeout", h.ShutdownTimeout)
}

func (v *validator) storage(c *Config) {
	if c.DataDir == "" && (c.MongoDB.URI == "" || c.Keys.EncryptionKey == "") {
		v.add("data_dir", "required (it holds the embedded database and the generated key file)")
	}
	if t := c.Database.Timeout; t <= 0 {
		v.add("database.timeout", "must be greater than 0")
	} else if w := c.HTTP.WriteTimeout; w > 0 && t*3 > w {
		v.add("database.timeout", "must be at most a third of http.write_timeout (%s), so a 503 is delivered before the connection is cut", w)
	}
	if c.MongoDB.URI != "" && strings.TrimSpace(c.Keys.EncryptionKey) == "" {
		v.add("keys.encryption_key", "%s", ErrKEKRequired.Error())
	}
	switch c.SQLite.Synchronous {
	case "normal", "full":
	default:
		v.add("sqlite.synchronous", "must be normal or full, not %q", c.SQLite.Synchronous)
	}
	// The URI may hold a password: never echo it.
	if u := c.MongoDB.URI; u != "" && !strings.HasPrefix(u, "mongodb://") && !strings.HasPrefix(u, "mongodb+srv://") {
		v.add("mongodb.uri", "must start with mongodb:// or mongodb+srv://")
	}
	// https://www.mongodb.com/docs/manual/reference/limits/#naming-restrictions
	switch db := c.MongoDB.Database; {
	case db == "":
		v.add("mongodb.database", "must not be empty")
	case strings.ContainsAny(db, "/\\. \"$\x00"):
		v.add("mongodb.database", `must not contain / \ . " $, a space or NUL`)
	case len(db) > 63:
		v.add("mongodb.database", "must be at most 63 bytes long")
	}
}

func (v *validator) logging(l Log) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "must be debug, info, warn or error, not %q", l.Level)
	}
	switch l.Format {
	case "json", "text":
	default:
		v.add("log.format", "must be json or text, not %q", l.Format)
	}
}

func (v *validator) passwords(p Passwords) {
	if p.BcryptCost < MinBcryptCost || p.BcryptCost > MaxBcryptCost {
		v.add("passwords.bcrypt_cost", "must be from %d to %d, not %d", MinBcryptCost, MaxBcryptCost, p.BcryptCost)
	}
}

func (v *validator) tokens(t Tokens) {
	switch t.Algorithm {
	case "ES256", "RS256", "EdDSA":
	default:
		v.add("tokens.algorithm", "must be ES256, RS256 or EdDSA, not %q", t.Algorithm)
	}
	v.positive("tokens.access_ttl", t.AccessTTL)
	if t.AccessTTL > MaxAccessTTL {
		v.add("tokens.access_ttl", "must be at most %s (access tokens cannot be revoked before they expire)", MaxAccessTTL)
	}
	v.positive("tokens.refresh_idle_ttl", t.RefreshIdleTTL)
	v.positive("tokens.refresh_absolute_ttl", t.RefreshAbsoluteTTL)
	if t.RefreshIdleTTL > 0 && t.RefreshAbsoluteTTL > 0 && t.RefreshIdleTTL > t.RefreshAbsoluteTTL {
		v.add("tokens.refresh_idle_ttl", "must not exceed tokens.refresh_absolute_ttl (%s)", t.RefreshAbsoluteTTL)
	}
	if t.RefreshReuseGrace < 0 {
		v.add("tokens.refresh_reuse_grace", "must not be negative")
	} else if t.RefreshIdleTTL > 0 && t.RefreshReuseGrace >= t.RefreshIdleTTL {
		v.add("tokens.refresh_reuse_grace", "must be shorter than tokens.refresh_idle_ttl (%s)", t.RefreshIdleTTL)
	}
	v.positive("tokens.code_ttl", t.CodeTTL)
	if t.MaxSessionsPerUser < 1 {
		v.add("tokens.max_sessions_per_user", "must be at least 1")
	}
	if t.CodeTTL > MaxCodeTTL {
		v.add("tokens.code_ttl", "must be at most %s (RFC 6749 §4.1.2)", MaxCodeTTL)
	}
}

func (v *validator) keys(k Keys, t Tokens) {
	if _, err := k.DecodeEncryptionKey(); err != nil {
		v.add("keys.encryption_key", "%s", err.Error())
	}
	if k.JWKSMaxAge < 0 {
		v.add("keys.jwks_max_age", "must not be negative")
	}
	if k.PrePublish < 0 {
		v.add("keys.pre_publish", "must not be negative")
	} else if k.PrePublish < k.JWKSMaxAge+KeyReloadInterval {
		v.add("keys.pre_publish", "must be at least keys.jwks_max_age + %s (%s), so every instance and every cache has the key before it signs", KeyReloadInterval, k.JWKSMaxAge+KeyReloadInterval)
	}
	if k.RotationPeriod < 0 {
		v.add("keys.rotation_period", "must not be negative (0 disables rotation)")
	} else if k.RotationPeriod > 0 && k.RotationPeriod <= k.PrePublish+t.AccessTTL {
		v.add("keys.rotation_period", "must be 0 (off) or longer than keys.pre_publish + tokens.access_ttl (%s)", k.PrePublish+t.AccessTTL)
	}
}

func (v *validator) clients(clients []Client) {
	seen := map[string]int{}
	for i, cl := range clients {
		path := fmt.Sprintf("clients[%d]", i)
		switch {
		case cl.ID == "":
			v.add(path+".id", "required")
		case strings.ContainsFunc(cl.ID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			v.add(path+".id", "must not contain spaces or control characters")
		default:
			if j, dup := seen[cl.ID]; dup {
				v.add(path+".id", "duplicate of clients[%d].id %q", j, cl.ID)
			} else {
				seen[cl.ID] = i
			}
		}
		code := slices.Contains(cl.Grants(), GrantAuthorizationCode)
		switch {
		case code && len(cl.RedirectURIs) == 0:
			v.add(path+".redirect_uris", "at least one redirect URI is required")
		case !code && len(cl.RedirectURIs) > 0:
			v.add(path+".redirect_uris", "applies only to clients with authorization_code in grant_types")
		}
		v.uriList(path, "redirect_uris", cl.RedirectURIs)
		v.clientGrants(path, cl) // client_grants.go
	}
}

func (v *validator) roles(roles map[string][]string, defaults []string) {
	names := make([]string, 0, len(roles))
	for name := range roles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !nameRE.MatchString(name) {
			v.add("roles", "role name %q must match [a-z0-9_:.-]+", name)
			continue
		}
		for i, perm := range roles[name] {
			if !nameRE.MatchString(perm) {
				v.add(fmt.Sprintf("roles.%s[%d]", name, i), "permission %q must match [a-z0-9_:.-]+", perm)
			}
		}
	}
	for i, r := range defaults {
		if _, ok := roles[r]; !ok {
			v.add(fmt.Sprintf("default_roles[%d]", i), "role %q is not defined in roles", r)
		}
	}
}

func (v *validator) providers(ps Providers) {
	if p := ps.Google; p != nil {
		v.provider("providers.google", p)
		if p.ID != "" && p.ID != "google" {
			v.add("providers.google.id", "only generic oidc entries have an id (this one is always google)")
		}
		if p.Issuer != "" {
			v.url("providers.google.issuer", p.Issuer)
		}
		v.notFor("providers.google", "base_url", p.BaseURL, "providers.github")
		v.notFor("providers.google", "api_url", p.APIURL, "providers.github")
		for i, d := range p.HostedDomains {
			if strings.TrimSpace(d) == "" {
				v.add(fmt.Sprintf("providers.google.hosted_domains[%d]", i), "must not be empty")
			}
		}
	}
	if p := ps.GitHub; p != nil {
		v.provider("providers.github", p)
		if p.ID != "" && p.ID != "github" {
			v.add("providers.github.id", "only generic oidc entries have an id (this one is always github)")
		}
		v.notFor("providers.github", "issuer", p.Issuer, "providers.google and providers.oidc")
		if p.BaseURL != "" {
			v.url("providers.github.base_url", p.BaseURL)
		}
		if p.APIURL != "" {
			v.url("providers.github.api_url", p.APIURL)
		}
		if len(p.HostedDomains) > 0 {
			v.add("providers.github.hosted_domains", "applies only to providers.google")
		}
	}
	seen := map[string]int{}
	for i := range ps.OIDC {
		p := &ps.OIDC[i]
		path := fmt.Sprintf("providers.oidc[%d]", i)
		v.provider(path, p)
		switch {
		case p.ID == "":
			v.add(path+".id", "required (it is used in paths: /auth/<id>/login)")
		case !oidcIDRE.MatchString(p.ID):
			v.add(path+".id", "%q must match ^[a-z0-9][a-z0-9_-]{0,31}$", p.ID)
		case p.ID == "google" || p.ID == "github":
			v.add(path+".id", "%q is reserved for providers.%s", p.ID, p.ID)
		default:
			if j, dup := seen[p.ID]; dup {
				v.add(path+".id", "duplicate of providers.oidc[%d].id %q", j, p.ID)
			} else {
				seen[p.ID] = i
			}
		}
		if p.Issuer == "" {
			v.add(path+".issuer", "required")
		} else {
			v.url(path+".issuer", p.Issuer)
		}
		v.notFor(path, "base_url", p.BaseURL, "providers.github")
		v.notFor(path, "api_url", p.APIURL, "providers.github")
		if len(p.HostedDomains) > 0 {
			v.add(path+".hosted_domains", "applies only to providers.google")
		}
	}
}

// provider checks what every kind of provider shares.
func (v *validator) provider(path string, p *Provider) {
	hasSecret := p.ClientSecret != "" || p.ClientSecretFile != ""
	if p.ClientID != "" && !hasSecret {
		v.add(path+".client_secret", "required when client_id is set")
	}
	if p.ClientID == "" && hasSecret {
		v.add(path+".client_id", "required when client_secret is set")
	}
	for i, s := range p.Scopes {
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
			v.add(fmt.Sprintf("%s.scopes[%d]", path, i), "must be one non-empty scope without spaces")
		}
	}
}

func (v *validator) rateLimits(r RateLimits) {
	for _, l := range []struct {
		key  string
		rate Rate
	}{
		{"rate_limits.password_per_ip", r.PasswordPerIP},
		{"rate_limits.password_per_account_ip", r.PasswordPerAccountIP},
		{"rate_limits.password_per_account", r.PasswordPerAccount},
		{"rate_limits.signup_per_ip", r.SignupPerIP},
		{"rate_limits.browser_login_per_ip", r.BrowserLoginPerIP},
		{"rate_limits.password_checks_per_ip", r.PasswordChecksPerIP},
		{"rate_limits.password_signins_per_account", r.PasswordSignInsPerAccount},
		{"rate_limits.email_per_address", r.EmailPerAddress},
		{"rate_limits.email_per_ip", r.EmailPerIP},
	} {
		if l.rate.Limit < 0 {
			v.add(l.key+".limit", "must not be negative (0 turns the limit off)")
		}
		if l.rate.Limit > 0 && l.rate.Window < time.Second {
			v.add(l.key+".window", "must be at least 1s when the limit is on")
		}
		if l.rate.Window > 24*time.Hour {
			v.add(l.key+".window", "must be at most 24h")
		}
	}
	if r.PasswordSlowdown < 0 || r.PasswordSlowdown > time.Minute {
		v.add("rate_limits.password_slowdown", "must be between 0 and 1m")
	}
	if r.HashingWorkers < 0 {
		v.add("rate_limits.hashing_workers", "must not be negative (0: one per core)")
	}
	if r.HashingQueue < 0 {
		v.add("rate_limits.hashing_queue", "must not be negative (0: 4 per worker)")
	}
}

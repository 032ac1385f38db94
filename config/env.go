package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConfigPathEnv names the environment variable holding the path of the YAML
// file. The --config flag wins over it (see PathFromEnv).
const ConfigPathEnv = "UNILOGIN_CONFIG"

// EnvVar describes one environment variable read by Load.
type EnvVar struct {
	// Name is the variable, e.g. "UNILOGIN_ISSUER".
	Name string
	// Key is the YAML key path it overrides, e.g. "http.addr"; empty for
	// UNILOGIN_CONFIG, which names the file itself.
	Key string
	// Type is how the value is parsed: "string", "int", "bool" (true, false,
	// 1, 0), "duration" (Go syntax, e.g. "10s") or "list" (comma-separated).
	Type string
	// Description says what the variable does, in one line.
	Description string
	// Secret variables are never echoed; they can also be read from the file
	// named by the variable FileName().
	Secret bool

	// field returns a pointer to the field the variable sets (*string, *int,
	// *bool via **bool, *time.Duration or *[]string), creating the parent
	// entry when needed. It is called only when the variable is set.
	field func(c *Config) any
}

// FileName is the companion variable naming a file that holds the value
// ("MONGODB_URI_FILE"), or "" when the variable is not a secret.
func (e EnvVar) FileName() string {
	if !e.Secret {
		return ""
	}
	return e.Name + "_FILE"
}

// envTable is the one list of environment variables. Load, EnvVars and the
// documentation test all read it, so the code and docs/configuration.md
// cannot drift apart.
var envTable = []EnvVar{
	{Name: ConfigPathEnv, Description: "path of the YAML configuration file (the --config flag wins)"},

	{Name: "UNILOGIN_ISSUER", Key: "issuer", Description: "issuer URL: the iss of every token and the base of published URLs",
		field: func(c *Config) any { return &c.Issuer }},
	{Name: "UNILOGIN_AUDIENCE", Key: "audience", Description: "aud of access tokens (default: the issuer)",
		field: func(c *Config) any { return &c.Audience }},
	{Name: "UNILOGIN_HTTP_ADDR", Key: "http.addr", Description: "listen address, host:port",
		field: func(c *Config) any { return &c.HTTP.Addr }},
	{Name: "UNILOGIN_TRUSTED_PROXIES", Key: "http.trusted_proxies", Description: "addresses or CIDRs whose X-Forwarded-For is honoured",
		field: func(c *Config) any { return &c.HTTP.TrustedProxies }},
	{Name: "UNILOGIN_CORS_ORIGINS", Key: "http.cors_origins", Description: "browser origins allowed to call the API",
		field: func(c *Config) any { return &c.HTTP.CORSOrigins }},
	{Name: "UNILOGIN_TLS_CERT_FILE", Key: "http.tls.cert_file", Description: "TLS certificate file (PEM); serve HTTPS with the key file",
		field: func(c *Config) any { return &c.HTTP.TLS.CertFile }},
	{Name: "UNILOGIN_TLS_KEY_FILE", Key: "http.tls.key_file", Description: "TLS private key file (PEM)",
		field: func(c *Config) any { return &c.HTTP.TLS.KeyFile }},
	{Name: "UNILOGIN_DATA_DIR", Key: "data_dir", Description: "directory of the embedded database and generated key file",
		field: func(c *Config) any { return &c.DataDir }},
	{Name: "UNILOGIN_SQLITE_SYNCHRONOUS", Key: "sqlite.synchronous", Description: "embedded store durability: normal or full",
		field: func(c *Config) any { return &c.SQLite.Synchronous }},
	{Name: "MONGODB_URI", Key: "mongodb.uri", Secret: true, Description: "MongoDB connection string; set: use MongoDB instead of the embedded store",
		field: func(c *Config) any { return &c.MongoDB.URI }},
	{Name: "UNILOGIN_MONGODB_DATABASE", Key: "mongodb.database", Description: "MongoDB database name",
		field: func(c *Config) any { return &c.MongoDB.Database }},
	{Name: "UNILOGIN_DATABASE_TIMEOUT", Key: "database.timeout", Description: "deadline of one database call; past it: 503",
		field: func(c *Config) any { return &c.Database.Timeout }},
	{Name: "UNILOGIN_LOG_LEVEL", Key: "log.level", Description: "debug, info, warn or error",
		field: func(c *Config) any { return &c.Log.Level }},
	{Name: "UNILOGIN_LOG_FORMAT", Key: "log.format", Description: "json or text",
		field: func(c *Config) any { return &c.Log.Format }},
	{Name: "UNILOGIN_BCRYPT_COST", Key: "passwords.bcrypt_cost", Description: "bcrypt cost of new password hashes (4..31)",
		field: func(c *Config) any { return &c.Passwords.BcryptCost }},
	{Name: "UNILOGIN_PASSWORD_GRANT", Key: "password_grant.enabled", Description: "enable the password grant at POST /token",
		field: func(c *Config) any { return &c.PasswordGrant.Enabled }},
	{Name: "UNILOGIN_TOKEN_ALGORITHM", Key: "tokens.algorithm", Description: "access token signing algorithm: ES256, RS256 or EdDSA",
		field: func(c *Config) any { return &c.Tokens.Algorithm }},
	{Name: "UNILOGIN_ACCESS_TTL", Key: "tokens.access_ttl", Description: "access token lifetime",
		field: func(c *Config) any { return &c.Tokens.AccessTTL }},
	{Name: "UNILOGIN_REFRESH_IDLE_TTL", Key: "tokens.refresh_idle_ttl", Description: "a session ends when unused for this long",
		field: func(c *Config) any { return &c.Tokens.RefreshIdleTTL }},
	{Name: "UNILOGIN_REFRESH_ABSOLUTE_TTL", Key: "tokens.refresh_absolute_ttl", Description: "a session ends this long after sign-in",
		field: func(c *Config) any { return &c.Tokens.RefreshAbsoluteTTL }},
	{Name: "UNILOGIN_REFRESH_REUSE_GRACE", Key: "tokens.refresh_reuse_grace", Description: "window in which a spent refresh token returns its successor",
		field: func(c *Config) any { return &c.Tokens.RefreshReuseGrace }},
	{Name: "UNILOGIN_KEY_ENCRYPTION_KEY", Key: "keys.encryption_key", Secret: true, Description: "32-byte base64 key sealing signing keys at rest",
		field: func(c *Config) any { return &c.Keys.EncryptionKey }},
	{Name: "UNILOGIN_KEY_ROTATION_PERIOD", Key: "keys.rotation_period", Description: "automatic signing key rotation period; 0 disables",
		field: func(c *Config) any { return &c.Keys.RotationPeriod }},
	{Name: "UNILOGIN_KEY_PRE_PUBLISH", Key: "keys.pre_publish", Description: "how long a new key is published before it signs",
		field: func(c *Config) any { return &c.Keys.PrePublish }},

	{Name: "UNILOGIN_METRICS_ADDR", Key: "metrics.addr", Description: "separate listen address for /metrics (host:port); empty: on the main listener",
		field: func(c *Config) any { return &c.Metrics.Addr }},
	{Name: "UNILOGIN_METRICS_TOKEN", Key: "metrics.token", Secret: true, Description: "bearer token required by /metrics and /debug/pprof",
		field: func(c *Config) any { c.Metrics.TokenFile = ""; return &c.Metrics.Token }},

	{Name: "UNILOGIN_GOOGLE_CLIENT_ID", Key: "providers.google.client_id", Description: "Google OAuth client id (enables Google)",
		field: func(c *Config) any { return &google(c).ClientID }},
	{Name: "UNILOGIN_GOOGLE_CLIENT_SECRET", Key: "providers.google.client_secret", Secret: true, Description: "Google OAuth client secret",
		field: func(c *Config) any { return providerSecret(google(c)) }},
	{Name: "UNILOGIN_GITHUB_CLIENT_ID", Key: "providers.github.client_id", Description: "GitHub OAuth app client id (enables GitHub)",
		field: func(c *Config) any { return &github(c).ClientID }},
	{Name: "UNILOGIN_GITHUB_CLIENT_SECRET", Key: "providers.github.client_secret", Secret: true, Description: "GitHub OAuth app client secret",
		field: func(c *Config) any { return providerSecret(github(c)) }},

	{Name: "UNILOGIN_EMAIL_FROM", Key: "email.from", Description: "sender address of outgoing mail",
		field: func(c *Config) any { return &c.Email.From }},
	{Name: "UNILOGIN_EMAIL_VERIFICATION", Key: "email.verification", Description: "send a verification link at each password sign-up",
		field: func(c *Config) any { return &c.Email.Verification }},

	{Name: "UNILOGIN_SIGNUP_ENABLED", Key: "signup.enabled", Description: "allow public sign-up (password and new provider users)",
		field: func(c *Config) any { return &c.Signup.Enabled }},
	{Name: "UNILOGIN_SIGNUP_ALLOWED_EMAIL_DOMAINS", Key: "signup.allowed_email_domains", Description: "e-mail domains new accounts must be at (comma-separated)",
		field: func(c *Config) any { return &c.Signup.AllowedEmailDomains }},
	{Name: "UNILOGIN_SIGNUP_REQUIRE_VERIFIED_EMAIL", Key: "signup.require_verified_email", Description: "refuse password sign-in until the address is verified",
		field: func(c *Config) any { return &c.Signup.RequireVerifiedEmail }},

	{Name: "UNILOGIN_MFA_APPLY_TO_PROVIDERS", Key: "mfa.apply_to_providers", Description: "ask for the second factor after a provider sign-in too",
		field: func(c *Config) any { return &c.MFA.ApplyToProviders }},
}

// google and github return the provider entry, creating it when absent.
func google(c *Config) *Provider {
	if c.Providers.Google == nil {
		c.Providers.Google = &Provider{}
	}
	return c.Providers.Google
}

func github(c *Config) *Provider {
	if c.Providers.GitHub == nil {
		c.Providers.GitHub = &Provider{}
	}
	return c.Providers.GitHub
}

// providerSecret is the target of a client secret set from the environment:
// the variable overrides both forms of the YAML key, so a client_secret_file
// from the file is dropped rather than read.
func providerSecret(p *Provider) *string {
	p.ClientSecretFile = ""
	return &p.ClientSecret
}

// EnvVars lists every environment variable Load reads, in a stable order
// (the *_FILE companions of secrets are implied: see EnvVar.FileName).
func EnvVars() []EnvVar {
	out := make([]EnvVar, len(envTable))
	for i, e := range envTable {
		if e.field != nil {
			e.Type = kindOf(e.field(&Config{}))
		}
		out[i] = e
	}
	return out
}

func kindOf(p any) string {
	switch p.(type) {
	case *string:
		return "string"
	case *int:
		return "int"
	case **bool:
		return "bool"
	case *time.Duration:
		return "duration"
	case *[]string:
		return "list"
	}
	panic(fmt.Sprintf("config: env table: unsupported field type %T", p))
}

// applyEnv overrides c with every variable that is set (non-empty), and
// reads secrets from their *_FILE companions. It reports every bad
// variable at once; messages name the variable and never echo a secret.
func applyEnv(c *Config, getenv func(string) string, readFile func(string) ([]byte, error)) []Problem {
	var errs []Problem
	for _, e := range envTable {
		if e.field == nil {
			continue
		}
		val, p := envValue(e, getenv, readFile)
		if p != nil {
			errs = append(errs, *p)
			continue
		}
		if val == "" {
			continue
		}
		if err := setField(e.field(c), val); err != nil {
			if e.Secret {
				errs = append(errs, Problem{e.Name, err.Error()})
			} else {
				errs = append(errs, Problem{e.Name, fmt.Sprintf("%s (got %q)", err.Error(), val)})
			}
		}
	}
	return errs
}

// envValue returns the variable's value, or the content of the file named
// by its _FILE companion for a secret.
func envValue(e EnvVar, getenv func(string) string, readFile func(string) ([]byte, error)) (string, *Problem) {
	val := getenv(e.Name)
	if !e.Secret {
		return val, nil
	}
	file := getenv(e.FileName())
	if file == "" {
		return val, nil
	}
	if val != "" {
		return "", &Problem{e.Name, fmt.Sprintf("%s and %s are both set; use one", e.Name, e.FileName())}
	}
	s, err := readSecretFile(file, readFile)
	if err != nil {
		return "", &Problem{e.FileName(), secretFileMessage(file, err)}
	}
	return s, nil
}

// setField parses val into the field p points to. Errors do not include
// val: the caller decides whether it may be shown.
func setField(p any, val string) error {
	switch p := p.(type) {
	case *string:
		*p = val
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return errors.New("not an integer")
		}
		*p = n
	case **bool:
		b, err := parseBool(val)
		if err != nil {
			return err
		}
		*p = &b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(val))
		if err != nil {
			return errors.New(`not a Go duration such as "10s" or "15m"`)
		}
		*p = d
	case *[]string:
		*p = splitList(val)
	default:
		panic(fmt.Sprintf("config: env table: unsupported field type %T", p))
	}
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errors.New("want true, false, 1 or 0")
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

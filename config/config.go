package config

import "time"

// Config is the whole configuration. YAML keys are the snake_case names in
// the struct tags; environment variables are listed in env.go.
type Config struct {
	// Issuer is the `iss` of every token and the base of every URL we publish.
	Issuer string `yaml:"issuer"`
	// Audience is the `aud` of access tokens; defaults to Issuer.
	Audience string `yaml:"audience"`

	HTTP    HTTP    `yaml:"http"`
	DataDir string  `yaml:"data_dir"`
	SQLite  SQLite  `yaml:"sqlite"`
	MongoDB MongoDB `yaml:"mongodb"`
	// Database bounds every store call (both backends).
	Database Database `yaml:"database"`
	Log      Log      `yaml:"log"`

	Passwords     Passwords     `yaml:"passwords"`
	PasswordGrant PasswordGrant `yaml:"password_grant"`
	Tokens        Tokens        `yaml:"tokens"`
	Keys          Keys          `yaml:"keys"`

	Clients      []Client            `yaml:"clients"`
	Roles        map[string][]string `yaml:"roles"`
	DefaultRoles []string            `yaml:"default_roles"`
	Providers    Providers           `yaml:"providers"`
	Linking      Linking             `yaml:"linking"`

	// SweepInterval is how often expired sessions, tokens and codes are deleted.
	SweepInterval time.Duration `yaml:"sweep_interval"`

	// RateLimits is abuse protection: request limits and bcrypt admission.
	RateLimits RateLimits `yaml:"rate_limits"`

	// Branding styles the hosted sign-in and account pages (docs/hosted-ui.md).
	Branding Branding `yaml:"branding"`

	// Metrics places GET /metrics (docs/operations.md).
	Metrics Metrics `yaml:"metrics"`

	// Email is outgoing mail: SMTP or the outbox, and link lifetimes (email.go).
	Email Email `yaml:"email"`

	// Signup controls who may create an account (signup.go).
	Signup Signup `yaml:"signup"`

	// MFA configures the second factors (mfa.go).
	MFA MFA `yaml:"mfa"`
}

// Metrics configures where /metrics is served and who may read it.
type Metrics struct {
	// Addr, when set, serves /metrics on a listener of its own (host:port)
	// and no longer on http.addr.
	Addr string `yaml:"addr"`
	// Token, when set, is the bearer token /metrics (and /debug/pprof)
	// require. Secret: also token_file and UNILOGIN_METRICS_TOKEN(_FILE).
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Pprof serves net/http/pprof under /debug/pprof on the metrics
	// listener (default off; needs Addr).
	Pprof bool `yaml:"pprof"`
}

// Branding is what the hosted pages show: name, logo and accent colour.
type Branding struct {
	// ProductName is the title of every hosted page (default "unilogin").
	ProductName string `yaml:"product_name"`
	// LogoURL is an https (or same-origin path) image shown above the forms; empty: none.
	LogoURL string `yaml:"logo_url"`
	// AccentColor is a CSS hex colour (#rgb or #rrggbb) for buttons and links.
	AccentColor string `yaml:"accent_color"`
}

// RateLimits configures abuse protection (docs/security.md). The counters
// are kept in the database, so instances sharing it enforce one limit.
type RateLimits struct {
	// Enabled switches every request limit on or off (default true). The
	// hashing gate below stays on either way.
	Enabled *bool `yaml:"enabled"`
	// PasswordPerIP: failed password grants per client address (20 per 5m).
	PasswordPerIP Rate `yaml:"password_per_ip"`
	// PasswordPerAccountIP: failed password grants per user name and
	// client address (10 per 15m); unknown user names count the same.
	PasswordPerAccountIP Rate `yaml:"password_per_account_ip"`
	// PasswordPerAccount: failed password grants per user name from every
	// address (100 per 15m), a ceiling that slows a distributed attack.
	PasswordPerAccount Rate `yaml:"password_per_account"`
	// SignupPerIP: POST /signup per client address (30 per 10m).
	SignupPerIP Rate `yaml:"signup_per_ip"`
	// BrowserLoginPerIP: /auth/{provider}/login per client address, and
	// the callbacks likewise (60 per 10m).
	BrowserLoginPerIP Rate `yaml:"browser_login_per_ip"`
	// PasswordChecksPerIP: every password check (sign-in or
	// current_password, right or wrong) per client address (60 per 5m).
	PasswordChecksPerIP Rate `yaml:"password_checks_per_ip"`
	// PasswordSignInsPerAccount: successful password checks per account
	// (20 per 5m); only the password's holder can spend it.
	PasswordSignInsPerAccount Rate `yaml:"password_signins_per_account"`
	// EmailPerAddress and EmailPerIP: requests that mail a link to a typed
	// address (POST /password/forgot, /verify-email/resend) per address
	// (5 per 1h) and per client address (30 per 1h).
	EmailPerAddress Rate `yaml:"email_per_address"`
	EmailPerIP      Rate `yaml:"email_per_ip"`
	// PasswordSlowdown: the wait of a check let through a full
	// password_per_account ceiling from an address without recent
	// failures (1s; 0: none).
	PasswordSlowdown time.Duration `yaml:"password_slowdown"`
	// HashingWorkers bounds concurrent bcrypt work; 0: one per core but one
	// (GOMAXPROCS - 1, at least 1), leaving a core to everything else.
	HashingWorkers int `yaml:"hashing_workers"`
	// HashingQueue is how many password checks may wait for a worker before
	// more are refused with 503; 0: 4 per worker.
	HashingQueue int `yaml:"hashing_queue"`
}

// On reports whether the request limits are enabled.
func (r RateLimits) On() bool { return r.Enabled == nil || *r.Enabled }

// Rate is one limit: at most Limit events per Window; Limit 0 turns it off.
type Rate struct {
	Limit  int           `yaml:"limit"`
	Window time.Duration `yaml:"window"`
}

// HTTP is the listener.
type HTTP struct {
	Addr string `yaml:"addr"` // default ":8080"
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For is
	// honoured. Empty (the default): the peer address is the client address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// CORSOrigins is the explicit list of browser origins allowed to call the API.
	CORSOrigins []string `yaml:"cors_origins"`
	// MaxBodyBytes limits request bodies (default 64 KiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	TLS          TLS   `yaml:"tls"`

	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
}

// TLS serves HTTPS when both files are set.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// SQLite tunes the embedded store (used when MongoDB.URI is empty).
type SQLite struct {
	// Synchronous is SQLite's synchronous pragma: "normal" (default; a
	// committed write survives a crash of the process, kill -9 included) or
	// "full" (it also survives a power loss, at a cost in write throughput).
	Synchronous string `yaml:"synchronous"`
}

// MongoDB selects the MongoDB store when URI is set.
type MongoDB struct {
	URI      string `yaml:"uri"` // secret: also MONGODB_URI_FILE
	Database string `yaml:"database"`
}

// Database is what applies to either store.
type Database struct {
	// Timeout is the deadline of one database call (default 3s): MongoDB's
	// server selection, connect and operation timeouts, SQLite's busy
	// timeout and the context of each store call. A call that misses it
	// is answered 503 temporarily_unavailable. At most a third of
	// http.write_timeout, so that answer is always delivered.
	Timeout time.Duration `yaml:"timeout"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // json (default) or text
}

// Passwords configures password hashing.
type Passwords struct {
	BcryptCost int `yaml:"bcrypt_cost"` // default 12; 4..31
}

// PasswordGrant configures the RFC 6749 §4.3 grant at POST /token.
type PasswordGrant struct {
	Enabled *bool `yaml:"enabled"` // default true
}

// On reports whether the password grant is enabled.
func (p PasswordGrant) On() bool { return p.Enabled == nil || *p.Enabled }

// Tokens configures access and refresh tokens.
type Tokens struct {
	// Algorithm signs access tokens: ES256 (default), RS256 or EdDSA.
	Algorithm          string        `yaml:"algorithm"`
	AccessTTL          time.Duration `yaml:"access_ttl"`           // default 15m
	RefreshIdleTTL     time.Duration `yaml:"refresh_idle_ttl"`     // default 720h (30 days)
	RefreshAbsoluteTTL time.Duration `yaml:"refresh_absolute_ttl"` // default 2160h (90 days)
	RefreshReuseGrace  time.Duration `yaml:"refresh_reuse_grace"`  // default 10s
	CodeTTL            time.Duration `yaml:"code_ttl"`             // default 60s
	// MaxSessionsPerUser caps each user's sessions; a new sign-in ends the
	// oldest beyond it. Default 100.
	MaxSessionsPerUser int `yaml:"max_sessions_per_user"`
}

// Keys configures signing keys.
type Keys struct {
	// EncryptionKey seals private keys and secrets at rest: 32 bytes,
	// base64 (std or URL encoding). Secret: also UNILOGIN_KEY_ENCRYPTION_KEY(_FILE).
	// Empty: a key file is generated at <data_dir>/master.key, for the
	// embedded store only; required when MongoDB.URI is set (every
	// instance sharing the database needs the same key).
	EncryptionKey string `yaml:"encryption_key"`
	// RotationPeriod rotates the signing key automatically; 0 disables.
	RotationPeriod time.Duration `yaml:"rotation_period"`
	// PrePublish is how long a new key is published before it signs
	// (default 10m; never below JWKSMaxAge).
	PrePublish time.Duration `yaml:"pre_publish"`
	// JWKSMaxAge is the Cache-Control max-age of the JWKS (default 5m).
	JWKSMaxAge time.Duration `yaml:"jwks_max_age"`
}

// Client is an app allowed to start browser sign-ins and to use /token.
type Client struct {
	ID           string   `yaml:"id"`
	RedirectURIs []string `yaml:"redirect_uris"`
	// Secret makes the client confidential (it authenticates at /token);
	// without one it is public and must use PKCE. Also <secret_file>.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Name is the app's name on the hosted pages ("to continue to ...");
	// empty: the id.
	Name string `yaml:"name"`
	// PostLogoutRedirectURIs are where RP-initiated logout may send the
	// browser back to (exact match).
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	// GrantTypes is the client's full list of grants at /token; empty:
	// DefaultGrantTypes (client_grants.go).
	GrantTypes []string `yaml:"grant_types"`
	// Scopes are the permissions a client_credentials token may carry.
	Scopes []string `yaml:"scopes"`
	// Consent marks a third-party app: users are asked before it gets
	// their data, and it gets a refresh token only with offline_access.
	Consent bool `yaml:"consent"`
}

// Providers configures upstream identity providers. A provider without a
// client_id is disabled.
type Providers struct {
	Google *Provider  `yaml:"google"`
	GitHub *Provider  `yaml:"github"`
	OIDC   []Provider `yaml:"oidc"`
}

// Provider is one upstream identity provider.
type Provider struct {
	ID               string   `yaml:"id"`   // generic OIDC only: used in paths
	Name             string   `yaml:"name"` // display name
	ClientID         string   `yaml:"client_id"`
	ClientSecret     string   `yaml:"client_secret"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	Scopes           []string `yaml:"scopes"`
	// Issuer is the OIDC issuer URL (Google default https://accounts.google.com).
	Issuer string `yaml:"issuer"`
	// BaseURL and APIURL are GitHub's web and API roots (Enterprise, tests).
	BaseURL string `yaml:"base_url"`
	APIURL  string `yaml:"api_url"`
	// HostedDomains restricts Google sign-ins to these Workspace domains (hd claim).
	HostedDomains []string `yaml:"hosted_domains"`
	// Optional is accepted for compatibility: no provider stops start-up;
	// one whose discovery fails is retried in the background.
	Optional bool `yaml:"optional"`
	// InsecureSkipEmailVerified treats every e-mail from this provider as
	// verified. Dangerous; default off.
	InsecureSkipEmailVerified bool `yaml:"insecure_skip_email_verified"`
}

// Linking is the account-linking policy for provider sign-ins.
type Linking struct {
	// ByVerifiedEmail links a new identity to the existing user whose
	// verified e-mail equals the provider's verified e-mail (default true).
	ByVerifiedEmail *bool `yaml:"by_verified_email"`
}

// LinkByEmail reports whether linking by verified e-mail is on.
func (l Linking) LinkByEmail() bool { return l.ByVerifiedEmail == nil || *l.ByVerifiedEmail }

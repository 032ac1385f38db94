package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// files is a readFile over a map of path -> content.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		s, ok := m[p]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		return []byte(s), nil
	}
}

// loadYAML loads the given YAML text as the file "unilogin.yaml".
func loadYAML(t *testing.T, text string, vars map[string]string) (*Config, error) {
	t.Helper()
	return Load("unilogin.yaml", env(vars), files(map[string]string{"unilogin.yaml": text}))
}

func problemPaths(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path
	}
	return out
}

// lookup returns the value at a YAML key path such as
// "providers.google.client_id", dereferencing pointers.
func lookup(t *testing.T, c *Config, path string) any {
	t.Helper()
	v := reflect.ValueOf(c).Elem()
	for _, name := range strings.Split(path, ".") {
		field, ok := fieldByYAML(v.Type(), name)
		if !ok {
			t.Fatalf("lookup %s: no key %q in %s", path, name, v.Type())
		}
		v = v.FieldByIndex(field.Index)
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				t.Fatalf("lookup %s: %s is nil", path, name)
			}
			v = v.Elem()
		}
	}
	return v.Interface()
}

func fieldByYAML(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// expect is one value a loaded configuration must have.
type expect struct {
	name      string
	got, want any
}

func wantValues(t *testing.T, values []expect) {
	t.Helper()
	for _, v := range values {
		if !reflect.DeepEqual(v.got, v.want) {
			t.Errorf("%s = %#v, want %#v", v.name, v.got, v.want)
		}
	}
}

func TestDefaultsValidateClean(t *testing.T) {
	c := Default()
	if ps := c.Validate(); ps != nil {
		t.Fatalf("Default().Validate() = %v, want none", ps)
	}
	// The documented defaults (docs/configuration.md).
	wantValues(t, []expect{
		{"issuer", c.Issuer, "http://localhost:8080"},
		{"audience", c.TokenAudience(), "http://localhost:8080"},
		{"http.addr", c.HTTP.Addr, ":8080"},
		{"data_dir", c.DataDir, "./data"},
		{"bcrypt_cost", c.Passwords.BcryptCost, 12},
		{"refresh_reuse_grace", c.Tokens.RefreshReuseGrace, 10 * time.Second},
		{"access_ttl", c.Tokens.AccessTTL, 15 * time.Minute},
		{"code_ttl", c.Tokens.CodeTTL, 60 * time.Second},
		{"algorithm", c.Tokens.Algorithm, "ES256"},
		{"mongodb.database", c.MongoDB.Database, "unilogin"},
		{"max_body_bytes", c.HTTP.MaxBodyBytes, int64(64 << 10)},
		{"roles", c.Roles, map[string][]string{"admin": {"users:admin"}, "member": {}}},
		{"default_roles", c.DefaultRoles, []string{"member"}},
		{"password grant on", c.PasswordGrant.On(), true},
		{"link by email on", c.Linking.LinkByEmail(), true},
		{"secure cookies", c.SecureCookies(), false},
	})
	// Each call returns a fresh value.
	Default().Roles["admin"][0] = "changed"
	if Default().Roles["admin"][0] != "users:admin" {
		t.Error("Default() shares state between calls")
	}
}

func TestLoadWithoutFileIsDefault(t *testing.T) {
	c, err := Load("", env(nil), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load with no file and no environment = %+v, want Default()", c)
	}
}

func TestLoadEmptyFiles(t *testing.T) {
	for _, text := range []string{"", "\n", "# only a comment\n", "---\n"} {
		c, err := loadYAML(t, text, nil)
		if err != nil {
			t.Errorf("Load(%q): %v", text, err)
			continue
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Load(%q) = %+v, want Default()", text, c)
		}
	}
}

func TestFullExampleLoadsAndValidates(t *testing.T) {
	c, err := Load("testdata/full.yaml", env(nil), os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if ps := c.Validate(); ps != nil {
		t.Fatalf("testdata/full.yaml: %v", ps)
	}
	wantValues(t, []expect{
		{"issuer", c.Issuer, "https://login.example.com"},
		{"audience", c.TokenAudience(), "https://api.example.com"},
		{"secure cookies", c.SecureCookies(), true},
		{"worker secret from secret_file", c.Clients[1].Secret, "cli-secret-from-file"},
		{"github secret from client_secret_file", c.Providers.GitHub.ClientSecret, "gh-secret-from-file"},
		{"google enabled", c.Providers.Google.Enabled(), true},
		{"oidc ids", []string{c.Providers.OIDC[0].ID, c.Providers.OIDC[1].ID}, []string{"corp", "partner-idp"}},
		{"roles", len(c.Roles), 3},
		{"password grant", c.PasswordGrant.On(), false},
		{"linking", c.Linking.LinkByEmail(), false},
		{"algorithm", c.Tokens.Algorithm, "EdDSA"},
		{"rotation", c.Keys.RotationPeriod, 720 * time.Hour},
		{"synchronous", c.SQLite.Synchronous, "full"},
		{"idle timeout", c.HTTP.IdleTimeout, 90 * time.Second},
		{"sweep", c.SweepInterval, 10 * time.Minute},
	})
}

// TestPrecedence: environment over YAML over defaults (docs/configuration.md).
func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		get  func(*Config) any
		want any
	}{
		{"default", "", nil, func(c *Config) any { return c.HTTP.Addr }, ":8080"},
		{"yaml over default", "http: {addr: ':9000'}", nil, func(c *Config) any { return c.HTTP.Addr }, ":9000"},
		{"env over yaml", "http: {addr: ':9000'}", map[string]string{"UNILOGIN_HTTP_ADDR": ":9100"},
			func(c *Config) any { return c.HTTP.Addr }, ":9100"},
		{"env over default", "", map[string]string{"UNILOGIN_BCRYPT_COST": "10"},
			func(c *Config) any { return c.Passwords.BcryptCost }, 10},
		{"yaml keeps other defaults", "passwords: {bcrypt_cost: 11}", nil,
			func(c *Config) any { return c.Tokens.RefreshReuseGrace }, 10 * time.Second},
		{"env duration over yaml", "tokens: {refresh_reuse_grace: 3s}", map[string]string{"UNILOGIN_REFRESH_REUSE_GRACE": "4s"},
			func(c *Config) any { return c.Tokens.RefreshReuseGrace }, 4 * time.Second},
		{"empty env var leaves yaml", "data_dir: /srv/data", map[string]string{"UNILOGIN_DATA_DIR": ""},
			func(c *Config) any { return c.DataDir }, "/srv/data"},
		{"env list replaces yaml list", "http: {cors_origins: [https://a.example]}",
			map[string]string{"UNILOGIN_CORS_ORIGINS": "https://b.example, https://c.example"},
			func(c *Config) any { return c.HTTP.CORSOrigins }, []string{"https://b.example", "https://c.example"}},
		{"env bool over yaml", "password_grant: {enabled: false}", map[string]string{"UNILOGIN_PASSWORD_GRANT": "1"},
			func(c *Config) any { return c.PasswordGrant.On() }, true},
		{"env secret over yaml", "mongodb: {uri: 'mongodb://a'}", map[string]string{"MONGODB_URI": "mongodb://b"},
			func(c *Config) any { return c.MongoDB.URI }, "mongodb://b"},
		{"env provider keeps yaml fields", "providers: {github: {client_id: a, client_secret: s, base_url: 'https://ghe.example'}}",
			map[string]string{"UNILOGIN_GITHUB_CLIENT_ID": "b"},
			func(c *Config) any { return *c.Providers.GitHub }, Provider{ClientID: "b", ClientSecret: "s", BaseURL: "https://ghe.example"}},
		{"yaml roles replace default roles", "roles: {ops: [deploy]}\ndefault_roles: [ops]", nil,
			func(c *Config) any { return c.Roles }, map[string][]string{"ops": {"deploy"}}},
		{"yaml without roles keeps default roles", "issuer: https://id.example", nil,
			func(c *Config) any { return c.Roles }, Default().Roles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadYAML(t, tc.yaml, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestEveryEnvVarIsApplied sets each variable of the table alone and reads
// the key it claims to override, so the table's metadata is checked too.
func TestEveryEnvVarIsApplied(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range EnvVars() {
		if seen[e.Name] {
			t.Errorf("%s listed twice", e.Name)
		}
		seen[e.Name] = true
		if e.Description == "" {
			t.Errorf("%s has no description", e.Name)
		}
		if e.Key == "" {
			if e.Name != ConfigPathEnv {
				t.Errorf("%s has no key", e.Name)
			}
			continue
		}
		var raw string
		var want any
		switch e.Type {
		case "string":
			raw, want = "value-of-"+e.Name, "value-of-"+e.Name
		case "int":
			raw, want = "7", 7
		case "duration":
			raw, want = "17s", 17*time.Second
		case "bool":
			raw, want = "false", false
		case "list":
			raw, want = " a, b ,, ", []string{"a", "b"}
		default:
			t.Fatalf("%s: unexpected type %q", e.Name, e.Type)
		}
		t.Run(e.Name, func(t *testing.T) {
			c, err := Load("", env(map[string]string{e.Name: raw}), files(nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := lookup(t, c, e.Key); !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", e.Key, got, want)
			}
			if !e.Secret {
				if e.FileName() != "" {
					t.Errorf("FileName() = %q for a non-secret", e.FileName())
				}
				return
			}
			// The same value from the _FILE companion, trailing newline trimmed.
			c, err = Load("", env(map[string]string{e.FileName(): "/run/secrets/x"}),
				files(map[string]string{"/run/secrets/x": raw + "\r\n \n"}))
			if err != nil {
				t.Fatal(err)
			}
			if got := lookup(t, c, e.Key); !reflect.DeepEqual(got, want) {
				t.Errorf("%s from %s = %#v, want %#v", e.Key, e.FileName(), got, want)
			}
		})
	}
	for _, name := range []string{"UNILOGIN_CONFIG", "UNILOGIN_HTTP_ADDR", "UNILOGIN_DATA_DIR", "UNILOGIN_ISSUER",
		"UNILOGIN_BCRYPT_COST", "UNILOGIN_REFRESH_REUSE_GRACE", "MONGODB_URI", "UNILOGIN_MONGODB_DATABASE"} {
		if !seen[name] {
			t.Errorf("documented variable %s missing from EnvVars()", name)
		}
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"bad int", map[string]string{"UNILOGIN_BCRYPT_COST": "twelve"}, nil, []string{"UNILOGIN_BCRYPT_COST", "twelve"}},
		{"bad duration", map[string]string{"UNILOGIN_ACCESS_TTL": "15"}, nil, []string{"UNILOGIN_ACCESS_TTL", "duration"}},
		{"bad bool", map[string]string{"UNILOGIN_PASSWORD_GRANT": "yes"}, nil, []string{"UNILOGIN_PASSWORD_GRANT", "true, false, 1 or 0"}},
		{"all reported at once", map[string]string{"UNILOGIN_BCRYPT_COST": "x", "UNILOGIN_KEY_PRE_PUBLISH": "y"}, nil,
			[]string{"UNILOGIN_BCRYPT_COST", "UNILOGIN_KEY_PRE_PUBLISH"}},
		{"secret and file both set", map[string]string{"MONGODB_URI": "mongodb://u:pw@h", "MONGODB_URI_FILE": "/s"},
			map[string]string{"/s": "mongodb://x"}, []string{"MONGODB_URI and MONGODB_URI_FILE are both set"}},
		{"secret file missing", map[string]string{"UNILOGIN_GOOGLE_CLIENT_SECRET_FILE": "/nope"}, nil,
			[]string{"UNILOGIN_GOOGLE_CLIENT_SECRET_FILE", "/nope"}},
		{"secret file empty", map[string]string{"UNILOGIN_KEY_ENCRYPTION_KEY_FILE": "/k"}, map[string]string{"/k": "\n"},
			[]string{"UNILOGIN_KEY_ENCRYPTION_KEY_FILE", "empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", env(tc.env), files(tc.files))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestYAMLSecretFiles(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		files   map[string]string
		get     func(*Config) string
		want    string
		wantErr string
	}{
		{
			name:  "client secret_file relative to the config file",
			yaml:  "clients: [{id: a, redirect_uris: ['https://a.example/cb'], secret_file: s.txt}]",
			files: map[string]string{"etc/s.txt": "client-secret\n"},
			get:   func(c *Config) string { return c.Clients[0].Secret },
			want:  "client-secret",
		},
		{
			name:  "provider client_secret_file absolute",
			yaml:  "providers: {oidc: [{id: corp, issuer: 'https://sso.example', client_id: x, client_secret_file: /run/secrets/corp}]}",
			files: map[string]string{"/run/secrets/corp": "corp-secret  \n"},
			get:   func(c *Config) string { return c.Providers.OIDC[0].ClientSecret },
			want:  "corp-secret",
		},
		{
			name: "env secret overrides yaml client_secret_file",
			yaml: "providers: {google: {client_id: x, client_secret_file: /missing}}",
			env:  map[string]string{"UNILOGIN_GOOGLE_CLIENT_SECRET": "from-env"},
			get:  func(c *Config) string { return c.Providers.Google.ClientSecret },
			want: "from-env",
		},
		{
			name:    "client secret and secret_file both set",
			yaml:    "clients: [{id: a}, {id: b, secret: inline-client-secret, secret_file: s.txt}]",
			files:   map[string]string{"etc/s.txt": "x"},
			wantErr: "clients[1]: secret and secret_file are both set",
		},
		{
			name:    "provider client_secret and client_secret_file both set",
			yaml:    "providers: {github: {client_id: x, client_secret: inline-gh-secret, client_secret_file: s.txt}}",
			files:   map[string]string{"etc/s.txt": "x"},
			wantErr: "providers.github: client_secret and client_secret_file are both set",
		},
		{
			name:    "secret_file missing",
			yaml:    "clients: [{id: a, secret_file: gone.txt}]",
			wantErr: "clients[0].secret_file",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := map[string]string{"etc/unilogin.yaml": tc.yaml}
			for k, v := range tc.files {
				fsys[k] = v
			}
			c, err := Load("etc/unilogin.yaml", env(tc.env), files(fsys))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				for _, secret := range []string{"inline-client-secret", "inline-gh-secret"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q echoes a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown top-level key", "issuer: https://a.example\nissuer_url: x\n", []string{"line 2", "issuer_url"}},
		{"unknown nested key", "http:\n  addr: ':1'\n  adress: ':2'\n", []string{"line 3", "adress"}},
		{"unknown provider key", "providers:\n  github:\n    client_id: x\n    secret: y\n", []string{"line 4", "secret"}},
		{"every unknown key", "foo: 1\nbar: 2\n", []string{"line 1", "foo", "line 2", "bar"}},
		{"duration without unit", "tokens:\n  access_ttl: 900\n", []string{"tokens.access_ttl", "line 2", "unit"}},
		{"syntax error", "issuer: [\n", []string{"unilogin.yaml"}},
		{"duplicate key", "issuer: a\nissuer: b\n", []string{"line 2", "issuer"}},
		{"two documents", "issuer: a\n---\nissuer: b\n", []string{"more than one YAML document"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, tc.yaml, nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Load("missing.yaml", env(nil), files(nil)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error = %v, want fs.ErrNotExist", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c, err := Load("testdata/bad.yaml", env(nil), os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"issuer",
		"http.addr",
		"http.trusted_proxies[0]",
		"http.cors_origins[0]",
		"http.max_body_bytes",
		"http.tls.key_file",
		"http.idle_timeout",
		"sqlite.synchronous",
		"mongodb.uri",
		"mongodb.database",
		"log.level",
		"log.format",
		"passwords.bcrypt_cost",
		"tokens.algorithm",
		"tokens.access_ttl",
		"tokens.refresh_idle_ttl",
		"tokens.refresh_reuse_grace",
		"tokens.code_ttl",
		"keys.encryption_key",
		"keys.pre_publish",
		"keys.rotation_period",
		"clients[0].redirect_uris[0]",
		"clients[0].redirect_uris[1]",
		"clients[1].id",
		"clients[1].redirect_uris",
		"clients[2].id",
		"clients[2].redirect_uris[0]",
		"clients[2].redirect_uris[2]",
		"roles",
		"roles.member[0]",
		"default_roles[1]",
		"providers.google.client_secret",
		"providers.google.hosted_domains[0]",
		"providers.github.base_url",
		"providers.github.api_url",
		"providers.oidc[0].id",
		"providers.oidc[1].id",
		"providers.oidc[1].issuer",
		"providers.oidc[3].id",
		"providers.oidc[3].issuer",
		"sweep_interval",
	}
	ps := c.Validate()
	if got := problemPaths(ps); !slices.Equal(got, want) {
		t.Errorf("problem paths:\n got %q\nwant %q\nproblems:\n%s", got, want, formatProblems(ps))
	}
	for _, p := range ps {
		if p.Message == "" {
			t.Errorf("%s: empty message", p.Path)
		}
		for _, secret := range []string{"s3cr3t-mongo-pw", "c2VjcmV0LWtleS10b28tc2hvcnQ", "cl-secret-value-xyz", "gh-secret-value-abc"} {
			if strings.Contains(p.String(), secret) {
				t.Errorf("%s echoes a secret", p)
			}
		}
	}
}

func formatProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	return b.String()
}

func TestValidateCases(t *testing.T) {
	client := func(uris ...string) func(*Config) {
		return func(c *Config) { c.Clients = []Client{{ID: "app", RedirectURIs: uris}} }
	}
	oidc := func(p Provider) func(*Config) {
		return func(c *Config) { c.Providers.OIDC = append(c.Providers.OIDC, p) }
	}
	key32 := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // problem paths; nil: valid
	}{
		{"https issuer", func(c *Config) { c.Issuer = "https://id.example.com/tenant" }, nil},
		{"http on 127.0.0.1", func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }, nil},
		{"http on ::1", func(c *Config) { c.Issuer = "http://[::1]:8080" }, nil},
		{"http on a public host", func(c *Config) { c.Issuer = "http://id.example.com" }, []string{"issuer"}},
		{"issuer with query", func(c *Config) { c.Issuer = "https://id.example.com?x=1" }, []string{"issuer"}},
		{"issuer with fragment", func(c *Config) { c.Issuer = "https://id.example.com#x" }, []string{"issuer"}},
		{"issuer relative", func(c *Config) { c.Issuer = "/login" }, []string{"issuer"}},
		{"issuer ftp", func(c *Config) { c.Issuer = "ftp://id.example.com" }, []string{"issuer"}},
		{"issuer empty", func(c *Config) { c.Issuer = "" }, []string{"issuer"}},
		{"issuer trailing slash", func(c *Config) { c.Issuer = "https://id.example.com/" }, []string{"issuer"}},
		{"addr with host", func(c *Config) { c.HTTP.Addr = "127.0.0.1:0" }, nil},
		{"addr bad port", func(c *Config) { c.HTTP.Addr = ":99999" }, []string{"http.addr"}},
		{"bcrypt 4", func(c *Config) { c.Passwords.BcryptCost = 4 }, nil},
		{"bcrypt 31", func(c *Config) { c.Passwords.BcryptCost = 31 }, nil},
		{"bcrypt 32", func(c *Config) { c.Passwords.BcryptCost = 32 }, []string{"passwords.bcrypt_cost"}},
		{"RS256", func(c *Config) { c.Tokens.Algorithm = "RS256" }, nil},
		{"zero access ttl", func(c *Config) { c.Tokens.AccessTTL = 0 }, []string{"tokens.access_ttl"}},
		{"grace equal to idle", func(c *Config) { c.Tokens.RefreshReuseGrace = c.Tokens.RefreshIdleTTL }, []string{"tokens.refresh_reuse_grace"}},
		{"grace zero", func(c *Config) { c.Tokens.RefreshReuseGrace = 0 }, nil},
		{"rotation on", func(c *Config) { c.Keys.RotationPeriod = 24 * time.Hour }, nil},
		{"rotation too short", func(c *Config) { c.Keys.RotationPeriod = 25 * time.Minute }, []string{"keys.rotation_period"}},
		{"pre_publish equal to max age", func(c *Config) { c.Keys.PrePublish = c.Keys.JWKSMaxAge }, []string{"keys.pre_publish"}},
		{"pre_publish covers max age and reload", func(c *Config) { c.Keys.PrePublish = c.Keys.JWKSMaxAge + KeyReloadInterval }, nil},
		{"key std base64", func(c *Config) { c.Keys.EncryptionKey = key32 }, nil},
		{"key raw url base64", func(c *Config) { c.Keys.EncryptionKey = strings.TrimRight(key32, "=") }, nil},
		{"key 31 bytes", func(c *Config) { c.Keys.EncryptionKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZQ==" }, []string{"keys.encryption_key"}},
		{"mongodb+srv", func(c *Config) { c.MongoDB.URI = "mongodb+srv://u:p@cluster.example.net"; c.Keys.EncryptionKey = key32 }, nil},
		{"mongodb without encryption key", func(c *Config) { c.MongoDB.URI = "mongodb://db" }, []string{"keys.encryption_key"}},
		{"database timeout zero", func(c *Config) { c.Database.Timeout = 0 }, []string{"database.timeout"}},
		{"database timeout near write timeout", func(c *Config) { c.Database.Timeout = c.HTTP.WriteTimeout / 2 }, []string{"database.timeout"}},
		{"database timeout a third of write timeout", func(c *Config) { c.Database.Timeout = c.HTTP.WriteTimeout / 3 }, nil},
		{"mongodb http", func(c *Config) { c.MongoDB.URI = "http://u:p@db"; c.Keys.EncryptionKey = key32 }, []string{"mongodb.uri"}},
		{"database with $", func(c *Config) { c.MongoDB.Database = "a$b" }, []string{"mongodb.database"}},
		{"database with space", func(c *Config) { c.MongoDB.Database = "a b" }, []string{"mongodb.database"}},
		{"database empty", func(c *Config) { c.MongoDB.Database = "" }, []string{"mongodb.database"}},
		{"synchronous full", func(c *Config) { c.SQLite.Synchronous = "full" }, nil},
		{"log debug text", func(c *Config) { c.Log = Log{Level: "debug", Format: "text"} }, nil},
		{"tls both", func(c *Config) { c.HTTP.TLS = TLS{CertFile: "c", KeyFile: "k"} }, nil},
		{"tls key only", func(c *Config) { c.HTTP.TLS = TLS{KeyFile: "k"} }, []string{"http.tls.cert_file"}},
		{"zero shutdown timeout", func(c *Config) { c.HTTP.ShutdownTimeout = 0 }, []string{"http.shutdown_timeout"}},
		{"trusted proxies", func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.1", "fd00::/8", "proxy"} }, []string{"http.trusted_proxies[2]"}},
		{"cors wildcard", func(c *Config) { c.HTTP.CORSOrigins = []string{"https://a.example:8443", "*"} }, []string{"http.cors_origins[1]"}},
		{"redirect https", client("https://app.example.com/cb?x=1"), nil},
		{"redirect loopback http", client("http://127.0.0.1:4000/cb", "http://[::1]/cb", "http://localhost:3000/cb"), nil},
		{"redirect private-use scheme", client("com.example.app:/oauth2redirect"), nil},
		{"redirect custom scheme without dot", client("myapp://cb"), []string{"clients[0].redirect_uris[0]"}},
		{"redirect javascript", client("javascript:alert(1)"), []string{"clients[0].redirect_uris[0]"}},
		{"redirect relative", client("/cb"), []string{"clients[0].redirect_uris[0]"}},
		{"redirect wildcard", client("https://*.example.com/cb"), []string{"clients[0].redirect_uris[0]"}},
		{"redirect empty fragment", client("https://app.example.com/cb#"), []string{"clients[0].redirect_uris[0]"}},
		{"redirect none", client(), []string{"clients[0].redirect_uris"}},
		{"redirect duplicate", client("https://a.example/cb", "https://a.example/cb"), []string{"clients[0].redirect_uris[1]"}},
		{"role names", func(c *Config) { c.Roles["billing.viewer"] = []string{"invoices:read", "Invoices:Write"} }, []string{"roles.billing.viewer[1]"}},
		{"empty role name", func(c *Config) { c.Roles[""] = nil }, []string{"roles"}},
		{"undefined default role", func(c *Config) { c.DefaultRoles = []string{"member", "nobody"} }, []string{"default_roles[1]"}},
		{"provider without credentials is fine", func(c *Config) { c.Providers.Google = &Provider{} }, nil},
		{"provider secret without id", func(c *Config) { c.Providers.GitHub = &Provider{ClientSecret: "s"} }, []string{"providers.github.client_id"}},
		{"provider secret from file counts", func(c *Config) { c.Providers.GitHub = &Provider{ClientID: "i", ClientSecretFile: "/s"} }, nil},
		{"github enterprise on loopback", func(c *Config) {
			c.Providers.GitHub = &Provider{BaseURL: "http://127.0.0.1:9999", APIURL: "http://127.0.0.1:9999/api/v3"}
		}, nil},
		{"github with issuer", func(c *Config) { c.Providers.GitHub = &Provider{Issuer: "https://x.example"} }, []string{"providers.github.issuer"}},
		{"google bad issuer", func(c *Config) { c.Providers.Google = &Provider{Issuer: "accounts.google.com"} }, []string{"providers.google.issuer"}},
		{"oidc ok", oidc(Provider{ID: "corp_1", Issuer: "https://sso.example.com/", ClientID: "i", ClientSecret: "s"}), nil},
		{"oidc loopback http", oidc(Provider{ID: "test", Issuer: "http://localhost:5556/dex"}), nil},
		{"oidc id too long", oidc(Provider{ID: strings.Repeat("a", 33), Issuer: "https://sso.example.com"}), []string{"providers.oidc[0].id"}},
		{"oidc id github", oidc(Provider{ID: "github", Issuer: "https://sso.example.com"}), []string{"providers.oidc[0].id"}},
		{"oidc hosted domains", oidc(Provider{ID: "x", Issuer: "https://sso.example.com", HostedDomains: []string{"a"}}), []string{"providers.oidc[0].hosted_domains"}},
		{"oidc bad scope", oidc(Provider{ID: "x", Issuer: "https://sso.example.com", Scopes: []string{"openid email"}}), []string{"providers.oidc[0].scopes[0]"}},
		{"max body zero", func(c *Config) { c.HTTP.MaxBodyBytes = 0 }, []string{"http.max_body_bytes"}},
		{"sweep zero", func(c *Config) { c.SweepInterval = 0 }, []string{"sweep_interval"}},
		{"data dir empty", func(c *Config) { c.DataDir = "" }, []string{"data_dir"}},
		{"data dir not needed with mongodb and key", func(c *Config) {
			c.DataDir, c.MongoDB.URI, c.Keys.EncryptionKey = "", "mongodb://db", key32
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(c)
			ps := c.Validate()
			if got := problemPaths(ps); !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("problem paths = %q, want %q\n%s", got, tc.want, formatProblems(ps))
			}
		})
	}
}

// TestSecretsNeverEchoed: neither Load errors nor Validate problems contain
// secret values.
func TestSecretsNeverEchoed(t *testing.T) {
	const (
		mongoPW = "Pa55w0rd-mongo-9f3"
		encKey  = "not-base64-but-very-secret-key-7c1"
		ghSec   = "gh-client-secret-41d"
	)
	secrets := []string{mongoPW, encKey, ghSec}
	check := func(t *testing.T, what, msg string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("%s %q contains a secret", what, msg)
			}
		}
	}

	t.Run("validate", func(t *testing.T) {
		c := Default()
		c.MongoDB.URI = "mysql://admin:" + mongoPW + "@db.example.com"
		c.Keys.EncryptionKey = encKey
		c.Providers.GitHub = &Provider{ClientSecret: ghSec, BaseURL: "ftp://x"}
		ps := c.Validate()
		if len(ps) != 4 {
			t.Errorf("got %d problems, want 4:\n%s", len(ps), formatProblems(ps))
		}
		for _, p := range ps {
			check(t, "problem", p.String())
		}
	})
	t.Run("load", func(t *testing.T) {
		loads := []map[string]string{
			{"MONGODB_URI": "mongodb://u:" + mongoPW + "@h", "MONGODB_URI_FILE": "/f"},
			{"UNILOGIN_KEY_ENCRYPTION_KEY": encKey, "UNILOGIN_KEY_ENCRYPTION_KEY_FILE": "/f"},
			{"UNILOGIN_GITHUB_CLIENT_SECRET": ghSec, "UNILOGIN_GITHUB_CLIENT_SECRET_FILE": "/f"},
		}
		for _, vars := range loads {
			_, err := Load("", env(vars), files(map[string]string{"/f": mongoPW}))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			check(t, "error", err.Error())
		}
	})
}

func TestPathFromEnv(t *testing.T) {
	tests := []struct {
		flag, env, want string
	}{
		{"", "", ""},
		{"", "/etc/unilogin.yaml", "/etc/unilogin.yaml"},
		{"flag.yaml", "", "flag.yaml"},
		{"flag.yaml", "/etc/unilogin.yaml", "flag.yaml"},
	}
	for _, tc := range tests {
		got := PathFromEnv(tc.flag, env(map[string]string{"UNILOGIN_CONFIG": tc.env}))
		if got != tc.want {
			t.Errorf("PathFromEnv(%q) with UNILOGIN_CONFIG=%q = %q, want %q", tc.flag, tc.env, got, tc.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	c := Default()
	c.Roles["support"] = []string{"users:read", "tickets:write"}
	c.Roles["auditor"] = []string{"users:read"}
	c.Clients = []Client{{ID: "a"}, {ID: "b", Secret: "s"}}

	perms := []struct {
		roles []string
		want  []string
	}{
		{nil, []string{}},
		{[]string{"member"}, []string{}},
		{[]string{"unknown"}, []string{}},
		{[]string{"support", "admin", "auditor", "ghost"}, []string{"tickets:write", "users:admin", "users:read"}},
	}
	for _, tc := range perms {
		if got := c.Permissions(tc.roles); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Permissions(%q) = %q, want %q", tc.roles, got, tc.want)
		}
	}
	// Permissions must not alias the configured slices.
	p := c.Permissions([]string{"admin"})
	p[0] = "changed"
	if c.Roles["admin"][0] != "users:admin" {
		t.Error("Permissions returned a slice aliasing Roles")
	}

	if cl, ok := c.Client("b"); !ok || cl.Secret != "s" {
		t.Errorf("Client(b) = %v, %v", cl, ok)
	}
	if _, ok := c.Client("z"); ok {
		t.Error("Client(z) found")
	}

	if got := c.CallbackURL("oidc-corp"); got != "http://localhost:8080/auth/oidc-corp/callback" {
		t.Errorf("CallbackURL = %q", got)
	}
	c.Issuer, c.Audience = "HTTPS://id.example.com", ""
	if !c.SecureCookies() || c.TokenAudience() != c.Issuer {
		t.Errorf("SecureCookies = %v, TokenAudience = %q", c.SecureCookies(), c.TokenAudience())
	}

	var nilProvider *Provider
	if nilProvider.Enabled() || (&Provider{ClientSecret: "s"}).Enabled() || !(&Provider{ClientID: "i"}).Enabled() {
		t.Error("Provider.Enabled")
	}

	k, err := Keys{EncryptionKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}.DecodeEncryptionKey()
	if err != nil || string(k) != "0123456789abcdef0123456789abcdef" {
		t.Errorf("DecodeEncryptionKey = %q, %v", k, err)
	}
	if k, err := (Keys{}).DecodeEncryptionKey(); k != nil || err != nil {
		t.Errorf("empty DecodeEncryptionKey = %q, %v", k, err)
	}

	if got := (Problem{Path: "clients[1].id", Message: "required"}).String(); got != "clients[1].id: required" {
		t.Errorf("Problem.String() = %q", got)
	}
}

// TestDocsCoverEveryKeyAndVariable keeps docs/configuration.md in step with
// the Config struct and the environment table.
func TestDocsCoverEveryKeyAndVariable(t *testing.T) {
	data, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	keys := map[string]bool{}
	yamlKeys(reflect.TypeFor[Config](), "", keys)
	for k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("docs/configuration.md does not document key `%s`", k)
		}
	}
	for _, e := range EnvVars() {
		if !strings.Contains(doc, "`"+e.Name+"`") {
			t.Errorf("docs/configuration.md does not document `%s`", e.Name)
		}
		if e.Secret && !strings.Contains(doc, "`"+e.FileName()+"`") {
			t.Errorf("docs/configuration.md does not document `%s`", e.FileName())
		}
	}
}

// yamlKeys collects the key paths of t: "http.tls.cert_file",
// "clients[].id", and "providers.*.client_id" for the fields every provider
// shares.
func yamlKeys(t reflect.Type, prefix string, out map[string]bool) {
	providerType := reflect.TypeFor[Provider]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		out[path] = true
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice {
			if ft = ft.Elem(); ft.Kind() != reflect.Struct {
				continue
			}
			path += "[]"
		}
		switch {
		case ft == providerType:
			yamlKeys(ft, "providers.*", out)
		case ft.Kind() == reflect.Struct:
			yamlKeys(ft, path, out)
		}
	}
}

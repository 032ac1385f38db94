package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// checkYAML runs Check on text as the file "unilogin.yaml".
func checkYAML(t *testing.T, text string, vars, extra map[string]string) []Problem {
	t.Helper()
	fsys := map[string]string{"unilogin.yaml": text}
	for k, v := range extra {
		fsys[k] = v
	}
	_, problems := Check("unilogin.yaml", env(vars), files(fsys))
	return problems
}

// problemAt returns the message of the problem at path, failing the test
// when there is none.
func problemAt(t *testing.T, ps []Problem, path string) string {
	t.Helper()
	for _, p := range ps {
		if p.Path == path {
			return p.Message
		}
	}
	t.Errorf("no problem at %s; got:\n%s", path, Problems(ps))
	return ""
}

func wantIn(t *testing.T, msg string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(msg, s) {
			t.Errorf("%q does not mention %q", msg, s)
		}
	}
}

// TestCheckReportsFileProblemsLikeValues: unknown keys (nested ones, and
// those inside a misspelt section), wrong types and bad values are all
// reported in one run, each by key path, with "did you mean" for near misses.
func TestCheckReportsFileProblemsLikeValues(t *testing.T) {
	const text = `htp:
  adress: ":1"
http:
  adress: ":8081"
  read_timeout: 30
tokens:
  access_ttl: 900
  code_ttl: 20m
providers:
  facebook: {client_id: x}
passwords: {bcrypt_cost: 3}
password_grant: {enabled: maybe}
clients:
  - id: web
    redirect_uris: https://app.example.com/cb
roles:
  member: profile:read
`
	ps := checkYAML(t, text, nil, nil)
	wantIn(t, problemAt(t, ps, "htp"), "line 1", `did you mean "http"?`)
	wantIn(t, problemAt(t, ps, "htp.adress"), "line 2", `did you mean "addr"?`)
	wantIn(t, problemAt(t, ps, "http.adress"), "line 4", `did you mean "addr"?`)
	wantIn(t, problemAt(t, ps, "http.read_timeout"), "line 5", `"30s"`, "bare number 30")
	wantIn(t, problemAt(t, ps, "tokens.access_ttl"), "line 7", `"900s"`)
	wantIn(t, problemAt(t, ps, "tokens.code_ttl"), "at most 10m0s") // a value, still checked
	wantIn(t, problemAt(t, ps, "providers.facebook"), "line 10", "providers.oidc")
	wantIn(t, problemAt(t, ps, "passwords.bcrypt_cost"), "from 4 to 31")
	wantIn(t, problemAt(t, ps, "password_grant.enabled"), "true or false", `"maybe"`)
	wantIn(t, problemAt(t, ps, "clients[0].redirect_uris"), "line 15", "must be a list")
	wantIn(t, problemAt(t, ps, "roles.member"), "must be a list")
	for _, p := range ps {
		for _, internal := range []string{"time.Duration", "config.", "!!int", "not found in type"} {
			if strings.Contains(p.String(), internal) {
				t.Errorf("%s: shows Go internals (%s)", p, internal)
			}
		}
	}
	// A key dropped for a type error is not reported a second time by
	// Validate (clients[0].redirect_uris would otherwise be "required").
	n := 0
	for _, p := range ps {
		if p.Path == "clients[0].redirect_uris" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("clients[0].redirect_uris reported %d times:\n%s", n, Problems(ps))
	}
}

func TestCheckYAMLShapes(t *testing.T) {
	tests := []struct {
		name, yaml, path string
		want             []string
	}{
		{"syntax error", "issuer: [\n", "unilogin.yaml", []string{"line"}},
		{"tab indentation", "http:\n\taddr: x\n", "unilogin.yaml", []string{"line 2"}},
		{"duplicate key", "issuer: https://a.example\nissuer: https://b.example\n", "issuer", []string{"line 2", "first at line 1"}},
		{"two documents", "issuer: https://a.example\n---\nissuer: b\n", "unilogin.yaml", []string{"more than one YAML document"}},
		{"far-off key lists the keys", "tokens:\n  zzz: 1\n", "tokens.zzz", []string{"line 2", `"access_ttl"`, `"code_ttl"`}},
		{"swapped letters", "tokens:\n  algortihm: ES256\n", "tokens.algortihm", []string{`did you mean "algorithm"?`}},
		{"mapping for a string", "issuer: {a: b}\n", "issuer", []string{"single value", "mapping"}},
		{"list for a section", "http: [a]\n", "http", []string{"mapping of keys", "list"}},
		{"word for a number", "passwords:\n  bcrypt_cost: twelve\n", "passwords.bcrypt_cost", []string{"whole number", `"twelve"`}},
		{"duration without unit as a string", "sweep_interval: '15'\n", "sweep_interval", []string{`"15" is not a duration`}},
		{"zero without unit", "keys:\n  rotation_period: 0\n", "keys.rotation_period", []string{`"0s"`}},
		{"bad list item keeps indexes", "http:\n  trusted_proxies: [10.0.0.1, [x], 10.0.0.0/33]\n", "http.trusted_proxies[1]", []string{"single value"}},
		{"unknown key in a list item", "clients:\n  - id: a\n    redirect_uri: [https://a.example/cb]\n", "clients[0].redirect_uri", []string{`did you mean "redirect_uris"?`}},
		{"unknown key in an oidc provider", "providers:\n  oidc:\n    - {id: corp, isuer: https://sso.example}\n", "providers.oidc[0].isuer", []string{`did you mean "issuer"?`}},
		{"top-level typo", "isuer: https://a.example\n", "isuer", []string{`did you mean "issuer"?`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := checkYAML(t, tc.yaml, nil, nil)
			wantIn(t, problemAt(t, ps, tc.path), tc.want...)
		})
	}
	// The item after a bad one keeps its index in Validate's report.
	ps := checkYAML(t, "http:\n  trusted_proxies: [10.0.0.1, [x], 10.0.0.0/33]\n", nil, nil)
	problemAt(t, ps, "http.trusted_proxies[2]")
}

// TestCheckNamesTheEnvironmentVariable: a value from the environment is
// reported by the variable that set it, one from a _FILE variable by that
// variable and the file's path; secrets are never echoed.
func TestCheckNamesTheEnvironmentVariable(t *testing.T) {
	const shortKey = "c2VjcmV0LWtleS10b28tc2hvcnQ=" // 20 bytes
	ps := checkYAML(t, "", map[string]string{
		"UNILOGIN_KEY_ENCRYPTION_KEY": shortKey,
		"UNILOGIN_ACCESS_TTL":         "48h",
		"UNILOGIN_BCRYPT_COST":        "twelve",
	}, nil)
	wantIn(t, problemAt(t, ps, "UNILOGIN_KEY_ENCRYPTION_KEY"), "keys.encryption_key", "32 bytes")
	wantIn(t, problemAt(t, ps, "UNILOGIN_ACCESS_TTL"), "tokens.access_ttl", "at most")
	wantIn(t, problemAt(t, ps, "UNILOGIN_BCRYPT_COST"), `"twelve"`)
	for _, p := range ps {
		if strings.HasPrefix(p.Path, "keys.") || strings.HasPrefix(p.Path, "tokens.") {
			t.Errorf("reported by key path, not by variable: %s", p)
		}
		if strings.Contains(p.String(), shortKey) {
			t.Errorf("echoes the key: %s", p)
		}
	}

	ps = checkYAML(t, "", map[string]string{"UNILOGIN_KEY_ENCRYPTION_KEY_FILE": "/run/secrets/kek"},
		map[string]string{"/run/secrets/kek": shortKey + "\n"})
	wantIn(t, problemAt(t, ps, "UNILOGIN_KEY_ENCRYPTION_KEY_FILE (/run/secrets/kek)"), "keys.encryption_key")

	ps = checkYAML(t, "", map[string]string{"UNILOGIN_KEY_ENCRYPTION_KEY_FILE": "/run/secrets/none"}, nil)
	wantIn(t, problemAt(t, ps, "UNILOGIN_KEY_ENCRYPTION_KEY_FILE"), "/run/secrets/none", "does not exist")
}

// TestCheckNamesTheSecretFile: secret-file problems are reported by the key
// naming the file, with its path.
func TestCheckNamesTheSecretFile(t *testing.T) {
	const text = `clients:
  - {id: a, redirect_uris: ['https://a.example/cb'], secret_file: gone.txt}
  - {id: b, redirect_uris: ['https://b.example/cb'], secret_file: empty.txt}
providers:
  github: {client_id: x, client_secret_file: /run/secrets/gh}
`
	ps := checkYAML(t, text, nil, map[string]string{"empty.txt": " \n"})
	wantIn(t, problemAt(t, ps, "clients[0].secret_file"), "gone.txt", "does not exist")
	wantIn(t, problemAt(t, ps, "clients[1].secret_file"), "empty.txt", "is empty")
	wantIn(t, problemAt(t, ps, "providers.github.client_secret_file"), "/run/secrets/gh", "does not exist")
	if slices.ContainsFunc(ps, func(p Problem) bool { return p.Path == "providers.github.client_secret" }) {
		t.Errorf("the missing secret is reported again as client_secret:\n%s", Problems(ps))
	}

	_, ps = Check("nope.yaml", env(nil), files(nil))
	wantIn(t, problemAt(t, ps, "nope.yaml"), "cannot read", "nope.yaml")
}

func TestCheckCleanFileHasNoProblems(t *testing.T) {
	c, ps := Check("testdata/full.yaml", env(nil), os.ReadFile)
	if len(ps) != 0 || c == nil {
		t.Fatalf("problems in full.yaml:\n%s", Problems(ps))
	}
}

func TestNearest(t *testing.T) {
	names := []string{"addr", "trusted_proxies", "tls", "read_timeout", "write_timeout"}
	for key, want := range map[string][]string{
		"adress":          {"addr"},
		"address":         {"addr"},
		"tsl":             {"tls"},
		"trusted_proxy":   {"trusted_proxies"},
		"Read_Timeout":    {"read_timeout"},
		"timeout":         nil,
		"frobnicate":      nil,
		"wirte_timeout":   {"write_timeout"},
		"trusted_proxiez": {"trusted_proxies"},
	} {
		if got := nearest(key, names); !slices.Equal(got, want) {
			t.Errorf("nearest(%q) = %v, want %v", key, got, want)
		}
	}
	if got := fmt.Sprint(editDistance("kitten", "sitting")); got != "3" {
		t.Errorf("editDistance = %s", got)
	}
}

func TestCheckMetrics(t *testing.T) {
	ps := checkYAML(t, "http: {addr: ':8080'}\nmetrics: {addr: ':8080', token: short, pprof: true}\n", nil, nil)
	wantIn(t, problemAt(t, ps, "metrics.addr"), "differ from http.addr")
	wantIn(t, problemAt(t, ps, "metrics.token"), "at least 16")
	for _, p := range ps {
		if strings.Contains(p.String(), "short") {
			t.Errorf("echoes the token: %s", p)
		}
	}
	ps = checkYAML(t, "metrics: {pprof: true, token_file: tok}\n", nil, map[string]string{"tok": "a-long-enough-metrics-token\n"})
	wantIn(t, problemAt(t, ps, "metrics.pprof"), "needs metrics.addr")
	ps = checkYAML(t, "metrics: {addr: '127.0.0.1:9100', token_file: gone}\n", nil, nil)
	wantIn(t, problemAt(t, ps, "metrics.token_file"), "gone", "does not exist")

	c, ps := Check("unilogin.yaml", env(map[string]string{"UNILOGIN_METRICS_TOKEN_FILE": "/run/secrets/m"}),
		files(map[string]string{"unilogin.yaml": "metrics: {addr: '127.0.0.1:9100', token_file: ignored}\n", "/run/secrets/m": "a-long-enough-metrics-token\n"}))
	if len(ps) != 0 || c.Metrics.Token != "a-long-enough-metrics-token" || c.Metrics.Addr != "127.0.0.1:9100" {
		t.Errorf("metrics from env file: %+v %v", c.Metrics, ps)
	}
}

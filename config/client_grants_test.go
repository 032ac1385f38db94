package config

import (
	"slices"
	"strings"
	"testing"
)

func TestClientAllowedGrants(t *testing.T) {
	first := Client{ID: "a"}
	third := Client{ID: "b", Consent: true}
	listed := Client{ID: "c", GrantTypes: []string{"authorization_code", "password"}}
	thirdListed := Client{ID: "d", Consent: true, GrantTypes: []string{"authorization_code", "password"}}
	for _, tc := range []struct {
		cl    Client
		grant string
		want  bool
	}{
		{first, "authorization_code", true}, {first, "refresh_token", true}, {first, "password", true}, {first, "client_credentials", false},
		{third, "authorization_code", true}, {third, "refresh_token", true}, {third, "password", false},
		{listed, "password", true}, {listed, "refresh_token", false}, {listed, "client_credentials", false},
		{thirdListed, "password", false}, {thirdListed, "authorization_code", true},
	} {
		if got := slices.Contains(tc.cl.AllowedGrants(), tc.grant); got != tc.want {
			t.Errorf("%s allows %s = %v, want %v", tc.cl.ID, tc.grant, got, tc.want)
		}
	}
}

func TestValidateClientGrants(t *testing.T) {
	const cb = "https://app.example.com/cb"
	with := func(cl Client) func(*Config) { return func(c *Config) { c.Clients = []Client{cl} } }
	tests := []struct {
		name string
		cl   Client
		want []string // problem paths; nil: valid
	}{
		{"defaults", Client{ID: "a", RedirectURIs: []string{cb}}, nil},
		{"named third-party app", Client{ID: "a", Name: "Docs — Viewer", RedirectURIs: []string{cb}, Consent: true,
			PostLogoutRedirectURIs: []string{"https://app.example.com/bye"}}, nil},
		{"service only", Client{ID: "svc", Secret: "s", GrantTypes: []string{"client_credentials"}, Scopes: []string{"docs:read"}}, nil},
		{"service from secret_file", Client{ID: "svc", SecretFile: "/s", GrantTypes: []string{"client_credentials"}}, nil},
		{"all grants", Client{ID: "a", Secret: "s", RedirectURIs: []string{cb},
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials", "password"}, Scopes: []string{"x"}}, nil},
		{"password only", Client{ID: "a", GrantTypes: []string{"password", "refresh_token"}}, nil},
		{"client_credentials public", Client{ID: "a", GrantTypes: []string{"client_credentials"}}, []string{"clients[0].grant_types[0]"}},
		{"unknown grant", Client{ID: "a", RedirectURIs: []string{cb}, GrantTypes: []string{"authorization_code", "implicit"}}, []string{"clients[0].grant_types[1]"}},
		{"duplicate grant", Client{ID: "a", RedirectURIs: []string{cb}, GrantTypes: []string{"authorization_code", "authorization_code"}}, []string{"clients[0].grant_types[1]"}},
		{"refresh alone", Client{ID: "a", GrantTypes: []string{"refresh_token"}}, []string{"clients[0].grant_types"}},
		{"redirect_uris without code", Client{ID: "a", Secret: "s", RedirectURIs: []string{cb}, GrantTypes: []string{"client_credentials"}}, []string{"clients[0].redirect_uris"}},
		{"code without redirect_uris", Client{ID: "a", GrantTypes: []string{"authorization_code"}}, []string{"clients[0].redirect_uris"}},
		{"scopes without client_credentials", Client{ID: "a", RedirectURIs: []string{cb}, Scopes: []string{"x"}}, []string{"clients[0].scopes"}},
		{"bad scopes", Client{ID: "a", Secret: "s", GrantTypes: []string{"client_credentials"}, Scopes: []string{"Docs Read", "openid", "x", "x"}},
			[]string{"clients[0].scopes[0]", "clients[0].scopes[1]", "clients[0].scopes[3]"}},
		{"post-logout URIs", Client{ID: "a", RedirectURIs: []string{cb}, PostLogoutRedirectURIs: []string{"http://example.com/bye", cb, cb, "https://*.example.com/"}},
			[]string{"clients[0].post_logout_redirect_uris[0]", "clients[0].post_logout_redirect_uris[2]", "clients[0].post_logout_redirect_uris[3]"}},
		{"name too long", Client{ID: "a", RedirectURIs: []string{cb}, Name: strings.Repeat("n", MaxClientNameLen+1)}, []string{"clients[0].name"}},
		{"name with newline", Client{ID: "a", RedirectURIs: []string{cb}, Name: "a\nb"}, []string{"clients[0].name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			with(tc.cl)(c)
			ps := c.Validate()
			if got := problemPaths(ps); !slices.Equal(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("problem paths = %q, want %q\n%s", got, tc.want, formatProblems(ps))
			}
		})
	}
}

func TestClientGrantsDefault(t *testing.T) {
	cl := Client{ID: "a"}
	if g := cl.Grants(); !slices.Equal(g, []string{"authorization_code", "refresh_token"}) {
		t.Fatalf("default grants %q", g)
	}
	g := cl.Grants()
	g[0] = "x"
	if DefaultGrantTypes[0] != GrantAuthorizationCode {
		t.Fatal("Grants returned the shared default")
	}
	cl.GrantTypes = []string{"client_credentials"}
	if g := cl.Grants(); !slices.Equal(g, []string{"client_credentials"}) {
		t.Fatalf("grants %q", g)
	}
}

// The new keys load from YAML, and a misspelt one is reported.
func TestClientKeysFromYAML(t *testing.T) {
	c, err := loadYAML(t, `clients:
  - id: svc
    name: Reporting
    secret: s
    grant_types: [client_credentials]
    scopes: [docs:read]
  - id: app
    redirect_uris: [https://app.example.com/cb]
    post_logout_redirect_uris: [https://app.example.com/bye]
    consent: true
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, app := c.Clients[0], c.Clients[1]
	if svc.Name != "Reporting" || !slices.Equal(svc.GrantTypes, []string{"client_credentials"}) || !slices.Equal(svc.Scopes, []string{"docs:read"}) ||
		!app.Consent || !slices.Equal(app.PostLogoutRedirectURIs, []string{"https://app.example.com/bye"}) {
		t.Fatalf("clients %+v", c.Clients)
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("problems: %s", formatProblems(ps))
	}
}

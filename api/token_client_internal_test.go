package api

import (
	"testing"

	"github.com/unilogin/unilogin/session"
)

func TestWithholdRefresh(t *testing.T) {
	// GrantTypes as the assembly derives them (config.Client.AllowedGrants).
	first := &Client{ID: "a", GrantTypes: []string{"authorization_code", "refresh_token", "password"}}
	third := &Client{ID: "b", Consent: true, GrantTypes: []string{"authorization_code", "refresh_token"}}
	noRefresh := &Client{ID: "c", GrantTypes: []string{"authorization_code"}}
	for _, tc := range []struct {
		name  string
		cl    *Client
		grant string
		scope string
		keep  bool
	}{
		{"first-party", first, "authorization_code", "openid", true},
		{"no client", nil, "password", "", true},
		{"third-party without offline_access", third, "authorization_code", "openid email", false},
		{"third-party with offline_access", third, "authorization_code", "openid offline_access", true},
		{"third-party refresh keeps its chain", third, "refresh_token", "openid", true},
		{"client without the refresh grant", noRefresh, "authorization_code", "openid offline_access", false},
	} {
		p := &session.Pair{AccessToken: "at", RefreshToken: "rt", Scope: tc.scope}
		withholdRefresh(tc.cl, tc.grant, p)
		if (p.RefreshToken != "") != tc.keep {
			t.Errorf("%s: refresh token kept = %v, want %v", tc.name, p.RefreshToken != "", tc.keep)
		}
	}
	withholdRefresh(third, "authorization_code", nil) // no pair: nothing to do
}

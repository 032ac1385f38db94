package api

import (
	"testing"

	"github.com/unilogin/unilogin/session"
)

func TestClientAllows(t *testing.T) {
	first := &Client{ID: "a"}
	third := &Client{ID: "b", Consent: true}
	listed := &Client{ID: "c", GrantTypes: []string{"authorization_code", "password"}}
	thirdListed := &Client{ID: "d", Consent: true, GrantTypes: []string{"authorization_code", "password"}}
	for _, tc := range []struct {
		cl    *Client
		grant string
		want  bool
	}{
		{first, "authorization_code", true}, {first, "refresh_token", true}, {first, "password", true}, {first, "client_credentials", false},
		{third, "authorization_code", true}, {third, "refresh_token", true}, {third, "password", false},
		{listed, "password", true}, {listed, "refresh_token", false}, {listed, "client_credentials", false},
		{thirdListed, "password", false}, {thirdListed, "authorization_code", true},
	} {
		if got := tc.cl.allows(tc.grant); got != tc.want {
			t.Errorf("%s allows %s = %v, want %v", tc.cl.ID, tc.grant, got, tc.want)
		}
	}
}

func TestWithholdRefresh(t *testing.T) {
	first := &Client{ID: "a"}
	third := &Client{ID: "b", Consent: true}
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

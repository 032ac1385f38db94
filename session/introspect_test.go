package session_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

// TestClientCredentials: the token's sub is the client, its scope the
// client's configured permissions narrowed by the request, anything
// outside them invalid_scope; no refresh token, no ID token, and it is no
// user's token.
func TestClientCredentials(t *testing.T) {
	f := newFixture(t, session.ES256)
	allowed := []string{"reports:read", "reports:write"}
	for _, tc := range []struct {
		requested, want string
		bad             bool
	}{
		{requested: "", want: "reports:read reports:write"},
		{requested: "reports:write", want: "reports:write"},
		{requested: "reports:read reports:read", want: "reports:read"},
		{requested: "reports:read users:admin", bad: true},
		{requested: "openid", bad: true},
	} {
		p, err := f.m.ClientCredentials(t.Context(), "svc", allowed, tc.requested)
		if tc.bad {
			if !errors.Is(err, session.ErrInvalidScope) {
				t.Errorf("scope %q: err = %v, want ErrInvalidScope", tc.requested, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Scope != tc.want || p.RefreshToken != "" || p.IDToken != "" || p.ExpiresIn != int64(f.m.AccessTTL()/time.Second) {
			t.Errorf("scope %q: pair %+v", tc.requested, p)
		}
		c, err := f.m.ParseAccess(t.Context(), p.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "svc" || c.ClientID != "svc" || c.Scope != tc.want || !c.IsClientToken() || c.SessionID != "" {
			t.Errorf("claims %+v", c)
		}
		if _, _, err := f.m.Authenticate(t.Context(), p.AccessToken); !errors.Is(err, session.ErrInvalidToken) {
			t.Errorf("Authenticate(client token) = %v, want ErrInvalidToken", err)
		}
	}
	// A user's access token is never taken for a client's.
	up, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.m.ParseAccess(t.Context(), up.AccessToken); err != nil || c.IsClientToken() {
		t.Errorf("user token: IsClientToken %v, err %v", c != nil && c.IsClientToken(), err)
	}
}

func introspect(t *testing.T, f *fixture, token, client string, load session.SubjectLoader) *session.Introspection {
	t.Helper()
	in, err := f.m.Introspect(t.Context(), token, client, load)
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if !in.Active && !reflect.DeepEqual(*in, session.Introspection{}) {
		t.Errorf("inactive answer carries data: %+v", in)
	}
	return in
}

// TestIntrospectAccessToken: active with the token's fields while its
// session lives and its user passes the check; inactive after logout,
// for a disabled user, after expiry, and for anything not ours.
func TestIntrospectAccessToken(t *testing.T) {
	f := newFixture(t, session.ES256)
	p, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app", Scope: "openid docs:read", AMR: []string{"pwd"}})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clk.Now()
	in := introspect(t, f, p.AccessToken, "resource-server", loadAlice)
	want := session.Introspection{
		Active: true, TokenType: session.TokenTypeAccess, Scope: "openid docs:read", ClientID: "app", Subject: alice.UserID,
		Issuer: testIssuer, SessionID: p.SessionID, ExpiresAt: now.Add(f.m.AccessTTL()), IssuedAt: now,
	}
	if len(in.Audience) != 1 || in.Audience[0] != testIssuer {
		t.Errorf("aud = %q", in.Audience)
	}
	in.Audience = nil
	if !reflect.DeepEqual(*in, want) {
		t.Errorf("introspection = %+v\nwant %+v", in, want)
	}

	disabled := func(context.Context, string) (session.Subject, error) {
		return session.Subject{}, session.ErrInvalidToken
	}
	if introspect(t, f, p.AccessToken, "app", disabled).Active {
		t.Error("active for a disabled user")
	}
	outage := errors.New("database down")
	if _, err := f.m.Introspect(t.Context(), p.AccessToken, "app", func(context.Context, string) (session.Subject, error) {
		return session.Subject{}, outage
	}); !errors.Is(err, outage) {
		t.Errorf("load failure: err = %v, want it returned", err)
	}
	for name, tok := range map[string]string{"empty": "", "garbage": "x.y.z", "tampered": p.AccessToken + "A", "ID token": p.IDToken} {
		if introspect(t, f, tok, "app", loadAlice).Active {
			t.Errorf("%s: active", name)
		}
	}
	if err := f.m.End(t.Context(), alice.UserID, p.SessionID); err != nil {
		t.Fatal(err)
	}
	if introspect(t, f, p.AccessToken, "app", loadAlice).Active {
		t.Error("active after the session ended")
	}

	q, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app"})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(f.m.AccessTTL() + time.Minute)
	if introspect(t, f, q.AccessToken, "app", loadAlice).Active {
		t.Error("active after expiry")
	}
}

// TestIntrospectRefreshToken: the current refresh token is active to its
// own client only; spent, revoked and idle-expired tokens are inactive,
// and introspecting a spent one revokes nothing.
func TestIntrospectRefreshToken(t *testing.T) {
	f := newFixture(t, session.ES256)
	p, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app", Scope: "openid", AMR: []string{"pwd"}})
	if err != nil {
		t.Fatal(err)
	}
	in := introspect(t, f, p.RefreshToken, "app", loadAlice)
	if !in.Active || in.TokenType != session.TokenTypeRefresh || in.Scope != "openid docs:read docs:write" ||
		in.ClientID != "app" || in.Subject != alice.UserID || in.SessionID != p.SessionID || in.Issuer != testIssuer ||
		in.ExpiresAt.IsZero() || in.IssuedAt.IsZero() || !in.ExpiresAt.After(in.IssuedAt) {
		t.Errorf("introspection = %+v", in)
	}
	if introspect(t, f, p.RefreshToken, "other-app", loadAlice).Active {
		t.Error("another client's refresh token is active to the caller")
	}
	if introspect(t, f, p.RefreshToken, "", loadAlice).Active {
		t.Error("a client's refresh token is active to no client")
	}
	if in := introspect(t, f, p.RefreshToken, "app", nil); !in.Active || in.Scope != "openid" {
		t.Errorf("without load: %+v, want active with the stored scope", in)
	}

	q, err := f.m.Refresh(t.Context(), p.RefreshToken, "app", "", loadAlice)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute) // past the reuse grace
	if introspect(t, f, p.RefreshToken, "app", loadAlice).Active {
		t.Error("spent refresh token active")
	}
	if !introspect(t, f, q.RefreshToken, "app", loadAlice).Active {
		t.Error("introspecting the spent token ended the session")
	}
	if !introspect(t, f, q.AccessToken, "app", loadAlice).Active {
		t.Error("access token of the live session inactive")
	}
	if _, err := f.m.Revoke(t.Context(), q.RefreshToken, "app", nil); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"revoked refresh": q.RefreshToken, "its access token": q.AccessToken} {
		if introspect(t, f, tok, "app", loadAlice).Active {
			t.Errorf("%s: active after /revoke", name)
		}
	}

	r, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app"})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(31 * 24 * time.Hour) // beyond the idle lifetime
	if introspect(t, f, r.RefreshToken, "app", loadAlice).Active {
		t.Error("idle-expired refresh token active")
	}
}

// TestIntrospectClientToken: a client-credentials token is active, to any
// authenticated caller, until it expires.
func TestIntrospectClientToken(t *testing.T) {
	f := newFixture(t, session.ES256)
	p, err := f.m.ClientCredentials(t.Context(), "svc", []string{"reports:read"}, "")
	if err != nil {
		t.Fatal(err)
	}
	in := introspect(t, f, p.AccessToken, "resource-server", loadAlice)
	if !in.Active || in.TokenType != session.TokenTypeAccess || in.Subject != "svc" || in.ClientID != "svc" ||
		in.Scope != "reports:read" || in.SessionID != "" {
		t.Errorf("introspection = %+v", in)
	}
	f.clk.Advance(f.m.AccessTTL() - time.Second)
	if !introspect(t, f, p.AccessToken, "svc", loadAlice).Active {
		t.Error("inactive before expiry")
	}
	f.clk.Advance(time.Minute)
	if introspect(t, f, p.AccessToken, "svc", loadAlice).Active {
		t.Error("active after expiry")
	}
}

package session_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
	"github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

const testIssuer = "https://login.test"

type fixture struct {
	m   *session.Manager
	kr  *session.Keyring
	clk *testkit.Clock
}

// newFixture returns a Manager over a fresh SQLite store signing with alg.
func newFixture(t *testing.T, alg string) *fixture {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "s.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); db.Close() })
	sealer, err := session.NewSealer([]byte("oidc-test-key-encryption-key!!!!"))
	if err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Now().UTC().Truncate(time.Second))
	kr, err := session.NewKeyring(t.Context(), st, sealer, session.KeyringOptions{Algorithm: alg, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.NewManager(t.Context(), st, kr, sealer, session.Options{Issuer: testIssuer, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{m: m, kr: kr, clk: clk}
}

// verifier is go-oidc's ID token verifier for clientID over the keyring's
// published JWKS: an independent check of what a stock relying party sees.
func (f *fixture) verifier(t *testing.T, clientID string) *oidc.IDTokenVerifier {
	t.Helper()
	raw, err := f.kr.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	var keys []crypto.PublicKey
	for _, k := range set.Keys {
		keys = append(keys, k.Key)
	}
	return oidc.NewVerifier(testIssuer, &oidc.StaticKeySet{PublicKeys: keys}, &oidc.Config{
		ClientID: clientID, SupportedSigningAlgs: []string{f.kr.Algorithm()}, Now: f.clk.Now,
	})
}

var alice = session.Subject{
	UserID: "u-alice", Name: "Alice Liddell", Email: "alice@example.com", EmailVerified: true,
	Roles: []string{"member"}, Permissions: []string{"docs:read", "docs:write"},
}

func loadAlice(ctx context.Context, userID string) (session.Subject, error) {
	if userID != alice.UserID {
		return session.Subject{}, session.ErrInvalidToken
	}
	return alice, nil
}

// header decodes the JOSE header of a compact JWS.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

type idClaims struct {
	AuthTime      int64    `json:"auth_time"`
	SID           string   `json:"sid"`
	AMR           []string `json:"amr"`
	Email         *string  `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	Name          *string  `json:"name"`
	Nonce         *string  `json:"nonce"`
	AtHash        string   `json:"at_hash"`
}

// TestIDTokenStockVerifier: with every signing algorithm, the ID token of
// a code-flow sign-in verifies with go-oidc from the JWKS alone, with the
// nonce and at_hash checks a relying party makes, and carries the claims
// of OIDC Core §2 and those of the granted scopes.
func TestIDTokenStockVerifier(t *testing.T) {
	for _, alg := range []string{session.ES256, session.RS256, session.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			authTime := f.clk.Now().Add(-time.Minute)
			p, err := f.m.Start(t.Context(), session.Grant{
				Subject: alice, ClientID: "app", AMR: []string{"pwd", "otp", "mfa"},
				Scope: "openid email profile docs:read", Nonce: "n-0S6_WzA2Mj", AuthTime: authTime,
			})
			if err != nil {
				t.Fatal(err)
			}
			if p.Scope != "openid email profile docs:read" {
				t.Errorf("scope = %q", p.Scope)
			}
			if p.IDToken == "" {
				t.Fatal("no ID token with openid granted")
			}
			idt, err := f.verifier(t, "app").Verify(t.Context(), p.IDToken)
			if err != nil {
				t.Fatalf("go-oidc Verify: %v", err)
			}
			if idt.Nonce != "n-0S6_WzA2Mj" {
				t.Errorf("nonce = %q", idt.Nonce)
			}
			if err := idt.VerifyAccessToken(p.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			if idt.Subject != alice.UserID || idt.Issuer != testIssuer || len(idt.Audience) != 1 || idt.Audience[0] != "app" {
				t.Errorf("sub/iss/aud = %q %q %q", idt.Subject, idt.Issuer, idt.Audience)
			}
			if got := idt.Expiry.Sub(idt.IssuedAt); got != f.m.AccessTTL() {
				t.Errorf("lifetime = %v, want the access TTL %v", got, f.m.AccessTTL())
			}
			var c idClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.AuthTime != authTime.Unix() || c.SID != p.SessionID || strings.Join(c.AMR, " ") != "pwd otp mfa" {
				t.Errorf("auth_time/sid/amr = %d %q %q", c.AuthTime, c.SID, c.AMR)
			}
			if c.Email == nil || *c.Email != alice.Email || c.EmailVerified == nil || !*c.EmailVerified || c.Name == nil || *c.Name != alice.Name {
				t.Errorf("email/email_verified/name = %v %v %v", c.Email, c.EmailVerified, c.Name)
			}
			ih, ah := header(t, p.IDToken), header(t, p.AccessToken)
			if ih["typ"] != "JWT" || ih["alg"] != alg || ih["kid"] != ah["kid"] || ah["alg"] != alg {
				t.Errorf("ID token header %v, access token header %v", ih, ah)
			}

			// A relying party's checks that must fail.
			if _, err := f.verifier(t, "other-app").Verify(t.Context(), p.IDToken); err == nil {
				t.Error("another client accepted the ID token")
			}
			other, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app", Scope: "openid"})
			if err != nil {
				t.Fatal(err)
			}
			if err := idt.VerifyAccessToken(other.AccessToken); err == nil {
				t.Error("at_hash matched another access token")
			}
			f.clk.Advance(f.m.AccessTTL() + time.Minute)
			if _, err := f.verifier(t, "app").Verify(t.Context(), p.IDToken); err == nil {
				t.Error("expired ID token accepted")
			}
		})
	}
}

// TestIDTokenScopes: email and name only with their scopes, no nonce when
// none was sent, and no ID token without openid or without a client.
func TestIDTokenScopes(t *testing.T) {
	f := newFixture(t, session.ES256)
	v := f.verifier(t, "app")
	for _, tc := range []struct {
		scope             string
		client            string
		idToken, email, n bool
	}{
		{scope: "openid", client: "app", idToken: true},
		{scope: "openid email", client: "app", idToken: true, email: true},
		{scope: "openid profile", client: "app", idToken: true, n: true},
		{scope: "email profile", client: "app"},
		{scope: "", client: "app"},
		{scope: "openid email", client: ""},
	} {
		p, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: tc.client, Scope: tc.scope, AMR: []string{"pwd"}})
		if err != nil {
			t.Fatal(err)
		}
		if (p.IDToken != "") != tc.idToken {
			t.Errorf("scope %q client %q: ID token present = %v", tc.scope, tc.client, p.IDToken != "")
		}
		if p.IDToken == "" {
			continue
		}
		idt, err := v.Verify(t.Context(), p.IDToken)
		if err != nil {
			t.Fatal(err)
		}
		var c idClaims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if (c.Email != nil) != tc.email || (c.EmailVerified != nil) != tc.email || (c.Name != nil) != tc.n || c.Nonce != nil {
			t.Errorf("scope %q: email %v email_verified %v name %v nonce %v", tc.scope, c.Email, c.EmailVerified, c.Name, c.Nonce)
		}
	}
}

// TestRefreshIDToken: a refresh of an openid session returns a fresh ID
// token (OIDC Core §12.2) with the original auth_time and sid, no nonce,
// and the at_hash of the new access token; narrowing away openid drops it.
func TestRefreshIDToken(t *testing.T) {
	f := newFixture(t, session.ES256)
	p, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app", Scope: "openid email", Nonce: "abc", AMR: []string{"pwd"}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.verifier(t, "app").Verify(t.Context(), p.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(10 * time.Minute)
	q, err := f.m.Refresh(t.Context(), p.RefreshToken, "app", "", loadAlice)
	if err != nil {
		t.Fatal(err)
	}
	if q.Scope != "openid email docs:read docs:write" {
		t.Errorf("refreshed scope = %q", q.Scope)
	}
	idt, err := f.verifier(t, "app").Verify(t.Context(), q.IDToken)
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if err := idt.VerifyAccessToken(q.AccessToken); err != nil {
		t.Errorf("at_hash of the refreshed token: %v", err)
	}
	var c, c0 idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if err := first.Claims(&c0); err != nil {
		t.Fatal(err)
	}
	if c.Nonce != nil || c.AuthTime != c0.AuthTime || c.SID != c0.SID || !idt.IssuedAt.After(first.IssuedAt) {
		t.Errorf("refreshed claims %+v, first %+v", c, c0)
	}
	r, err := f.m.Refresh(t.Context(), q.RefreshToken, "app", "docs:read", loadAlice)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scope != "docs:read" || r.IDToken != "" {
		t.Errorf("narrowed to docs:read: scope %q, ID token present %v", r.Scope, r.IDToken != "")
	}
}

// TestParseIDTokenHint: our ID token is accepted as a hint even after it
// expired; an access token, another issuer's or a tampered token is not.
func TestParseIDTokenHint(t *testing.T) {
	f := newFixture(t, session.ES256)
	p, err := f.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app", Scope: "openid", AMR: []string{"pwd"}})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(24 * time.Hour)
	c, err := f.m.ParseIDTokenHint(t.Context(), p.IDToken)
	if err != nil {
		t.Fatalf("expired hint: %v", err)
	}
	if c.Subject != alice.UserID || c.SessionID != p.SessionID || len(c.Audience) != 1 || c.Audience[0] != "app" {
		t.Errorf("hint claims = %+v", c)
	}
	parts := strings.Split(p.IDToken, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","sub":"u-mallory","aud":"app","sid":"x"}`)) + "." + parts[2]
	foreign := newFixture(t, session.ES256)
	fp, err := foreign.m.Start(t.Context(), session.Grant{Subject: alice, ClientID: "app", Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"access token": p.AccessToken, "forged payload": forged, "other keys": fp.IDToken, "empty": "", "garbage": "a.b.c",
	} {
		if _, err := f.m.ParseIDTokenHint(t.Context(), tok); !errors.Is(err, session.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}

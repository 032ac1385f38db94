package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/unilogin/unilogin/accounts"
)

const pw = "correct horse battery staple"

func TestPasswordSignInRefreshAndMe(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			id := e.signup("Alice@Example.com", pw)

			tk := e.login("alice@example.COM", pw) // emails compare case-insensitively
			me := e.get("/users/me", bearer(tk.AccessToken)...)
			if me.status != http.StatusOK {
				t.Fatalf("/users/me: %d %s", me.status, me.body)
			}
			m := me.json(t)
			if m["id"] != id || m["email"] != "Alice@Example.com" || m["email_verified"] != false || m["has_password"] != true {
				t.Fatalf("/users/me = %s", me.body)
			}
			if fmt.Sprint(m["roles"]) != "[member]" || fmt.Sprint(m["permissions"]) != "[profile:read]" {
				t.Fatalf("roles/permissions = %v %v", m["roles"], m["permissions"])
			}
			for _, k := range []string{"name", "identities", "created_at"} {
				if _, ok := m[k]; !ok {
					t.Errorf("/users/me lacks %q", k)
				}
			}
			if tk.Scope != "profile:read" {
				t.Errorf("scope = %q", tk.Scope)
			}

			next := e.mustTokens(e.refresh(tk.RefreshToken))
			if next.RefreshToken == tk.RefreshToken {
				t.Fatal("refresh token was not rotated")
			}
			if r := e.get("/users/me", bearer(next.AccessToken)...); r.status != http.StatusOK {
				t.Fatalf("/users/me with the refreshed token: %d", r.status)
			}
			r := e.refresh(tk.RefreshToken)
			// Within the grace window the spent token yields the same successor.
			if again := e.mustTokens(r); again.RefreshToken != next.RefreshToken {
				t.Fatal("grace-window retry returned another successor")
			}
			for _, h := range []string{"Cache-Control", "Pragma"} {
				if r.header.Get(h) == "" {
					t.Errorf("token response lacks %s", h)
				}
			}
		})
	}
}

func TestRefreshReuseAfterGraceRevokesTheSession(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			e.signup("bob@example.com", pw)
			t0 := e.login("bob@example.com", pw)
			t1 := e.mustTokens(e.refresh(t0.RefreshToken))

			e.clock.Advance(11 * time.Second) // past the 10 s grace window
			r := e.refresh(t0.RefreshToken)
			if r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
				t.Fatalf("reuse after grace: %d %s", r.status, r.body)
			}
			// The whole family is gone: the legitimate successor too.
			if r := e.refresh(t1.RefreshToken); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
				t.Fatalf("successor after reuse: %d %s", r.status, r.body)
			}
			// Our own endpoints refuse the session's access token at once.
			if r := e.get("/users/me", bearer(t1.AccessToken)...); r.status != http.StatusUnauthorized {
				t.Fatalf("/users/me after revocation: %d", r.status)
			}
		})
	}
}

func TestReuseOfATokenWhoseSuccessorWasSpentRevokes(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signup("carol@example.com", pw)
	t0 := e.login("carol@example.com", pw)
	t1 := e.mustTokens(e.refresh(t0.RefreshToken))
	t2 := e.mustTokens(e.refresh(t1.RefreshToken))
	// t0 is within the grace window, but its successor t1 is spent.
	if r := e.refresh(t0.RefreshToken); r.status != http.StatusBadRequest {
		t.Fatalf("reuse with spent successor: %d %s", r.status, r.body)
	}
	if r := e.refresh(t2.RefreshToken); r.status != http.StatusBadRequest {
		t.Fatalf("family member after revocation: %d %s", r.status, r.body)
	}
}

func TestConcurrentRefreshYieldsOneSuccessor(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			e.signup("dave@example.com", pw)
			t0 := e.login("dave@example.com", pw)
			const n = 50
			var wg sync.WaitGroup
			results := make([]response, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = e.refresh(t0.RefreshToken)
				}()
			}
			wg.Wait()
			successors := map[string]bool{}
			for _, r := range results {
				if r.status != http.StatusOK {
					t.Fatalf("concurrent refresh within grace: %d %s", r.status, r.body)
				}
				successors[e.mustTokens(r).RefreshToken] = true
			}
			if len(successors) != 1 {
				t.Fatalf("%d distinct successors, want 1", len(successors))
			}
		})
	}
}

func TestStockOAuth2ClientPasswordAndRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.signup("erin@example.com", pw)
	cfg := &oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: e.url + "/token"},
	}
	ctx := context.Background()
	tok, err := cfg.PasswordCredentialsToken(ctx, "erin@example.com", pw)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Valid() || tok.RefreshToken == "" {
		t.Fatalf("token = %+v", tok)
	}
	// Make the access token look expired so the token source refreshes.
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, &stale).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("the token source did not refresh")
	}
	client := oauth2.NewClient(ctx, oauth2.StaticTokenSource(fresh))
	res, err := client.Get(e.url + "/users/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/users/me with the stock client: %d", res.StatusCode)
	}
	// The refresh token is bound to the client that got it.
	if r := e.refresh(fresh.RefreshToken); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
		t.Fatalf("refresh without the client: %d %s", r.status, r.body)
	}
	// Wrong password through the stock client is an oauth2.RetrieveError.
	_, err = cfg.PasswordCredentialsToken(ctx, "erin@example.com", "wrong password!")
	var re *oauth2.RetrieveError
	if !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("wrong password: %v", err)
	}
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool {
	x, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = x
	}
	return ok
}

// TestAccessTokenVerifiesWithGoJose checks our JWT with an independent
// JOSE implementation (go-jose, not golang-jwt) and our published JWKS.
func TestAccessTokenVerifiesWithGoJose(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.signup("frank@example.com", pw)
	tk := e.login("frank@example.com", pw)

	r := e.get("/.well-known/jwks.json")
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("jwks: %d %v", r.status, r.header)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatal("the JWKS publishes a private key")
		}
	}
	jws, err := jose.ParseSignedCompact(tk.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.KeyID == "" || h.ExtraHeaders["typ"] != "at+jwt" {
		t.Fatalf("header = %+v", h)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c["iss"] != e.url || c["sub"] != id || fmt.Sprint(c["aud"]) != "["+e.url+"]" || fmt.Sprint(c["amr"]) != "[pwd]" {
		t.Fatalf("claims = %v", c)
	}
	for _, k := range []string{"exp", "iat", "jti", "sid", "email", "email_verified", "roles", "scope"} {
		if _, ok := c[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 900 {
		t.Errorf("lifetime = %v s, want 900", exp-iat)
	}

	md := e.get("/.well-known/openid-configuration").json(t)
	if md["issuer"] != e.url || md["jwks_uri"] != e.url+"/.well-known/jwks.json" || md["token_endpoint"] != e.url+"/token" {
		t.Fatalf("metadata = %v", md)
	}
	as := e.get("/.well-known/oauth-authorization-server").json(t)
	if as["revocation_endpoint"] != e.url+"/revoke" {
		t.Fatalf("metadata = %v", as)
	}
}

func TestRevokeLogoutSessionsAndPasswordChange(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			e.signup("gina@example.com", pw)
			a := e.login("gina@example.com", pw)
			b2 := e.login("gina@example.com", pw)
			c := e.login("gina@example.com", pw)

			// Sessions list marks the current one.
			r := e.get("/users/me/sessions", bearer(a.AccessToken)...)
			var list struct {
				Sessions []struct {
					ID      string   `json:"id"`
					Current bool     `json:"current"`
					AMR     []string `json:"amr"`
				} `json:"sessions"`
			}
			if err := json.Unmarshal(r.body, &list); err != nil || len(list.Sessions) != 3 {
				t.Fatalf("sessions: %d %s", r.status, r.body)
			}
			current := 0
			for _, s := range list.Sessions {
				if s.Current {
					current++
				}
			}
			if current != 1 {
				t.Fatalf("%d sessions marked current", current)
			}

			// RFC 7009: revoke b's refresh token; 200 even for junk.
			if r := e.postForm("/revoke", url.Values{"token": {b2.RefreshToken}}); r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if r := e.postForm("/revoke", url.Values{"token": {"junk"}}); r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("revoke junk: %d", r.status)
			}
			if r := e.refresh(b2.RefreshToken); r.status != http.StatusBadRequest {
				t.Fatalf("refresh after revoke: %d", r.status)
			}

			// Logout ends c's session.
			if r := e.do("POST", "/logout", "", nil, bearer(c.AccessToken)...); r.status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.status, r.body)
			}
			if r := e.refresh(c.RefreshToken); r.status != http.StatusBadRequest {
				t.Fatalf("refresh after logout: %d", r.status)
			}
			if r := e.get("/users/me", bearer(c.AccessToken)...); r.status != http.StatusUnauthorized {
				t.Fatalf("/users/me after logout: %d", r.status)
			}

			// Password change needs the current password and ends the others.
			d := e.login("gina@example.com", pw)
			const next = "a new and different passphrase"
			if r := e.postJSON("/users/me/password", map[string]string{"new_password": next}, bearer(a.AccessToken)...); r.status != http.StatusForbidden || r.errCode(t) != "reauthentication_required" {
				t.Fatalf("without current_password: %d %s", r.status, r.body)
			}
			if r := e.postJSON("/users/me/password", map[string]string{"current_password": "not it at all", "new_password": next}, bearer(a.AccessToken)...); r.status != http.StatusBadRequest {
				t.Fatalf("wrong current_password: %d", r.status)
			}
			if r := e.postJSON("/users/me/password", map[string]string{"current_password": pw, "new_password": next}, bearer(a.AccessToken)...); r.status != http.StatusNoContent {
				t.Fatalf("change password: %d %s", r.status, r.body)
			}
			if r := e.refresh(d.RefreshToken); r.status != http.StatusBadRequest {
				t.Fatalf("other session after password change: %d", r.status)
			}
			if r := e.refresh(a.RefreshToken); r.status != http.StatusOK {
				t.Fatalf("current session after password change: %d %s", r.status, r.body)
			}
			if r := e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {"gina@example.com"}, "password": {pw}}); r.status != http.StatusBadRequest {
				t.Fatalf("old password still works: %d", r.status)
			}
			e.login("gina@example.com", next)

			// DELETE /users/me/sessions/{id}.
			f := e.login("gina@example.com", next)
			claims, err := e.sessions.ParseAccess(context.Background(), f.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if r := e.do("DELETE", "/users/me/sessions/"+claims.SessionID, "", nil, bearer(a.AccessToken)...); r.status != http.StatusNoContent {
				t.Fatalf("end session: %d %s", r.status, r.body)
			}
			if r := e.do("DELETE", "/users/me/sessions/"+claims.SessionID, "", nil, bearer(a.AccessToken)...); r.status != http.StatusNotFound {
				t.Fatalf("end it again: %d", r.status)
			}
		})
	}
}

func TestPasswordsSharingTheirFirst72BytesDiffer(t *testing.T) {
	e := newEnv(t, envOptions{})
	prefix := strings.Repeat("é", 36) // 72 bytes
	e.signup("hank@example.com", prefix+"one")
	if r := e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {"hank@example.com"}, "password": {prefix + "two"}}); r.status != http.StatusBadRequest {
		t.Fatalf("a password sharing the first 72 bytes signed in: %d", r.status)
	}
	e.login("hank@example.com", prefix+"one")
}

func TestDisabledUserIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.signup("ivy@example.com", pw)
	tk := e.login("ivy@example.com", pw)
	if err := e.store.SetDisabled(context.Background(), id, true); err != nil {
		t.Fatal(err)
	}
	r := e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {"ivy@example.com"}, "password": {pw}})
	if r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
		t.Fatalf("disabled login: %d %s", r.status, r.body)
	}
	if r := e.refresh(tk.RefreshToken); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
		t.Fatalf("disabled refresh: %d %s", r.status, r.body)
	}
	if r := e.get("/users/me", bearer(tk.AccessToken)...); r.status != http.StatusUnauthorized {
		t.Fatalf("disabled /users/me: %d", r.status)
	}
}

func TestLoginRehashesAtTheConfiguredCost(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.signup("jack@example.com", pw)
	// Store a hash made at another cost, as after a config change.
	old, err := accounts.NewHasher(5)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := old.Hash(pw)
	ctx := context.Background()
	if err := e.store.SetPasswordHash(ctx, id, h); err != nil {
		t.Fatal(err)
	}
	e.login("jack@example.com", pw)
	u, _ := e.accounts.Get(ctx, id)
	if u.PasswordHash == h {
		t.Fatal("the hash was not replaced")
	}
	if ok, rehash := e.accounts.Hasher().Verify(u.PasswordHash, pw); !ok || rehash {
		t.Fatalf("new hash: ok=%v rehash=%v", ok, rehash)
	}
}

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
	"github.com/unilogin/unilogin/api/apitest"
)

func TestPasswordSignInRefreshAndMe(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			id := e.Signup("Alice@Example.com", apitest.Password)

			tk := e.Login("alice@example.COM", apitest.Password) // emails compare case-insensitively
			me := e.Get("/users/me", apitest.Bearer(tk.AccessToken)...)
			if me.Status != http.StatusOK {
				t.Fatalf("/users/me: %d %s", me.Status, me.Body)
			}
			m := me.JSON(t)
			if m["id"] != id || m["email"] != "Alice@Example.com" || m["email_verified"] != false || m["has_password"] != true {
				t.Fatalf("/users/me = %s", me.Body)
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

			next := e.MustTokens(e.Refresh(tk.RefreshToken))
			if next.RefreshToken == tk.RefreshToken {
				t.Fatal("refresh token was not rotated")
			}
			apitest.WantStatus(t, "/users/me with the refreshed token", e.Get("/users/me", apitest.Bearer(next.AccessToken)...), http.StatusOK)
			r := e.Refresh(tk.RefreshToken)
			// Within the grace window the spent token yields the same successor.
			if again := e.MustTokens(r); again.RefreshToken != next.RefreshToken {
				t.Fatal("grace-window retry returned another successor")
			}
			for _, h := range []string{"Cache-Control", "Pragma"} {
				if r.Header.Get(h) == "" {
					t.Errorf("token response lacks %s", h)
				}
			}
		})
	}
}

func TestRefreshReuseAfterGraceRevokesTheSession(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			_, t0 := e.NewUser("bob@example.com")
			t1 := e.MustTokens(e.Refresh(t0.RefreshToken))

			e.Clock.Advance(11 * time.Second) // past the 10 s grace window
			r := e.Refresh(t0.RefreshToken)
			if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
				t.Fatalf("reuse after grace: %d %s", r.Status, r.Body)
			}
			// The whole family is gone: the legitimate successor too, and
			// our own endpoints refuse the session's access token at once.
			e.WantEnded("successor after reuse", t1)
		})
	}
}

func TestReuseOfATokenWhoseSuccessorWasSpentRevokes(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	_, t0 := e.NewUser("carol@example.com")
	t1 := e.MustTokens(e.Refresh(t0.RefreshToken))
	t2 := e.MustTokens(e.Refresh(t1.RefreshToken))
	// t0 is within the grace window, but its successor t1 is spent.
	apitest.WantStatus(t, "reuse with spent successor", e.Refresh(t0.RefreshToken), http.StatusBadRequest)
	apitest.WantStatus(t, "family member after revocation", e.Refresh(t2.RefreshToken), http.StatusBadRequest)
}

func TestConcurrentRefreshYieldsOneSuccessor(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			_, t0 := e.NewUser("dave@example.com")
			const n = 50
			var wg sync.WaitGroup
			results := make([]apitest.Response, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = e.Refresh(t0.RefreshToken)
				}()
			}
			wg.Wait()
			successors := map[string]bool{}
			for _, r := range results {
				if r.Status != http.StatusOK {
					t.Fatalf("concurrent refresh within grace: %d %s", r.Status, r.Body)
				}
				successors[e.MustTokens(r).RefreshToken] = true
			}
			if len(successors) != 1 {
				t.Fatalf("%d distinct successors, want 1", len(successors))
			}
		})
	}
}

func TestStockOAuth2ClientPasswordAndRefresh(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	e.Signup("erin@example.com", apitest.Password)
	cfg := &oauth2.Config{
		ClientID:     apitest.TestClientID,
		ClientSecret: apitest.TestClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: e.URL + "/token"},
	}
	ctx := context.Background()
	tok, err := cfg.PasswordCredentialsToken(ctx, "erin@example.com", apitest.Password)
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
	res, err := client.Get(e.URL + "/users/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/users/me with the stock client: %d", res.StatusCode)
	}
	// The refresh token is bound to the client that got it.
	if r := e.Refresh(fresh.RefreshToken); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
		t.Fatalf("refresh without the client: %d %s", r.Status, r.Body)
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
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	id, tk := e.NewUser("frank@example.com")

	r := e.Get("/.well-known/jwks.json")
	if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("jwks: %d %v", r.Status, r.Header)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil {
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
	if c["iss"] != e.URL || c["sub"] != id || fmt.Sprint(c["aud"]) != "["+e.URL+"]" || fmt.Sprint(c["amr"]) != "[pwd]" {
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

	md := e.Get("/.well-known/openid-configuration").JSON(t)
	if md["issuer"] != e.URL || md["jwks_uri"] != e.URL+"/.well-known/jwks.json" || md["token_endpoint"] != e.URL+"/token" {
		t.Fatalf("metadata = %v", md)
	}
	as := e.Get("/.well-known/oauth-authorization-server").JSON(t)
	if as["revocation_endpoint"] != e.URL+"/revoke" {
		t.Fatalf("metadata = %v", as)
	}
}

func TestRevokeLogoutSessionsAndPasswordChange(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			_, a := e.NewUser("gina@example.com")
			b2 := e.Login("gina@example.com", apitest.Password)
			c := e.Login("gina@example.com", apitest.Password)

			// Sessions list marks the current one.
			r := e.Get("/users/me/sessions", apitest.Bearer(a.AccessToken)...)
			var list struct {
				Sessions []struct {
					ID      string   `json:"id"`
					Current bool     `json:"current"`
					AMR     []string `json:"amr"`
				} `json:"sessions"`
			}
			if err := json.Unmarshal(r.Body, &list); err != nil || len(list.Sessions) != 3 {
				t.Fatalf("sessions: %d %s", r.Status, r.Body)
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
			apitest.WantStatus(t, "revoke", e.PostForm("/revoke", url.Values{"token": {b2.RefreshToken}}), http.StatusOK)
			if r := e.PostForm("/revoke", url.Values{"token": {"junk"}}); r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("revoke junk: %d", r.Status)
			}
			apitest.WantStatus(t, "refresh after revoke", e.Refresh(b2.RefreshToken), http.StatusBadRequest)

			// Logout ends c's session.
			apitest.WantStatus(t, "logout", e.Do("POST", "/logout", "", nil, apitest.Bearer(c.AccessToken)...), http.StatusNoContent)
			e.WantEnded("after logout", c)

			// Password change needs the current password and ends the others.
			d := e.Login("gina@example.com", apitest.Password)
			const next = "a new and different passphrase"
			if r := e.PostJSON("/users/me/password", map[string]string{"new_password": next}, apitest.Bearer(a.AccessToken)...); r.Status != http.StatusForbidden || r.ErrCode(t) != "reauthentication_required" {
				t.Fatalf("without current_password: %d %s", r.Status, r.Body)
			}
			apitest.WantStatus(t, "wrong current_password", e.PostJSON("/users/me/password", map[string]string{"current_password": "not it at all", "new_password": next}, apitest.Bearer(a.AccessToken)...), http.StatusBadRequest)
			apitest.WantStatus(t, "change password", e.PostJSON("/users/me/password", map[string]string{"current_password": apitest.Password, "new_password": next}, apitest.Bearer(a.AccessToken)...), http.StatusNoContent)
			apitest.WantStatus(t, "other session after password change", e.Refresh(d.RefreshToken), http.StatusBadRequest)
			apitest.WantStatus(t, "current session after password change", e.Refresh(a.RefreshToken), http.StatusOK)
			apitest.WantStatus(t, "old password still works", e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"gina@example.com"}, "password": {apitest.Password}}), http.StatusBadRequest)
			e.Login("gina@example.com", next)

			// DELETE /users/me/sessions/{id}.
			f := e.Login("gina@example.com", next)
			claims, err := e.Sessions.ParseAccess(context.Background(), f.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			apitest.WantStatus(t, "end session", e.Do("DELETE", "/users/me/sessions/"+claims.SessionID, "", nil, apitest.Bearer(a.AccessToken)...), http.StatusNoContent)
			apitest.WantStatus(t, "end it again", e.Do("DELETE", "/users/me/sessions/"+claims.SessionID, "", nil, apitest.Bearer(a.AccessToken)...), http.StatusNotFound)
		})
	}
}

func TestPasswordsSharingTheirFirst72BytesDiffer(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	prefix := strings.Repeat("é", 36) // 72 bytes
	e.Signup("hank@example.com", prefix+"one")
	apitest.WantStatus(t, "a password sharing the first 72 bytes signed in", e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"hank@example.com"}, "password": {prefix + "two"}}), http.StatusBadRequest)
	e.Login("hank@example.com", prefix+"one")
}

func TestDisabledUserIsRefused(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	id, tk := e.NewUser("ivy@example.com")
	if err := e.Store.SetDisabled(context.Background(), id, true); err != nil {
		t.Fatal(err)
	}
	r := e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {"ivy@example.com"}, "password": {apitest.Password}})
	if r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
		t.Fatalf("disabled login: %d %s", r.Status, r.Body)
	}
	e.WantEnded("disabled user's session", tk)
}

func TestLoginRehashesAtTheConfiguredCost(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	id := e.Signup("jack@example.com", apitest.Password)
	// Store a hash made at another cost, as after a config change.
	old, err := accounts.NewHasher(5)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := old.Hash(apitest.Password)
	ctx := context.Background()
	if err := e.Store.SetPasswordHash(ctx, id, h); err != nil {
		t.Fatal(err)
	}
	e.Login("jack@example.com", apitest.Password)
	u, _ := e.Accounts.Get(ctx, id)
	if u.PasswordHash == h {
		t.Fatal("the hash was not replaced")
	}
	if ok, rehash := e.Accounts.Hasher().Verify(u.PasswordHash, apitest.Password); !ok || rehash {
		t.Fatalf("new hash: ok=%v rehash=%v", ok, rehash)
	}
}

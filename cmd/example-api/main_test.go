package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	accountssqlite "github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/session"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/verifier"
)

// startUnilogin runs a real unilogin (router + embedded store) on httptest.
func startUnilogin(t *testing.T) (*httptest.Server, *accounts.Service) {
	t.Helper()
	ctx := context.Background()
	db, err := sessionsqlite.OpenDB(filepath.Join(t.TempDir(), "u.db"), "normal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	as, _ := accountssqlite.New(ctx, db)
	ss, _ := sessionsqlite.New(ctx, db)
	sealer, _ := session.NewSealer([]byte("example-api-test-key-encryption!"))
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	kr, err := session.NewKeyring(ctx, ss, sealer, session.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := session.NewManager(ctx, ss, kr, sealer, session.Options{Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := accounts.NewService(as, accounts.Options{BcryptCost: 4, DefaultRoles: []string{"member"}})
	perms := map[string][]string{"admin": {"users:admin"}}
	s, err := api.New(ctx, api.Deps{Accounts: acc, Sessions: mgr, Sealer: sealer}, api.Options{
		Issuer: srv.URL, PasswordGrant: true,
		Permissions: func(roles []string) []string {
			var out []string
			for _, r := range roles {
				out = append(out, perms[r]...)
			}
			return out
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = s.Handler()
	return srv, acc
}

func token(t *testing.T, base, email string) string {
	t.Helper()
	res, err := http.PostForm(base+"/token", url.Values{"grant_type": {"password"}, "username": {email}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tk)
	if tk.AccessToken == "" {
		t.Fatalf("login %s: %d", email, res.StatusCode)
	}
	return tk.AccessToken
}

func call(t *testing.T, u, tok string) (int, string) {
	req, _ := http.NewRequest("GET", u, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestExampleAPIAcceptsUniloginTokens runs the example app against a real
// unilogin: tokens verify offline, roles gate /admin.
func TestExampleAPIAcceptsUniloginTokens(t *testing.T) {
	ul, acc := startUnilogin(t)
	ctx := context.Background()
	member, err := acc.Signup(ctx, accounts.SignupRequest{Email: "member@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	boss, _ := acc.Signup(ctx, accounts.SignupRequest{Email: "boss@example.com", Password: "correct horse battery"})
	if err := acc.Store().SetRoles(ctx, boss.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(ctx, ul.URL, ul.URL)
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(newHandler(v))
	defer app.Close()

	mt, bt := token(t, ul.URL, "member@example.com"), token(t, ul.URL, "boss@example.com")
	if code, body := call(t, app.URL+"/hello", mt); code != 200 || !strings.Contains(body, member.ID) {
		t.Fatalf("/hello as member: %d %s", code, body)
	}
	if code, _ := call(t, app.URL+"/hello", ""); code != 401 {
		t.Fatalf("/hello without a token: %d", code)
	}
	if code, _ := call(t, app.URL+"/hello", mt+"x"); code != 401 {
		t.Fatalf("/hello with a tampered token: %d", code)
	}
	if code, body := call(t, app.URL+"/admin", mt); code != 403 || !strings.Contains(body, "insufficient_scope") {
		t.Fatalf("/admin as member: %d %s", code, body)
	}
	if code, _ := call(t, app.URL+"/admin", bt); code != 200 {
		t.Fatalf("/admin as admin: %d", code)
	}
}

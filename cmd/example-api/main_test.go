package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/session/verifier"
)

// startUnilogin runs a real unilogin (the production assembly over the
// embedded store) on httptest.
func startUnilogin(t *testing.T) *servertest.Instance {
	t.Helper()
	return servertest.Start(t, nil, server.Options{})
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

// TestExampleAPIAcceptsUniloginTokens runs the example app against a real
// unilogin: tokens verify offline, roles gate /admin.
func TestExampleAPIAcceptsUniloginTokens(t *testing.T) {
	ul := startUnilogin(t)
	acc := ul.Accounts
	ctx := context.Background()
	member, err := acc.Signup(ctx, accounts.SignupRequest{Email: "member@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	boss, _ := acc.Signup(ctx, accounts.SignupRequest{Email: "boss@example.com", Password: "correct horse battery"})
	if _, err := ul.Admin.SetRoles(ctx, accounts.Actor{ID: "cli:test"}, boss.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(ctx, ul.URL, ul.URL)
	if err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(newHandler(v))
	defer app.Close()

	mt, bt := token(t, ul.URL, "member@example.com"), token(t, ul.URL, "boss@example.com")
	if code, body := servertest.Get(t, app.URL+"/hello", mt); code != 200 || !strings.Contains(body, member.ID) {
		t.Fatalf("/hello as member: %d %s", code, body)
	}
	if code, _ := servertest.Get(t, app.URL+"/hello", ""); code != 401 {
		t.Fatalf("/hello without a token: %d", code)
	}
	if code, _ := servertest.Get(t, app.URL+"/hello", mt+"x"); code != 401 {
		t.Fatalf("/hello with a tampered token: %d", code)
	}
	if code, body := servertest.Get(t, app.URL+"/admin", mt); code != 403 || !strings.Contains(body, "insufficient_scope") {
		t.Fatalf("/admin as member: %d %s", code, body)
	}
	if code, _ := servertest.Get(t, app.URL+"/admin", bt); code != 200 {
		t.Fatalf("/admin as admin: %d", code)
	}
}

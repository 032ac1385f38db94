package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
)

// TestUserInfoPostFormToken: POST /userinfo takes the access token from a
// form body (RFC 6750 §2.2) as well as from the header; the body's token
// gets the same checks, and a token in both places is refused.
func TestUserInfoPostFormToken(t *testing.T) {
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	id, tk := e.NewUser("uma@example.com")

	r := e.PostForm("/userinfo", url.Values{"access_token": {tk.AccessToken}})
	if r.Status != http.StatusOK || r.JSON(t)["sub"] != id {
		t.Fatalf("token in the body: %d %s, want 200 with sub %s", r.Status, r.Body, id)
	}
	if r := e.PostForm("/userinfo", nil, apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusOK {
		t.Fatalf("token in the header, empty form: %d %s", r.Status, r.Body)
	}
	for name, c := range map[string]struct {
		form   url.Values
		header []string
		status int
		code   string
	}{
		"both":          {url.Values{"access_token": {tk.AccessToken}}, apitest.Bearer(tk.AccessToken), 400, "invalid_request"},
		"repeated":      {url.Values{"access_token": {tk.AccessToken, tk.AccessToken}}, nil, 400, "invalid_request"},
		"forged":        {url.Values{"access_token": {tk.AccessToken + "x"}}, nil, 401, "invalid_token"},
		"refresh token": {url.Values{"access_token": {tk.RefreshToken}}, nil, 401, "invalid_token"},
		"empty":         {url.Values{"access_token": {""}}, nil, 401, "invalid_token"},
		"none":          {url.Values{"other": {"x"}}, nil, 401, "invalid_token"},
	} {
		r := e.PostForm("/userinfo", c.form, c.header...)
		if r.Status != c.status || r.ErrCode(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", name, r.Status, r.Body, c.status, c.code)
		}
	}
	// Revocation holds for a token in the body as for one in the header.
	if r := e.Do("POST", "/logout", "", nil, apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := e.PostForm("/userinfo", url.Values{"access_token": {tk.AccessToken}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("after logout: %d %s, want 401", r.Status, r.Body)
	}
}

package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
)

// secrets collects every secret a scripted run handles, by name.
type secrets map[string]string

func (s secrets) add(name, v string) {
	if v == "" {
		return
	}
	s[name] = v
}

// addToken adds a token and, for a JWT, its signature on its own: a log
// line that cut the token apart would still leak that.
func (s secrets) addToken(name, v string) {
	s.add(name, v)
	if parts := strings.Split(v, "."); len(parts) == 3 {
		s.add(name+" (signature)", parts[2])
	}
}

// TestLogsNeverHoldSecrets runs a full scripted flow through the router
// (local accounts, tokens, sessions, a provider sign-in with the fakes,
// failures) and then reads everything the server logged: every line is
// JSON with a request id, and no password, token, code, state, verifier,
// nonce, flow cookie or client secret appears in any of them.
func TestLogsNeverHoldSecrets(t *testing.T) {
	fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{})
	e := fe.Env
	sec := secrets{}

	const email = "lena@example.com"
	const wrongPassword = "Tr0ub4dor&3 but wrong"
	const newPassword = "a new and entirely different passphrase"
	sec.add("password", apitest.Password)
	sec.add("wrong password", wrongPassword)
	sec.add("new password", newPassword)
	sec.add("client secret", apitest.TestClientSecret)
	sec.add("google client secret", fe.Google.ClientSecret)
	sec.add("github client secret", fe.GitHub.ClientSecret)
	sec.add("corp client secret", fe.Corp.ClientSecret)

	// Local account: signup, password grant, refresh, /users/me.
	e.Signup(email, apitest.Password)
	a := e.Login(email, apitest.Password)
	sec.addToken("access token 1", a.AccessToken)
	sec.addToken("refresh token 1", a.RefreshToken)
	b := e.MustTokens(e.Refresh(a.RefreshToken))
	sec.addToken("access token 2", b.AccessToken)
	sec.addToken("refresh token 2", b.RefreshToken)
	if r := e.Get("/users/me", apitest.Bearer(b.AccessToken)...); r.Status != http.StatusOK {
		t.Fatalf("/users/me: %d %s", r.Status, r.Body)
	}
	// A second session, then a password change (ends the other sessions).
	c := e.Login(email, apitest.Password)
	sec.addToken("access token 3", c.AccessToken)
	sec.addToken("refresh token 3", c.RefreshToken)
	if r := e.PostJSON("/users/me/password", map[string]string{"current_password": apitest.Password, "new_password": newPassword}, apitest.Bearer(c.AccessToken)...); r.Status != http.StatusNoContent {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	// Failures: a wrong password, a wrong current password, a bad bearer
	// token, refresh reuse after the grace window.
	if r := e.PostForm("/token", url.Values{"grant_type": {"password"}, "username": {email}, "password": {wrongPassword}}); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	if r := e.PostJSON("/users/me/password", map[string]string{"current_password": wrongPassword, "new_password": newPassword + "!"}, apitest.Bearer(c.AccessToken)...); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong current password: %d %s", r.Status, r.Body)
	}
	if r := e.Get("/users/me", apitest.Bearer(b.AccessToken+"x")...); r.Status != http.StatusUnauthorized {
		t.Fatalf("tampered token: %d %s", r.Status, r.Body)
	}
	d := e.Login(email, newPassword)
	sec.addToken("access token 4", d.AccessToken)
	sec.addToken("refresh token 4", d.RefreshToken)
	dn := e.MustTokens(e.Refresh(d.RefreshToken))
	sec.addToken("access token 5", dn.AccessToken)
	sec.addToken("refresh token 5", dn.RefreshToken)
	e.Clock.Advance(11 * time.Second)
	if r := e.Refresh(d.RefreshToken); r.Status != http.StatusBadRequest {
		t.Fatalf("refresh reuse: %d %s", r.Status, r.Body)
	}
	// Revoke one session by its refresh token, log out of another.
	f := e.Login(email, newPassword)
	sec.addToken("access token 6", f.AccessToken)
	sec.addToken("refresh token 6", f.RefreshToken)
	if r := e.PostForm("/revoke", url.Values{"token": {f.RefreshToken}}); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/logout", "", nil, apitest.Bearer(c.AccessToken)...); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}

	// A provider sign-in of the confidential client (client secret at
	// /token), step by step to see every state, code and cookie.
	app := apitest.ConfidentialApp()
	sec.add("app state", app.State)
	bc := apitest.BrowserClient(t)
	auth, cookie := fe.Begin(bc, fe.LoginURL("corp", app))
	sec.add("flow cookie", cookie.Value)
	sec.add("upstream state", auth.Query().Get("state"))
	sec.add("upstream nonce", auth.Query().Get("nonce"))
	cb := fe.Authorize(auth)
	sec.add("upstream code", cb.Query().Get("code"))
	code := fe.AppCode(fe.Location(fe.Fetch(bc, cb.String())), app)
	sec.add("authorization code", code)
	g := fe.MustTokens(fe.Redeem(app, code))
	sec.addToken("access token 7", g.AccessToken)
	sec.addToken("refresh token 7", g.RefreshToken)
	// The code again (single use) and a public client with PKCE.
	if r := fe.Redeem(app, code); r.Status != http.StatusBadRequest {
		t.Fatalf("code reuse: %d %s", r.Status, r.Body)
	}
	papp := apitest.PublicApp()
	sec.add("public app state", papp.State)
	sec.add("PKCE verifier", papp.Verifier)
	pu := fe.RunFlow(apitest.BrowserClient(t), fe.LoginURL("github", papp))
	pcode := fe.AppCode(pu, papp)
	sec.add("public authorization code", pcode)
	if r := fe.Redeem(apitest.FlowApp{ClientID: papp.ClientID, RedirectURI: papp.RedirectURI, Verifier: otherVerifier(papp.Verifier)}, pcode); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong verifier: %d %s", r.Status, r.Body)
	}
	// A callback with a forged state and an upstream error.
	fe.Fetch(apitest.BrowserClient(t), fe.CallbackURL("corp")+"?code=forged-code-0123456789&state=forged-state-0123456789")
	sec.add("forged code", "forged-code-0123456789")
	sec.add("forged state", "forged-state-0123456789")

	logs := e.Logs.String()
	lines := strings.Split(strings.TrimRight(logs, "\n"), "\n")
	if len(lines) < 20 {
		t.Fatalf("only %d log lines; the test did not observe the server:\n%s", len(lines), logs)
	}
	var requests int
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %d is not JSON: %q", i+1, line)
			continue
		}
		// The mail queue and its worker log outside any request (still
		// checked for secrets below).
		msg, _ := m["msg"].(string)
		if id, _ := m["request_id"].(string); id == "" && !strings.HasPrefix(msg, "mail: ") {
			t.Errorf("log line %d has no request_id: %s", i+1, line)
		}
		if m["msg"] == "request" {
			requests++
		}
	}
	if requests < 20 {
		t.Errorf("only %d access-log lines", requests)
	}
	for name, v := range sec {
		if strings.Contains(logs, v) {
			for i, line := range lines {
				if strings.Contains(line, v) {
					t.Errorf("the %s appears in log line %d: %s", name, i+1, line)
				}
			}
		}
	}
	// The query strings (codes, states) never reach the log, even encoded.
	if strings.Contains(logs, "code=") || strings.Contains(logs, "state=") {
		t.Errorf("a query string reached the log:\n%s", logs)
	}
}

// otherVerifier is a well-formed PKCE verifier that is not v.
func otherVerifier(v string) string {
	if strings.HasPrefix(v, "A") {
		return "B" + v[1:]
	}
	return "A" + v[1:]
}

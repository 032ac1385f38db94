package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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
	fe := newFlowEnv(t, flowEnvOptions{})
	e := fe.env
	sec := secrets{}

	const email = "lena@example.com"
	const wrongPassword = "Tr0ub4dor&3 but wrong"
	const newPassword = "a new and entirely different passphrase"
	sec.add("password", pw)
	sec.add("wrong password", wrongPassword)
	sec.add("new password", newPassword)
	sec.add("client secret", testClientSecret)
	sec.add("google client secret", fe.google.ClientSecret)
	sec.add("github client secret", fe.github.ClientSecret)
	sec.add("corp client secret", fe.corp.ClientSecret)

	// Local account: signup, password grant, refresh, /users/me.
	e.signup(email, pw)
	a := e.login(email, pw)
	sec.addToken("access token 1", a.AccessToken)
	sec.addToken("refresh token 1", a.RefreshToken)
	b := e.mustTokens(e.refresh(a.RefreshToken))
	sec.addToken("access token 2", b.AccessToken)
	sec.addToken("refresh token 2", b.RefreshToken)
	if r := e.get("/users/me", bearer(b.AccessToken)...); r.status != http.StatusOK {
		t.Fatalf("/users/me: %d %s", r.status, r.body)
	}
	// A second session, then a password change (ends the other sessions).
	c := e.login(email, pw)
	sec.addToken("access token 3", c.AccessToken)
	sec.addToken("refresh token 3", c.RefreshToken)
	if r := e.postJSON("/users/me/password", map[string]string{"current_password": pw, "new_password": newPassword}, bearer(c.AccessToken)...); r.status != http.StatusNoContent {
		t.Fatalf("change password: %d %s", r.status, r.body)
	}
	// Failures: a wrong password, a wrong current password, a bad bearer
	// token, refresh reuse after the grace window.
	if r := e.postForm("/token", url.Values{"grant_type": {"password"}, "username": {email}, "password": {wrongPassword}}); r.status != http.StatusBadRequest {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	if r := e.postJSON("/users/me/password", map[string]string{"current_password": wrongPassword, "new_password": newPassword + "!"}, bearer(c.AccessToken)...); r.status != http.StatusBadRequest {
		t.Fatalf("wrong current password: %d %s", r.status, r.body)
	}
	if r := e.get("/users/me", bearer(b.AccessToken+"x")...); r.status != http.StatusUnauthorized {
		t.Fatalf("tampered token: %d %s", r.status, r.body)
	}
	d := e.login(email, newPassword)
	sec.addToken("access token 4", d.AccessToken)
	sec.addToken("refresh token 4", d.RefreshToken)
	dn := e.mustTokens(e.refresh(d.RefreshToken))
	sec.addToken("access token 5", dn.AccessToken)
	sec.addToken("refresh token 5", dn.RefreshToken)
	e.clock.Advance(11 * time.Second)
	if r := e.refresh(d.RefreshToken); r.status != http.StatusBadRequest {
		t.Fatalf("refresh reuse: %d %s", r.status, r.body)
	}
	// Revoke one session by its refresh token, log out of another.
	f := e.login(email, newPassword)
	sec.addToken("access token 6", f.AccessToken)
	sec.addToken("refresh token 6", f.RefreshToken)
	if r := e.postForm("/revoke", url.Values{"token": {f.RefreshToken}}); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/logout", "", nil, bearer(c.AccessToken)...); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}

	// A provider sign-in of the confidential client (client secret at
	// /token), step by step to see every state, code and cookie.
	app := confidentialApp()
	sec.add("app state", app.state)
	browser := browserClient(t)
	auth, cookie := fe.begin(browser, fe.loginURL("corp", app))
	sec.add("flow cookie", cookie.Value)
	sec.add("upstream state", auth.Query().Get("state"))
	sec.add("upstream nonce", auth.Query().Get("nonce"))
	cb := fe.authorize(auth)
	sec.add("upstream code", cb.Query().Get("code"))
	code := fe.appCode(fe.location(fe.fetch(browser, cb.String())), app)
	sec.add("authorization code", code)
	g := fe.mustTokens(fe.redeem(app, code))
	sec.addToken("access token 7", g.AccessToken)
	sec.addToken("refresh token 7", g.RefreshToken)
	// The code again (single use) and a public client with PKCE.
	if r := fe.redeem(app, code); r.status != http.StatusBadRequest {
		t.Fatalf("code reuse: %d %s", r.status, r.body)
	}
	papp := publicApp()
	sec.add("public app state", papp.state)
	sec.add("PKCE verifier", papp.verifier)
	pu := fe.runFlow(browserClient(t), fe.loginURL("github", papp))
	pcode := fe.appCode(pu, papp)
	sec.add("public authorization code", pcode)
	if r := fe.redeem(flowApp{clientID: papp.clientID, redirectURI: papp.redirectURI, verifier: otherVerifier(papp.verifier)}, pcode); r.status != http.StatusBadRequest {
		t.Fatalf("wrong verifier: %d %s", r.status, r.body)
	}
	// A callback with a forged state and an upstream error.
	fe.fetch(browserClient(t), fe.callbackURL("corp")+"?code=forged-code-0123456789&state=forged-state-0123456789")
	sec.add("forged code", "forged-code-0123456789")
	sec.add("forged state", "forged-state-0123456789")

	logs := e.logs.String()
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

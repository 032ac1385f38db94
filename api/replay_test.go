package api_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/unilogin/unilogin/session"
)

// TestReplayedCodeRevokesSession: an authorization code presented a second
// time is refused and ends the session its first redemption started (RFC
// 6749 §4.1.2), on both stores (issue 11, item 11).
func TestReplayedCodeRevokesSession(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fe := newFlowEnv(t, flowEnvOptions{backend: b})
			fe.github.SetUser(githubUser(9101, "rex", "", false))
			a := publicApp()
			code := fe.appCode(fe.runFlow(browserClient(t), fe.loginURL("github", a)), a)
			tk := fe.mustTokens(fe.redeem(a, code))
			if r := fe.get("/users/me", bearer(tk.AccessToken)...); r.status != http.StatusOK {
				t.Fatalf("/users/me: %d", r.status)
			}
			if r := fe.redeem(a, code); r.status != http.StatusBadRequest || r.errCode(t) != "invalid_grant" {
				t.Fatalf("replayed code: %d %s", r.status, r.body)
			}
			if r := fe.get("/users/me", bearer(tk.AccessToken)...); r.status != http.StatusUnauthorized {
				t.Fatalf("access token after the replay: %d, want 401", r.status)
			}
			if r := fe.postForm("/token", refreshForm(tk.RefreshToken, a.clientID)); r.status != http.StatusBadRequest {
				t.Fatalf("refresh after the replay: %d, want 400", r.status)
			}
			// A code never issued ends nothing.
			other := fe.signIn("github", a)
			if r := fe.redeem(a, "x"+code[1:]); r.status != http.StatusBadRequest {
				t.Fatalf("forged code: %d", r.status)
			}
			if r := fe.get("/users/me", bearer(other.AccessToken)...); r.status != http.StatusOK {
				t.Fatalf("an unrelated session ended: %d", r.status)
			}
		})
	}
}

// TestCodeReplayBeforeSessionStart: a replay that arrives while the first
// redemption has consumed the code but not yet started its session still
// ends that session: the first redemption finds the replay's marker.
func TestCodeReplayBeforeSessionStart(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, envOptions{backend: b})
			uid := e.signup("ray@example.com", pw)
			ctx := t.Context()
			code, err := e.sessions.IssueCode(ctx, session.CodeRequest{ClientID: testClientID, RedirectURI: appRedirect, UserID: uid, AMR: []string{"pwd"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sessions.RedeemCode(ctx, code, testClientID, appRedirect, ""); err != nil {
				t.Fatal(err)
			}
			var replay *session.CodeReplayError
			if _, err := e.sessions.RedeemCode(ctx, code, testClientID, appRedirect, ""); !errors.As(err, &replay) || !errors.Is(err, session.ErrInvalidToken) {
				t.Fatalf("replay: %v, want a CodeReplayError", err)
			}
			sub := session.Subject{UserID: uid}
			if _, err := e.sessions.Start(ctx, session.Grant{Subject: sub, ClientID: testClientID, AMR: []string{"pwd"}, Code: code}); !errors.As(err, &replay) {
				t.Fatalf("first redemption's session after the replay: %v, want a CodeReplayError", err)
			}
			if list, err := e.sessions.List(ctx, uid); err != nil || len(list) != 0 {
				t.Fatalf("sessions after the replay: %d (%v), want none", len(list), err)
			}
		})
	}
}

func refreshForm(rt, clientID string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}}
}

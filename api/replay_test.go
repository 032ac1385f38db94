package api_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/session"
)

// TestReplayedCodeRevokesSession: an authorization code presented a second
// time is refused and ends the session its first redemption started (RFC
// 6749 §4.1.2), on both stores (issue 11, item 11).
func TestReplayedCodeRevokesSession(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fe := apitest.NewFlowEnv(t, apitest.FlowEnvOptions{Backend: b})
			fe.GitHub.SetUser(apitest.NewGitHubUser(9101, "rex", "", false))
			a := apitest.PublicApp()
			code := fe.AppCode(fe.RunFlow(apitest.BrowserClient(t), fe.LoginURL("github", a)), a)
			tk := fe.MustTokens(fe.Redeem(a, code))
			if r := fe.Get("/users/me", apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusOK {
				t.Fatalf("/users/me: %d", r.Status)
			}
			if r := fe.Redeem(a, code); r.Status != http.StatusBadRequest || r.ErrCode(t) != "invalid_grant" {
				t.Fatalf("replayed code: %d %s", r.Status, r.Body)
			}
			if r := fe.Get("/users/me", apitest.Bearer(tk.AccessToken)...); r.Status != http.StatusUnauthorized {
				t.Fatalf("access token after the replay: %d, want 401", r.Status)
			}
			if r := fe.PostForm("/token", refreshForm(tk.RefreshToken, a.ClientID)); r.Status != http.StatusBadRequest {
				t.Fatalf("refresh after the replay: %d, want 400", r.Status)
			}
			// A code never issued ends nothing.
			other := fe.SignIn("github", a)
			if r := fe.Redeem(a, "x"+code[1:]); r.Status != http.StatusBadRequest {
				t.Fatalf("forged code: %d", r.Status)
			}
			if r := fe.Get("/users/me", apitest.Bearer(other.AccessToken)...); r.Status != http.StatusOK {
				t.Fatalf("an unrelated session ended: %d", r.Status)
			}
		})
	}
}

// TestCodeReplayBeforeSessionStart: a replay that arrives while the first
// redemption has consumed the code but not yet started its session still
// ends that session: the first redemption finds the replay's marker.
func TestCodeReplayBeforeSessionStart(t *testing.T) {
	for _, b := range apitest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := apitest.NewEnv(t, apitest.EnvOptions{Backend: b})
			uid := e.Signup("ray@example.com", apitest.Password)
			ctx := t.Context()
			code, err := e.Sessions.IssueCode(ctx, session.CodeRequest{ClientID: apitest.TestClientID, RedirectURI: apitest.AppRedirect, UserID: uid, AMR: []string{"pwd"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Sessions.RedeemCode(ctx, code, apitest.TestClientID, apitest.AppRedirect, ""); err != nil {
				t.Fatal(err)
			}
			var replay *session.CodeReplayError
			if _, err := e.Sessions.RedeemCode(ctx, code, apitest.TestClientID, apitest.AppRedirect, ""); !errors.As(err, &replay) || !errors.Is(err, session.ErrInvalidToken) {
				t.Fatalf("replay: %v, want a CodeReplayError", err)
			}
			sub := session.Subject{UserID: uid}
			if _, err := e.Sessions.Start(ctx, session.Grant{Subject: sub, ClientID: apitest.TestClientID, AMR: []string{"pwd"}, Code: code}); !errors.As(err, &replay) {
				t.Fatalf("first redemption's session after the replay: %v, want a CodeReplayError", err)
			}
			if list, err := e.Sessions.List(ctx, uid); err != nil || len(list) != 0 {
				t.Fatalf("sessions after the replay: %d (%v), want none", len(list), err)
			}
		})
	}
}

func refreshForm(rt, clientID string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}}
}

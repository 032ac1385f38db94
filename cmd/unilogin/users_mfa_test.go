package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestUsersResetMFACLI: "users reset-mfa" removes a user's TOTP while the
// server runs; the password grant then gives tokens again, and the audit
// log names the CLI as the actor.
func TestUsersResetMFACLI(t *testing.T) {
	base, stop := startCLIServer(t)
	defer stop()
	mustCLI(t, cliPassword+"\n", "users", "create", "--email", "admin@example.com", "--password-stdin", "--role", "admin")
	mustCLI(t, cliPassword+"\n", "users", "create", "--email", "lost@example.com", "--password-stdin")
	login := url.Values{"grant_type": {"password"}, "username": {"lost@example.com"}, "password": {cliPassword}}
	tok := postForm(t, base+"/token", login)["access_token"].(string)
	call := func(path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		raw, _ := io.ReadAll(res.Body)
		json.Unmarshal(raw, &m)
		return res.StatusCode, m
	}
	_, enr := call("/users/me/mfa/totp", map[string]string{})
	code, err := totp.GenerateCode(enr["secret"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, m := call("/users/me/mfa/totp/confirm", map[string]string{"code": code}); st != 200 {
		t.Fatalf("confirm: %d %v", st, m)
	}
	if res, _ := http.PostForm(base+"/token", login); res.StatusCode != http.StatusForbidden {
		t.Fatalf("password grant with TOTP on: %d", res.StatusCode)
	}

	if out := mustCLI(t, "", "users", "reset-mfa", "--email", "LOST@example.com"); !strings.Contains(out, "removed the second factors") {
		t.Errorf("reset-mfa: %q", out)
	}
	mustCLI(t, "", "users", "reset-mfa", "--email", "lost@example.com") // nothing left: fine, audited too
	wantExit(t, exitNotFound, "", "users", "reset-mfa", "--email", "nobody@example.com")
	wantExit(t, exitUsage, "", "users", "reset-mfa")
	if _, out, _ := cli(t, "", "users", "--help"); !strings.Contains(out, "reset-mfa") {
		t.Errorf("usage lacks reset-mfa:\n%s", out)
	}
	postForm(t, base+"/token", login) // 200: the password alone again

	admin := postForm(t, base+"/token", url.Values{"grant_type": {"password"}, "username": {"admin@example.com"}, "password": {cliPassword}})
	audit := getJSON(t, base+"/admin/audit", admin["access_token"].(string))
	resets := 0
	for _, e := range audit["events"].([]any) {
		if ev := e.(map[string]any); ev["action"] == "user.mfa.reset" && ev["actor"] == "cli:tester" {
			resets++
		}
	}
	if resets != 2 {
		t.Errorf("%d user.mfa.reset events by cli:tester, want 2: %v", resets, audit["events"])
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/accounts/mail/mailtest"
	"github.com/unilogin/unilogin/api/server/servertest"
)

// The e-mail verbs queue their messages while the server runs; the
// server delivers them to the outbox, and the links work.
func TestUsersRecoveryCLI(t *testing.T) {
	cfg := cliConfig(t)
	base, stop := startServer(t, cfg)
	defer stop()
	box := mailtest.NewOutbox(filepath.Join(cfg.DataDir, "outbox"))
	const addr = "forgetful@example.com"
	mustCLI(t, cliPassword+"\n", "users", "create", "--email", addr, "--password-stdin")

	if out := mustCLI(t, "", "users", "resend-verification", "--email", addr); !strings.Contains(out, "queued a verification link") {
		t.Errorf("resend-verification: %q", out)
	}
	box.Link(t, addr, cfg.Issuer+"/verify-email")
	if out := mustCLI(t, "", "users", "mark-verified", "--email", addr); !strings.Contains(out, "marked "+addr+" ") {
		t.Errorf("mark-verified: %q", out)
	}
	if out := mustCLI(t, "", "users", "list", "--json"); !strings.Contains(out, `"email_verified": true`) {
		t.Errorf("list after mark-verified:\n%s", out)
	}
	if out := mustCLI(t, "", "users", "resend-verification", "--email", addr); !strings.Contains(out, "verified already") {
		t.Errorf("resend-verification when verified: %q", out)
	}

	if out := mustCLI(t, "", "users", "send-reset", "--email", addr); !strings.Contains(out, "queued a password-reset link") {
		t.Errorf("send-reset: %q", out)
	}
	token := box.Link(t, addr, cfg.Issuer+"/reset-password")
	body, _ := json.Marshal(map[string]string{"token": token, "new_password": "a brand new passphrase"})
	if status, answer := servertest.Do(t, jsonPost(base+"/password/reset", string(body))); status != http.StatusNoContent {
		t.Fatalf("reset with the CLI's link: %d %s", status, answer)
	}
	postForm(t, base+"/token", url.Values{"grant_type": {"password"}, "username": {addr}, "password": {"a brand new passphrase"}})

	// Refusals: unknown, disabled, no target.
	for _, sub := range []string{"resend-verification", "mark-verified", "send-reset"} {
		wantExit(t, exitNotFound, "", "users", sub, "--email", "nobody@example.com")
		wantExit(t, exitUsage, "", "users", sub)
		if code, out, _ := cli(t, "", "users", sub, "--help"); code != exitOK || !strings.Contains(out, "usage: unilogin users") {
			t.Errorf("%s --help: %d %q", sub, code, out)
		}
	}
	mustCLI(t, "", "users", "disable", "--email", addr)
	for _, sub := range []string{"resend-verification", "send-reset"} {
		if e := wantExit(t, exitError, "", "users", sub, "--email", addr); !strings.Contains(e, "disabled") {
			t.Errorf("%s of a disabled user: %q", sub, e)
		}
	}
	if out := mustCLI(t, "", "users", "--help"); !strings.Contains(out, "send-reset") {
		t.Errorf("users usage lacks the e-mail verbs:\n%s", out)
	}
}

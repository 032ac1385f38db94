package main

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/unilogin/unilogin/config"
)

const cliPassword = "correct horse battery staple"

// cli runs one command line with stdin and returns the exit code and output.
func cli(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	defer func() { stdin = old }()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustCLI(t *testing.T, input string, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, input, args...)
	if code != exitOK {
		t.Fatalf("unilogin %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func wantExit(t *testing.T, want int, input string, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, input, args...)
	if code != want {
		t.Errorf("unilogin %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	return errOut
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestUsersCLI drives every users command against the store of a running
// server, then signs in as the administrator the CLI created.
func TestUsersCLI(t *testing.T) {
	base, stop := startCLIServer(t)
	defer stop()

	// Bootstrap the first admin, while the server runs.
	out := mustCLI(t, cliPassword+"\n", "users", "create", "--email", "admin@example.com", "--password-stdin", "--role", "admin", "--name", "Ada")
	adminID := uuidRE.FindString(out)
	if adminID == "" || !strings.Contains(out, "admin@example.com") || !strings.Contains(out, "roles: admin") {
		t.Fatalf("create output: %q", out)
	}
	// A user without password: allowed, with a note about signing in.
	code, out, errOut := cli(t, "", "users", "create", "--email", "Bob@Example.com")
	bobID := uuidRE.FindString(out)
	if code != exitOK || bobID == "" || !strings.Contains(out, "roles: member") || !strings.Contains(errOut, "cannot sign in") {
		t.Fatalf("create without password: %d %q %q", code, out, errOut)
	}

	// Refusals.
	if e := wantExit(t, exitError, cliPassword, "users", "create", "--email", "ADMIN@example.com", "--password-stdin"); !strings.Contains(e, "already exists") {
		t.Errorf("duplicate e-mail: %q", e)
	}
	if e := wantExit(t, exitError, "password\n", "users", "create", "--email", "weak@example.com", "--password-stdin"); !strings.Contains(e, "password") {
		t.Errorf("weak password: %q", e)
	}
	if e := wantExit(t, exitError, "", "users", "create", "--email", "x@example.com", "--password-stdin"); !strings.Contains(e, "stdin is empty") {
		t.Errorf("empty stdin: %q", e)
	}
	if e := wantExit(t, exitError, "", "users", "create", "--email", "x@example.com", "--role", "root"); !strings.Contains(e, `unknown role "root"`) {
		t.Errorf("unknown role: %q", e)
	}
	wantExit(t, exitError, "", "users", "create", "--email", "not-an-email")
	wantExit(t, exitUsage, "", "users", "create")
	wantExit(t, exitUsage, "", "users", "create", "--email", "x@example.com", "--bogus")
	wantExit(t, exitUsage, "", "users", "create", "--email", "x@example.com", "stray")
	wantExit(t, exitUsage, "", "users")
	wantExit(t, exitUsage, "", "users", "frobnicate")

	// list
	out = mustCLI(t, "", "users", "list")
	if !strings.HasPrefix(out, "ID") || !strings.Contains(out, adminID) || !strings.Contains(out, "Bob@Example.com") || strings.Count(out, "\n") != 3 {
		t.Errorf("list:\n%s", out)
	}
	if out = mustCLI(t, "", "users", "list", "--email", "BOB"); strings.Contains(out, adminID) || !strings.Contains(out, bobID) {
		t.Errorf("list --email BOB:\n%s", out)
	}
	code, out, errOut = cli(t, "", "users", "list", "--limit", "1")
	if code != exitOK || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, "more users") {
		t.Errorf("list --limit 1: %d\n%s\n%s", code, out, errOut)
	}
	wantExit(t, exitUsage, "", "users", "list", "--limit", "0")

	// set-roles
	out = mustCLI(t, "", "users", "set-roles", "--email", "bob@example.com", "--role", "member", "--role", "admin")
	if !strings.Contains(out, "member,admin") {
		t.Errorf("set-roles: %q", out)
	}
	if out = mustCLI(t, "", "users", "list", "--email", "bob"); !strings.Contains(out, "member,admin") {
		t.Errorf("list after set-roles:\n%s", out)
	}
	mustCLI(t, "", "users", "set-roles", "--id", bobID, "--no-roles")
	wantExit(t, exitUsage, "", "users", "set-roles", "--id", bobID)
	wantExit(t, exitUsage, "", "users", "set-roles", "--id", bobID, "--role", "admin", "--no-roles")
	wantExit(t, exitUsage, "", "users", "set-roles", "--id", bobID, "--email", "bob@example.com", "--role", "admin")
	wantExit(t, exitError, "", "users", "set-roles", "--id", bobID, "--role", "root")
	wantExit(t, exitNotFound, "", "users", "set-roles", "--email", "nobody@example.com", "--role", "admin")

	// disable, enable, delete
	if out = mustCLI(t, "", "users", "disable", "--email", "bob@example.com"); !strings.Contains(out, "disabled user "+bobID) {
		t.Errorf("disable: %q", out)
	}
	if out = mustCLI(t, "", "users", "list", "--email", "bob"); !strings.Contains(out, "disabled") {
		t.Errorf("list after disable:\n%s", out)
	}
	mustCLI(t, "", "users", "enable", "--id", bobID)
	if out = mustCLI(t, "", "users", "delete", "--id", bobID); !strings.Contains(out, "deleted user "+bobID) {
		t.Errorf("delete: %q", out)
	}
	for _, sub := range []string{"disable", "enable", "delete"} {
		if e := wantExit(t, exitNotFound, "", "users", sub, "--id", bobID); !strings.Contains(e, "no such user") {
			t.Errorf("%s of a deleted user: %q", sub, e)
		}
		wantExit(t, exitNotFound, "", "users", sub, "--email", "bob@example.com")
		wantExit(t, exitUsage, "", "users", sub)
	}

	// --help everywhere: usage on stdout, exit 0.
	for _, args := range [][]string{
		{"users", "--help"}, {"users", "help"}, {"users", "create", "--help"}, {"users", "list", "-h"},
		{"users", "set-roles", "--help"}, {"users", "disable", "--help"}, {"users", "enable", "--help"}, {"users", "delete", "--help"},
	} {
		code, out, _ := cli(t, "", args...)
		if code != exitOK || !strings.Contains(out, "usage: unilogin users") {
			t.Errorf("unilogin %s: exit %d, stdout %q", strings.Join(args, " "), code, out)
		}
	}
	if _, out, _ := cli(t, "", "users", "create", "--help"); !strings.Contains(out, "-password-stdin") || !strings.Contains(out, "-config") {
		t.Errorf("create --help lacks its flags:\n%s", out)
	}
	if _, out, _ := cli(t, "", "--help"); !strings.Contains(out, "unilogin users") {
		t.Errorf("the main usage does not mention users:\n%s", out)
	}

	// A configuration problem: exit 3.
	t.Setenv("UNILOGIN_BCRYPT_COST", "99")
	wantExit(t, exitConfig, "", "users", "list")
	t.Setenv("UNILOGIN_BCRYPT_COST", "4")

	// The CLI's admin signs in at the running server and uses the admin API.
	tok := postForm(t, base+"/token", url.Values{"grant_type": {"password"}, "username": {"admin@example.com"}, "password": {cliPassword}})
	if !strings.Contains(tok["scope"].(string), "users:admin") {
		t.Fatalf("admin token scope %q", tok["scope"])
	}
	body := getJSON(t, base+"/admin/users", tok["access_token"].(string))
	users := body["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["id"] != adminID {
		t.Errorf("GET /admin/users = %v, want only the admin", body)
	}
	// The audit log holds the CLI's actions, newest first.
	audit := getJSON(t, base+"/admin/audit", tok["access_token"].(string))
	var actions []string
	for _, e := range audit["events"].([]any) {
		ev := e.(map[string]any)
		if strings.HasPrefix(ev["action"].(string), "auth.") {
			continue // the admin's own sign-in, a security event
		}
		if ev["actor"] != "cli:tester" {
			t.Errorf("event actor %v, want cli:tester", ev["actor"])
		}
		actions = append(actions, ev["action"].(string))
	}
	want := "user.delete user.enable user.disable user.roles.set user.roles.set user.create user.create"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit actions %q, want %q", strings.Join(actions, " "), want)
	}
}

// startCLIServer starts a server on cliConfig.
func startCLIServer(t *testing.T) (base string, stop func()) {
	t.Helper()
	return startServer(t, cliConfig(t))
}

// cliConfig is testConfig with the environment set so that the CLI
// commands reach its store (the data directory), as user "tester".
func cliConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := testConfig(t)
	t.Setenv("UNILOGIN_DATA_DIR", cfg.DataDir)
	t.Setenv("UNILOGIN_BCRYPT_COST", "4")
	t.Setenv("UNILOGIN_CONFIG", "")
	t.Setenv("USER", "tester")
	return cfg
}

func TestReadPasswordTrimsOneNewline(t *testing.T) {
	for in, want := range map[string]string{
		"secret words here\n":   "secret words here",
		"secret words here\r\n": "secret words here",
		"secret words here\n\n": "secret words here\n",
		"  spaced  ":            "  spaced  ",
	} {
		stdin = strings.NewReader(in)
		got, err := readPassword()
		if err != nil || got != want {
			t.Errorf("readPassword(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	stdin = strings.NewReader("\n")
	if _, err := readPassword(); err == nil {
		t.Error("a lone newline was taken as a password")
	}
}

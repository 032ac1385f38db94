package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestHelpPrintsEachFlagOnce: --help prints the usage once, to stdout, and
// nothing to stderr, for every command with flags.
func TestHelpPrintsEachFlagOnce(t *testing.T) {
	for _, tc := range []struct {
		args []string
		once []string // each must appear exactly once in stdout
	}{
		{[]string{"serve", "--help"}, []string{"-config", "usage:"}},
		{[]string{"config", "check", "-h"}, []string{"-config", "usage:"}},
		{[]string{"keys", "list", "--help"}, []string{"-config", "-json", "usage:"}},
		{[]string{"keys", "rotate", "--help"}, []string{"-config", "usage:"}},
		{[]string{"users", "list", "--help"}, []string{"-config", "-json", "usage:"}},
		{[]string{"bench", "--help"}, []string{"usage: unilogin bench", "-duration", "-concurrency", "-json"}},
	} {
		code, out, errOut := cli(t, "", tc.args...)
		if code != exitOK || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
		for _, s := range tc.once {
			if n := countLines(out, s); n != 1 {
				t.Errorf("%v: %q printed %d times:\n%s", tc.args, s, n, out)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%v: a default stated twice: %s", tc.args, line)
			}
		}
	}
	// A bad flag: the flag package's message and the usage once, on stderr.
	code, out, errOut := cli(t, "", "serve", "--nope")
	if code != exitUsage || out != "" || countLines(errOut, "-config") != 1 || !strings.Contains(errOut, "-nope") {
		t.Errorf("serve --nope: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// countLines counts the lines that start with s (after indentation) and
// continue with a space or end there: a flag's line or the usage line.
func countLines(out, s string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), s); ok && (rest == "" || rest[0] == ' ') {
			n++
		}
	}
	return n
}

// TestListJSON: users list and keys list print JSON arrays with --json.
func TestListJSON(t *testing.T) {
	cfg := cliConfig(t)

	var users []map[string]any
	if err := json.Unmarshal([]byte(mustCLI(t, "", "users", "list", "--json")), &users); err != nil || len(users) != 0 {
		t.Fatalf("empty users list --json: %v %v", users, err)
	}
	mustCLI(t, cliPassword+"\n", "users", "create", "--email", "ada@example.com", "--password-stdin", "--role", "admin", "--name", "Ada")
	mustCLI(t, "", "users", "create", "--email", "bob@example.com")
	out := mustCLI(t, "", "users", "list", "--json")
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("users list --json is not JSON: %v\n%s", err, out)
	}
	if len(users) != 2 {
		t.Fatalf("users list --json: %d users\n%s", len(users), out)
	}
	byEmail := map[string]map[string]any{}
	for _, u := range users {
		byEmail[u["email"].(string)] = u
		if id, _ := u["id"].(string); !uuidRE.MatchString(id) {
			t.Errorf("id %q", u["id"])
		}
		if _, ok := u["created_at"].(string); !ok {
			t.Errorf("created_at missing: %v", u)
		}
	}
	if ada := byEmail["ada@example.com"]; ada["name"] != "Ada" || ada["has_password"] != true || ada["disabled"] != false ||
		len(ada["roles"].([]any)) != 1 || ada["roles"].([]any)[0] != "admin" {
		t.Errorf("ada: %v", ada)
	}
	if bob := byEmail["bob@example.com"]; bob["has_password"] != false {
		t.Errorf("bob: %v", bob)
	}
	if strings.Contains(out, "$2a$") || strings.Contains(out, "password_hash") {
		t.Errorf("users list --json shows password hashes:\n%s", out)
	}

	out = mustCLI(t, "", "keys", "list", "--json")
	var keys []map[string]any
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) == 0 {
		t.Fatalf("keys list --json: %v\n%s", err, out)
	}
	k := keys[0]
	if k["kid"] == "" || k["alg"] != cfg.Tokens.Algorithm || k["state"] != "signing" || k["created_at"] == nil || k["d"] != nil {
		t.Errorf("key: %v", k)
	}
	if strings.Contains(out, "PRIVATE") || strings.Contains(out, "\"d\"") {
		t.Errorf("keys list --json shows private material:\n%s", out)
	}
}

// TestDispatch: the command and users dispatchers print usage to stdout for
// their help words, to stderr without a command, and name an unknown one.
func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
		usageOn        string // "stdout", "stderr"
		usage          string
	}{
		{[]string{"help"}, exitOK, "", "", "stdout", usage},
		{[]string{"--help"}, exitOK, "", "", "stdout", usage},
		{nil, exitUsage, "", "", "stderr", usage},
		{[]string{"-help"}, exitUsage, "", "unilogin: unknown command \"-help\"\n\n", "stderr", usage},
		{[]string{"frob"}, exitUsage, "", "unilogin: unknown command \"frob\"\n\n", "stderr", usage},
		{[]string{"users", "-help"}, exitOK, "", "", "stdout", usersUsage},
		{[]string{"users"}, exitUsage, "", "", "stderr", usersUsage},
		{[]string{"users", "frob"}, exitUsage, "", "unilogin users: unknown command \"frob\"\n\n", "stderr", usersUsage},
		{[]string{"config"}, exitUsage, "", "usage: unilogin config check [--config FILE]\n", "", ""},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		wantOut, wantErr := tc.stdout, tc.stderr
		switch tc.usageOn {
		case "stdout":
			wantOut += tc.usage
		case "stderr":
			wantErr += tc.usage
		}
		if code != tc.code || out.String() != wantOut || errb.String() != wantErr {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errb.String(), tc.code, wantOut, wantErr)
		}
	}
}

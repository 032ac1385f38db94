package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeQuickStart extracts the quick-start shell block from README.md
// and runs it with bash and curl, as written, against a real server (the
// only change: localhost:8080 becomes the test server's address). It then
// checks what each command printed, and that the sample token response in
// the block has exactly the keys of the real one.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- quick-start: begin -->\n```sh\n(.*?)```\n<!-- quick-start: end -->").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no quick-start block between <!-- quick-start: begin --> and <!-- quick-start: end -->")
	}
	script := string(m[1])
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the quick start needs %s, which is not installed here", tool)
		}
	}

	cfg := testConfig(t)
	base, stop := startServer(t, cfg)
	defer stop()
	run := strings.ReplaceAll(script, "localhost:8080", strings.TrimPrefix(base, "http://"))
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", run)
	cmd.Env = append(os.Environ(), "ACCESS_TOKEN=", "REFRESH_TOKEN=") // nothing inherited
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the quick start failed: %v\n%s", err, out)
	}

	// Four JSON documents, one per curl/echo: the user, the token pair,
	// the user again (with the access token), the refreshed pair.
	var docs []map[string]any
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("output is not a sequence of JSON objects: %v\n%s", err, out)
		}
		docs = append(docs, d)
	}
	if len(docs) != 4 {
		t.Fatalf("want 4 JSON answers, got %d:\n%s", len(docs), out)
	}
	if docs[0]["email"] != "ada@example.com" || docs[2]["email"] != "ada@example.com" || docs[2]["name"] != "Ada" {
		t.Errorf("signup or /users/me: %v / %v", docs[0], docs[2])
	}
	for i, d := range []map[string]any{docs[1], docs[3]} {
		if d["token_type"] != "Bearer" || d["access_token"] == nil || d["refresh_token"] == nil {
			t.Errorf("token response %d: %v", i, d)
		}
	}
	if docs[3]["refresh_token"] == docs[1]["refresh_token"] {
		t.Error("the refresh did not rotate the refresh token")
	}

	// The sample response shown in the block has the real response's keys.
	sample := regexp.MustCompile(`(?m)^# (\{"access_token".*\})$`).FindStringSubmatch(script)
	if sample == nil {
		t.Fatal("the quick start shows no sample token response")
	}
	var shown map[string]any
	if err := json.Unmarshal([]byte(sample[1]), &shown); err != nil {
		t.Fatalf("sample response is not JSON: %v", err)
	}
	if got, want := keys(shown), keys(docs[1]); !slices.Equal(got, want) {
		t.Errorf("README shows keys %v, the server answers %v", got, want)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package interop_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// readmeExample is the code block after <!-- rp-example: name --> in the
// README's "Hosted sign-in pages" section.
func readmeExample(t *testing.T, name string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- rp-example: " + name + " -->\n```[a-z]+\n(.*?)```")
	m := re.FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README.md has no rp-example %q", name)
	}
	return string(m[1])
}

// TestReadmeRelyingPartyExamples keeps the README's stock-library
// examples working code: the Go program builds against the module's
// go-oidc and x/oauth2, the node one parses (its calls are the ones
// TestNodeOpenIDClient runs).
func TestReadmeRelyingPartyExamples(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Run("go", func(t *testing.T) {
		gomod, err := os.ReadFile("../../go.mod")
		if err != nil {
			t.Fatal(err)
		}
		gosum, err := os.ReadFile("../../go.sum")
		if err != nil {
			t.Fatal(err)
		}
		// The module's own requirements, so that every version is the one
		// the repository builds with (and is in the module cache).
		mod := regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(gomod, []byte("module readmeexample"))
		dir := t.TempDir()
		files := map[string]string{"go.mod": string(mod), "go.sum": string(gosum), "main.go": readmeExample(t, "go")}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.CommandContext(ctx, "go", "vet", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the README's Go example does not build: %v\n%s", err, out)
		}
	})
	t.Run("node", func(t *testing.T) {
		node := ensureOpenIDClient(t)
		path := filepath.Join(t.TempDir(), "example.mjs")
		if err := os.WriteFile(path, []byte(readmeExample(t, "node")), 0o600); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, node, "--check", path)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("the README's node example does not parse: %v\n%s", err, stderr.String())
		}
	})
}

package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api/apitest"
	"github.com/unilogin/unilogin/api/server"
	"github.com/unilogin/unilogin/api/server/servertest"
	"github.com/unilogin/unilogin/config"
)

// nodeRPDir holds the node relying party: rp.mjs, its package.json and
// the package-lock.json that pins openid-client.
const nodeRPDir = "testdata/openid-client"

// nodeRP is the node relying party's configuration at unilogin.
const (
	nodeClientID      = "node-app"
	nodeClientSecret  = "node-app-secret-0123456789"
	nodeRedirect      = "https://node.example.com/callback"
	nodePostLogout    = "https://node.example.com/signed-out"
	nodeServiceID     = "node-service"
	nodeServiceSecret = "node-service-secret-0123456789"
	nodeUserEmail     = "node@example.com"
	nodeUserPassword  = "correct horse battery node"
)

// ensureOpenIDClient installs the node relying party's dependencies
// (openid-client, pinned by package-lock.json) when they are missing, so
// that `make test` works on a fresh machine with Node.js. Without node the
// test fails: it is part of the interoperability promise, not optional.
func ensureOpenIDClient(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: this test runs the openid-client relying party; install Node.js 20 or later with npm (Debian: apt-get install nodejs npm)")
	}
	if _, err := os.Stat(filepath.Join(nodeRPDir, "node_modules", "openid-client", "package.json")); err == nil {
		return node
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("%s/node_modules is missing and npm is not installed: install npm, or run `npm ci` in api/interop/%s", nodeRPDir, nodeRPDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = nodeRPDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in api/interop/%s: %v\n%s", nodeRPDir, err, out)
	}
	return node
}

// TestNodeOpenIDClient runs openid-client 6, unmodified and configured
// with nothing but the issuer URL, through sign-in on the hosted pages,
// ID token verification, UserInfo, refresh, introspection, a service's
// client_credentials token and RP-initiated logout (rp.mjs). The test
// plays the browser; the script checks what the relying party sees.
func TestNodeOpenIDClient(t *testing.T) {
	node := ensureOpenIDClient(t)
	srv := servertest.Start(t, func(c *config.Config) {
		c.Clients = []config.Client{
			{ID: nodeClientID, Name: "Node example", Secret: nodeClientSecret, RedirectURIs: []string{nodeRedirect},
				PostLogoutRedirectURIs: []string{nodePostLogout}},
			{ID: nodeServiceID, Secret: nodeServiceSecret, GrantTypes: []string{"client_credentials"}, Scopes: []string{"docs:read"}},
		}
		c.Roles = map[string][]string{"admin": {"users:admin"}, "member": {"docs:read"}}
	}, server.Options{})
	signupUser(t, srv.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "rp.mjs", srv.URL, nodeClientID, nodeClientSecret, nodeRedirect, nodePostLogout,
		nodeServiceID, nodeServiceSecret, nodeUserEmail)
	cmd.Dir = nodeRPDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	var done map[string]any
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		var msg struct {
			Step string `json:"step"`
			URL  string `json:"url"`
		}
		if err := json.Unmarshal(lines.Bytes(), &msg); err != nil {
			t.Fatalf("rp.mjs printed %q", lines.Text())
		}
		var reached *url.URL
		switch msg.Step {
		case "authorize":
			reached = signInAt(t, b, msg.URL)
		case "logout":
			reached = followLogout(t, b, msg.URL)
		case "done":
			json.Unmarshal(lines.Bytes(), &done)
			stdin.Close()
			continue
		default:
			t.Fatalf("rp.mjs: unknown step %q", msg.Step)
		}
		answer, _ := json.Marshal(map[string]string{"url": reached.String()})
		if _, err := stdin.Write(append(answer, '\n')); err != nil {
			t.Fatalf("answer rp.mjs: %v", err)
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("rp.mjs failed: %v\n%s", err, stderr.String())
	}
	if done == nil || done["sub"] == "" {
		t.Fatalf("rp.mjs did not finish: %v\n%s", done, stderr.String())
	}
}

// signupUser creates the password user the browser signs in as.
func signupUser(t *testing.T, issuer string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": nodeUserEmail, "password": nodeUserPassword, "name": "Node User"})
	res, err := http.Post(issuer+"/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("signup: %d", res.StatusCode)
	}
}

// hostedForm is a hosted page's form around the field named field: where
// it posts and its hidden fields (the CSRF token among them), as a
// browser would submit them.
func hostedForm(t *testing.T, page hop, field string) (*url.URL, url.Values) {
	t.Helper()
	at := bytes.Index(page.body, []byte(`name="`+field+`"`))
	if at < 0 {
		t.Fatalf("%s: %d: no field %q on the page:\n%s", page.url, page.status, field, page.body)
	}
	start := bytes.LastIndex(page.body[:at], []byte("<form"))
	end := bytes.Index(page.body[at:], []byte("</form>"))
	if start < 0 || end < 0 {
		t.Fatalf("%s: field %q is not inside a form", page.url, field)
	}
	form := page.body[start : at+end]
	m := formActionRE.FindSubmatch(form)
	if m == nil {
		t.Fatalf("%s: a form without action", page.url)
	}
	action, err := page.url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	return action, apitest.FormFields(form)
}

// signInAt opens the authorization URL, signs in on the hosted form
// (unless the browser is signed in already) and returns where unilogin
// redirects the browser (the app's callback).
func signInAt(t *testing.T, b *browser, authURL string) *url.URL {
	t.Helper()
	page := b.get(t, authURL)
	var cb *url.URL
	switch page.status {
	case http.StatusOK:
		action, form := hostedForm(t, page, "password")
		form.Set("email", nodeUserEmail)
		form.Set("password", nodeUserPassword)
		cb = b.postForm(t, action.String(), form).redirect(t)
	case http.StatusFound: // already signed in here
		cb = page.redirect(t)
	default:
		t.Fatalf("GET %s: %d %s", authURL, page.status, page.body)
	}
	if !strings.HasPrefix(cb.String(), nodeRedirect+"?") {
		t.Fatalf("sign-in redirected to %s, want the app's callback", cb)
	}
	return cb
}

// followLogout follows the end-session URL to where unilogin sends the
// browser back (the registered post-logout URI).
func followLogout(t *testing.T, b *browser, endURL string) *url.URL {
	t.Helper()
	back := b.get(t, endURL).redirect(t)
	if !strings.HasPrefix(back.String(), nodePostLogout) {
		t.Fatalf("logout redirected to %s, want the post-logout URI", back)
	}
	return back
}

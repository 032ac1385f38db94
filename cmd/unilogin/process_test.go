package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the unilogin binary: with UNILOGIN_TEST_RUN_MAIN
// set it runs main's command line instead of the tests, so process-level
// behaviour (kill -9, SIGTERM) is tested on the real program.
func TestMain(m *testing.M) {
	if args := os.Getenv("UNILOGIN_TEST_RUN_MAIN"); args != "" {
		os.Exit(run(context.Background(), strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// process is a unilogin child process.
type process struct {
	cmd  *exec.Cmd
	base string
}

// startProcess runs "unilogin serve" in a child with the given data dir and
// environment and waits until it listens.
func startProcess(t *testing.T, dataDir string, env ...string) *process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "UNILOGIN_TEST_RUN_MAIN=serve", "UNILOGIN_DATA_DIR="+dataDir,
		"UNILOGIN_HTTP_ADDR="+addr, "UNILOGIN_LOG_FORMAT=json")
	cmd.Env = append(cmd.Env, env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("unilogin exited before listening")
			}
			if strings.Contains(l, "unilogin listening") {
				if !strings.Contains(l, `"store":"sqlite`) {
					t.Errorf("the start line does not name the store: %s", l)
				}
				return &process{cmd: cmd, base: "http://" + addr}
			}
		case <-deadline:
			t.Fatal("unilogin did not start")
		}
	}
}

// TestCommittedWritesSurviveKill9: a user and a refresh rotation committed
// before SIGKILL are there after a restart on the same data directory.
func TestCommittedWritesSurviveKill9(t *testing.T) {
	dir := t.TempDir()
	p := startProcess(t, dir, "UNILOGIN_BCRYPT_COST=4")
	mustSignup(t, p.base, "kill@example.com")
	tok := postForm(t, p.base+"/token", url.Values{"grant_type": {"password"}, "username": {"kill@example.com"}, "password": {"correct horse battery"}})
	next := postForm(t, p.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p = startProcess(t, dir, "UNILOGIN_BCRYPT_COST=4")
	postForm(t, p.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next["refresh_token"].(string)}})
	postForm(t, p.base+"/token", url.Values{"grant_type": {"password"}, "username": {"kill@example.com"}, "password": {"correct horse battery"}})
}

// TestSIGTERMDrainsInFlightRequests: a slow request (a password grant at a
// high bcrypt cost) started before SIGTERM completes; new connections are
// refused once the server drains.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	dir := t.TempDir()
	// Create the user quickly, then restart with a slow bcrypt cost.
	p := startProcess(t, dir, "UNILOGIN_BCRYPT_COST=4")
	mustSignup(t, p.base, "slow@example.com")
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()

	// Cost 15: the login re-hashes at the new cost, a second or more of work
	// (much more under -race). The drain and write deadlines are set far beyond it, so
	// only the server's behaviour decides, not this machine's speed.
	cfgFile := filepath.Join(t.TempDir(), "unilogin.yaml")
	if err := os.WriteFile(cfgFile, []byte("http:\n  shutdown_timeout: 10m\n  write_timeout: 10m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = startProcess(t, dir, "UNILOGIN_BCRYPT_COST=15", "UNILOGIN_CONFIG="+cfgFile)
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.PostForm(p.base+"/token", url.Values{"grant_type": {"password"}, "username": {"slow@example.com"}, "password": {"correct horse battery"}})
		if err != nil {
			done <- result{err: err}
			return
		}
		res.Body.Close()
		done <- result{status: res.StatusCode}
	}()
	// Wait until the request is in flight (the server logs nothing before
	// it completes, so give the connection a moment), then ask to stop.
	time.Sleep(300 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused while the in-flight request finishes.
	refused := false
	for range 100 {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(p.base, "http://"), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	r := <-done
	if r.err != nil || r.status != 200 {
		t.Fatalf("the in-flight request did not complete: %v %d", r.err, r.status)
	}
	if !refused {
		t.Fatal("new connections were still accepted while draining")
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("unilogin exited with %v after SIGTERM", err)
	}
}

// TestKill9DuringKeyRotation: `unilogin keys rotate` killed with SIGKILL at
// various points leaves a key table in which every instance still signs
// with a key it publishes, and accepts the others' tokens.
func TestKill9DuringKeyRotation(t *testing.T) {
	dir := t.TempDir()
	env := []string{"UNILOGIN_DATA_DIR=" + dir, "UNILOGIN_BCRYPT_COST=4"}
	for i, delay := range []time.Duration{0, 20 * time.Millisecond, 60 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(append(os.Environ(), "UNILOGIN_TEST_RUN_MAIN=keys rotate"), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Logf("rotation %d finished before the kill after %s", i, delay)
		}
	}
	a := startProcess(t, dir, env[1:]...)
	b := startProcess(t, dir, env[1:]...)
	mustSignup(t, a.base, "rot@example.com")
	for _, signer := range []*process{a, b} {
		tok := postForm(t, signer.base+"/token", url.Values{"grant_type": {"password"}, "username": {"rot@example.com"}, "password": {"correct horse battery"}})
		access := tok["access_token"].(string)
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(access, ".")[0])
		var h struct {
			Kid string `json:"kid"`
		}
		_ = json.Unmarshal(header, &h)
		for _, p := range []*process{a, b} {
			if !strings.Contains(get(t, p.base+"/.well-known/jwks.json"), `"kid":"`+h.Kid+`"`) {
				t.Errorf("%s does not publish the kid %s that %s signs with", p.base, h.Kid, signer.base)
			}
			req, _ := http.NewRequest("GET", p.base+"/users/me", nil)
			req.Header.Set("Authorization", "Bearer "+access)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Errorf("%s refuses a token of %s: %v %v", p.base, signer.base, err, res)
			} else {
				res.Body.Close()
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// benchServer is a `unilogin serve` process that the bench drives: this
// binary, or another build given with --compare. In a process of its own
// its CPU time is the server's alone, without the load generator's.
type benchServer struct {
	name    string // "new", or the --compare label
	bin     string
	dir     string // data directory and configuration
	base    string // http://127.0.0.1:port
	cmd     *exec.Cmd
	readyMs float64 // exec to the first 200 from /readyz
}

// startBenchProcess starts bin serve on dir (created on first use) with the
// embedded store, bcrypt at cost and the request limits off (the bench
// signs in correctly from one address as fast as it can; the hashing gate
// stays on), logging JSON at info level to /dev/null: the encoding is paid,
// the I/O not. It returns once /readyz answers 200.
func startBenchProcess(ctx context.Context, name, bin, dir string, cost int) (*benchServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "unilogin.yaml")
	cfg := fmt.Sprintf("data_dir: %q\nhttp:\n  addr: \"127.0.0.1:%d\"\npasswords:\n  bcrypt_cost: %d\n"+
		"rate_limits:\n  enabled: false\nlog:\n  level: info\n  format: json\n", filepath.Join(dir, "data"), port, cost)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	s := &benchServer{name: name, bin: bin, dir: dir, base: "http://127.0.0.1:" + strconv.Itoa(port)}
	s.cmd = benchCommand(bin, "serve", "--config", cfgPath)
	var stderr bytes.Buffer
	s.cmd.Stderr = &limitedBuffer{b: &stderr, max: 4096}
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("%s (%s) exited before it was ready: %v: %s", name, bin, err, strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			s.kill(exited)
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if res, err := client.Get(s.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				s.readyMs = ms(time.Since(start))
				s.cmd.Stderr = nil
				go func() { <-exited }() // reaped by stop
				return s, nil
			}
		}
		if time.Since(start) > time.Minute {
			s.kill(exited)
			return nil, fmt.Errorf("%s did not get ready within a minute", name)
		}
	}
}

func (s *benchServer) kill(exited <-chan error) {
	s.cmd.Process.Kill()
	<-exited
}

// stop ends the server with SIGTERM (it drains) and waits for it.
func (s *benchServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	for range 500 {
		if err := s.cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.cmd.Process.Kill()
}

// cpuSeconds is the server process's CPU time so far (user+system).
func (s *benchServer) cpuSeconds() float64 {
	return procCPUSeconds("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
}

// benchCommand makes the command line of a server process (tests run
// their own binary instead).
var benchCommand = func(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = benchServerEnv()
	return cmd
}

// benchServerEnv is the environment without UNILOGIN_ settings, which
// would override the bench's configuration file.
func benchServerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UNILOGIN_") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// limitedBuffer keeps the first max bytes written (a child's stderr).
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// timeToReady starts bin twice on a fresh data directory at bcrypt cost
// 12 (the default) and returns the milliseconds from exec to ready of the
// second start (the first also creates the keys) and of the first.
func timeToReady(ctx context.Context, name, bin, dir string) (second, first float64, err error) {
	for i := range 2 {
		s, err := startBenchProcess(ctx, name, bin, dir, 12)
		if err != nil {
			return 0, 0, err
		}
		s.stop()
		if i == 0 {
			first = s.readyMs
		} else {
			second = s.readyMs
		}
	}
	return second, first, nil
}

// rowsPerSession counts the rows the server's SQLite database keeps for
// the session of accessToken (its sid claim): the session row and any
// refresh-token rows (the scheme before the refresh chain kept one per
// rotation).
func (s *benchServer) rowsPerSession(ctx context.Context, accessToken string) (int, error) {
	sid, err := tokenSessionID(accessToken)
	if err != nil {
		return 0, err
	}
	db, err := sqlitedb.OpenRead(filepath.Join(s.dir, "data", "unilogin.db"), 1, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sessions WHERE id = ?)
		+ (SELECT count(*) FROM refresh_tokens WHERE session_id = ?)`, sid, sid).Scan(&n)
	return n, err
}

// tokenSessionID reads the sid claim of a JWT without verifying it (the
// bench only counts rows with it).
func tokenSessionID(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.SID == "" {
		return "", fmt.Errorf("access token has no sid claim: %v", err)
	}
	return c.SID, nil
}

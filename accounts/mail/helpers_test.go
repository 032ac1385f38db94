package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/accounts/sqlitestore/sqlitetest"
)

// received is one message the test server accepted.
type received struct {
	from, to string
	data     []byte
	tls      bool
	authed   bool
}

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) in the
// test process, recording what it accepts.
type smtpServer struct {
	user, pass string // empty: no AUTH required
	mu         sync.Mutex
	got        []received
	srv        *smtp.Server
	addr       string
}

func (b *smtpServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, c: c}, nil
}

type session struct {
	b        *smtpServer
	c        *smtp.Conn
	authed   bool
	from, to string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.b.user || pass != s.b.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	_, isTLS := s.c.TLSConnectionState()
	s.b.got = append(s.b.got, received{from: s.from, to: s.to, data: data, tls: isTLS, authed: s.authed})
	s.b.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (b *smtpServer) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

// startSMTP serves on addr ("127.0.0.1:0" for any port); implicit: TLS
// from the first byte; cert: offered by STARTTLS or implicit TLS.
func startSMTP(t *testing.T, b *smtpServer, addr string, cert *tls.Certificate, implicit bool) {
	t.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	var l net.Listener
	var err error
	for range 50 { // a port just released may take a moment to be free again
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	b.srv, b.addr = srv, l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
}

// listenSMTP starts b on a free loopback port and returns where.
func listenSMTP(t *testing.T, b *smtpServer, cert *tls.Certificate, implicit bool) (host string, port int) {
	t.Helper()
	startSMTP(t, b, "127.0.0.1:0", cert, implicit)
	return b.hostPort(t)
}

func (b *smtpServer) hostPort(t *testing.T) (string, int) {
	host, port, err := net.SplitHostPort(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

// testCert is a fresh self-signed certificate for 127.0.0.1 and the pool
// that trusts it.
func testCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// freePort returns a loopback address nothing listens on (yet).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// queueStore is the embedded store in a temporary directory.
func queueStore(t *testing.T) mail.QueueStore {
	t.Helper()
	return sqlitetest.New(t)
}

// debugLog logs everything to w (a testkit.SyncBuffer).
func debugLog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start builds the queue with fast retries and runs the worker until the
// test ends.
func start(t *testing.T, cfg mail.Config, store mail.QueueStore, log *slog.Logger) (*mail.Worker, *mail.Queue) {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Acme <noreply@acme.test>"
	}
	cfg.RetryMin, cfg.RetryMax, cfg.PollInterval = 20*time.Millisecond, 200*time.Millisecond, 20*time.Millisecond
	w, q, err := mail.New(cfg, store, log)
	if err != nil {
		t.Fatalf("mail.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(t.Context()) }()
	t.Cleanup(func() {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	})
	return w, q
}

// waitFor polls cond with a generous deadline: no timing assertions.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

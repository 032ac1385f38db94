package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	certPEM, keyPEM []byte
	serial          *big.Int
	x509            *x509.Certificate
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "unilogin test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	return testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		serial:  serial, x509: parsed,
	}
}

// write puts the pair in place and moves both mtimes to at, so that a
// change is visible whatever the file system's timestamp granularity.
func (c testCert) write(t *testing.T, certFile, keyFile string, at time.Time) {
	t.Helper()
	for _, f := range []struct {
		path string
		data []byte
	}{{certFile, c.certPEM}, {keyFile, c.keyPEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f.path, at, at); err != nil {
			t.Fatal(err)
		}
	}
}

type certClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *certClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *certClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	mtime := time.Now().Add(-time.Hour)
	a := newTestCert(t)
	a.write(t, certFile, keyFile, mtime)

	r, err := newCertReloader(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	clk := &certClock{t: time.Now()}
	r.now = clk.Now
	serving := func() *big.Int {
		t.Helper()
		c, err := r.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber
	}
	if serving().Cmp(a.serial) != 0 {
		t.Fatal("not serving the initial certificate")
	}

	// A new pair on disk is picked up at the next check, not before.
	b := newTestCert(t)
	mtime = mtime.Add(time.Minute)
	b.write(t, certFile, keyFile, mtime)
	if serving().Cmp(a.serial) != 0 {
		t.Fatal("the files were looked at again within the check interval")
	}
	clk.Advance(certCheckInterval)
	if serving().Cmp(b.serial) != 0 {
		t.Fatal("the changed files were not reloaded")
	}

	// A broken pair (certificate and key do not match, e.g. half-written)
	// keeps the current certificate, and is retried until it is whole.
	c := newTestCert(t)
	mtime = mtime.Add(time.Minute)
	if err := os.WriteFile(certFile, c.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(certFile, mtime, mtime)
	clk.Advance(certCheckInterval)
	if serving().Cmp(b.serial) != 0 {
		t.Fatal("a mismatched pair replaced the working certificate")
	}
	c.write(t, certFile, keyFile, mtime.Add(time.Minute))
	clk.Advance(certCheckInterval)
	if serving().Cmp(c.serial) != 0 {
		t.Fatal("the completed pair was not loaded")
	}

	// SIGHUP reloads at once, even when the timestamps look unchanged.
	d := newTestCert(t)
	d.write(t, certFile, keyFile, mtime.Add(time.Minute)) // the stamp c was loaded with
	signals := make(chan os.Signal)
	done := make(chan struct{})
	go func() { r.watch(t.Context(), signals); close(done) }()
	signals <- syscall.SIGHUP
	signals <- syscall.SIGHUP // the first reload has finished once this is received
	if serving().Cmp(d.serial) != 0 {
		t.Fatal("SIGHUP did not reload")
	}

	// Unreadable files at start-up are an error; later, they keep the current pair.
	if _, err := newCertReloader(filepath.Join(dir, "missing.crt"), keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a missing certificate file was accepted at start-up")
	}
	os.Remove(certFile)
	clk.Advance(certCheckInterval)
	if serving().Cmp(d.serial) != 0 {
		t.Fatal("a vanished file dropped the certificate")
	}
}

// TestServeTLS: serve with http.tls set answers over HTTPS (TLS 1.2+), sends
// HSTS, and swaps its certificate on SIGHUP without a restart.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t)
	cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := newTestCert(t)
	first.write(t, cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile, time.Now())
	base, stop := startServer(t, cfg)
	defer stop()
	addr := strings.TrimPrefix(base, "http://")

	pool := x509.NewCertPool()
	pool.AddCert(first.x509)
	second := newTestCert(t)
	pool.AddCert(second.x509)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}

	res, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("GET /healthz over TLS: %d %+v", res.StatusCode, res.TLS)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Fatalf("Strict-Transport-Security %q", got)
	}
	if res.TLS.PeerCertificates[0].SerialNumber.Cmp(first.serial) != 0 {
		t.Fatal("not serving the configured certificate")
	}
	// Plain http on the TLS port gets Go's fixed 400, never the API.
	if res, err := http.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain http on the TLS port: %d", res.StatusCode)
		}
	}

	// Rotate: new files, then SIGHUP (serve listens for it while running).
	second.write(t, cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile, time.Now())
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		serial := conn.ConnectionState().PeerCertificates[0].SerialNumber
		conn.Close()
		if serial.Cmp(second.serial) == 0 {
			break
		}
		if i == 500 {
			t.Fatal("the rotated certificate was never served")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowlorisIsCutOff: a client that sends its headers a byte at a time,
// never finishing them, is disconnected by ReadHeaderTimeout, and the
// server keeps serving others. The assertion is the closed connection,
// not a time bound.
func TestSlowlorisIsCutOff(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.ReadHeaderTimeout = 300 * time.Millisecond
	cfg.HTTP.ReadTimeout = time.Hour // only the header timeout may cut it off
	base, stop := startServer(t, cfg)
	defer stop()

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(bufio.NewReader(conn)) // returns at EOF or reset
		closed <- b
	}()
	header := "GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + strings.Repeat("X-Slow: loris\r\n", 60)
	var got []byte
	cutOff := false
	for i := 0; i < len(header) && !cutOff; i++ {
		if _, err := conn.Write([]byte{header[i]}); err != nil {
			cutOff = true // the server closed the connection
			break
		}
		select {
		case got = <-closed:
			cutOff = true
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !cutOff {
		t.Fatalf("the server read %d bytes of headers, one at a time, without cutting the client off", len(header))
	}
	if got == nil {
		select {
		case got = <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the connection was not closed")
		}
	}
	if strings.Contains(string(got), "200 OK") {
		t.Fatalf("the slow request was served: %q", got)
	}

	// Others are still served.
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/healthz after the slowloris: %d", res.StatusCode)
	}
}

package mail_test

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

const link = "https://id.example.com/verify-email?token=q5ZK3dXxYl6s1lZ2n9cBvO0eR7wT4uA8mJhGfKpLyQs"

var brand = mail.Branding{ProductName: "Acme ID", AccentColor: "#c0ffee"}

func verifyMessage(t *testing.T, to string) mail.Message {
	t.Helper()
	m, err := mail.AccountMessage(i18n.Default(), brand, to, accounts.MailVerifyEmail, link, 24*time.Hour, time.Now())
	if err != nil {
		t.Fatalf("AccountMessage: %v", err)
	}
	return m
}

// enqueue queues a verification message to to.
func enqueue(t *testing.T, q *mail.Queue, to string) {
	t.Helper()
	if err := q.Enqueue(t.Context(), verifyMessage(t, to)); err != nil {
		t.Fatal(err)
	}
}

// checkParts parses raw as RFC 5322 multipart/alternative and returns the
// text part, checking the link is alone on a line of it.
func checkParts(t *testing.T, raw []byte) (text, html string) {
	t.Helper()
	_, text, html = decodeParts(t, raw)
	lineAlone := false
	for _, l := range strings.Split(text, "\r\n") {
		lineAlone = lineAlone || l == link
	}
	if !lineAlone {
		t.Errorf("the text part has no line holding the link alone:\n%s", text)
	}
	if !strings.Contains(html, `href="`+link+`"`) || !strings.Contains(html, "#c0ffee") || !strings.Contains(html, "Acme ID") {
		t.Errorf("the HTML part lacks the link or the branding:\n%s", html)
	}
	return text, html
}

// decodeParts parses raw as RFC 5322 multipart/alternative and returns
// its decoded subject, text part and HTML part.
func decodeParts(t *testing.T, raw []byte) (subject, text, html string) {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // decodes quoted-printable
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			html = string(b)
		}
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject: %v", err)
	}
	return subject, text, html
}

func TestSMTPPlainWithAuth(t *testing.T) {
	srv := &smtpServer{user: "mailer", pass: "s3cret"}
	host, port := listenSMTP(t, srv, nil, false)
	w, q := start(t, mail.Config{SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone,
		Username: "mailer", Password: "s3cret"}}, queueStore(t), nil)
	if err := q.Enqueue(t.Context(), verifyMessage(t, "ann@example.org")); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	waitFor(t, "delivery", func() bool { return len(srv.messages()) == 1 })
	got := srv.messages()[0]
	if !got.authed || got.from != "noreply@acme.test" || got.to != "ann@example.org" {
		t.Errorf("received %+v, want an authenticated message from noreply@acme.test to ann@example.org", got)
	}
	checkParts(t, got.data)
	waitFor(t, "the sent count", func() bool { return w.Stats().Sent == 1 })
}

func TestSMTPStartTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := &smtpServer{user: "mailer", pass: "s3cret"}
	host, port := listenSMTP(t, srv, cert, false)
	_, q := start(t, mail.Config{SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSStartTLS,
		Username: "mailer", Password: "s3cret", RootCAs: pool}}, queueStore(t), nil)
	enqueue(t, q, "ann@example.org")
	waitFor(t, "delivery", func() bool { return len(srv.messages()) == 1 })
	if got := srv.messages()[0]; !got.tls || !got.authed {
		t.Errorf("received tls=%v authed=%v, want both after STARTTLS", got.tls, got.authed)
	}
}

// TestSMTPStartTLSRequired: a server without STARTTLS gets nothing, not
// even the credentials; the message waits.
func TestSMTPStartTLSRequired(t *testing.T) {
	srv := &smtpServer{user: "mailer", pass: "s3cret"}
	_, log := retried(t, srv, mail.SMTPConfig{TLS: mail.TLSStartTLS, Username: "mailer", Password: "s3cret"}, 1)
	if n := len(srv.messages()); n != 0 || !strings.Contains(log, "STARTTLS") {
		t.Errorf("%d messages went in the clear; log:\n%s", n, log)
	}
}

// retried sends one message through srv with smtp (Host and Port set to
// srv's) until the worker has retried it retries times; it returns the
// worker and the log.
func retried(t *testing.T, srv *smtpServer, smtp mail.SMTPConfig, retries int64) (*mail.Worker, string) {
	t.Helper()
	smtp.Host, smtp.Port = listenSMTP(t, srv, nil, false)
	var logs testkit.SyncBuffer
	w, q := start(t, mail.Config{SMTP: &smtp}, queueStore(t), debugLog(&logs))
	enqueue(t, q, "ann@example.org")
	waitFor(t, "retries", func() bool { return w.Stats().Retried >= retries })
	return w, logs.String()
}

func TestSMTPImplicitTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := &smtpServer{}
	host, port := listenSMTP(t, srv, cert, true)
	_, q := start(t, mail.Config{SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSImplicit, RootCAs: pool}},
		queueStore(t), nil)
	enqueue(t, q, "bob@example.org")
	waitFor(t, "delivery", func() bool { return len(srv.messages()) == 1 })
	if got := srv.messages()[0]; !got.tls || got.to != "bob@example.org" {
		t.Errorf("received %+v, want over TLS to bob@example.org", got)
	}
}

// TestServerDownThenUp: the message is queued while nothing listens, and
// delivered once the server comes up.
func TestServerDownThenUp(t *testing.T) {
	addr := freePort(t)
	srv := &smtpServer{}
	srv.addr = addr
	host, port := srv.hostPort(t)
	w, q := start(t, mail.Config{SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone}}, queueStore(t), nil)
	if err := q.Enqueue(t.Context(), verifyMessage(t, "ann@example.org")); err != nil {
		t.Fatalf("Enqueue while the server is down: %v", err)
	}
	waitFor(t, "two failed attempts", func() bool { return w.Stats().Retried >= 2 })
	startSMTP(t, srv, addr, nil, false)
	waitFor(t, "delivery after the server came up", func() bool { return len(srv.messages()) == 1 })
	checkParts(t, srv.messages()[0].data)
	if s := w.Stats(); s.GaveUp != 0 {
		t.Errorf("stats %+v: a message was dropped", s)
	}
}

// TestWrongCredentials: a rejected login is retried and logged, never
// dropped silently, and the password stays out of the log.
func TestWrongCredentials(t *testing.T) {
	srv := &smtpServer{user: "mailer", pass: "right"}
	w, out := retried(t, srv, mail.SMTPConfig{TLS: mail.TLSNone, Username: "mailer", Password: "wrong-pass-xyz"}, 2)
	if !strings.Contains(out, "will retry") || !strings.Contains(out, "535") {
		t.Errorf("log does not report the failed login:\n%s", out)
	}
	for _, secret := range []string{"wrong-pass-xyz", "token=", "q5ZK3dXx"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if s := w.Stats(); s.GaveUp != 0 || s.Sent != 0 || len(srv.messages()) != 0 {
		t.Errorf("stats %+v, %d received: want the message kept for later", s, len(srv.messages()))
	}
}

// TestGiveUp: past its age a message is dropped, and the log says so.
func TestGiveUp(t *testing.T) {
	srv := &smtpServer{}
	srv.addr = freePort(t)
	host, port := srv.hostPort(t)
	var logs testkit.SyncBuffer
	w, q := start(t, mail.Config{MaxAge: 300 * time.Millisecond,
		SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone}}, queueStore(t), debugLog(&logs))
	enqueue(t, q, "ann@example.org")
	waitFor(t, "giving up", func() bool { return w.Stats().GaveUp == 1 })
	if out := logs.String(); !strings.Contains(out, "message dropped undelivered") || !strings.Contains(out, "connect to") {
		t.Errorf("log does not report the dropped message and its last error:\n%s", out)
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "outbox")
	var logs testkit.SyncBuffer
	w, q := start(t, mail.Config{OutboxDir: dir, Branding: brand}, queueStore(t), debugLog(&logs))
	enqueue(t, q, "ann@example.org")
	waitFor(t, "the outbox file", func() bool { return w.Stats().Sent == 1 })
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != 1 {
		t.Fatalf("outbox holds %v (%v), want one .eml file", files, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("outbox directory mode %v, want 0700", fi.Mode().Perm())
	}
	fi, _ := os.Stat(files[0])
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("outbox file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(files[0])
	checkParts(t, raw)
	if !strings.Contains(string(raw), "\r\n"+link+"\r\n") {
		t.Error("the raw file does not hold the link whole on a line (readable without decoding)")
	}
	out := logs.String()
	if !strings.Contains(out, "written to the outbox") || strings.Contains(out, "token") || strings.Contains(out, "q5ZK3dXx") {
		t.Errorf("log should say a message was written, never its link:\n%s", out)
	}
}

func TestRecipientFloodBound(t *testing.T) {
	_, q := start(t, mail.Config{OutboxDir: t.TempDir(), PerRecipientLimit: 3}, queueStore(t), nil)
	for i := range 5 {
		err := q.Enqueue(t.Context(), verifyMessage(t, "Ann@Example.org"))
		if i < 3 && err != nil {
			t.Errorf("message %d within the bound: %v", i, err)
		}
		if i >= 3 && !errors.Is(err, mail.ErrRecipientLimit) {
			t.Errorf("message %d over the bound: err = %v, want ErrRecipientLimit", i, err)
		}
	}
	if err := q.Enqueue(t.Context(), verifyMessage(t, "bob@example.org")); err != nil {
		t.Errorf("another recipient: %v", err)
	}
	if s := q.Stats(); s.Rejected != 2 || s.Enqueued != 4 {
		t.Errorf("stats %+v, want 4 enqueued and 2 rejected", s)
	}
}

func TestEnqueueRejectsBadMessages(t *testing.T) {
	_, q := start(t, mail.Config{OutboxDir: t.TempDir()}, queueStore(t), nil)
	good := verifyMessage(t, "ann@example.org")
	for name, mutate := range map[string]func(m *mail.Message){
		"header injection in To":      func(m *mail.Message) { m.To = "ann@example.org\r\nBcc: eve@example.org" },
		"display name in To":          func(m *mail.Message) { m.To = "Ann <ann@example.org>" },
		"header injection in Subject": func(m *mail.Message) { m.Subject = "hi\r\nBcc: eve@example.org" },
		"empty text":                  func(m *mail.Message) { m.Text = " " },
	} {
		m := good
		mutate(&m)
		if err := q.Enqueue(t.Context(), m); !errors.Is(err, mail.ErrInvalidMessage) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage", name, err)
		}
	}
	if _, err := mail.Compose(brand, "ann@example.org", mail.Content{Subject: "x",
		Action: &mail.Action{Label: "go", URL: "javascript:alert(1)"}}); !errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("Compose with a javascript: link: err = %v, want ErrInvalidMessage", err)
	}
}

// TestTwoInstancesDeliverOnce runs two workers on one database: every
// message arrives exactly once.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	srv := &smtpServer{}
	host, port := listenSMTP(t, srv, nil, false)
	store := queueStore(t)
	cfg := mail.Config{SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone}}
	_, q1 := start(t, cfg, store, nil)
	_, q2 := start(t, cfg, store, nil)
	const n = 20
	for i := range n {
		q := q1
		if i%2 == 1 {
			q = q2
		}
		if err := q.Enqueue(t.Context(), verifyMessage(t, "user"+string(rune('a'+i))+"@example.org")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every message", func() bool { return len(srv.messages()) >= n })
	time.Sleep(200 * time.Millisecond) // let a duplicate, if any, arrive: not a timing assertion
	seen := map[string]int{}
	for _, m := range srv.messages() {
		seen[m.to]++
	}
	for to, c := range seen {
		if c != 1 {
			t.Errorf("%s received %d copies", to, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d recipients reached, want %d", len(seen), n)
	}
}

// TestPermanentRefusal: a 5xx answer to RCPT TO drops the message at once
// (logged), and the next message still goes out.
func TestPermanentRefusal(t *testing.T) {
	srv := &smtpServer{}
	host, port := listenSMTP(t, srv, nil, false)
	var logs testkit.SyncBuffer
	w, q := start(t, mail.Config{SMTP: &mail.SMTPConfig{Host: host, Port: port, TLS: mail.TLSNone}}, queueStore(t), debugLog(&logs))
	enqueue(t, q, "nobody@example.org")
	enqueue(t, q, "ann@example.org")
	waitFor(t, "one dropped and one sent", func() bool { s := w.Stats(); return s.GaveUp == 1 && s.Sent == 1 })
	if s := w.Stats(); s.Retried != 0 {
		t.Errorf("stats %+v: a permanent refusal was retried", s)
	}
	if out := logs.String(); !strings.Contains(out, "permanent failure") || !strings.Contains(out, "550") {
		t.Errorf("log does not report the refusal:\n%s", out)
	}
}

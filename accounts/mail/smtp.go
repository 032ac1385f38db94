package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of SMTPConfig.TLS.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS (RFC 3207), required
	TLSImplicit = "tls"      // TLS from the first byte (RFC 8314 §3.3)
	TLSNone     = "none"     // no TLS: a loopback host only
)

// SMTPConfig is an SMTP submission server.
type SMTPConfig struct {
	Host string
	Port int // 0: 587 for starttls, 465 for tls, 25 for none
	// Username and Password authenticate with SMTP AUTH (RFC 4954) when
	// Username is set: the strongest mechanism both sides know over TLS,
	// PLAIN in the clear (loopback only).
	Username, Password string
	TLS                string        // TLSStartTLS (default), TLSImplicit or TLSNone
	Timeout            time.Duration // dial, and each command after it; 0: 30s
	// HeloName is the EHLO name; empty: the machine's host name.
	HeloName string
	// RootCAs verifies the server's certificate; nil: the system roots.
	RootCAs *x509.CertPool
}

func (c SMTPConfig) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.TLS == TLSImplicit:
		return 465
	case c.TLS == TLSNone:
		return 25
	}
	return 587
}

func (c SMTPConfig) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

// SMTP is a Sender that submits each message over a new connection.
type SMTP struct {
	cfg SMTPConfig
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns the sender. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: smtp: empty host")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if !IsLoopback(cfg.Host) {
			return nil, fmt.Errorf("mail: smtp: tls none is allowed only to a loopback host, not %q", cfg.Host)
		}
	default:
		return nil, fmt.Errorf("mail: smtp: tls must be starttls, tls or none, not %q", cfg.TLS)
	}
	return &SMTP{cfg: cfg}, nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// Send dials, says EHLO, secures the connection as configured, logs in,
// and sends raw with the envelope. Every command must complete within the
// timeout; cancelling ctx closes the connection. A 5xx answer to MAIL, RCPT
// or DATA wraps ErrPermanent; a failed login does not (the operator can fix
// the credentials while the message waits).
func (s *SMTP) Send(ctx context.Context, env Envelope, raw []byte) (err error) {
	timeout := s.cfg.timeout()
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port()),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}),
		gomail.WithoutNoop(),
	}
	if s.cfg.HeloName != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HeloName))
	}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.TLS == TLSNone {
			auth = gomail.SMTPAuthPlainNoEnc // loopback only (NewSMTP)
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp: %w", err)
	}
	c, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("mail: smtp: connect to %s: %w", net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.port())), err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer func() {
		stop()
		if err == nil {
			_ = c.UpdateDeadline(timeout)
			_ = c.Quit()
		}
		_ = c.Close()
	}()

	step := func(what string, f func() error) error {
		if err := c.UpdateDeadline(timeout); err != nil {
			return fmt.Errorf("mail: smtp: %s: %w", what, err)
		}
		if err := f(); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("mail: smtp: %s: %w", what, ctx.Err())
			}
			var tp *textproto.Error
			if errors.As(err, &tp) && tp.Code >= 500 {
				return fmt.Errorf("%w: %s: %w", ErrPermanent, what, err)
			}
			return fmt.Errorf("mail: smtp: %s: %w", what, err)
		}
		return nil
	}
	if err := step("MAIL FROM", func() error { return c.Mail(env.From) }); err != nil {
		return err
	}
	if err := step("RCPT TO", func() error { return c.Rcpt(env.To) }); err != nil {
		return err
	}
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if err := step("DATA", func() (err error) { w, err = c.Data(); return err }); err != nil {
		return err
	}
	if err := step("message", func() error {
		if _, err := bytes.NewReader(raw).WriteTo(w); err != nil {
			return err
		}
		return w.Close()
	}); err != nil {
		return err
	}
	return nil
}

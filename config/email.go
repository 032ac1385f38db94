package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// Email configures outgoing e-mail (docs/configuration.md, "E-mail").
type Email struct {
	// From is the sender: "Name <address>" or a bare address. Required
	// with SMTP; default for the outbox: no-reply@<issuer host>.
	From string `yaml:"from"`
	// SMTP is the mail server; without a host, messages are written to
	// <data_dir>/outbox/ instead.
	SMTP SMTP `yaml:"smtp"`
	// SMTPURL is UNILOGIN_SMTP_URL. Load parses it into SMTP, which it
	// replaces entirely (the environment wins over the file).
	SMTPURL string `yaml:"-"`

	// Lifetimes of the links in verification, reset and address-change
	// messages (defaults 24h, 30m, 24h).
	VerifyTTL time.Duration `yaml:"verify_ttl"`
	ResetTTL  time.Duration `yaml:"reset_ttl"`
	ChangeTTL time.Duration `yaml:"change_ttl"`

	Queue EmailQueue `yaml:"queue"`

	// Verification sends a verification link at each password sign-up
	// (default true: delivery is always configured, by SMTP or the
	// outbox). Off, addresses are verified only on request, by a reset
	// or by an administrator.
	Verification *bool `yaml:"verification"`
}

// VerificationOn reports whether a password sign-up sends a verification
// link.
func (e Email) VerificationOn() bool { return e.Verification == nil || *e.Verification }

// SMTP is an SMTP submission server.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"` // 0: 587 (starttls), 465 (tls), 25 (none)
	Username string `yaml:"username"`
	// Password is secret: also password_file.
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// TLS is starttls (default), tls (implicit, RFC 8314) or none (a
	// loopback host only).
	TLS string `yaml:"tls"`
	// Timeout bounds the dial and each SMTP command (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// EmailQueue tunes the delivery queue.
type EmailQueue struct {
	// MaxAge: a message still undelivered this long after it was queued
	// is dropped and logged (default 24h).
	MaxAge time.Duration `yaml:"max_age"`
	// PerRecipient bounds the messages accepted for one address (default
	// 10 per 1h); more are dropped and counted. Limit 0 turns it off.
	PerRecipient Rate `yaml:"per_recipient"`
}

// Enabled reports whether SMTP delivery is configured (else: the outbox).
func (s SMTP) Enabled() bool { return s.Host != "" }

func defaultEmail() Email {
	return Email{
		SMTP:      SMTP{TLS: "starttls", Timeout: 30 * time.Second},
		VerifyTTL: 24 * time.Hour,
		ResetTTL:  30 * time.Minute,
		ChangeTTL: 24 * time.Hour,
		Queue:     EmailQueue{MaxAge: 24 * time.Hour, PerRecipient: Rate{Limit: 10, Window: time.Hour}},
	}
}

// SMTPURLEnv names the variable holding the whole SMTP setting as a URL
// (see ParseSMTPURL); it wins over email.smtp.
const SMTPURLEnv = "UNILOGIN_SMTP_URL"

var smtpURLVar = EnvVar{Name: SMTPURLEnv, Key: "email.smtp", Secret: true}

// ParseSMTPURL reads smtp://[user:pass@]host[:port] (STARTTLS),
// smtps://... (implicit TLS) or smtp+insecure://... (no TLS). Errors never
// contain the URL, which may hold a password.
func ParseSMTPURL(raw string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTP{}, fmt.Errorf("not a valid URL: %s", urlErr(err))
	}
	s := SMTP{Timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtp":
		s.TLS = "starttls"
	case "smtps":
		s.TLS = "tls"
	case "smtp+insecure":
		s.TLS = "none"
	default:
		return SMTP{}, errors.New("scheme must be smtp (STARTTLS), smtps (implicit TLS) or smtp+insecure (loopback only)")
	}
	if u.Hostname() == "" {
		return SMTP{}, errors.New("must name a host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return SMTP{}, errors.New("must not have a path, query or fragment")
	}
	s.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return SMTP{}, errors.New("port must be a number from 1 to 65535")
		}
		s.Port = int(n)
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return s, nil
}

// resolveEmail applies UNILOGIN_SMTP_URL over email.smtp, or else reads
// email.smtp.password_file (relative to dir).
func resolveEmail(c *Config, dir string, getenv func(string) string, readFile func(string) ([]byte, error)) []Problem {
	e := &c.Email
	// Not in envTable: it sets a whole section, which the table's one-field
	// entries cannot express. It is still a secret with a _FILE companion.
	raw, p := envValue(smtpURLVar, getenv, readFile)
	if p != nil {
		return []Problem{*p}
	}
	if raw != "" {
		e.SMTPURL = raw
	}
	if e.SMTPURL != "" {
		s, err := ParseSMTPURL(e.SMTPURL)
		if err != nil {
			return []Problem{{SMTPURLEnv, err.Error()}}
		}
		if e.SMTP.Timeout > 0 {
			s.Timeout = e.SMTP.Timeout
		}
		e.SMTP = s
		return nil
	}
	if e.SMTP.PasswordFile == "" {
		return nil
	}
	if e.SMTP.Password != "" {
		return []Problem{{"email.smtp", "password and password_file are both set; use one"}}
	}
	file := e.SMTP.PasswordFile
	if !filepath.IsAbs(file) && dir != "" {
		file = filepath.Join(dir, file)
	}
	pw, err := readSecretFile(file, readFile)
	if err != nil {
		return []Problem{{"email.smtp.password_file", secretFileMessage(file, err)}}
	}
	e.SMTP.Password = pw
	return nil
}

// email checks the e-mail settings; path names UNILOGIN_SMTP_URL when the
// SMTP settings came from it.
func (v *validator) email(e *Email) {
	smtp := "email.smtp"
	if e.SMTPURL != "" {
		smtp = "UNILOGIN_SMTP_URL"
	}
	s := e.SMTP
	if e.From != "" {
		if _, err := mail.ParseAddress(e.From); err != nil {
			v.add("email.from", "must be an address such as no-reply@example.com or \"Example <no-reply@example.com>\"")
		}
	} else if s.Enabled() {
		v.add("email.from", "required when SMTP is configured")
	}
	switch s.TLS {
	case "starttls", "tls":
	case "none":
		if s.Enabled() && !isLoopback(s.Host) {
			v.add(smtp+".tls", "none (plain SMTP) is allowed only to a loopback host, not %q; use starttls or tls", s.Host)
		}
	default:
		v.add(smtp+".tls", "must be starttls, tls or none, not %q", s.TLS)
	}
	if s.Enabled() {
		if ip := net.ParseIP(s.Host); ip == nil && (len(s.Host) > 253 || !hostRE.MatchString(s.Host)) {
			v.add(smtp+".host", "must be a host name or IP address")
		}
	}
	if s.Port < 0 || s.Port > 65535 {
		v.add(smtp+".port", "must be from 1 to 65535 (0: the default of the tls mode)")
	}
	if s.Username == "" && s.Password != "" {
		v.add(smtp+".username", "required when a password is set")
	}
	if s.Username != "" && s.Password == "" && s.PasswordFile == "" {
		v.add(smtp+".password", "required when username is set (also password_file)")
	}
	v.positive("email.smtp.timeout", s.Timeout)
	for _, ttl := range []struct {
		key      string
		d, limit time.Duration
	}{
		{"email.verify_ttl", e.VerifyTTL, 30 * 24 * time.Hour},
		{"email.reset_ttl", e.ResetTTL, 24 * time.Hour},
		{"email.change_ttl", e.ChangeTTL, 30 * 24 * time.Hour},
	} {
		if ttl.d < time.Minute || ttl.d > ttl.limit {
			v.add(ttl.key, "must be from 1m to %s", ttl.limit)
		}
	}
	if e.Queue.MaxAge < time.Minute || e.Queue.MaxAge > 7*24*time.Hour {
		v.add("email.queue.max_age", "must be from 1m to 168h")
	}
	r := e.Queue.PerRecipient
	if r.Limit < 0 {
		v.add("email.queue.per_recipient.limit", "must not be negative (0 turns the bound off)")
	}
	if r.Limit > 0 && (r.Window < time.Second || r.Window > 24*time.Hour) {
		v.add("email.queue.per_recipient.window", "must be from 1s to 24h when the limit is on")
	}
}

// hostRE is a DNS host name: dot-separated labels of letters, digits and
// hyphens.
var hostRE = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))*$`)

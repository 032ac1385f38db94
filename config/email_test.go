package config

import (
	"strings"
	"testing"
	"time"
)

func TestEmailDefaults(t *testing.T) {
	c, err := Load("", env(nil), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Email
	if e.SMTP.Enabled() || e.SMTP.TLS != "starttls" || e.VerifyTTL != 24*time.Hour || e.ResetTTL != 30*time.Minute ||
		e.ChangeTTL != 24*time.Hour || e.Queue.PerRecipient != (Rate{10, time.Hour}) {
		t.Errorf("defaults = %+v", e)
	}
	if p := c.Validate(); len(p) != 0 {
		t.Errorf("defaults invalid: %v", p)
	}
}

func TestSMTPURL(t *testing.T) {
	tests := []struct {
		url  string
		want SMTP
	}{
		{"smtp://mailer:p%40ss@smtp.example.com", SMTP{Host: "smtp.example.com", Username: "mailer", Password: "p@ss", TLS: "starttls", Timeout: 30 * time.Second}},
		{"smtps://smtp.example.com:2465", SMTP{Host: "smtp.example.com", Port: 2465, TLS: "tls", Timeout: 30 * time.Second}},
		{"smtp+insecure://127.0.0.1:1025", SMTP{Host: "127.0.0.1", Port: 1025, TLS: "none", Timeout: 30 * time.Second}},
	}
	for _, tc := range tests {
		yaml := "email:\n  from: a@example.com\n  smtp:\n    host: file.example.com\n    username: u\n    password_file: /nope\n"
		c, err := Load("/etc/u.yaml", env(map[string]string{SMTPURLEnv: tc.url}), files(map[string]string{"/etc/u.yaml": yaml}))
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if c.Email.SMTP != tc.want {
			t.Errorf("%s: smtp = %+v, want %+v (the URL wins over the file)", tc.url, c.Email.SMTP, tc.want)
		}
		if p := c.Validate(); len(p) != 0 {
			t.Errorf("%s: %v", tc.url, p)
		}
	}
	// From the _FILE companion.
	c, err := Load("", env(map[string]string{SMTPURLEnv + "_FILE": "/run/s"}), files(map[string]string{"/run/s": "smtps://h.example.com\n"}))
	if err != nil || c.Email.SMTP.Host != "h.example.com" {
		t.Errorf("from _FILE: %+v, %v", c.Email.SMTP, err)
	}
	for _, bad := range []string{"http://u:secretpw@h", "smtp://u:secretpw@", "smtp://u:secretpw@h/path", "smtp://u:secretpw@h:99999"} {
		_, err := Load("", env(map[string]string{SMTPURLEnv: bad}), files(nil))
		if err == nil || !strings.Contains(err.Error(), SMTPURLEnv) || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: err = %v, want a refusal naming the variable, without the password", bad, err)
		}
	}
}

func TestEmailValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		path   string
	}{
		{"from required with SMTP", func(c *Config) { c.Email.SMTP.Host = "smtp.example.com" }, "email.from"},
		{"bad from", func(c *Config) { c.Email.From = "not an address" }, "email.from"},
		{"plain to a remote host", func(c *Config) {
			c.Email.From, c.Email.SMTP.Host, c.Email.SMTP.TLS = "a@example.com", "smtp.example.com", "none"
		}, "email.smtp.tls"},
		{"plain URL to a remote host", func(c *Config) {
			c.Email.From, c.Email.SMTPURL = "a@example.com", "smtp+insecure://smtp.example.com"
			c.Email.SMTP, _ = ParseSMTPURL(c.Email.SMTPURL)
		}, "UNILOGIN_SMTP_URL.tls"},
		{"unknown tls", func(c *Config) { c.Email.SMTP.TLS = "ssl" }, "email.smtp.tls"},
		{"user without password", func(c *Config) { c.Email.SMTP.Username = "u" }, "email.smtp.password"},
		{"reset ttl too long", func(c *Config) { c.Email.ResetTTL = 48 * time.Hour }, "email.reset_ttl"},
		{"verify ttl zero", func(c *Config) { c.Email.VerifyTTL = 0 }, "email.verify_ttl"},
		{"change ttl negative", func(c *Config) { c.Email.ChangeTTL = -time.Hour }, "email.change_ttl"},
		{"max age zero", func(c *Config) { c.Email.Queue.MaxAge = 0 }, "email.queue.max_age"},
		{"bound negative", func(c *Config) { c.Email.Queue.PerRecipient.Limit = -1 }, "email.queue.per_recipient.limit"},
	}
	for _, tc := range tests {
		c := Default()
		tc.mutate(c)
		found := false
		for _, p := range c.Validate() {
			found = found || p.Path == tc.path
		}
		if !found {
			t.Errorf("%s: no problem at %s in %v", tc.name, tc.path, c.Validate())
		}
	}
	c := Default()
	c.Email.From, c.Email.SMTP.Host, c.Email.SMTP.TLS = "a@example.com", "localhost", "none"
	if p := c.Validate(); len(p) != 0 {
		t.Errorf("plain SMTP to localhost: %v", p)
	}
}

func TestSMTPPasswordFile(t *testing.T) {
	yaml := "email:\n  from: a@example.com\n  smtp:\n    host: smtp.example.com\n    username: u\n    password_file: pw\n"
	c, err := Load("/etc/u/c.yaml", env(nil), files(map[string]string{"/etc/u/c.yaml": yaml, "/etc/u/pw": "hunter2\n"}))
	if err != nil || c.Email.SMTP.Password != "hunter2" {
		t.Fatalf("password_file: %q, %v", c.Email.SMTP.Password, err)
	}
	yaml += "    password: also\n"
	if _, err := Load("/etc/u/c.yaml", env(nil), files(map[string]string{"/etc/u/c.yaml": yaml, "/etc/u/pw": "x"})); err == nil {
		t.Error("password and password_file both set: no error")
	}
}

// email.verification: on by default; off from the file or the environment.
func TestEmailVerificationSwitch(t *testing.T) {
	if !Default().Email.VerificationOn() {
		t.Error("email.verification is off by default")
	}
	c, err := Load("c.yaml", env(nil), files(map[string]string{"c.yaml": "email:\n  verification: false\n"}))
	if err != nil || c.Email.VerificationOn() {
		t.Errorf("verification: false in the file: on=%v, %v", c != nil && c.Email.VerificationOn(), err)
	}
	c, err = Load("c.yaml", env(map[string]string{"UNILOGIN_EMAIL_VERIFICATION": "true"}), files(map[string]string{"c.yaml": "email:\n  verification: false\n"}))
	if err != nil || !c.Email.VerificationOn() {
		t.Errorf("UNILOGIN_EMAIL_VERIFICATION=true over the file: %v", err)
	}
}

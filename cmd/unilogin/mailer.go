package main

import (
	"log/slog"
	"net/url"
	"path/filepath"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/config"
)

// mailConfig maps the email section onto the mail package: SMTP when a
// host is configured, else <data_dir>/outbox; the sender defaults to
// no-reply@<issuer host> for the outbox.
func mailConfig(c *config.Config) mail.Config {
	e := c.Email
	host := "localhost"
	if u, err := url.Parse(c.Issuer); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	mc := mail.Config{
		From:               e.From,
		OutboxDir:          filepath.Join(c.DataDir, "outbox"),
		Branding:           mail.Branding{ProductName: c.Branding.ProductName, AccentColor: c.Branding.AccentColor},
		MaxAge:             e.Queue.MaxAge,
		PerRecipientLimit:  e.Queue.PerRecipient.Limit,
		PerRecipientWindow: e.Queue.PerRecipient.Window,
	}
	if mc.From == "" {
		mc.From = "no-reply@" + host
	}
	if e.SMTP.Enabled() {
		mc.SMTP = &mail.SMTPConfig{Host: e.SMTP.Host, Port: e.SMTP.Port, Username: e.SMTP.Username,
			Password: e.SMTP.Password, TLS: e.SMTP.TLS, Timeout: e.SMTP.Timeout, HeloName: host}
	}
	return mc
}

// newMailer builds the mail worker (run it with `go w.Run(ctx)`) and the
// queue the account flows enqueue to. store is the accounts store: both
// bundled backends implement mail.QueueStore.
func newMailer(c *config.Config, store mail.QueueStore, log *slog.Logger) (*mail.Worker, *mail.Queue, error) {
	return mail.New(mailConfig(c), store, log)
}

package server

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/config"
)

// signupPolicy converts config's signup section.
func signupPolicy(s config.Signup) accounts.SignupPolicy {
	return accounts.SignupPolicy{Disabled: !s.On(), AllowedDomains: s.AllowedEmailDomains,
		RequireVerifiedEmail: s.VerifiedEmailRequired()}
}

// openMail builds the delivery queue over the accounts store (which keeps
// it, on both backends) and its worker: SMTP when configured, else the
// outbox <data_dir>/outbox (docs/configuration.md, "E-mail").
func openMail(cfg *config.Config, store accounts.Store, log *slog.Logger) (*mail.Worker, *mail.Queue, error) {
	qs, ok := store.(mail.QueueStore)
	if !ok {
		return nil, nil, errors.New("the accounts store keeps no mail queue")
	}
	return mail.New(mailConfig(cfg), qs, log)
}

// mailConfig maps the configuration to the mail package's: SMTP when
// configured, else the outbox; the sender defaults to no-reply@<issuer host>.
func mailConfig(cfg *config.Config) mail.Config {
	host := "localhost"
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	mc := mail.Config{
		From:               cfg.Email.From,
		OutboxDir:          filepath.Join(cfg.DataDir, "outbox"),
		Branding:           mail.Branding{ProductName: cfg.Branding.Effective().ProductName, AccentColor: cfg.Branding.Effective().AccentColor},
		MaxAge:             cfg.Email.Queue.MaxAge,
		PerRecipientLimit:  cfg.Email.Queue.PerRecipient.Limit,
		PerRecipientWindow: cfg.Email.Queue.PerRecipient.Window,
	}
	if s := cfg.Email.SMTP; s.Enabled() {
		mc.SMTP = &mail.SMTPConfig{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
			TLS: s.TLS, Timeout: s.Timeout, HeloName: host}
	}
	if mc.From == "" {
		mc.From = "no-reply@" + host // the outbox's default sender
	}
	return mc
}

// openRecovery builds the e-mail flows over acc, queuing on q.
func openRecovery(cfg *config.Config, acc *accounts.Service, audit accounts.AuditStore, q *mail.Queue, log *slog.Logger) (*accounts.Recovery, error) {
	flows, err := mail.NewFlows(q, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	return accounts.NewRecovery(acc, accounts.RecoveryOptions{Mailer: flows, Audit: audit,
		VerifyTTL: cfg.Email.VerifyTTL, ResetTTL: cfg.Email.ResetTTL, ChangeTTL: cfg.Email.ChangeTTL, Log: log,
		NoSignupVerification: !cfg.Email.VerificationOn()})
}

// RunMail delivers the queued messages until ctx ends (Run does it too;
// servertest runs only this, without the sweeper).
func (s *Server) RunMail(ctx context.Context) {
	if s.mail == nil {
		return
	}
	if err := s.mail.Run(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("mail delivery stopped", "error", err.Error())
	}
}

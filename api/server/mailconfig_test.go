package server

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/config"
)

func TestMailConfig(t *testing.T) {
	c := config.Default()
	c.Issuer, c.DataDir = "https://id.example.com", "/var/lib/unilogin"
	mc := mailConfig(c)
	if mc.SMTP != nil || mc.OutboxDir != filepath.Join("/var/lib/unilogin", "outbox") || mc.From != "no-reply@id.example.com" ||
		mc.PerRecipientLimit != 10 || mc.PerRecipientWindow != time.Hour || mc.MaxAge != 24*time.Hour ||
		mc.Branding.ProductName != "unilogin" {
		t.Errorf("outbox mapping = %+v", mc)
	}
	c.Email.From = "Acme <no-reply@acme.test>"
	c.Email.SMTP = config.SMTP{Host: "smtp.acme.test", Port: 2587, Username: "u", Password: "p", TLS: "starttls", Timeout: time.Second}
	mc = mailConfig(c)
	want := mail.SMTPConfig{Host: "smtp.acme.test", Port: 2587, Username: "u", Password: "p", TLS: "starttls", Timeout: time.Second, HeloName: "id.example.com"}
	if mc.SMTP == nil || *mc.SMTP != want || mc.From != c.Email.From {
		t.Errorf("smtp mapping = %+v, want %+v", mc.SMTP, want)
	}
	if _, _, err := openMail(c, nil, nil); err == nil {
		t.Error("openMail without a queue store: no error")
	}
}

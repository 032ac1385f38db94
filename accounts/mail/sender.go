package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Envelope is the SMTP envelope of one message (RFC 5321 §2.3.1).
type Envelope struct {
	ID   string // the queue id, for logs
	From string // bare address of MAIL FROM
	To   string // bare address of RCPT TO
}

// Sender is the last hop of a rendered message. Send returns nil only when
// the message has been handed over (accepted by the mail server, or written
// in full). Errors wrapping ErrPermanent will fail again however often they
// are retried. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, env Envelope, raw []byte) error
}

// ErrPermanent marks a delivery error that retrying cannot fix, such as a
// 5xx answer to RCPT TO for an address that does not exist.
var ErrPermanent = errors.New("mail: permanent delivery failure")

// Outbox is a Sender that writes each message as an RFC 5322 file
// <dir>/<time>-<id>.eml (mode 0600, in a 0700 directory), for development
// and for `make run` without a mail server. It logs that a message was
// written, never its content: the links in it are credentials.
type Outbox struct {
	dir string
	log *slog.Logger
}

var _ Sender = (*Outbox)(nil)

// NewOutbox returns an Outbox writing into dir, which it creates (0700)
// when missing.
func NewOutbox(dir string, log *slog.Logger) (*Outbox, error) {
	if dir == "" {
		return nil, errors.New("mail: outbox: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{dir: dir, log: log}, nil
}

// Dir is the outbox directory.
func (o *Outbox) Dir() string { return o.dir }

// Send writes the file through a temporary name and renames it, so that a
// reader never sees half a message.
func (o *Outbox) Send(ctx context.Context, env Envelope, raw []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.eml", time.Now().UTC().Format("20060102T150405.000000000Z"), safeName(env.ID))
	f, err := os.CreateTemp(o.dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(raw)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(o.dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail: outbox: %w", err)
	}
	o.log.Info("mail: message written to the outbox", "id", env.ID, "file", name, "to_domain", addressDomain(env.To))
	return nil
}

// safeName keeps [a-z0-9] of an id, so it cannot leave the directory.
func safeName(id string) string {
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id) && len(b) < 64; i++ {
		if c := id[i]; c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return "message"
	}
	return string(b)
}

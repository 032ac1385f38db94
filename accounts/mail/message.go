package mail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message is one e-mail to one recipient, as the account flows hand it to
// Queue.Enqueue. Build it with Compose (or one of the message constructors
// in templates.go) so that it carries both parts and the branding.
type Message struct {
	// To is the recipient's bare address (no display name).
	To string
	// Subject is the subject line, one line of at most MaxSubjectLen characters.
	Subject string
	// Text is the text/plain part: every link alone on a line of its own.
	Text string
	// HTML is the text/html part; empty: the message is text/plain only.
	HTML string
	// Expires, when set, is when the message becomes pointless (its link
	// expires): the queue gives up delivering it then, or at its maximum
	// age, whichever comes first.
	Expires time.Time
}

// MaxSubjectLen bounds Message.Subject (in characters), which keeps the
// encoded header well inside RFC 5322's 998-octet line limit.
const MaxSubjectLen = 200

// maxLine is RFC 5322 §2.1.1's limit on a line, CRLF excluded.
const maxLine = 998

var (
	// ErrInvalidMessage reports a message that cannot be sent as it is: a
	// bad recipient address, a multi-line or overlong subject, no body.
	ErrInvalidMessage = errors.New("mail: invalid message")
)

// ParseAddress checks that s is one bare RFC 5322 address (addr-spec) and
// returns it.
func ParseAddress(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, "\r\n<>\"") || strings.ContainsFunc(s, unicode.IsSpace) {
		return "", fmt.Errorf("%w: recipient must be a bare address", ErrInvalidMessage)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", fmt.Errorf("%w: recipient must be a bare address", ErrInvalidMessage)
	}
	return a.Address, nil
}

func (m *Message) check() error {
	if _, err := ParseAddress(m.To); err != nil {
		return err
	}
	if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") || utf8.RuneCountInString(m.Subject) > MaxSubjectLen ||
		!utf8.ValidString(m.Subject) {
		return fmt.Errorf("%w: subject must be one line of 1 to %d characters", ErrInvalidMessage, MaxSubjectLen)
	}
	if strings.TrimSpace(m.Text) == "" {
		return fmt.Errorf("%w: the text/plain part is empty", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return fmt.Errorf("%w: body is not valid UTF-8", ErrInvalidMessage)
	}
	return nil
}

// render returns m as an RFC 5322 message from the given sender, with a
// Date of now and the given Message-ID: multipart/alternative (RFC 2046
// §5.1.4) with the text part first when m has HTML, text/plain alone
// otherwise. Lines end in CRLF. The text part is sent as 7bit (pure ASCII)
// or 8bit (UTF-8) when no line is too long, so that links stay readable in
// the raw message (an outbox file); otherwise, and for HTML, it is
// quoted-printable.
func render(from *mail.Address, m Message, now time.Time, messageID string) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", "<"+m.To+">")
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID+">")
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated") // RFC 3834 §5: no vacation replies
	if m.HTML == "" {
		cte, body := encodeBody(m.Text, true)
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", cte)
		b.WriteString("\r\n")
		b.Write(body)
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, p := range []struct {
		ctype, body string
		plain       bool
	}{{"text/plain; charset=utf-8", m.Text, true}, {"text/html; charset=utf-8", m.HTML, false}} {
		cte, body := encodeBody(p.body, p.plain)
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {p.ctype}, "Content-Transfer-Encoding": {cte}})
		if err != nil {
			return nil, fmt.Errorf("mail: render: %w", err)
		}
		if _, err := w.Write(body); err != nil {
			return nil, fmt.Errorf("mail: render: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("mail: render: %w", err)
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// encodeBody returns the Content-Transfer-Encoding and the encoded body
// with CRLF line ends. Only a plain part may go unencoded.
func encodeBody(s string, plain bool) (string, []byte) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if plain && shortLines(lines) {
		cte := "7bit"
		for _, r := range s {
			if r >= utf8.RuneSelf {
				cte = "8bit" // RFC 6152; the SMTP client asks for BODY=8BITMIME
				break
			}
		}
		return cte, []byte(strings.Join(lines, "\r\n") + "\r\n")
	}
	var b bytes.Buffer
	qw := quotedprintable.NewWriter(&b)
	_, _ = qw.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
	_ = qw.Close()
	return "quoted-printable", b.Bytes()
}

func shortLines(lines []string) bool {
	for _, l := range lines {
		if len(l) > maxLine || strings.ContainsRune(l, 0) {
			return false
		}
	}
	return true
}

// newMessageID returns a unique Message-ID (RFC 5322 §3.6.4) in the
// sender's domain; the random part is also the queue id.
func newMessageID(domain string) (id, messageID string) {
	id = strings.ToLower(rand.Text()) // 26 base32 characters, 130 bits
	return id, id + "@" + domain
}

// addressDomain is the part of a bare address after its last @.
func addressDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

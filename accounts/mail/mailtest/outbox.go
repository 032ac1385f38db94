package mailtest

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Outbox reads the messages a service wrote to its outbox directory, the
// way a person would: the link on a line of its own in the text part.
// Tests of the HTTP layer, the CLI and the browser use it.
type Outbox struct {
	Dir  string
	seen map[string]bool
}

// NewOutbox reads dir (<data_dir>/outbox).
func NewOutbox(dir string) *Outbox { return &Outbox{Dir: dir, seen: map[string]bool{}} }

// Link waits for the next unread message to `to` whose text part has a
// line starting with prefix + "?token=" (prefix: <issuer><path>) and
// returns that token. Messages are delivered by a background worker, so
// it polls; the deadline only bounds a failing test.
func (o *Outbox) Link(t testing.TB, to, prefix string) string {
	t.Helper()
	prefix += "?token="
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(o.Dir, "*.eml"))
		for _, f := range files {
			if o.seen[f] {
				continue
			}
			rcpt, text := ReadEML(f)
			if !strings.EqualFold(rcpt, to) {
				continue
			}
			for _, line := range strings.Split(text, "\n") {
				line = strings.TrimRight(line, "\r")
				if strings.HasPrefix(line, prefix) {
					o.seen[f] = true
					u, err := url.Parse(line)
					if err != nil {
						t.Fatalf("link %q: %v", line, err)
					}
					return u.Query().Get("token")
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no message to %s with a %s link in %s", to, prefix, o.Dir)
	return ""
}

// Count is how many messages to `to` are in the outbox now.
func (o *Outbox) Count(to string) int {
	files, _ := filepath.Glob(filepath.Join(o.Dir, "*.eml"))
	n := 0
	for _, f := range files {
		if rcpt, _ := ReadEML(f); strings.EqualFold(rcpt, to) {
			n++
		}
	}
	return n
}

// ReadEML returns a message file's recipient and decoded text/plain part;
// empty strings for a file being written or gone.
func ReadEML(path string) (rcpt, text string) {
	if strings.HasPrefix(filepath.Base(path), ".") {
		return "", "" // the outbox's file being written
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", "" // renamed meanwhile
	}
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return "", "" // still being written
	}
	if to, _ := mail.ParseAddress(m.Header.Get("To")); to != nil {
		rcpt = to.Address
	}
	decode := func(cte string, r io.Reader) string {
		if strings.EqualFold(cte, "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, _ := io.ReadAll(r)
		return string(b)
	}
	mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		return rcpt, decode(m.Header.Get("Content-Transfer-Encoding"), m.Body)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return rcpt, ""
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "text/plain" {
			return rcpt, decode(p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
}

// WaitCount waits until at least n messages to `to` are in the outbox.
func (o *Outbox) WaitCount(t testing.TB, to string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for o.Count(to) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %s in %s, want %d", o.Count(to), to, o.Dir, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

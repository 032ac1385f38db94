package apitest

import (
	"path/filepath"
	"testing"

	"github.com/unilogin/unilogin/accounts/mail/mailtest"
)

// Outbox reads the messages the service wrote to <data_dir>/outbox.
type Outbox struct {
	e   *Env
	box *mailtest.Outbox
}

// Outbox is the env's outbox.
func (e *Env) Outbox() *Outbox {
	return &Outbox{e: e, box: mailtest.NewOutbox(filepath.Join(e.Cfg.DataDir, "outbox"))}
}

// Link waits for the next unread message to `to` with a <issuer><path>
// link and returns its token.
func (o *Outbox) Link(to, path string) string {
	o.e.T.Helper()
	return o.box.Link(o.e.T, to, o.e.URL+path)
}

// Count is how many messages to `to` are in the outbox now.
func (o *Outbox) Count(to string) int { return o.box.Count(to) }

// WantStatus fails t unless r has the status.
func WantStatus(t testing.TB, what string, r Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// WantError fails t unless r is the contract's error with status and code.
func WantError(t testing.TB, what string, r Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
	if got := r.ErrCode(t); got != code {
		t.Fatalf("%s: error %q, want %q", what, got, code)
	}
}

// WaitCount waits until n messages to `to` are in the outbox (the worker
// delivers in the background).
func (o *Outbox) WaitCount(to string, n int) {
	o.e.T.Helper()
	o.box.WaitCount(o.e.T, to, n)
}

package mfa_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
)

// flakyAudit is an audit store that fails while down is set.
type flakyAudit struct {
	accounts.AuditStore
	down atomic.Bool
}

func (f *flakyAudit) AppendAudit(ctx context.Context, e *accounts.AuditEvent) error {
	if f.down.Load() {
		return errors.New("audit store down")
	}
	return f.AuditStore.AppendAudit(ctx, e)
}

// TestNotAudited: a change whose audit event cannot be written still
// happened and says so (ErrNotAudited); a wrong code whose failure cannot
// be audited is a wrong code, never taken for a success.
func TestNotAudited(t *testing.T) {
	audit := &flakyAudit{}
	e := newEnv(t, func(o *mfa.Options) { audit.AuditStore = o.Audit; o.Audit = audit })
	u, secret := e.totpUser(t, "na@example.com")
	audit.down.Store(true)
	_, err := e.svc.Verify(t.Context(), u.ID, mfa.Proof{Code: "000000"})
	if !errors.Is(err, mfa.ErrInvalidCode) || errors.Is(err, mfa.ErrNotAudited) {
		t.Fatalf("wrong code, audit down: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	err = e.svc.RemoveTOTP(t.Context(), u.ID, mfa.Proof{Code: code(t, secret, e.clock.Now())})
	if !errors.Is(err, mfa.ErrNotAudited) {
		t.Fatalf("removal, audit down: %v, want ErrNotAudited", err)
	}
	if on, err := e.svc.HasTOTP(t.Context(), u.ID); err != nil || on {
		t.Errorf("TOTP after the unaudited removal: %v %v", on, err)
	}
}

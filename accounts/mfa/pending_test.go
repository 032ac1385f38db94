package mfa_test

import (
	"errors"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

func TestPendingEnrollment(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	u := e.user(t, "pen@example.com", true)
	if _, err := e.svc.PendingEnrollment(ctx, u.ID); !errors.Is(err, accounts.ErrTOTPNotEnabled) {
		t.Fatalf("nothing pending: %v, want ErrTOTPNotEnabled", err)
	}
	enr, err := e.svc.EnrollTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.PendingEnrollment(ctx, u.ID)
	if err != nil || *got != *enr {
		t.Fatalf("PendingEnrollment = %+v, %v; want %+v", got, err, enr)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, code(t, enr.Secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	// Confirmed: nothing is pending any more, the secret is not shown again.
	if _, err := e.svc.PendingEnrollment(ctx, u.ID); !errors.Is(err, accounts.ErrTOTPNotEnabled) {
		t.Fatalf("after confirmation: %v, want ErrTOTPNotEnabled", err)
	}
}

package accounts

import (
	"context"
	"errors"
	"strconv"
)

// errNoRecovery: the Admin was built without AdminOptions.Recovery.
var errNoRecovery = errors.New("accounts: admin: e-mail flows are not configured")

// ResendVerification sends a verification link to the user's address
// (event user.email.verification_resend) and reports whether one was
// sent: nothing is sent when the address is already verified. A user
// without an address is a *ValidationError; a disabled one ErrDisabled.
func (a *Admin) ResendVerification(ctx context.Context, actor Actor, id string) (bool, error) {
	if err := checkActor(actor); err != nil {
		return false, err
	}
	if a.recovery == nil {
		return false, errNoRecovery
	}
	u, err := a.svc.GetActive(ctx, id)
	if err != nil {
		return false, err
	}
	sent, err := a.recovery.sendVerification(ctx, u)
	if err != nil {
		return false, err
	}
	return sent, a.Record(ctx, actor, ActionVerificationResend, id,
		map[string]string{"email": u.Email, "sent": strconv.FormatBool(sent)})
}

// MarkVerified marks the user's current address verified (event
// user.email.mark_verified): the administrator vouches for it, so a
// provider sign-in with the same verified address links to this user. A
// user without an address is a *ValidationError.
func (a *Admin) MarkVerified(ctx context.Context, actor Actor, id string) (*User, error) {
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	u, err := a.svc.store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Email == "" {
		return nil, &ValidationError{Field: "email", Reason: "the user has no e-mail address to verify", Err: ErrInvalidInput}
	}
	// Conditional on the address read: one changed meanwhile is not the
	// one the administrator looked at (ErrConflict; try again).
	if err := a.svc.store.MarkEmailVerified(ctx, id, u.Email); err != nil {
		return nil, err
	}
	if err := a.Record(ctx, actor, ActionEmailMarkVerified, id, map[string]string{"email": u.Email}); err != nil {
		return nil, err
	}
	return a.svc.store.GetUser(ctx, id)
}

// StartReset sends a password-reset link to the user's address (event
// user.password.reset_start), as if the user had asked for it; nothing
// changes until the link is redeemed. A user without an address is a
// *ValidationError; a disabled one ErrDisabled.
func (a *Admin) StartReset(ctx context.Context, actor Actor, id string) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	if a.recovery == nil {
		return errNoRecovery
	}
	u, err := a.svc.GetActive(ctx, id)
	if err != nil {
		return err
	}
	if u.Email == "" {
		return &ValidationError{Field: "email", Reason: "the user has no e-mail address to send a reset link to", Err: ErrInvalidInput}
	}
	r := a.recovery
	token, err := r.issue(ctx, u, PurposeReset, "", r.resetTTL)
	if err != nil {
		return err
	}
	if err := r.mailer.Send(ctx, AccountMail{Kind: MailResetPassword, To: u.Email, Token: token, TTL: r.resetTTL}); err != nil {
		return err
	}
	return a.Record(ctx, actor, ActionPasswordResetStart, id, map[string]string{"email": u.Email})
}

package accounts

import (
	"context"
	"errors"
	"time"
)

// ResendVerification sends a verification link to email if it is the
// unverified address of an enabled user (POST /verify-email/resend, for
// users who cannot sign in yet). See ForgotPassword for why it answers
// alike, in alike time, for every address.
func (r *Recovery) ResendVerification(ctx context.Context, email string) error {
	return r.blind(ctx, email, PurposeVerify, func(u *User) bool { return !u.EmailVerified },
		MailVerifyEmail, r.verifyTTL)
}

// ForgotPassword sends a reset link to email if it is the address of an
// enabled user (POST /password/forgot); a user without a password may set
// one this way. It returns nil whatever the address, unless the store
// fails. For every address the work done before it returns is the same:
// one lookup, one token generated and hashed, then a wait until
// RecoveryOptions.AnswerFloor has passed since the call; storing the token
// and queuing the message for a known address happen in the background
// (see Wait), so the answer's timing does not tell them apart.
// A new request does not end the older links.
func (r *Recovery) ForgotPassword(ctx context.Context, email string) error {
	return r.blind(ctx, email, PurposeReset, func(*User) bool { return true }, MailResetPassword, r.resetTTL)
}

// blind is ForgotPassword and ResendVerification: eligible users get a
// link of purpose, everyone else nothing, indistinguishably.
func (r *Recovery) blind(ctx context.Context, email string, purpose TokenPurpose, eligible func(*User) bool, kind MailKind, ttl time.Duration) error {
	floor := time.NewTimer(r.answerFloor) // real time, whatever the service's clock
	defer floor.Stop()
	err := r.blindSend(ctx, email, purpose, eligible, kind, ttl)
	select {
	case <-floor.C:
	case <-ctx.Done(): // the caller is gone: nobody to time the answer
	}
	return err
}

func (r *Recovery) blindSend(ctx context.Context, email string, purpose TokenPurpose, eligible func(*User) bool, kind MailKind, ttl time.Duration) error {
	var u *User
	if len(email) <= 254 {
		var err error
		u, err = r.svc.store.GetUserByEmail(ctx, email)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	token, hash := NewEmailToken()
	if u == nil || u.Disabled || u.Email == "" || !eligible(u) {
		return nil
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
		defer cancel()
		err := r.store(bctx, u, purpose, "", ttl, hash)
		if err == nil {
			err = r.mailer.Send(bctx, AccountMail{Kind: kind, To: u.Email, Token: token, TTL: ttl})
		}
		if err != nil {
			r.log.Warn("accounts: sending an e-mail link failed", "purpose", string(purpose), "user", u.ID, "error", err.Error())
		}
	}()
	return nil
}

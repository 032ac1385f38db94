package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Audit actions of the recovery flows (recovery.go, admin_recovery.go).
const (
	ActionPasswordReset      = "user.password.reset"            // details: email
	ActionEmailChange        = "user.email.change"              // details: previous_email, email
	ActionVerificationResend = "user.email.verification_resend" // details: email, sent
	ActionEmailMarkVerified  = "user.email.mark_verified"       // details: email
	ActionPasswordResetStart = "user.password.reset_start"      // details: email
)

var (
	// ErrReauthenticationRequired: a sensitive change needs the current
	// password (when the user has one) or a recent sign-in (when not):
	// 403 reauthentication_required.
	ErrReauthenticationRequired = errors.New("accounts: reauthentication required")
)

// MailKind is which message of the account flows to send.
type MailKind int

const (
	MailVerifyEmail        MailKind = iota + 1 // link: confirm the address
	MailResetPassword                          // link: choose a new password
	MailConfirmEmailChange                     // link, to the new address
	MailEmailChangeNotice                      // notice to the old address
	MailPasswordChanged                        // notice after a reset
)

// AccountMail is one message of the account flows. Token and TTL are set
// for the kinds with a link; the Mailer builds the link from the token.
type AccountMail struct {
	Kind  MailKind
	To    string
	Token string
	TTL   time.Duration
}

// Mailer delivers the account flows' messages; accounts/mail's Flows (over
// its Queue) is the one used in production. Send returns nil once the
// message is durably queued, and also when it was dropped on purpose (the
// per-recipient bound): callers answer the same either way.
type Mailer interface {
	Send(ctx context.Context, m AccountMail) error
}

// RecoveryOptions configure a Recovery.
type RecoveryOptions struct {
	Mailer Mailer     // required
	Audit  AuditStore // required: resets, address changes and deletions are recorded
	// Link lifetimes; defaults 24h, 30m and 24h.
	VerifyTTL, ResetTTL, ChangeTTL time.Duration
	// Log receives failures of deliveries done in the background (never a
	// token or link); default: discarded.
	Log *slog.Logger
	// AnswerFloor is the least time ForgotPassword and
	// ResendVerification take, whatever the address (default 100ms): the
	// lookups of known and unknown addresses differ by microseconds, and
	// the answer must not tell them apart.
	AnswerFloor time.Duration
	// NoSignupVerification: a new password account gets no verification
	// link by itself (SignupVerification does nothing); one can still be
	// requested.
	NoSignupVerification bool
}

// Recovery implements the e-mail flows: verification, password reset,
// address change and deletion of one's own account. No method reveals
// whether an address belongs to an account, except where the contract says
// so (email_taken at an address change).
type Recovery struct {
	svc                            *Service
	mailer                         Mailer
	rec                            *Admin // for Record
	verifyTTL, resetTTL, changeTTL time.Duration
	log                            *slog.Logger
	bg                             sync.WaitGroup
	noSignupMail                   bool
	answerFloor                    time.Duration // recovery_blind.go
}

// NewRecovery returns a Recovery over svc.
func NewRecovery(svc *Service, opts RecoveryOptions) (*Recovery, error) {
	if svc == nil || opts.Mailer == nil || opts.Audit == nil {
		return nil, errors.New("accounts: NewRecovery needs a service, a mailer and an audit store")
	}
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recovery{svc: svc, mailer: opts.Mailer, rec: &Admin{svc: svc, audit: opts.Audit},
		verifyTTL: or(opts.VerifyTTL, 24*time.Hour), resetTTL: or(opts.ResetTTL, 30*time.Minute),
		changeTTL: or(opts.ChangeTTL, 24*time.Hour), log: log, noSignupMail: opts.NoSignupVerification,
		answerFloor: or(opts.AnswerFloor, 100*time.Millisecond)}, nil
}

// Wait blocks until the deliveries that ForgotPassword and
// ResendVerification started in the background have finished (for
// shutdown and tests).
func (r *Recovery) Wait() { r.bg.Wait() }

// Reauth is what a signed-in user presents before a sensitive change.
type Reauth struct {
	// CurrentPassword is required when the user has a password.
	CurrentPassword string
	// RecentSignIn: the session's sign-in is recent (the caller decides;
	// the contract says 5 minutes). It stands in for a password for users
	// without one.
	RecentSignIn bool
}

// reauth checks re for u: ErrReauthenticationRequired when the password
// (or, without one, a recent sign-in) is missing, ErrInvalidCredentials
// for a wrong password.
func (r *Recovery) reauth(ctx context.Context, u *User, re Reauth) error {
	if !u.HasPassword() {
		if !re.RecentSignIn {
			return ErrReauthenticationRequired
		}
		return nil
	}
	if re.CurrentPassword == "" {
		return ErrReauthenticationRequired
	}
	return r.svc.VerifyPassword(ctx, u.ID, re.CurrentPassword)
}

// issue stores a new token of purpose for u (bound to u's address) and
// returns it.
func (r *Recovery) issue(ctx context.Context, u *User, purpose TokenPurpose, newEmail string, ttl time.Duration) (string, error) {
	token, hash := NewEmailToken()
	return token, r.store(ctx, u, purpose, newEmail, ttl, hash)
}

func (r *Recovery) store(ctx context.Context, u *User, purpose TokenPurpose, newEmail string, ttl time.Duration, hash []byte) error {
	now := r.svc.now().UTC().Truncate(time.Millisecond)
	return r.svc.store.CreateEmailToken(ctx, &EmailToken{Hash: hash, Purpose: purpose, UserID: u.ID, Email: u.Email,
		NewEmail: newEmail, CreatedAt: now, ExpiresAt: now.Add(ttl)})
}

// RequestVerification sends a verification link to the user's address
// (POST /users/me/verify-email). It reports whether a message was sent:
// nothing is sent when the address is already verified. A user without an
// address gets a *ValidationError.
func (r *Recovery) RequestVerification(ctx context.Context, userID string) (sent bool, err error) {
	u, err := r.svc.GetActive(ctx, userID)
	if err != nil {
		return false, err
	}
	return r.sendVerification(ctx, u)
}

func (r *Recovery) sendVerification(ctx context.Context, u *User) (bool, error) {
	if u.Email == "" {
		return false, &ValidationError{Field: "email", Reason: "the account has no e-mail address to verify", Err: ErrInvalidInput}
	}
	if u.EmailVerified {
		return false, nil
	}
	token, err := r.issue(ctx, u, PurposeVerify, "", r.verifyTTL)
	if err != nil {
		return false, err
	}
	if err := r.mailer.Send(ctx, AccountMail{Kind: MailVerifyEmail, To: u.Email, Token: token, TTL: r.verifyTTL}); err != nil {
		return false, err
	}
	return true, nil
}

// SignupVerification sends the verification link of a new password
// account, unless RecoveryOptions.NoSignupVerification turned it off.
func (r *Recovery) SignupVerification(ctx context.Context, userID string) (sent bool, err error) {
	if r.noSignupMail {
		return false, nil
	}
	return r.RequestVerification(ctx, userID)
}

// redeem checks token for purpose and returns it with its user, consuming
// it when consume is set. Every failure is ErrInvalidEmailToken: malformed,
// unknown, used, expired, another purpose, a disabled or deleted user, or
// an address that is no longer the user's.
func (r *Recovery) redeem(ctx context.Context, token string, purpose TokenPurpose, consume bool) (*EmailToken, *User, error) {
	hash, ok := HashEmailToken(token)
	if !ok {
		return nil, nil, ErrInvalidEmailToken
	}
	read := r.svc.store.GetEmailToken
	if consume {
		read = r.svc.store.ConsumeEmailToken
	}
	t, err := read(ctx, hash, purpose, r.svc.now())
	if err != nil {
		return nil, nil, invalidToken(err)
	}
	u, err := r.svc.store.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, nil, invalidToken(err)
	}
	if u.Disabled || !SameAddress(u.Email, t.Email) {
		return nil, nil, ErrInvalidEmailToken
	}
	return t, u, nil
}

// invalidToken maps "not found" and "changed meanwhile" to
// ErrInvalidEmailToken and passes store failures on.
func invalidToken(err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return ErrInvalidEmailToken
	}
	return err
}

// VerifyEmail redeems a verification link (POST /verify-email): the
// address it was sent to becomes verified, if it is still the user's.
func (r *Recovery) VerifyEmail(ctx context.Context, token string) (*User, error) {
	t, u, err := r.redeem(ctx, token, PurposeVerify, true)
	if err != nil {
		return nil, err
	}
	if err := r.svc.store.MarkEmailVerified(ctx, u.ID, t.Email); err != nil {
		return nil, invalidToken(err)
	}
	_, _ = r.svc.store.DeleteEmailTokens(ctx, u.ID, PurposeVerify) // the others are moot now
	return r.svc.store.GetUser(ctx, u.ID)
}

// ResetResult is what a completed reset asks of the caller.
type ResetResult struct {
	User *User
	// EndAllSessions is always true: the caller must end every session of
	// the user (session.Manager.EndAll(ctx, id, "")).
	EndAllSessions bool
}

// ResetPassword redeems a reset link (POST /password/reset). The token is
// checked first (ErrInvalidEmailToken), then the password rules: a weak
// password is a *ValidationError and leaves the token usable. On success
// the password is set (hashed through the service's gate), the address
// counts as verified (the link proved control of it), every other reset
// link of the user dies, a notice goes to the address, and the result
// asks the caller to end every session.
func (r *Recovery) ResetPassword(ctx context.Context, token, newPassword string) (*ResetResult, error) {
	_, u, err := r.redeem(ctx, token, PurposeReset, false)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword("new_password", newPassword); err != nil {
		return nil, err
	}
	hash, err := r.svc.hash(ctx, newPassword, u.ID)
	if err != nil {
		return nil, err
	}
	t, u, err := r.redeem(ctx, token, PurposeReset, true)
	if err != nil {
		return nil, err // lost a race with another use of the link
	}
	// Verified first: it fails if the address changed meanwhile, and then
	// the password must stay as it was.
	if err := r.svc.store.MarkEmailVerified(ctx, u.ID, t.Email); err != nil {
		return nil, invalidToken(err)
	}
	if err := r.svc.store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return nil, err
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	var errs []error
	if _, err := r.svc.store.DeleteEmailTokens(bctx, u.ID, PurposeReset); err != nil {
		errs = append(errs, fmt.Errorf("accounts: reset: end the other reset links: %w", err))
	}
	if err := r.mailer.Send(bctx, AccountMail{Kind: MailPasswordChanged, To: u.Email}); err != nil {
		r.log.Warn("accounts: password-changed notice not sent", "user", u.ID, "error", err.Error())
	}
	errs = append(errs, r.rec.Record(ctx, Actor{ID: u.ID, IP: clientAddress(ctx)}, ActionPasswordReset, u.ID,
		map[string]string{"email": u.Email}))
	u, err = r.svc.store.GetUser(bctx, u.ID)
	if err != nil {
		errs = append(errs, err)
	}
	return &ResetResult{User: u, EndAllSessions: true}, errors.Join(errs...)
}

// RequestEmailChange starts moving the user to newEmail (POST
// /users/me/email): after re-authentication (Reauth), a link goes to the
// new address and a notice to the old one; the address changes only when
// the link is redeemed (ConfirmEmailChange). An invalid address, the
// current one, or one outside the allowed domains is a *ValidationError;
// ErrEmailTaken when another user has it (checked again at confirmation).
func (r *Recovery) RequestEmailChange(ctx context.Context, userID, newEmail string, re Reauth) error {
	u, err := r.svc.GetActive(ctx, userID)
	if err != nil {
		return err
	}
	if err := CheckEmail(newEmail); err != nil {
		return err
	}
	if err := r.svc.signup.checkDomain("email", newEmail); err != nil {
		return err
	}
	if SameAddress(u.Email, newEmail) {
		return &ValidationError{Field: "email", Reason: "is already the account's address", Err: ErrInvalidInput}
	}
	if err := r.reauth(ctx, u, re); err != nil {
		return err
	}
	if _, err := r.svc.store.GetUserByEmail(ctx, newEmail); err == nil {
		return ErrEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	token, err := r.issue(ctx, u, PurposeChange, newEmail, r.changeTTL)
	if err != nil {
		return err
	}
	if err := r.mailer.Send(ctx, AccountMail{Kind: MailConfirmEmailChange, To: newEmail, Token: token, TTL: r.changeTTL}); err != nil {
		return err
	}
	if u.Email != "" {
		if err := r.mailer.Send(ctx, AccountMail{Kind: MailEmailChangeNotice, To: u.Email}); err != nil {
			return err
		}
	}
	return nil
}

// ConfirmEmailChange redeems an address-change link (POST /confirm-email):
// the user's address becomes the new one, verified, if the user still has
// the address the change was requested from. ErrEmailTaken when another
// user took the new address meanwhile. Every other e-mail link of the user
// dies (they were bound to the old address). Sessions stay.
func (r *Recovery) ConfirmEmailChange(ctx context.Context, token string) (*User, error) {
	t, u, err := r.redeem(ctx, token, PurposeChange, true)
	if err != nil {
		return nil, err
	}
	if err := r.svc.store.SetEmail(ctx, u.ID, t.Email, t.NewEmail, true); err != nil {
		if errors.Is(err, ErrEmailTaken) {
			return nil, err
		}
		return nil, invalidToken(err)
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	var errs []error
	if _, err := r.svc.store.DeleteEmailTokens(bctx, u.ID, ""); err != nil {
		errs = append(errs, fmt.Errorf("accounts: address change: end the other links: %w", err))
	}
	errs = append(errs, r.rec.Record(ctx, Actor{ID: u.ID, IP: clientAddress(ctx)}, ActionEmailChange, u.ID,
		map[string]string{"previous_email": u.Email, "email": t.NewEmail}))
	nu, err := r.svc.store.GetUser(bctx, u.ID)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	return nu, errors.Join(errs...)
}

// DeleteAccount deletes the user's own account (DELETE /users/me) after
// re-authentication (Reauth): the user, its identities and its e-mail
// links are gone; an audit event (user.delete, via self) remains. The
// caller must then end every session of the user.
func (r *Recovery) DeleteAccount(ctx context.Context, userID string, re Reauth) error {
	u, err := r.svc.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if err := r.reauth(ctx, u, re); err != nil {
		return err
	}
	if err := r.svc.store.DeleteUser(ctx, userID); err != nil {
		return err
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	_, terr := r.svc.store.DeleteEmailTokens(bctx, userID, "")
	return errors.Join(terr, r.rec.Record(ctx, Actor{ID: userID, IP: clientAddress(ctx)}, ActionUserDelete, userID,
		map[string]string{"email": u.Email, "via": "self", "had_password": strconv.FormatBool(u.HasPassword())}))
}

// clientAddress is the address WithClientAddress put on ctx.
func clientAddress(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddressKey{}).(string)
	return addr
}

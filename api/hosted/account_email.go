package hosted

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
)

// The account page's e-mail sections (templates/account_email.html):
// the address's verification state with a resend button, the change of
// address and the deletion of the account. Changing the address and
// deleting need the current password, or for an account without one a
// sign-in less than 5 minutes old (askReauth), as linking does.

// accountResend is POST /account/verify-email: a new verification link.
func (s *Server) accountResend(c *gin.Context) {
	pu, _ := s.accountPOST(c)
	if pu == nil {
		return
	}
	if pu.user.Email != "" && !pu.user.EmailVerified {
		if err := s.api.EmailLimits(c, pu.user.Email); err != nil {
			s.pageErr(c, err)
			return
		}
	}
	if _, err := s.recovery.RequestVerification(c.Request.Context(), pu.user.ID); err != nil {
		s.pageErr(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account?done=verification_sent")
}

// mailReauthed runs op with the account form's proof: the current password
// (field) compared once, under the sign-in limits, or a recent sign-in.
// It answers the wrong, missing or stale proof itself (ok false).
func (s *Server) mailReauthed(c *gin.Context, pu *pageUser, current, field, reauthMsg string, op func(context.Context, accounts.Reauth) error) (bool, error) {
	re := accounts.Reauth{CurrentPassword: current, RecentSignIn: s.api.SignedInRecently(pu.sess.CreatedAt)}
	switch {
	case pu.user.HasPassword() && current == "":
		s.showAccount(c, http.StatusForbidden, pu, &pageData{Error: i18n.M("Confirm that it is you: enter your current password."),
			FieldError: map[string]string{field: i18n.M("Enter your current password.")}})
		return false, nil
	case !pu.user.HasPassword() && !re.RecentSignIn:
		s.askReauth(c, pu, reauthMsg)
		return false, nil
	}
	var err error
	if pu.user.HasPassword() {
		err = s.api.PasswordChecked(c, pu.user, "hosted", func(ctx context.Context) error { return op(ctx, re) })
	} else {
		err = op(c.Request.Context(), re)
	}
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: i18n.M("Please correct the marked field."),
			FieldError: map[string]string{field: i18n.M("The current password is incorrect.")}})
		return false, nil
	}
	return true, err
}

// accountEmail is POST /account/email: a link to the new address, a
// notice to the old one; the address changes when the link is used.
func (s *Server) accountEmail(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	email := strings.TrimSpace(form.Get("new_email"))
	fieldErr := func(status int, msg string) {
		s.showAccount(c, status, pu, &pageData{Error: i18n.M("Please correct the marked field."), Email: email,
			FieldError: map[string]string{"new_email": msg}})
	}
	if email == "" {
		fieldErr(http.StatusBadRequest, i18n.M("Enter the new email address."))
		return
	}
	if err := s.api.EmailLimits(c, email); err != nil {
		s.pageErr(c, err)
		return
	}
	ok, err := s.mailReauthed(c, pu, form.Get("email_current_password"), "email_current_password",
		i18n.M("For your security, sign in again (less than 5 minutes ago) before you change your email address."),
		func(ctx context.Context, re accounts.Reauth) error {
			return s.recovery.RequestEmailChange(ctx, pu.user.ID, email, re)
		})
	if !ok {
		return
	}
	var ve *accounts.ValidationError
	switch {
	case errors.As(err, &ve):
		fieldErr(http.StatusBadRequest, s.sentence(c, "email", ve.Reason))
		return
	case errors.Is(err, accounts.ErrEmailTaken):
		fieldErr(http.StatusConflict, i18n.M("Another account uses this email address."))
		return
	case err != nil:
		s.pageErr(c, err)
		return
	}
	s.showAccount(c, http.StatusOK, pu, &pageData{Notice: s.locale(c).T("We sent a link to %s. Your address changes when you open it; until then you keep signing in with the current one.",
		email)})
}

// accountDelete is POST /account/delete: the account, its sign-in
// methods and sessions are gone; the browser is signed out.
func (s *Server) accountDelete(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	id := pu.user.ID
	ok, err := s.mailReauthed(c, pu, form.Get("delete_current_password"), "delete_current_password",
		i18n.M("For your security, sign in again (less than 5 minutes ago) before you delete your account."),
		func(ctx context.Context, re accounts.Reauth) error { return s.recovery.DeleteAccount(ctx, id, re) })
	if !ok {
		return
	}
	if err != nil {
		// Deleted, and only a follow-up failed: the sessions must end.
		if _, gerr := s.accounts.GetActive(c.Request.Context(), id); !errors.Is(gerr, accounts.ErrNotFound) {
			s.pageErr(c, err)
			return
		}
		s.log(c).Warn("account deletion: follow-up failed", "user", id, "error", err.Error())
	}
	if _, err := s.sessions.EndAll(c.Request.Context(), id, ""); err != nil {
		s.pageErr(c, err)
		return
	}
	s.clearCookie(c, pageCookie, "/")
	s.message(c, http.StatusOK, i18n.M("Account deleted"), i18n.M("Your account and everything linked to it were deleted."), "/signin")
}

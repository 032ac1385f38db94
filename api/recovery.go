package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
)

// recoveryRoutes are the JSON endpoints of the e-mail flows
// (docs/http-api.md, "E-mail"): verification, password reset, address
// change and deletion of one's own account. me is the bearer group.
func (s *Server) recoveryRoutes(e *gin.Engine, me *gin.RouterGroup) {
	if s.recovery == nil {
		return
	}
	e.POST("/password/forgot", s.LimitPerIP(middleware.LimitEmailIP, middleware.EmailIPRate), s.forgotPassword)
	e.POST("/password/reset", s.resetPassword)
	e.POST("/verify-email", s.jsonOrForm(s.verifyEmail))
	e.POST("/verify-email/resend", s.LimitPerIP(middleware.LimitEmailIP, middleware.EmailIPRate), s.resendVerification)
	e.POST("/confirm-email", s.jsonOrForm(s.confirmEmail))
	me.POST("/users/me/verify-email", s.LimitPerIP(middleware.LimitEmailIP, middleware.EmailIPRate), s.requestVerification)
	me.POST("/users/me/email", s.LimitPerIP(middleware.LimitEmailIP, middleware.EmailIPRate), s.requestEmailChange)
	me.DELETE("/users/me", s.deleteMe)
}

// HandleForm makes h answer the form posts (application/x-www-form-
// urlencoded) to path, whose JSON POST this API serves: the e-mail links'
// pages (api/hosted) post to their own path, /verify-email and
// /confirm-email. Call it before serving.
func (s *Server) HandleForm(path string, h gin.HandlerFunc) {
	if s.forms == nil {
		s.forms = map[string]gin.HandlerFunc{}
	}
	s.forms[path] = h
}

// jsonOrForm is json, unless the request is a form post that a HandleForm
// handler takes.
func (s *Server) jsonOrForm(json gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if h, ok := s.forms[c.FullPath()]; ok && c.ContentType() == "application/x-www-form-urlencoded" {
			h(c)
			return
		}
		json(c)
	}
}

// EmailLimits counts a message to addr under the e-mail limits of the
// sending endpoints, per client address and per recipient (the hosted
// pages' forgot form and account page use them too).
func (s *Server) EmailLimits(c *gin.Context, addr string) error {
	if err := s.limiter.PerIP(c, middleware.LimitEmailIP, middleware.EmailIPRate); err != nil {
		return err
	}
	return s.limiter.PerKey(c, middleware.LimitEmailAddress, middleware.EmailAddressRate, accounts.NormalizeEmail(addr))
}

// emailBody is {"email"} of forgot and resend.
func (s *Server) emailBody(c *gin.Context) (string, bool) {
	var req struct {
		Email *string `json:"email"`
	}
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return "", false
	}
	if req.Email == nil || *req.Email == "" {
		s.respondError(c, oauth.BadRequest("email is required"))
		return "", false
	}
	// Counted per address before any lookup: known and unknown addresses
	// spend the same.
	if !s.limitAddress(c, *req.Email) {
		return "", false
	}
	return *req.Email, true
}

// limitAddress counts a message to addr under the per-address limit of
// the sending endpoints; false when it has answered 429.
func (s *Server) limitAddress(c *gin.Context, addr string) bool {
	if err := s.limiter.PerKey(c, middleware.LimitEmailAddress, middleware.EmailAddressRate, accounts.NormalizeEmail(addr)); err != nil {
		s.respondError(c, err)
		return false
	}
	return true
}

// tokenBody is {"token"} (and more fields into extra).
func (s *Server) tokenBody(c *gin.Context, newPassword *string) (string, bool) {
	var req struct {
		Token       *string `json:"token"`
		NewPassword *string `json:"new_password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return "", false
	}
	if req.Token == nil || *req.Token == "" {
		s.respondError(c, oauth.BadRequest("token is required"))
		return "", false
	}
	if newPassword != nil {
		if req.NewPassword == nil {
			s.respondError(c, oauth.BadRequest("new_password is required"))
			return "", false
		}
		*newPassword = *req.NewPassword
	}
	return *req.Token, true
}

// forgotPassword is POST /password/forgot: 202 {} whatever the address.
func (s *Server) forgotPassword(c *gin.Context) { s.mailTo(c, s.recovery.ForgotPassword) }

// resendVerification is POST /verify-email/resend: 202 {} whatever the
// address.
func (s *Server) resendVerification(c *gin.Context) { s.mailTo(c, s.recovery.ResendVerification) }

// mailTo serves forgot and resend: send runs with the address of the
// body (emailBody), and the answer is 202 {} whatever the address.
func (s *Server) mailTo(c *gin.Context, send func(ctx context.Context, email string) error) {
	email, ok := s.emailBody(c)
	if !ok {
		return
	}
	if err := send(c.Request.Context(), email); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{})
}

// resetPassword is POST /password/reset: sets the password and ends every
// session of the user.
func (s *Server) resetPassword(c *gin.Context) {
	var pw string
	token, ok := s.tokenBody(c, &pw)
	if !ok {
		return
	}
	res, err := s.recovery.ResetPassword(c.Request.Context(), token, pw)
	if res == nil {
		s.respondError(c, err)
		return
	}
	s.followUpFailed(c, "password reset", res.User.ID, err) // the password is set
	if !res.EndAllSessions {
		c.Status(http.StatusNoContent)
		return
	}
	s.endSessions(c, res.User.ID)
}

// followUpFailed logs err, the failure of what follows a change that took
// effect (what names it): the request still succeeds.
func (s *Server) followUpFailed(c *gin.Context, what, userID string, err error) {
	if err != nil {
		s.log(c).Warn(what+": follow-up failed", "user", userID, "error", err.Error())
	}
}

// endSessions ends every session of the user and answers 204.
func (s *Server) endSessions(c *gin.Context, userID string) {
	if _, err := s.sessions.EndAll(c.Request.Context(), userID, ""); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// verifyEmail is POST /verify-email: the address becomes verified.
func (s *Server) verifyEmail(c *gin.Context) {
	token, ok := s.tokenBody(c, nil)
	if !ok {
		return
	}
	if _, err := s.recovery.VerifyEmail(c.Request.Context(), token); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// confirmEmail is POST /confirm-email: the address change takes effect.
func (s *Server) confirmEmail(c *gin.Context) {
	token, ok := s.tokenBody(c, nil)
	if !ok {
		return
	}
	u, err := s.recovery.ConfirmEmailChange(c.Request.Context(), token)
	if u == nil {
		s.respondError(c, err)
		return
	}
	s.followUpFailed(c, "address change", u.ID, err)
	c.Status(http.StatusNoContent)
}

// requestVerification is POST /users/me/verify-email: 202 {} (nothing is
// sent when the address is verified already).
func (s *Server) requestVerification(c *gin.Context) {
	if u := caller(c).user; u.Email != "" && !u.EmailVerified && !s.limitAddress(c, u.Email) {
		return
	}
	if _, err := s.recovery.RequestVerification(c.Request.Context(), caller(c).user.ID); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{})
}

// reauthBody reads {"email"?, "current_password"?}: email is required
// when email is non-nil.
func (s *Server) reauthBody(c *gin.Context, email *string) (current string, ok bool) {
	var req struct {
		Email   *string `json:"email"`
		Current *string `json:"current_password"`
	}
	if c.Request.ContentLength != 0 || email != nil {
		if err := decodeJSON(c, &req); err != nil {
			s.respondError(c, err)
			return "", false
		}
	}
	if email != nil {
		if req.Email == nil || *req.Email == "" {
			s.respondError(c, oauth.BadRequest("email is required"))
			return "", false
		}
		*email = *req.Email
	}
	if req.Current != nil {
		current = *req.Current
	}
	return current, true
}

// reauthed runs op, a domain change that re-authenticates the caller with
// the Reauth it is given (accounts.Recovery compares the password, once).
// A presented password is compared under the sign-in limits (429 before,
// counted after, a failure audited: PasswordChecked); an account without a
// password needs a sign-in less than reauthMaxAge old. A wrong password
// is errWrongCurrent.
func (s *Server) reauthed(c *gin.Context, current, via string, op func(context.Context, accounts.Reauth) error) error {
	p := caller(c)
	re := accounts.Reauth{CurrentPassword: current, RecentSignIn: s.SignedInRecently(p.session.CreatedAt)}
	var err error
	if p.user.HasPassword() && current != "" {
		err = s.PasswordChecked(c, p.user, via, func(ctx context.Context) error { return op(ctx, re) })
	} else {
		err = op(c.Request.Context(), re)
	}
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		err = errWrongCurrent
	}
	return err
}

// requestEmailChange is POST /users/me/email: a link to the new address,
// a notice to the old one; the address changes at POST /confirm-email.
func (s *Server) requestEmailChange(c *gin.Context) {
	var email string
	current, ok := s.reauthBody(c, &email)
	if !ok || !s.limitAddress(c, email) {
		return
	}
	id := caller(c).user.ID
	if err := s.reauthed(c, current, "api_email_change", func(ctx context.Context, re accounts.Reauth) error {
		return s.recovery.RequestEmailChange(ctx, id, email, re)
	}); err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{})
}

// deleteMe is DELETE /users/me: the user, its identities and sessions go.
func (s *Server) deleteMe(c *gin.Context) {
	current, ok := s.reauthBody(c, nil)
	if !ok {
		return
	}
	id := caller(c).user.ID
	if err := s.reauthed(c, current, "api_delete", func(ctx context.Context, re accounts.Reauth) error {
		return s.recovery.DeleteAccount(ctx, id, re)
	}); err != nil {
		// Deleted, and only a follow-up failed: the sessions must end.
		if _, gerr := s.accounts.GetActive(c.Request.Context(), id); !errors.Is(gerr, accounts.ErrNotFound) {
			s.respondError(c, err)
			return
		}
		s.followUpFailed(c, "account deletion", id, err)
	}
	s.endSessions(c, id)
}

// sendVerification mails a verification link after a password sign-up.
// The account exists either way: a failure is logged, and the user can ask
// again (POST /users/me/verify-email).
func (s *Server) SendVerification(c *gin.Context, u *accounts.User) {
	if s.recovery == nil {
		return
	}
	if _, err := s.recovery.SignupVerification(c.Request.Context(), u.ID); err != nil {
		s.log(c).Warn("sign-up: verification e-mail not queued", "user", u.ID, "error", err.Error())
	}
}

package hosted

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
)

// The pages of the e-mail flows (docs/hosted-ui.md, "E-mail links"): the
// forgot-password form, and the pages the mailed links open. Opening a
// link (GET) only shows a form with a button; the CSRF-protected form
// post to the same path acts, so a link scanner spends nothing.

// emailLink is what a link page shows: its kind ("verify", "reset",
// "confirm"), the path it posts to and the token it carries.
type emailLink struct {
	Kind, Action, Token string
}

const (
	linkVerify  = "verify"
	linkReset   = "reset"
	linkConfirm = "confirm"
)

// errBadLink is the one message of a link that is malformed, unknown,
// used, expired or for an address that is no longer the account's.
var errBadLink = i18n.M("This link is invalid, has already been used or has expired.")

func (s *Server) recoveryRoutes(e gin.IRoutes) {
	if s.recovery == nil {
		return
	}
	e.GET("/forgot", s.forgotPage)
	e.POST("/forgot", s.forgotSubmit)
	e.GET("/verify-email", s.linkPage(linkVerify, "/verify-email"))
	e.GET("/reset-password", s.linkPage(linkReset, "/reset-password"))
	e.POST("/reset-password", s.resetSubmit)
	e.GET("/confirm-email", s.linkPage(linkConfirm, "/confirm-email"))
	// The JSON API serves POST /verify-email and /confirm-email; their form
	// posts come here.
	s.api.HandleForm("/verify-email", s.verifySubmit)
	s.api.HandleForm("/confirm-email", s.confirmSubmit)
	e.POST("/account/verify-email", s.accountResend) // account_email.go
	e.POST("/account/email", s.accountEmail)
	e.POST("/account/delete", s.accountDelete)
}

// forgotPage is GET /forgot: the address to send a reset link to.
func (s *Server) forgotPage(c *gin.Context) {
	s.render(c, http.StatusOK, "forgot.html", &pageData{Title: i18n.M("Reset your password"), CSRF: s.preCSRF(c), SigninURL: "/signin"})
}

// forgotSubmit is POST /forgot: the same answer for every address (a
// link goes only to an account's), limited like POST /password/forgot.
func (s *Server) forgotSubmit(c *gin.Context) {
	form, ok := s.pageForm(c)
	if !ok {
		return
	}
	if !s.csrfOK(c, form.Get("csrf"), nil, true) {
		s.csrfFailed(c)
		return
	}
	email := strings.TrimSpace(form.Get("email"))
	if email == "" {
		s.render(c, http.StatusBadRequest, "forgot.html", &pageData{Title: i18n.M("Reset your password"), CSRF: s.preCSRF(c), SigninURL: "/signin",
			Error: i18n.M("Please correct the marked field."), FieldError: map[string]string{"email": i18n.M("Enter the email address of your account.")}})
		return
	}
	if err := s.api.EmailLimits(c, email); err != nil {
		s.pageErr(c, err)
		return
	}
	if err := s.recovery.ForgotPassword(c.Request.Context(), email); err != nil {
		s.pageErr(c, err)
		return
	}
	s.message(c, http.StatusOK, i18n.M("Check your email"), s.locale(c).T("If an account uses %s, we have sent it a link to choose a new password. The link works for a short time only; if nothing arrives, check the spam folder or ask again.",
		email), "/signin")
}

// message shows a page with one notice and a link on (to next).
func (s *Server) message(c *gin.Context, status int, title, notice, next string) {
	s.render(c, status, "message.html", &pageData{Title: title, Notice: notice, NextURL: next})
}

// badLink shows the page of a dead link, with a way to a new one.
func (s *Server) badLink(c *gin.Context, kind string) {
	d := &pageData{Title: i18n.M("This link does not work"), Error: errBadLink, NextURL: "/account"}
	if kind == linkReset {
		d.NextURL = "/forgot"
	}
	s.render(c, http.StatusBadRequest, "message.html", d)
}

// linkPage is GET of a mailed link: a form that posts the token back.
func (s *Server) linkPage(kind, action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		token := c.Query("token")
		if token == "" || len(token) > 256 {
			s.badLink(c, kind)
			return
		}
		s.showLink(c, http.StatusOK, kind, action, token, nil)
	}
}

func (s *Server) showLink(c *gin.Context, status int, kind, action, token string, fieldErr map[string]string) {
	titles := map[string]string{linkVerify: i18n.M("Confirm your email address"), linkReset: i18n.M("Choose a new password"),
		linkConfirm: i18n.M("Confirm your new email address")}
	d := &pageData{Title: titles[kind], CSRF: s.preCSRF(c), Link: &emailLink{Kind: kind, Action: action, Token: token},
		FieldError: fieldErr}
	if len(fieldErr) > 0 {
		d.Error = i18n.M("Please correct the marked field.")
	}
	s.render(c, status, "emaillink.html", d)
}

// linkForm reads the post of a link page of kind: the form, its CSRF
// token and the link's token (without one, the dead-link page). ok is
// false when it has answered.
func (s *Server) linkForm(c *gin.Context, kind string) (token, newPassword string, ok bool) {
	form, ok := s.pageForm(c)
	if !ok {
		return "", "", false
	}
	if !s.csrfOK(c, form.Get("csrf"), nil, true) {
		pu, err := s.loadPage(c) // the form may have been shown to a signed-in browser
		if err != nil || !s.csrfOK(c, form.Get("csrf"), pu, false) {
			s.csrfFailed(c)
			return "", "", false
		}
	}
	if token = form.Get("token"); token == "" {
		s.badLink(c, kind)
		return "", "", false
	}
	return token, form.Get("new_password"), true
}

// linkErr answers a redeeming error: the dead-link page, or the error page.
func (s *Server) linkErr(c *gin.Context, kind string, err error) {
	if errors.Is(err, accounts.ErrInvalidEmailToken) {
		s.badLink(c, kind)
		return
	}
	s.pageErr(c, err)
}

// verifySubmit is the form post to /verify-email: the address is verified.
func (s *Server) verifySubmit(c *gin.Context) {
	token, _, ok := s.linkForm(c, linkVerify)
	if !ok {
		return
	}
	u, err := s.recovery.VerifyEmail(c.Request.Context(), token)
	if err != nil {
		s.linkErr(c, linkVerify, err)
		return
	}
	s.message(c, http.StatusOK, i18n.M("Email address verified"), s.locale(c).T("Thank you: %s is verified.", u.Email), "/account")
}

// confirmSubmit is the form post to /confirm-email: the address change
// takes effect.
func (s *Server) confirmSubmit(c *gin.Context) {
	token, _, ok := s.linkForm(c, linkConfirm)
	if !ok {
		return
	}
	u, err := s.recovery.ConfirmEmailChange(c.Request.Context(), token)
	if errors.Is(err, accounts.ErrEmailTaken) {
		s.render(c, http.StatusConflict, "message.html", &pageData{Title: i18n.M("This address is taken"),
			Error: i18n.M("Another account uses this email address now, so it cannot become yours."), NextURL: "/account"})
		return
	}
	if u == nil {
		s.linkErr(c, linkConfirm, err)
		return
	}
	if err != nil { // changed; only the aftermath failed
		s.log(c).Warn("address change: follow-up failed", "user", u.ID, "error", err.Error())
	}
	s.message(c, http.StatusOK, i18n.M("Email address changed"), s.locale(c).T("Your email address is now %s.", u.Email), "/account")
}

// resetSubmit is POST /reset-password: the new password is set and every
// session ends. The token is checked first; a weak password leaves it
// usable and the form is shown again.
func (s *Server) resetSubmit(c *gin.Context) {
	token, pw, ok := s.linkForm(c, linkReset)
	if !ok {
		return
	}
	res, err := s.recovery.ResetPassword(c.Request.Context(), token, pw)
	var ve *accounts.ValidationError
	if errors.As(err, &ve) {
		s.showLink(c, http.StatusBadRequest, linkReset, "/reset-password", token,
			map[string]string{"new_password": s.sentence(c, "password", ve.Reason)})
		return
	}
	if res == nil {
		s.linkErr(c, linkReset, err)
		return
	}
	if err != nil {
		s.log(c).Warn("password reset: follow-up failed", "user", res.User.ID, "error", err.Error())
	}
	if _, err := s.sessions.EndAll(c.Request.Context(), res.User.ID, ""); err != nil {
		s.pageErr(c, err)
		return
	}
	s.clearCookie(c, pageCookie, "/")
	s.message(c, http.StatusOK, i18n.M("Password changed"),
		i18n.M("Your new password is set, and every session of your account was signed out. Sign in with the new password."), "/signin")
}

// sentence makes a validation reason of field ("must be at least 8
// characters long") a sentence in the page's language ("The password
// must be at least 8 characters long.").
func (s *Server) sentence(c *gin.Context, field, reason string) string {
	l := s.locale(c)
	if !strings.HasPrefix(reason, "must ") && !strings.HasPrefix(reason, "is ") {
		return l.Text(reason)
	}
	r := l.Text(reason)
	switch field {
	case "email":
		return l.T("The email address %s.", r)
	case "name":
		return l.T("The name %s.", r)
	}
	return l.T("The password %s.", r)
}

// providerLinks are the provider buttons of the sign-in and sign-up
// pages: into the app's flow when there is one, else to the account page.
func (s *Server) providerLinks(req authzRequest) []providerLink {
	var out []providerLink
	for _, p := range s.provs.List() {
		u := "/account/signin/" + p.ID()
		if req.present() {
			u = "/auth/" + p.ID() + "/login?" + req.query().Encode()
		}
		out = append(out, providerLink{ID: p.ID(), Name: p.Name(), URL: u})
	}
	return out
}

// methodNames are a session's sign-in methods for the account page: the
// AMR values the template names ("pwd", "otp", "hwk"), a provider's
// name for its AMR, and nothing for the markers "mfa" and "user".
func (s *Server) methodNames(amr []string) []string {
	var out []string
	for _, m := range amr {
		switch m {
		case "pwd", "otp", "hwk":
			out = append(out, m)
		case "mfa", "user":
		default:
			name := m
			for _, p := range s.provs.List() {
				if p.AMR() == m || p.ID() == m {
					name = p.Name()
				}
			}
			out = append(out, name)
		}
	}
	return out
}

package hosted

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// errGenericSignin is the one message of a failed password sign-in: wrong
// password, unknown and disabled user look the same (docs/security.md).
var errGenericSignin = i18n.M("The email address or password is incorrect.")

// checkAuthz validates an app's request like /auth/{p}/login does. A bad
// client or redirect URI is shown (showErr), never redirected; once the
// redirect URI is known good, other problems go back to the app (redirErr).
func (s *Server) checkAuthz(r authzRequest) (redirErr string, showErr error) {
	cl, err := s.api.CheckRedirect(r.ClientID, r.RedirectURI)
	if err != nil {
		return "", err
	}
	if err := api.CheckChallenge(cl, r.Challenge, r.Method); err != nil || len(r.State) > api.MaxAppState ||
		len(r.Nonce) > api.MaxAppState || len(r.Scope) > api.MaxAppScope {
		return oauth.CodeInvalidRequest, nil
	}
	if session.CheckScope(r.Scope, s.opts.AllPermissions) != nil {
		return oauth.CodeInvalidScope, nil // RFC 6749 §4.1.2.1
	}
	return "", nil
}

// authorize is GET /authorize, the RFC 6749 §4.1.1 authorization endpoint:
// it validates the app's request and shows the sign-in page, or, when this
// browser already has a hosted-page session, answers with a code at once.
func (s *Server) authorize(c *gin.Context) {
	q := c.Request.URL.Query()
	if c.Request.Method == http.MethodPost { // OpenID Connect Core §3.1.2.1: GET and POST
		form, ok := s.pageForm(c)
		if !ok {
			return
		}
		q = form
	}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", "nonce"} {
		if len(q[k]) > 1 {
			s.pageError(c, http.StatusBadRequest, i18n.M("This sign-in link is not valid"), s.locale(c).T("The parameter %q is repeated.", k))
			return
		}
	}
	req := authzFrom(q)
	redirErr, showErr := s.checkAuthz(req)
	if showErr != nil {
		msg := i18n.M("The app sent an invalid sign-in request.")
		if cl := oauth.Classify(showErr); cl.Decided {
			l := s.locale(c)
			msg = l.T("The app sent an invalid sign-in request: %s.", l.Text(cl.Description))
		}
		s.pageError(c, http.StatusBadRequest, i18n.M("This sign-in link is not valid"), msg)
		return
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		s.redirectError(c, req.RedirectURI, oauth.CodeInvalidRequest, req.State)
		return
	case rt != "code":
		s.redirectError(c, req.RedirectURI, "unsupported_response_type", req.State)
		return
	}
	if redirErr != "" {
		s.redirectError(c, req.RedirectURI, redirErr, req.State)
		return
	}
	if code := unsupportedRequestParam(q); code != "" { // consent.go
		s.redirectError(c, req.RedirectURI, code, req.State)
		return
	}
	// OpenID Connect Core §3.1.2.1: prompt and max_age.
	prompt, err1 := session.ParsePrompt(q.Get("prompt"))
	maxAge, err2 := session.ParseMaxAge(q.Get("max_age"))
	if err1 != nil || err2 != nil || len(q["prompt"]) > 1 || len(q["max_age"]) > 1 {
		s.redirectError(c, req.RedirectURI, oauth.CodeInvalidRequest, req.State)
		return
	}
	pu, err := s.loadPage(c)
	if err != nil {
		s.redirectError(c, req.RedirectURI, oauth.CodeUnavailable, req.State)
		return
	}
	if pu != nil && !session.NeedsSignIn(prompt, maxAge, pu.sess.CreatedAt, s.now()) {
		more, err := s.needsSecondFactor(c.Request.Context(), pu.user.ID, pu.sess.AMR)
		switch {
		case err != nil:
			s.redirectError(c, req.RedirectURI, s.flowErrorCode(c, err), req.State)
			return
		case !more:
			// Already signed in at unilogin: no sign-in form; the account
			// choice or consent when asked for, else a code at once.
			s.signedInAuthz(c, req, pu, prompt) // consent.go
			return
		case prompt.None:
			// Signed in, but without the second factor the user has
			// since switched on: that needs the person (Core §3.1.2.6).
			s.redirectError(c, req.RedirectURI, "interaction_required", req.State)
			return
		}
	} else if prompt.None {
		// No page may be shown, and signing in needs one (Core §3.1.2.6).
		s.redirectError(c, req.RedirectURI, "login_required", req.State)
		return
	}
	s.showSignin(c, http.StatusOK, req, loginHint(q.Get("login_hint")), "")
}

// loginHint is the e-mail field's pre-filled value for an app's
// login_hint (Core §3.1.2.1): a hint that is not an e-mail address of a
// plausible length is ignored.
func loginHint(hint string) string {
	hint = strings.TrimSpace(hint)
	if len(hint) > 254 || accounts.CheckEmail(accounts.NormalizeEmail(hint)) != nil {
		return ""
	}
	return hint
}

// finishAuthz ends a sign-in at the app: redirect_uri?code=...&state=...,
// the code redeemed at POST /token exactly like the provider flow's. The
// session it starts keeps authTime, when the user signed in here.
func (s *Server) finishAuthz(c *gin.Context, req authzRequest, userID string, amr []string, authTime time.Time) {
	code, err := s.codes.Issue(c.Request.Context(), authcode.Grant{
		ClientID: req.ClientID, RedirectURI: req.RedirectURI, Challenge: req.Challenge, ChallengeMethod: req.Method,
		UserID: userID, AMR: amr, AuthTime: authTime, Scope: req.Scope, Nonce: req.Nonce,
		UserAgent: api.CoarseUserAgent(c.Request.UserAgent()),
	})
	if err != nil {
		s.redirectError(c, req.RedirectURI, s.flowErrorCode(c, err), req.State)
		return
	}
	s.redirectTo(c, req.RedirectURI, url.Values{"code": {code}, "state": {req.State}})
}

// showSignin renders the sign-in page; req may be empty (signing in to the
// account page).
func (s *Server) showSignin(c *gin.Context, status int, req authzRequest, email, errMsg string) {
	d := &pageData{Title: i18n.M("Sign in"), CSRF: s.preCSRF(c), Req: req, Email: email, Error: errMsg,
		SignupURL: "/register", AppName: s.appName(req.ClientID), Providers: s.providerLinks(req),
		SignupOff: s.accounts.SignupPolicy().Disabled, PasskeySignin: s.mfa != nil && s.mfa.PasskeysEnabled()}
	if s.recovery != nil {
		d.ForgotURL = "/forgot"
	}
	if req.present() {
		d.SignupURL = "/register?" + req.query().Encode()
	}
	s.render(c, status, "signin.html", d)
}

// signinPage is GET /signin: sign in to the account page.
func (s *Server) signinPage(c *gin.Context) {
	pu, ok := s.currentPage(c)
	if !ok {
		return
	}
	if pu != nil {
		c.Redirect(http.StatusSeeOther, "/account")
		return
	}
	s.showSignin(c, http.StatusOK, authzRequest{}, "", "")
}

// formAuthz reads and validates the app's request from a form's hidden
// fields; false when the error page was shown.
func (s *Server) formAuthz(c *gin.Context, form url.Values) (authzRequest, bool) {
	req := authzFrom(form)
	if !req.present() {
		return req, true
	}
	if redirErr, showErr := s.checkAuthz(req); showErr != nil || redirErr != "" {
		s.pageError(c, http.StatusBadRequest, i18n.M("This sign-in link is not valid"), i18n.M("The app sent an invalid sign-in request."))
		return req, false
	}
	return req, true
}

// authzForm reads a sign-in or sign-up form and the app's request it
// carries; false when it has already answered (a bad form or request).
func (s *Server) authzForm(c *gin.Context) (url.Values, authzRequest, bool) {
	form, ok := s.pageForm(c)
	if !ok {
		return nil, authzRequest{}, false
	}
	req, ok := s.formAuthz(c, form)
	return form, req, ok
}

// preForm is authzForm for a form shown before sign-in: its CSRF token
// must be the pre-session's; false when it has answered.
func (s *Server) preForm(c *gin.Context) (url.Values, authzRequest, bool) {
	form, req, ok := s.authzForm(c)
	if !ok {
		return nil, req, false
	}
	if !s.csrfOK(c, form.Get("csrf"), nil, true) {
		s.csrfFailed(c)
		return nil, req, false
	}
	return form, req, true
}

// signinSubmit is POST /signin, the password form (with or without an app's request).
func (s *Server) signinSubmit(c *gin.Context) {
	form, req, ok := s.authzForm(c)
	if !ok {
		return
	}
	pu, ok := s.currentPage(c)
	if !ok {
		return
	}
	if !s.csrfOK(c, form.Get("csrf"), pu, true) {
		s.csrfFailed(c)
		return
	}
	email, password := form.Get("email"), form.Get("password")
	if email == "" || password == "" {
		s.showSignin(c, http.StatusBadRequest, req, email, i18n.M("Enter your email address and your password."))
		return
	}
	// The password grant's limits: checked before any bcrypt work, counted after a failure.
	guard, err := s.api.Limiter().GuardPassword(c, email)
	if err != nil {
		s.metrics.Login(api.MethodPassword, api.LoginOutcome(err)) // rate_limited, as at /token
		s.pageErr(c, err)
		return
	}
	u, err := s.accounts.Authenticate(c.Request.Context(), email, password)
	guard.Done(c, err)
	s.metrics.Login(api.MethodPassword, api.LoginOutcome(err)) // the API's labels: one alert covers both
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		s.api.SecurityEvent(c, "", accounts.ActionSignInFailed, "", map[string]string{
			"method": "pwd", "reason": "invalid_credentials", "username": api.AuditUsername(email), "via": "hosted"})
		s.showSignin(c, http.StatusBadRequest, req, email, errGenericSignin)
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	s.passwordSignedIn(c, u, req)
}

// passwordSignedIn ends a password sign-in or sign-up on the hosted pages:
// the browser gets a page session, then the app a code, or the account page;
// a user with a second factor is asked for it first (mfa_signin.go).
func (s *Server) passwordSignedIn(c *gin.Context, u *accounts.User, req authzRequest) {
	if more, err := s.needsSecondFactor(c.Request.Context(), u.ID, []string{"pwd"}); err != nil {
		s.pageErr(c, err)
		return
	} else if more {
		s.startSecondFactor(c, u.ID, []string{"pwd"}, req, true)
		return
	}
	s.pageSignedIn(c, u, []string{"pwd"}, req)
}

// pageSignedIn ends a sign-in on the pages with amr: a page session, then
// the app (its consent page or code, consent.go), or the account page.
func (s *Server) pageSignedIn(c *gin.Context, u *accounts.User, amr []string, req authzRequest) {
	ps, err := s.startPageSession(c, u, amr)
	if err != nil {
		s.pageErr(c, err)
		return
	}
	s.api.SecurityEvent(c, u.ID, accounts.ActionSignIn, u.ID, map[string]string{"method": strings.Join(amr, " "), "via": "hosted"})
	if req.present() {
		s.toApp(c, req, u, ps.CSRF, amr, s.now(), false) // consent.go
		return
	}
	c.Redirect(http.StatusSeeOther, "/account")
}

// signupPage is GET /register.
func (s *Server) signupPage(c *gin.Context) {
	req := authzFrom(c.Request.URL.Query())
	if req.present() {
		if redirErr, showErr := s.checkAuthz(req); showErr != nil || redirErr != "" {
			s.pageError(c, http.StatusBadRequest, i18n.M("This sign-up link is not valid"), i18n.M("The app sent an invalid sign-in request."))
			return
		}
	}
	if s.accounts.SignupPolicy().Disabled {
		s.pageError(c, http.StatusForbidden, i18n.M("Sign-up is closed"), i18n.M("This service does not create new accounts. Ask your administrator for one."))
		return
	}
	s.showSignup(c, http.StatusOK, req, "", "", nil)
}

func (s *Server) showSignup(c *gin.Context, status int, req authzRequest, email, name string, fieldErr map[string]string) {
	d := &pageData{Title: i18n.M("Create your account"), CSRF: s.preCSRF(c), Req: req, Email: email, Name: name,
		FieldError: fieldErr, SigninURL: "/signin", AppName: s.appName(req.ClientID), Providers: s.providerLinks(req)}
	if req.present() {
		d.SigninURL = req.authorizeURL()
	}
	if len(fieldErr) > 0 {
		d.Error = i18n.M("Please correct the marked fields.")
	}
	s.render(c, status, "signup.html", d)
}

// signupSubmit is POST /register: creates a password user (the signup
// limit of POST /signup applies), signs the browser in and, with an app's
// request, answers the app with a code.
func (s *Server) signupSubmit(c *gin.Context) {
	form, req, ok := s.preForm(c)
	if !ok {
		return
	}
	email, password, name := form.Get("email"), form.Get("password"), form.Get("name")
	u, err := s.accounts.Signup(c.Request.Context(), accounts.SignupRequest{Email: email, Password: password, Name: name})
	var ve *accounts.ValidationError
	switch {
	case errors.As(err, &ve):
		field := ve.Field
		if field != "email" && field != "name" {
			field = "password"
		}
		s.showSignup(c, http.StatusBadRequest, req, email, name, map[string]string{field: s.sentence(c, field, ve.Reason)})
		return
	case errors.Is(err, accounts.ErrEmailTaken):
		s.showSignup(c, http.StatusConflict, req, email, name, map[string]string{"email": i18n.M("An account with this email address already exists. Sign in instead.")})
		return
	case err != nil:
		s.pageErr(c, err)
		return
	}
	s.api.SendVerification(c, u) // recovery.go
	s.passwordSignedIn(c, u, req)
}

// signout is POST /signout: ends the page session's unilogin session.
func (s *Server) signout(c *gin.Context) {
	if _, err := api.ParseForm(c); err != nil {
		s.pageErr(c, err)
		return
	}
	pu, ok := s.currentPage(c)
	if !ok {
		return
	}
	if pu != nil {
		if !s.csrfOK(c, c.Request.PostForm.Get("csrf"), pu, false) {
			s.csrfFailed(c)
			return
		}
		if !s.endPageSession(c, pu) { // logout.go
			return
		}
	}
	s.clearCookie(c, pageCookie, "/")
	s.signedOut(c)
}

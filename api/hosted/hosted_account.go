package hosted

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// Fixed texts of the account page, chosen by a code in its query string
// (never the query text itself).
var (
	accountNotices = map[string]string{
		"linked":   i18n.M("The identity was linked. You can now sign in with it."),
		"unlinked": i18n.M("The identity was unlinked."),
		"revoked":  i18n.M("The session was signed out."),
		"password": i18n.M("Your password was saved. Your other sessions were signed out."),
		// account_email.go
		"verification_sent": i18n.M("We sent you a new verification link. Open it to verify your email address."),

		"app_revoked": i18n.M("The app's access was removed. It was signed out and must ask again."),
		// second factors and passkeys (account_totp.go, account_passkeys.go)
		"totp_removed":    i18n.M("The authenticator app was removed. Signing in needs only your password again."),
		"passkey_added":   i18n.M("The passkey was added. You can now sign in with it."),
		"passkey_removed": i18n.M("The passkey was removed."),
		"confirmed":       i18n.M("Thank you. For the next 5 minutes you can change your sign-in methods without confirming again."),
	}
	accountErrors = map[string]string{
		oauth.CodeIdentityLinked: i18n.M("That account at the provider is already linked to another user."),
		oauth.CodeAccountExists:  i18n.M("You already have an identity at this provider linked; unlink it first."),
		oauth.CodeAccessDenied:   i18n.M("The provider did not confirm your identity."),
		oauth.CodeUnavailable:    i18n.M("The provider is unavailable right now; try again later."),
		oauth.CodeInvalidRequest: i18n.M("The request was invalid; try again."),
		oauth.CodeServerError:    i18n.M("Something went wrong; try again later."),
		"session_not_found":      i18n.M("That session had already ended."),
		"app_not_found":          i18n.M("That app had no access any more."),
	}
)

// requirePage loads the page session of an account route; without one
// the browser goes to the sign-in page (GET) or gets the error page (POST).
func (s *Server) requirePage(c *gin.Context) *pageUser {
	pu, ok := s.currentPage(c)
	if !ok {
		return nil
	}
	if pu == nil {
		if c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusSeeOther, "/signin")
			c.Abort()
			return nil
		}
		s.pageError(c, http.StatusUnauthorized, i18n.M("You are signed out"), i18n.M("Your session has ended. Sign in again to manage your account."))
		return nil
	}
	return pu
}

// accountPOST is the start of every account form: a page session and its CSRF token.
func (s *Server) accountPOST(c *gin.Context) (*pageUser, url.Values) {
	form, ok := s.pageForm(c)
	if !ok {
		return nil, nil
	}
	pu := s.requirePage(c)
	if pu == nil {
		return nil, nil
	}
	if !s.csrfOK(c, form.Get("csrf"), pu, false) {
		s.csrfFailed(c)
		return nil, nil
	}
	return pu, form
}

// accountPage is GET /account.
func (s *Server) accountPage(c *gin.Context) {
	pu := s.requirePage(c)
	if pu == nil {
		return
	}
	d := &pageData{Notice: accountNotices[c.Query("done")], Error: accountErrors[c.Query("error")]}
	s.showAccount(c, http.StatusOK, pu, d)
}

func (s *Server) showAccount(c *gin.Context, status int, pu *pageUser, d *pageData) {
	ctx := c.Request.Context()
	ids, err := s.accounts.Identities(ctx, pu.user.ID)
	if err != nil {
		s.pageErr(c, err)
		return
	}
	list, err := s.sessions.List(ctx, pu.user.ID)
	if err != nil {
		s.pageErr(c, err)
		return
	}
	if d.Apps, err = s.appsWithAccess(c, pu.user.ID); err != nil { // consent.go
		s.pageErr(c, err)
		return
	}
	if d.MFA, err = s.mfaPageView(c, pu, d.MFA); err != nil {
		s.pageErr(c, err)
		return
	}
	d.Title, d.CSRF, d.User, d.HasPassword = i18n.M("Your account"), pu.ps.CSRF, pu.user, pu.user.HasPassword()
	// The last-method guard (passkeys count as a way to sign in).
	methods := len(ids) + len(d.MFA.Passkeys)
	for i := range d.MFA.Passkeys {
		d.MFA.Passkeys[i].Last = !pu.user.HasPassword() && methods == 1
	}
	linked := map[string]bool{}
	for _, id := range ids {
		linked[id.Provider] = true
		name := id.Provider
		if p, ok := s.provs.Get(id.Provider); ok {
			name = p.Name()
		}
		d.Identities = append(d.Identities, identityView{Provider: id.Provider, Name: name, Email: id.Email,
			LinkedAt: id.LinkedAt, Last: !pu.user.HasPassword() && methods == 1})
	}
	for _, p := range s.provs.List() {
		if !linked[p.ID()] {
			d.Linkable = append(d.Linkable, providerLink{ID: p.ID(), Name: p.Name(), URL: "/account/link/" + p.ID()})
		}
	}
	for _, ss := range list {
		d.Sessions = append(d.Sessions, sessionView{ID: ss.ID, Device: ss.UserAgent, Methods: s.methodNames(ss.AMR),
			App: ss.ClientID, CreatedAt: ss.CreatedAt, LastUsedAt: ss.LastUsedAt, Current: ss.ID == pu.sess.ID})
	}
	s.render(c, status, "account.html", d)
}

// accountPassword is POST /account/password: change or set the password;
// ends every other session (like POST /users/me/password).
func (s *Server) accountPassword(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	current, next := form.Get("current_password"), form.Get("new_password")
	var err error
	switch {
	case pu.user.HasPassword() && current == "":
		s.showAccount(c, http.StatusForbidden, pu, &pageData{Error: i18n.M("Confirm that it is you: enter your current password."),
			FieldError: map[string]string{"current_password": i18n.M("Enter your current password.")}})
		return
	case pu.user.HasPassword():
		// Checked under the sign-in limits, through the same gate.
		err = s.api.PasswordChecked(c, pu.user, "hosted", func(ctx context.Context) error {
			return s.accounts.SetPassword(ctx, pu.user.ID, current, next)
		})
	case !s.api.SignedInRecently(pu.sess.CreatedAt):
		s.askReauth(c, pu, i18n.M("For your security, sign in again (less than 5 minutes ago) before you set a password."))
		return
	default:
		err = s.accounts.SetPassword(c.Request.Context(), pu.user.ID, "", next)
	}
	var ve *accounts.ValidationError
	switch {
	case errors.Is(err, accounts.ErrInvalidCredentials):
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: i18n.M("Please correct the marked field."),
			FieldError: map[string]string{"current_password": i18n.M("The current password is incorrect.")}})
		return
	case errors.As(err, &ve):
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: i18n.M("Please correct the marked field."),
			FieldError: map[string]string{"new_password": ve.Reason}})
		return
	case err != nil:
		s.pageErr(c, err)
		return
	}
	n, err := s.sessions.EndAll(c.Request.Context(), pu.user.ID, pu.sess.ID)
	if err != nil {
		s.pageErr(c, err)
		return
	}
	s.api.SecurityEvent(c, pu.user.ID, accounts.ActionPasswordChange, pu.user.ID, map[string]string{"other_sessions_ended": strconv.Itoa(n), "via": "hosted"})
	c.Redirect(http.StatusSeeOther, "/account?done=password")
}

// accountRevoke is POST /account/sessions/revoke: ends one of the user's
// sessions (form field id); ending this browser's own signs it out.
func (s *Server) accountRevoke(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	id := form.Get("id")
	err := s.sessions.End(c.Request.Context(), pu.user.ID, id)
	if errors.Is(err, session.ErrNotFound) {
		c.Redirect(http.StatusSeeOther, "/account?error=session_not_found")
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	s.api.SecurityEvent(c, pu.user.ID, accounts.ActionSessionRevoke, pu.user.ID, map[string]string{"session_id": id, "via": "account page"})
	if id == pu.sess.ID {
		s.clearCookie(c, pageCookie, "/")
		s.render(c, http.StatusOK, "signedout.html", &pageData{Title: i18n.M("Signed out"), SigninURL: "/signin"})
		return
	}
	c.Redirect(http.StatusSeeOther, "/account?done=revoked")
}

// accountUnlink is POST /account/unlink/{provider}; the last way to sign
// in cannot be unlinked (409, explained on the page).
func (s *Server) accountUnlink(c *gin.Context) {
	pu, _ := s.accountPOST(c)
	if pu == nil {
		return
	}
	err := s.accounts.Unlink(c.Request.Context(), pu.user.ID, c.Param("provider"))
	switch {
	case errors.Is(err, accounts.ErrLastLoginMethod):
		s.showAccount(c, http.StatusConflict, pu, &pageData{
			Error: i18n.M("This is the only way left to sign in to your account, so it cannot be unlinked. Set a password or link another provider first.")})
		return
	case errors.Is(err, accounts.ErrNotFound):
		s.showAccount(c, http.StatusNotFound, pu, &pageData{Error: i18n.M("No identity of this provider is linked.")})
		return
	case err != nil:
		s.pageErr(c, err)
		return
	}
	s.api.SecurityEvent(c, pu.user.ID, accounts.ActionIdentityUnlink, pu.user.ID, map[string]string{"provider": c.Param("provider"), "via": "account page"})
	c.Redirect(http.StatusSeeOther, "/account?done=unlinked")
}

// accountLink is POST /account/link/{provider}: starts the link flow of
// flow.go for the built-in client, with a link ticket for this user.
// Adding a sign-in method needs a fresh proof (docs/security.md,
// "Re-authentication"): the current password, asked for in place, or for
// an account without one a recent sign-in.
func (s *Server) accountLink(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	p, ok := s.provs.Get(c.Param("provider"))
	if !ok {
		s.pageError(c, http.StatusNotFound, i18n.M("Unknown provider"), i18n.M("This provider is not enabled."))
		return
	}
	confirm := &providerLink{ID: p.ID(), Name: p.Name(), URL: "/account/link/" + p.ID()}
	current := form.Get("current_password")
	switch {
	case pu.user.HasPassword() && current == "":
		s.showAccount(c, http.StatusForbidden, pu, &pageData{ConfirmLink: confirm,
			Error: s.locale(c).T("Confirm that it is you: enter your current password to link %s.", p.Name())})
		return
	case pu.user.HasPassword():
		err := s.api.PasswordChecked(c, pu.user, "hosted", func(ctx context.Context) error {
			return s.accounts.VerifyPassword(ctx, pu.user.ID, current)
		})
		if errors.Is(err, accounts.ErrInvalidCredentials) {
			s.showAccount(c, http.StatusBadRequest, pu, &pageData{ConfirmLink: confirm, Error: i18n.M("Please correct the marked field."),
				FieldError: map[string]string{"link_current_password": i18n.M("The current password is incorrect.")}})
			return
		} else if err != nil {
			s.pageErr(c, err)
			return
		}
	case !s.api.SignedInRecently(pu.sess.CreatedAt):
		s.askReauth(c, pu, i18n.M("For your security, sign in again (less than 5 minutes ago) before you link another sign-in method."))
		return
	}
	s.startAccountFlow(c, p, pu.user.ID)
}

// askReauth shows the account page (403) with msg, asking an account
// without a password to sign in again with one of its providers.
func (s *Server) askReauth(c *gin.Context, pu *pageUser, msg string) {
	ids, err := s.accounts.Identities(c.Request.Context(), pu.user.ID)
	if err != nil {
		s.pageErr(c, err)
		return
	}
	d := &pageData{Error: msg}
	for _, id := range ids {
		if p, ok := s.provs.Get(id.Provider); ok {
			d.Reauth = append(d.Reauth, providerLink{ID: p.ID(), Name: p.Name(), URL: "/account/signin/" + p.ID()})
		}
	}
	s.showAccount(c, http.StatusForbidden, pu, d)
}

// accountProviderSignin is GET /account/signin/{provider}: sign in to the
// account page with a provider (the built-in client, no app involved).
func (s *Server) accountProviderSignin(c *gin.Context) {
	p, ok := s.provs.Get(c.Param("provider"))
	if !ok {
		s.pageError(c, http.StatusNotFound, i18n.M("Unknown provider"), i18n.M("This provider is not enabled."))
		return
	}
	s.startAccountFlow(c, p, "")
}

// startAccountFlow runs the provider flow of flow.go as the built-in
// client: a PKCE verifier and state kept in a sealed cookie for the
// callback to redeem the code server-side. linkUser set: a link flow.
func (s *Server) startAccountFlow(c *gin.Context, p providers.Provider, linkUser string) {
	af := accountFlow{State: providers.RandomString(), Verifier: providers.NewPKCEVerifier(), Link: linkUser != "",
		Expires: s.now().Add(api.FlowTTL)}
	challenge := session.S256(af.Verifier)
	q := url.Values{
		"client_id": {AccountClientID}, "redirect_uri": {s.pages.callbackURL}, "state": {af.State},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	if linkUser != "" {
		q.Set("link", s.flow.Seal(api.LinkTicket{
			UserID: linkUser, Provider: p.ID(), ClientID: AccountClientID, RedirectURI: s.pages.callbackURL,
			Challenge: challenge, Expires: af.Expires,
		}, "link-ticket"))
	}
	s.setCookie(c, acctFlowCookie, s.flow.Seal(af, "account-flow"), acctFlowPath, api.FlowTTL)
	c.Redirect(http.StatusSeeOther, "/auth/"+p.ID()+"/login?"+q.Encode())
}

// accountCallback is GET /account/callback, the built-in client's redirect
// URI: checks the state against the sealed cookie and redeems the code at
// once with its verifier (authcode.Service.Redeem, as POST /token does; a
// link commits here). A sign-in becomes the page session; a link's extra session ends.
func (s *Server) accountCallback(c *gin.Context) {
	var af accountFlow
	state := c.Query("state")
	if !s.openCookie(c, acctFlowCookie, "account-flow", &af) || s.now().After(af.Expires) ||
		subtle.ConstantTimeCompare([]byte(state), []byte(af.State)) != 1 {
		s.pageError(c, http.StatusBadRequest, i18n.M("This sign-in cannot be completed"),
			i18n.M("No sign-in from this browser is in progress, or it took too long. Start again."))
		return
	}
	s.clearCookie(c, acctFlowCookie, acctFlowPath)
	if e := c.Query("error"); e != "" {
		if _, known := accountErrors[e]; !known {
			e = oauth.CodeServerError
		}
		if af.Link {
			c.Redirect(http.StatusSeeOther, "/account?error="+e)
			return
		}
		msg := accountErrors[e]
		if e == oauth.CodeAccountExists {
			msg = i18n.M("An account with this email address already exists. Sign in with your password, then link the provider from your account page.")
		}
		s.showSignin(c, http.StatusBadRequest, authzRequest{}, "", msg)
		return
	}
	pair, err := s.codes.Redeem(c.Request.Context(), authcode.Redemption{
		Code: c.Query("code"), ClientID: AccountClientID, RedirectURI: s.pages.callbackURL, Verifier: af.Verifier,
		ClientIP: c.ClientIP(), UserAgent: api.CoarseUserAgent(c.Request.UserAgent()), Log: s.log(c),
	}, s.api.LoadSubject)
	if err != nil {
		if af.Link {
			c.Redirect(http.StatusSeeOther, "/account?error="+oauth.CodeInvalidRequest)
			return
		}
		s.pageErr(c, err)
		return
	}
	if af.Link {
		// The link is committed; the session Redeem started is not needed.
		if err := s.sessions.End(c.Request.Context(), pair.UserID, pair.SessionID); err != nil && !errors.Is(err, session.ErrNotFound) {
			s.pageErr(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/account?done=linked")
		return
	}
	s.setPageCookie(c, pair.SessionID, pair.UserID)
	c.Redirect(http.StatusSeeOther, "/account")
}

package hosted

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/session"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at the
// end_session_endpoint, GET /logout and POST /logout without an
// Authorization header (the API hands those over, api/endsession.go):
//   - a valid id_token_hint (signature and iss; expiry ignored, §2) ends
//     the hint's session and this browser's hosted-page session when it is
//     the same user's, then redirects to post_logout_redirect_uri with
//     state when the URI is registered for the hint's client (exact
//     match, §3), else shows the signed-out page;
//   - without a hint the person confirms first (a CSRF-protected form
//     posting back here); its POST ends the hosted-page session.

// logoutParams are the parameters of an end-session request (§2).
var logoutParams = []string{"id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales", "csrf", "decision"}

// endSession is GET and POST /logout (RP-initiated).
func (s *Server) endSession(c *gin.Context) {
	params := c.Request.URL.Query()
	if c.Request.Method == http.MethodPost && c.GetHeader("Content-Type") != "" {
		// A form (§2, §3); parameters it lacks may come in the query.
		form, ok := s.pageForm(c)
		if !ok {
			return
		}
		for k, v := range form {
			params[k] = v
		}
	}
	for _, k := range logoutParams {
		if len(params[k]) > 1 {
			s.pageError(c, http.StatusBadRequest, i18n.M("This sign-out link is not valid"), s.locale(c).T("The parameter %q is repeated.", k))
			return
		}
	}
	switch {
	case params.Get("id_token_hint") != "":
		s.hintLogout(c, params)
	case c.Request.Method == http.MethodPost && params.Get("csrf") != "":
		s.confirmedLogout(c, params.Get("csrf"))
	default:
		s.askLogout(c)
	}
}

// hintLogout ends the session of a valid id_token_hint.
func (s *Server) hintLogout(c *gin.Context, params url.Values) {
	ctx := c.Request.Context()
	claims, err := s.sessions.ParseIDTokenHint(ctx, params.Get("id_token_hint"))
	if errors.Is(err, session.ErrInvalidToken) {
		s.pageError(c, http.StatusBadRequest, i18n.M("This sign-out link is not valid"), i18n.M("The app sent a sign-out request that could not be verified."))
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	clientID := ""
	if len(claims.Audience) == 1 {
		clientID = claims.Audience[0]
	}
	if id := params.Get("client_id"); id != "" && id != clientID {
		s.pageError(c, http.StatusBadRequest, i18n.M("This sign-out link is not valid"), i18n.M("The app's client_id does not match the ID token."))
		return
	}
	if err := s.sessions.End(ctx, claims.Subject, claims.SessionID); err != nil && !errors.Is(err, session.ErrNotFound) {
		s.pageErr(c, err)
		return
	} else if err == nil {
		s.api.SecurityEvent(c, claims.Subject, accounts.ActionSessionRevoke, claims.Subject,
			map[string]string{"session_id": claims.SessionID, "via": "rp-logout", "client_id": clientID})
	}
	pu, ok := s.currentPage(c)
	if !ok {
		return
	}
	if pu != nil && pu.user.ID == claims.Subject {
		if !s.endPageSession(c, pu) {
			return
		}
	}
	cl, ok := s.api.Client(clientID)
	if uri := params.Get("post_logout_redirect_uri"); ok && uri != "" && slices.Contains(cl.PostLogoutRedirectURIs, uri) {
		u, err := url.Parse(uri)
		if err != nil { // registered URIs are validated at start-up
			s.pageErr(c, err)
			return
		}
		if st := params.Get("state"); st != "" {
			q := u.Query()
			q.Set("state", st)
			u.RawQuery = q.Encode()
		}
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusFound, u.String())
		return
	}
	s.signedOut(c)
}

// askLogout shows the confirmation page, or the signed-out page when this
// browser is not signed in.
func (s *Server) askLogout(c *gin.Context) {
	pu, ok := s.currentPage(c)
	if !ok {
		return
	}
	if pu == nil {
		s.signedOut(c)
		return
	}
	s.render(c, http.StatusOK, "logout.html", &pageData{Title: i18n.M("Sign out"), CSRF: pu.ps.CSRF, User: pu.user})
}

// confirmedLogout is the confirmation form's POST: it ends the hosted-page
// session (its CSRF token checked).
func (s *Server) confirmedLogout(c *gin.Context, csrf string) {
	pu, ok := s.currentPage(c)
	if !ok {
		return
	}
	if pu != nil {
		if !s.csrfOK(c, csrf, pu, false) {
			s.csrfFailed(c)
			return
		}
		if !s.endPageSession(c, pu) {
			return
		}
	}
	s.signedOut(c)
}

// endPageSession ends the hosted-page session pu and clears its cookie;
// false when it has answered with an error page.
func (s *Server) endPageSession(c *gin.Context, pu *pageUser) bool {
	if err := s.sessions.End(c.Request.Context(), pu.user.ID, pu.sess.ID); err != nil && !errors.Is(err, session.ErrNotFound) {
		s.pageErr(c, err)
		return false
	}
	s.api.SecurityEvent(c, pu.user.ID, accounts.ActionSessionRevoke, pu.user.ID, map[string]string{"session_id": pu.sess.ID, "via": "sign-out"})
	s.clearCookie(c, pageCookie, "/")
	return true
}

// signedOut shows the signed-out page.
func (s *Server) signedOut(c *gin.Context) {
	s.render(c, http.StatusOK, "signedout.html", &pageData{Title: i18n.M("Signed out"), SigninURL: "/signin"})
}

package hosted

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// The interaction steps of an app's request once the person is signed in
// here (OpenID Connect Core §3.1.2.1, §3.1.2.4): the account choice of
// prompt=select_account, and consent for third-party apps (a client with
// consent: true). A consent is remembered per user, client and scope
// (accounts.GrantConsent) until the user revokes it on the account page;
// prompt=consent asks again, prompt=none answers consent_required.

// carriedPrompt is the part of an app's prompt that outlives the sign-in
// form: "consent" when the app asked for the consent page. login and
// select_account are satisfied by the sign-in itself, none never reaches
// a form.
func carriedPrompt(prompt string) string {
	if slices.Contains(strings.Fields(prompt), "consent") {
		return "consent"
	}
	return ""
}

// unsupportedRequestParam is the error of an authorization request that
// passes its parameters in a way this provider does not support: request
// objects (OpenID Connect Core §6.1, §6.2) and registration (§7.2.1).
// Ignoring them would act on other parameters than the app meant.
func unsupportedRequestParam(q url.Values) string {
	switch {
	case q.Has("request"):
		return "request_not_supported"
	case q.Has("request_uri"):
		return "request_uri_not_supported"
	case q.Has("registration"):
		return "registration_not_supported"
	}
	return ""
}

// scopeView is one line of the consent page and of "Apps with access":
// Kind is an OpenID Connect scope, or "permission" with Name.
type scopeView struct{ Kind, Name string }

// appView is one app of "Apps with access".
type appView struct {
	ClientID, Name string
	Scopes         []scopeView
	GrantedAt      time.Time
}

func scopeViews(scopes []string) []scopeView {
	out := make([]scopeView, 0, len(scopes))
	for _, sc := range scopes {
		if session.IsOIDCScope(sc) {
			out = append(out, scopeView{Kind: sc})
		} else {
			out = append(out, scopeView{Kind: "permission", Name: sc})
		}
	}
	return out
}

// consentScopes are what the app would get for req: its OpenID Connect
// scopes and the permissions it would be granted (all of the user's when
// it names none); openid alone when that is nothing (the app still learns
// who the user is).
func (s *Server) consentScopes(req authzRequest, u *accounts.User) []string {
	scopes := strings.Fields(session.GrantScope(req.Scope, s.api.Subject(u).Permissions))
	if len(scopes) == 0 {
		return []string{session.ScopeOpenID}
	}
	return scopes
}

// authorizeURL is the request as a link to /authorize.
func (r authzRequest) authorizeURL() string {
	q := r.query()
	q.Set("response_type", "code")
	return "/authorize?" + q.Encode()
}

// appName is how the pages name the app of a request: its configured
// name, else its id.
func (s *Server) appName(clientID string) string {
	if cl, ok := s.api.Client(clientID); ok {
		return cl.DisplayName()
	}
	return clientID
}

// signedInAuthz answers an app's request for a browser already signed in
// here: the account choice when prompt=select_account asked for it, else
// on to the app.
func (s *Server) signedInAuthz(c *gin.Context, req authzRequest, pu *pageUser, prompt session.Prompt) {
	if prompt.SelectAccount {
		another := req
		another.Prompt = strings.TrimSpace("login " + req.Prompt) // the sign-in form despite this session
		s.render(c, http.StatusOK, "select_account.html", &pageData{Title: i18n.M("Choose an account"), CSRF: pu.ps.CSRF, Req: req,
			AppName: s.appName(req.ClientID), User: pu.user, SigninURL: another.authorizeURL()})
		return
	}
	s.toApp(c, req, pu.user, pu.ps.CSRF, pu.sess.AMR, pu.sess.CreatedAt, prompt.None)
}

// toApp ends an app's sign-in for the signed-in user u: the consent page
// first for a third-party app whose grant is not remembered (or when the
// app asked again, prompt=consent), then the code (finishAuthz). csrf is
// the page session's token for the consent form; none: prompt=none, no
// page may be shown.
func (s *Server) toApp(c *gin.Context, req authzRequest, u *accounts.User, csrf string, amr []string, authTime time.Time, none bool) {
	cl, ok := s.api.Client(req.ClientID)
	if ok && cl.Consent {
		scopes := s.consentScopes(req, u)
		remembered := false
		if req.Prompt != "consent" {
			var err error
			if remembered, err = s.accounts.HasConsent(c.Request.Context(), u.ID, cl.ID, scopes); err != nil {
				s.redirectError(c, req.RedirectURI, s.flowErrorCode(c, err), req.State)
				return
			}
		}
		if !remembered {
			if none {
				s.redirectError(c, req.RedirectURI, "consent_required", req.State) // Core §3.1.2.6
				return
			}
			s.render(c, http.StatusOK, "consent.html", &pageData{Title: i18n.M("Allow access"), CSRF: csrf, Req: req,
				AppName: cl.DisplayName(), User: u, Scopes: scopeViews(scopes)})
			return
		}
	}
	s.finishAuthz(c, req, u.ID, amr, authTime)
}

// interactionForm is the start of the consent and account-choice forms:
// the app's request (validated again), the page session and its CSRF
// token. Without a page session the sign-in form is shown for the request.
func (s *Server) interactionForm(c *gin.Context) (url.Values, authzRequest, *pageUser, bool) {
	form, req, ok := s.authzForm(c)
	if !ok {
		return nil, req, nil, false
	}
	if !req.present() {
		s.pageError(c, http.StatusBadRequest, i18n.M("This page is not valid"), i18n.M("The app's sign-in request is missing. Start again from the app."))
		return nil, req, nil, false
	}
	pu, ok := s.currentPage(c)
	if !ok {
		return nil, req, nil, false
	}
	if pu == nil {
		s.showSignin(c, http.StatusOK, req, "", i18n.M("Your sign-in has ended. Sign in again to continue."))
		return nil, req, nil, false
	}
	if !s.csrfOK(c, form.Get("csrf"), pu, false) {
		s.csrfFailed(c)
		return nil, req, nil, false
	}
	return form, req, pu, true
}

// consentSubmit is POST /consent: the consent page's buttons,
// decision=allow (remembered, then the code) or deny (access_denied).
func (s *Server) consentSubmit(c *gin.Context) {
	form, req, pu, ok := s.interactionForm(c)
	if !ok {
		return
	}
	switch form.Get("decision") {
	case "allow":
		scopes := s.consentScopes(req, pu.user)
		if err := s.accounts.GrantConsent(c.Request.Context(), pu.user.ID, req.ClientID, scopes); err != nil {
			s.redirectError(c, req.RedirectURI, s.flowErrorCode(c, err), req.State)
			return
		}
		s.api.SecurityEvent(c, pu.user.ID, accounts.ActionConsentGrant, pu.user.ID,
			map[string]string{"client_id": req.ClientID, "scope": strings.Join(scopes, " ")})
		s.finishAuthz(c, req, pu.user.ID, pu.sess.AMR, pu.sess.CreatedAt)
	case "deny":
		s.redirectError(c, req.RedirectURI, oauth.CodeAccessDenied, req.State)
	default:
		s.pageError(c, http.StatusBadRequest, i18n.M("This page is not valid"), i18n.M("Choose Allow or Deny."))
	}
}

// selectAccountSubmit is POST /select-account: "continue as" the signed-in
// user ("use another account" is a link to the sign-in form).
func (s *Server) selectAccountSubmit(c *gin.Context) {
	_, req, pu, ok := s.interactionForm(c)
	if !ok {
		return
	}
	s.toApp(c, req, pu.user, pu.ps.CSRF, pu.sess.AMR, pu.sess.CreatedAt, false)
}

// appsWithAccess lists the apps the user allowed, for the account page.
func (s *Server) appsWithAccess(c *gin.Context, userID string) ([]appView, error) {
	list, err := s.accounts.ListConsents(c.Request.Context(), userID)
	if err != nil {
		return nil, err
	}
	out := make([]appView, 0, len(list))
	for _, cs := range list {
		out = append(out, appView{ClientID: cs.ClientID, Name: s.appName(cs.ClientID), Scopes: scopeViews(cs.Scopes), GrantedAt: cs.GrantedAt})
	}
	return out, nil
}

// accountRevokeApp is POST /account/apps/revoke: withdraws the consent of
// one app (form field client_id) and ends the user's sessions of it, so
// that its refresh tokens stop at once and its next request asks again.
func (s *Server) accountRevokeApp(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	ctx := c.Request.Context()
	clientID := form.Get("client_id")
	err := s.accounts.RevokeConsent(ctx, pu.user.ID, clientID)
	if errors.Is(err, accounts.ErrNotFound) {
		c.Redirect(http.StatusSeeOther, "/account?error=app_not_found")
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	s.api.SecurityEvent(c, pu.user.ID, accounts.ActionConsentRevoke, pu.user.ID, map[string]string{"client_id": clientID})
	list, err := s.sessions.List(ctx, pu.user.ID)
	if err != nil {
		s.pageErr(c, err)
		return
	}
	for _, ss := range list {
		if ss.ClientID != clientID {
			continue
		}
		if err := s.sessions.End(ctx, pu.user.ID, ss.ID); err != nil && !errors.Is(err, session.ErrNotFound) {
			s.pageErr(c, err)
			return
		}
		s.api.SecurityEvent(c, pu.user.ID, accounts.ActionSessionRevoke, pu.user.ID, map[string]string{"session_id": ss.ID, "via": "app access revoked"})
	}
	c.Redirect(http.StatusSeeOther, "/account?done=app_revoked")
}

// oidcRoutes mounts the interaction steps and RP-initiated logout
// (logout.go); POST /logout without Authorization comes from the API.
func (s *Server) oidcRoutes(e gin.IRoutes) {
	e.POST("/authorize", s.authorize) // the same request as a form (OIDC Core §3.1.2.1)
	e.POST("/consent", s.consentSubmit)
	e.POST("/select-account", s.selectAccountSubmit)
	e.POST("/account/apps/revoke", s.accountRevokeApp)
	e.GET("/logout", s.endSession)
	s.api.HandleEndSession(s.endSession)
}

package hosted

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

const (
	flowCookiePrefix = "unilogin_flow_"
	flowCookiePath   = "/auth/"
	exchangeTimeout  = 20 * time.Second

	// maxFlowCookies bounds the flow cookies one browser holds: starting
	// another flow ends the oldest beyond it, so abandoned flows cannot
	// fill the cookie jar (a browser sends at most a few KiB of cookies
	// before servers answer 431). Two or three tabs still sign in at once.
	maxFlowCookies = 4
	// maxFlowCookieLen bounds one flow cookie's value.
	maxFlowCookieLen = 2048
)

// flowState is what a browser flow remembers between /auth/{p}/login and
// the callback. It travels in the flow cookie, sealed (AES-GCM under a key
// shared by every instance through the store), so nothing is kept in
// memory and the cookie can neither be read nor forged by the browser.
type flowState struct {
	ID            string    `json:"id"`
	Provider      string    `json:"p"`
	State         string    `json:"s"` // the state sent upstream
	Nonce         string    `json:"n"`
	Verifier      string    `json:"v"` // our PKCE verifier toward the provider
	ClientID      string    `json:"c"`
	RedirectURI   string    `json:"r"`
	AppState      string    `json:"as,omitempty"`
	Challenge     string    `json:"cc,omitempty"` // the app's PKCE challenge
	ChallengeMeth string    `json:"cm,omitempty"`
	AppScope      string    `json:"sc,omitempty"` // the app's requested scope
	AppNonce      string    `json:"an,omitempty"` // the app's OpenID Connect nonce
	AppPrompt     string    `json:"ap,omitempty"` // "consent" when the app asked for the consent page
	LinkUserID    string    `json:"l,omitempty"`  // set for a link flow
	Expires       time.Time `json:"e"`
}

// redirectTo appends params to a validated redirect URI, and iss, the
// issuer (RFC 9207 §2), to every authorization response, success or error.
func (s *Server) redirectTo(c *gin.Context, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs are validated at start-up
		oauth.WriteError(c, http.StatusInternalServerError, oauth.CodeServerError, "internal server error")
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	q.Set("iss", s.opts.Issuer)
	u.RawQuery = q.Encode()
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, u.String())
}

func (s *Server) redirectError(c *gin.Context, redirectURI, code, appState string) {
	s.redirectTo(c, redirectURI, url.Values{"error": {code}, "state": {appState}})
}

// providerLogin is GET /auth/{provider}/login: validates the app's request,
// binds a new flow to this browser with the flow cookie and redirects to
// the provider with state, nonce and PKCE.
func (s *Server) providerLogin(c *gin.Context) {
	p, ok := s.provs.Get(c.Param("provider"))
	if !ok {
		s.api.RespondError(c, oauth.NotFound("unknown provider"))
		return
	}
	q := c.Request.URL.Query()
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", "nonce", "link"} {
		if len(q[k]) > 1 {
			s.api.RespondError(c, oauth.BadRequest(fmt.Sprintf("parameter %q is repeated", k)))
			return
		}
	}
	clientID, redirectURI, appState := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	cl, err := s.api.CheckRedirect(clientID, redirectURI)
	if err != nil {
		s.api.RespondError(c, err)
		return
	}
	// From here on the redirect URI is known good: errors go back to the app.
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	appScope, appNonce := q.Get("scope"), q.Get("nonce")
	if err := api.CheckChallenge(cl, challenge, method); err != nil || len(appState) > api.MaxAppState || len(appNonce) > api.MaxAppState || len(appScope) > api.MaxAppScope {
		s.redirectError(c, redirectURI, oauth.CodeInvalidRequest, appState)
		return
	}
	if session.CheckScope(appScope, s.opts.AllPermissions) != nil {
		s.redirectError(c, redirectURI, oauth.CodeInvalidScope, appState)
		return
	}
	var linkUser string
	if t := q.Get("link"); t != "" {
		var lt api.LinkTicket
		if err := s.flow.Open(t, "link-ticket", &lt); err != nil || s.now().After(lt.Expires) ||
			lt.Provider != p.ID() || lt.ClientID != clientID || lt.RedirectURI != redirectURI || lt.Challenge != challenge {
			s.redirectError(c, redirectURI, oauth.CodeInvalidRequest, appState)
			return
		}
		linkUser = lt.UserID
	}
	req := providers.NewAuthRequest(s.opts.CallbackURL(p.ID()))
	fs := flowState{
		ID: providers.RandomString()[:22], Provider: p.ID(), Nonce: req.Nonce, Verifier: req.PKCEVerifier,
		ClientID: clientID, RedirectURI: redirectURI, AppState: appState, Challenge: challenge, ChallengeMeth: method,
		AppScope: appScope, AppNonce: appNonce, AppPrompt: carriedPrompt(q.Get("prompt")), LinkUserID: linkUser, Expires: s.now().Add(api.FlowTTL),
	}
	// The state names the flow (so two tabs keep two cookies) and carries
	// a secret compared with the cookie's.
	fs.State = fs.ID + "." + req.State
	req.State = fs.State
	sealed := s.flow.Seal(fs, "flow-cookie")
	if len(sealed) > maxFlowCookieLen {
		s.redirectError(c, redirectURI, oauth.CodeInvalidRequest, appState)
		return
	}
	s.pruneFlowCookies(c)
	http.SetCookie(c.Writer, &http.Cookie{
		Name: flowCookiePrefix + fs.ID, Value: sealed, Path: flowCookiePath,
		MaxAge: int(api.FlowTTL / time.Second), HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, p.AuthCodeURL(req))
}

func (s *Server) secureCookies() bool { return s.opts.SecureCookies }

var flowIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// providerCallback is GET /auth/{provider}/callback.
func (s *Server) providerCallback(c *gin.Context) {
	p, ok := s.provs.Get(c.Param("provider"))
	if !ok {
		s.api.RespondError(c, oauth.NotFound("unknown provider"))
		return
	}
	state := c.Query("state")
	id, _, _ := strings.Cut(state, ".")
	if !flowIDRE.MatchString(id) {
		s.api.RespondError(c, oauth.BadRequest("missing or malformed state"))
		return
	}
	cookie, err := c.Request.Cookie(flowCookiePrefix + id)
	if err != nil {
		s.api.RespondError(c, oauth.BadRequest("no sign-in in progress in this browser (missing flow cookie)"))
		return
	}
	var fs flowState
	if err := s.flow.Open(cookie.Value, "flow-cookie", &fs); err != nil || fs.ID != id || fs.Provider != p.ID() {
		s.api.RespondError(c, oauth.BadRequest("invalid flow cookie"))
		return
	}
	if s.now().After(fs.Expires) {
		s.api.RespondError(c, oauth.BadRequest("the sign-in took too long; start again"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(fs.State)) != 1 {
		s.api.RespondError(c, oauth.BadRequest("state does not match this browser's sign-in"))
		return
	}
	// Single use, across every instance: the claim is a unique insert.
	if err := s.sessions.ClaimFlow(c.Request.Context(), fs.ID, fs.Expires); errors.Is(err, session.ErrAlreadyExists) {
		s.api.RespondError(c, oauth.BadRequest("this sign-in was already completed"))
		return
	} else if err != nil {
		s.api.RespondError(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: cookie.Name, Value: "", Path: flowCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})

	code, stepUser, err := s.completeFlow(c, p, &fs)
	s.metrics.ProviderLogin(p.AMR(), err)
	if stepUser != "" {
		// mfa.apply_to_providers: the code waits for the second factor.
		s.startSecondFactor(c, stepUser, []string{p.AMR()}, fs.authzRequest(), false)
		return
	}
	if err != nil {
		errCode := s.flowErrorCode(c, err)
		s.api.SecurityEvent(c, fs.LinkUserID, accounts.ActionSignInFailed, fs.LinkUserID, map[string]string{"method": p.AMR(), "reason": errCode, "client_id": fs.ClientID})
		s.redirectError(c, fs.RedirectURI, errCode, fs.AppState)
		return
	}
	if code == "" {
		// A third-party app: the browser is now signed in here and the
		// request goes on at /authorize (consent.go), consent page included.
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusFound, fs.authzRequest().authorizeURL())
		return
	}
	s.redirectTo(c, fs.RedirectURI, url.Values{"code": {code}, "state": {fs.AppState}})
}

// authzRequest is the app's request a flow carries.
func (fs *flowState) authzRequest() authzRequest {
	return authzRequest{ClientID: fs.ClientID, RedirectURI: fs.RedirectURI, State: fs.AppState, Challenge: fs.Challenge,
		Method: fs.ChallengeMeth, Scope: fs.AppScope, Nonce: fs.AppNonce, Prompt: fs.AppPrompt}
}

// completeFlow exchanges the provider's code, resolves the account and
// issues our one-time code; for a sign-in to a third-party (consent) app
// it signs the browser in here instead and returns no code; when the user
// must give a second factor first (mfa.apply_to_providers), it returns no
// code and the user's id.
func (s *Server) completeFlow(c *gin.Context, p providers.Provider, fs *flowState) (code, secondFactorUser string, err error) {
	q := c.Request.URL.Query()
	if e := q.Get("error"); e != "" {
		err := providers.FromCallbackError(e, q.Get("error_description"))
		s.log(c).Info("provider returned an error", "provider", p.ID(), "error", err.Error())
		return "", "", err
	}
	upstreamCode := q.Get("code")
	if upstreamCode == "" || len(upstreamCode) > 4096 {
		return "", "", oauth.BadRequest("missing or malformed code")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), exchangeTimeout)
	defer cancel()
	req := providers.AuthRequest{State: fs.State, Nonce: fs.Nonce, PKCEVerifier: fs.Verifier, RedirectURL: s.opts.CallbackURL(p.ID())}
	ident, err := s.metrics.Exchange(ctx, p, req, upstreamCode) // p.Exchange, timed and counted
	if err != nil {
		s.log(c).Warn("provider exchange failed", "provider", p.ID(), "error", err.Error())
		return "", "", err
	}
	ext := accounts.ExternalIdentity{Provider: ident.Provider, Subject: ident.Subject, Email: ident.Email, EmailVerified: ident.EmailVerified, Name: ident.Name}
	g := authcode.Grant{
		ClientID: fs.ClientID, RedirectURI: fs.RedirectURI, Challenge: fs.Challenge, ChallengeMethod: fs.ChallengeMeth,
		AMR: []string{p.AMR()}, Scope: fs.AppScope, Nonce: fs.AppNonce,
		UserAgent: api.CoarseUserAgent(c.Request.UserAgent()),
	}
	if fs.LinkUserID != "" {
		// Link flow: check now, commit when the app redeems the code.
		if err := s.accounts.CheckLink(c.Request.Context(), fs.LinkUserID, ext); err != nil {
			return "", "", err
		}
		g.UserID, g.Link = fs.LinkUserID, &ext
	} else {
		u, d, err := s.accounts.SignInExternal(c.Request.Context(), ext, accounts.LinkPolicy{ByVerifiedEmail: s.opts.LinkByEmail})
		if err != nil {
			s.log(c).Info("provider sign-in refused", "provider", p.ID(), "decision", d.Kind.String(), "error", err.Error())
			return "", "", err
		}
		if more, err := s.needsSecondFactor(c.Request.Context(), u.ID, []string{p.AMR()}); err != nil || more {
			if more {
				return "", u.ID, nil
			}
			return "", "", err
		}
		if cl, ok := s.api.Client(fs.ClientID); ok && cl.Consent {
			_, err := s.startPageSession(c, u, []string{p.AMR()})
			return "", "", err
		}
		g.UserID = u.ID
	}
	g.AuthTime = s.now()
	code, err = s.codes.Issue(c.Request.Context(), g)
	if err != nil {
		return "", "", err
	}
	return code, "", nil
}

// flowErrorCode is the error code an app is redirected with when err ends
// a browser sign-in; a server_error's cause is logged.
func (s *Server) flowErrorCode(c *gin.Context, err error) string {
	code := oauth.Classify(err).Redirect
	if code == oauth.CodeServerError {
		s.log(c).Error("provider sign-in failed", "error", err.Error())
	}
	return code
}

package hosted

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// Cookies of the hosted pages (docs/hosted-ui.md). Every value is sealed
// with the flow codec (AES-GCM, a purpose string per kind), so the browser
// can neither read nor forge one, and none holds a token in clear.
const (
	pageCookie     = "unilogin_page"      // the hosted-page session
	preCookie      = "unilogin_pre"       // CSRF secret before sign-in
	acctFlowCookie = "unilogin_acct_flow" // a provider sign-in or link started by the pages
	acctFlowPath   = "/account/"
	pageSessionTTL = 12 * time.Hour
	preSessionTTL  = 2 * time.Hour
)

// pageSession is the hosted-page session cookie: a real unilogin session
// (listed with the user's others, ended by sign-out or revocation) and the
// CSRF secret of the forms shown to it.
type pageSession struct {
	SessionID string    `json:"s"`
	UserID    string    `json:"u"`
	CSRF      string    `json:"c"`
	Expires   time.Time `json:"e"`
}

// preSession binds the CSRF token of the sign-in and sign-up forms to the
// browser before anyone is signed in.
type preSession struct {
	CSRF    string    `json:"c"`
	Expires time.Time `json:"e"`
}

// accountFlow is what the pages remember while a provider sign-in or link
// they started runs through /auth/{p}/login: the state and the PKCE
// verifier of the built-in client, so that only this browser can redeem the code.
type accountFlow struct {
	State    string    `json:"s"`
	Verifier string    `json:"v"`
	Link     bool      `json:"l,omitempty"`
	Expires  time.Time `json:"e"`
}

// pageUser is a loaded, valid hosted-page session.
type pageUser struct {
	ps   *pageSession
	sess *session.Session
	user *accounts.User
}

// cookieName is the name a cookie is sent under: with https, the ones
// whose Path is / get the __Host- prefix (RFC 6265bis §4.1.3.2), so that
// the browser accepts them only Secure, host-only and for the whole
// origin: a sibling subdomain or a plain-http page cannot plant or shadow
// them. The flow cookies' narrower paths rule the prefix out for them.
func (s *Server) cookieName(name string) string {
	if s.secureCookies() && (name == pageCookie || name == preCookie || name == langCookie) {
		return "__Host-" + name
	}
	return name
}

func (s *Server) setCookie(c *gin.Context, name, value, path string, ttl time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.cookieName(name), Value: value, Path: path, MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(c *gin.Context, name, path string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(name), Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
}

// openCookie opens a sealed cookie; false when absent, forged or stale.
func (s *Server) openCookie(c *gin.Context, name, purpose string, v any) bool {
	ck, err := c.Request.Cookie(s.cookieName(name))
	return err == nil && s.flow.Open(ck.Value, purpose, v) == nil
}

// startPageSession signs the browser in: a new unilogin session for u
// (client_id empty) and the page cookie naming it, which it returns (its
// CSRF token is that of the forms shown next).
func (s *Server) startPageSession(c *gin.Context, u *accounts.User, amr []string) (*pageSession, error) {
	pair, err := s.sessions.Start(c.Request.Context(), session.Grant{
		Subject: s.api.Subject(u), AMR: amr, UserAgent: api.CoarseUserAgent(c.Request.UserAgent()),
	})
	if err != nil {
		return nil, err
	}
	return s.setPageCookie(c, pair.SessionID, u.ID), nil
}

func (s *Server) setPageCookie(c *gin.Context, sessionID, userID string) *pageSession {
	ps := pageSession{SessionID: sessionID, UserID: userID, CSRF: providers.RandomString(), Expires: s.now().Add(pageSessionTTL)}
	s.setCookie(c, pageCookie, s.flow.Seal(ps, "page-session"), "/", pageSessionTTL)
	return &ps
}

// currentPage is loadPage for a handler that serves both signed-in and
// signed-out browsers: the page user, nil when signed out; ok is false
// when the lookup failed and the error page is shown.
func (s *Server) currentPage(c *gin.Context) (*pageUser, bool) {
	pu, err := s.loadPage(c)
	if err != nil {
		s.pageErr(c, err)
		return nil, false
	}
	return pu, true
}

// loadPage returns the browser's hosted-page session, or nil when there is
// none or it no longer counts: expired, its session ended (sign-out,
// revocation, password change elsewhere) or its user disabled or deleted.
// A stale cookie is cleared. Only database failures are errors.
func (s *Server) loadPage(c *gin.Context) (*pageUser, error) {
	var ps pageSession
	if !s.openCookie(c, pageCookie, "page-session", &ps) {
		return nil, nil
	}
	stale := func() (*pageUser, error) {
		s.clearCookie(c, pageCookie, "/")
		return nil, nil
	}
	if s.now().After(ps.Expires) {
		return stale()
	}
	ctx := c.Request.Context()
	sess, err := s.sessions.Session(ctx, ps.SessionID)
	if errors.Is(err, session.ErrNotFound) {
		return stale()
	} else if err != nil {
		return nil, err
	}
	if sess.UserID != ps.UserID {
		return stale()
	}
	u, err := s.accounts.GetActive(ctx, ps.UserID)
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrDisabled) {
		return stale()
	} else if err != nil {
		return nil, err
	}
	return &pageUser{ps: &ps, sess: sess, user: u}, nil
}

// preCSRF returns the CSRF token of the sign-in and sign-up forms, bound to
// this browser by the pre-session cookie (made when missing).
func (s *Server) preCSRF(c *gin.Context) string {
	var pre preSession
	if s.openCookie(c, preCookie, "pre-session", &pre) && s.now().Before(pre.Expires.Add(-10*time.Minute)) {
		return pre.CSRF
	}
	pre = preSession{CSRF: providers.RandomString(), Expires: s.now().Add(preSessionTTL)}
	s.setCookie(c, preCookie, s.flow.Seal(pre, "pre-session"), "/", preSessionTTL)
	return pre.CSRF
}

// csrfOK compares a form's token in constant time with the page session's
// (when pu is not nil) and, when allowPre, with the pre-session's.
func (s *Server) csrfOK(c *gin.Context, token string, pu *pageUser, allowPre bool) bool {
	if token == "" {
		return false
	}
	eq := func(want string) bool {
		return want != "" && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
	}
	if pu != nil && eq(pu.ps.CSRF) {
		return true
	}
	var pre preSession
	return allowPre && s.openCookie(c, preCookie, "pre-session", &pre) && s.now().Before(pre.Expires) && eq(pre.CSRF)
}

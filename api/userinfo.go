package api

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// userinfo is GET and POST /userinfo, the OpenID Connect UserInfo endpoint
// (Core §5.3). The bearer middleware has done the checks of /users/me
// (a valid access token, its session live, its user enabled; 401
// invalid_token with WWW-Authenticate otherwise, RFC 6750 §3). The claims
// are the user's current ones, limited to the token's granted scope (Core
// §5.4): sub always, email and email_verified with email, name with profile.
func (s *Server) userinfo(c *gin.Context) {
	p := caller(c)
	out := gin.H{"sub": p.user.ID}
	scope := p.claims.Scope
	if session.HasScope(scope, session.ScopeEmail) && p.user.Email != "" {
		out["email"] = p.user.Email
		out["email_verified"] = p.user.EmailVerified
	}
	if session.HasScope(scope, session.ScopeProfile) && p.user.Name != "" {
		out["name"] = p.user.Name
	}
	c.JSON(http.StatusOK, out)
}

// formTokenKey is the gin context key of an access token that came in a
// form body (formAccessToken).
const formTokenKey = "unilogin.form_access_token"

// formAccessToken lets POST /userinfo carry its access token as the form
// parameter access_token (RFC 6750 §2.2, which OpenID Connect Core §5.3.1
// allows beside the header); the bearer middleware then takes it from
// there. A request without a form body is left to the header. A token in
// both the header and the body is 400 invalid_request (RFC 6750 §2: one
// method per request).
func (s *Server) formAccessToken(c *gin.Context) {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return
	}
	form, err := ParseForm(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	token, sent := form["access_token"]
	if !sent {
		return
	}
	if c.GetHeader("Authorization") != "" {
		s.respondError(c, oauth.BadRequest("send the access token in the Authorization header or the body, not both"))
		return
	}
	c.Set(formTokenKey, token[0])
}

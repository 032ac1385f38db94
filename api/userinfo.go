package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

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

package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
)

// adminRecoveryRoutes are the administrator's side of the e-mail flows
// (docs/http-api.md, "Administration"), on the /admin group g: resend a
// verification link, vouch for an address, send a reset link. Each is
// recorded in the audit log.
func (s *Server) adminRecoveryRoutes(g *gin.RouterGroup) {
	g.POST("/users/:id/verify-email", s.adminResendVerification)
	g.POST("/users/:id/email-verified", s.adminMarkVerified)
	g.POST("/users/:id/password-reset", s.adminStartReset)
}

// errTargetDisabled: the e-mail flows do not mail a disabled user (the
// domain's ErrDisabled would read as the caller's own token being bad).
var errTargetDisabled = oauth.BadRequest("the user is disabled: enable it first")

// adminMailErr maps the target's ErrDisabled to a 400 about the target.
func adminMailErr(err error) error {
	if errors.Is(err, accounts.ErrDisabled) {
		return errTargetDisabled
	}
	return err
}

// adminResendVerification is POST /admin/users/{id}/verify-email: 202
// {"sent": bool}; nothing is sent when the address is verified already.
func (s *Server) adminResendVerification(c *gin.Context) {
	sent, err := s.admin.ResendVerification(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.respondError(c, adminMailErr(err))
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"sent": sent})
}

// adminMarkVerified is POST /admin/users/{id}/email-verified: the user's
// current address counts as verified; 200 with the user.
func (s *Server) adminMarkVerified(c *gin.Context) { s.adminUser(c, s.admin.MarkVerified) }

// adminStartReset is POST /admin/users/{id}/password-reset: a reset link
// goes to the user's address, as if the user had asked; 202 {}.
func (s *Server) adminStartReset(c *gin.Context) {
	if err := s.admin.StartReset(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.respondError(c, adminMailErr(err))
		return
	}
	c.JSON(http.StatusAccepted, gin.H{})
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
)

// adminMFARoutes adds DELETE /admin/users/{id}/mfa under the same guard
// as every /admin route (admin.go).
func (s *Server) adminMFARoutes(e *gin.Engine) {
	e.DELETE("/admin/users/:id/mfa", s.bearer, s.requirePermission(PermissionUsersAdmin), s.adminResetMFA)
}

// adminResetMFA is DELETE /admin/users/{id}/mfa: removes the user's TOTP,
// recovery codes and passkeys; 204 also when there were none (audited as
// user.mfa.reset either way). The user's sessions stay: a reset helps
// someone who lost a device, it is not a sign of a stolen account.
func (s *Server) adminResetMFA(c *gin.Context) {
	if s.mfaFailed(c, s.mfa.Reset(c.Request.Context(), actor(c), c.Param("id")), accounts.ActionMFAReset) {
		return
	}
	c.Status(http.StatusNoContent)
}

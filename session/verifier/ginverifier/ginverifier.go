// Package ginverifier adapts package verifier's checks to gin. Responses
// (status codes, bodies, WWW-Authenticate) are verifier.WriteError's, the
// same as the net/http middleware's.
//
//	r := gin.New()
//	api := r.Group("/api", ginverifier.Middleware(v))
//	api.GET("/me", func(c *gin.Context) {
//		claims, _ := ginverifier.Claims(c)
//		c.JSON(http.StatusOK, gin.H{"sub": claims.Subject})
//	})
//	api.DELETE("/users/:id", ginverifier.RequirePermission("users:admin"), deleteUser)
package ginverifier

import (
	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/session/verifier"
)

// Middleware verifies the request's bearer token with v and stores the
// claims in the request's context (read them with Claims); otherwise it
// aborts with 401 (or 503 when no signing key could be fetched).
func Middleware(v *verifier.Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, err := v.VerifyRequest(c.Request)
		if err != nil {
			abort(c, err)
			return
		}
		c.Request = c.Request.WithContext(verifier.NewContext(c.Request.Context(), claims))
		c.Next()
	}
}

// Claims returns the claims stored by Middleware.
func Claims(c *gin.Context) (*verifier.Claims, bool) {
	if c.Request == nil {
		return nil, false
	}
	return verifier.ClaimsFromContext(c.Request.Context())
}

// RequireRole aborts with 403 insufficient_scope unless the token carries
// role. Install it after Middleware; without claims it answers 401.
func RequireRole(role string) gin.HandlerFunc {
	return require(func(cl *verifier.Claims) error {
		if cl.HasRole(role) {
			return nil
		}
		return &verifier.InsufficientScopeError{Role: role}
	})
}

// RequirePermission aborts with 403 insufficient_scope (and scope="<perm>"
// in WWW-Authenticate) unless the token's scope holds perm.
func RequirePermission(perm string) gin.HandlerFunc {
	return require(func(cl *verifier.Claims) error {
		if cl.HasPermission(perm) {
			return nil
		}
		return &verifier.InsufficientScopeError{Permission: perm}
	})
}

func require(check func(*verifier.Claims) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, ok := Claims(c)
		if !ok {
			abort(c, verifier.ErrMissingToken)
			return
		}
		if err := check(cl); err != nil {
			abort(c, err)
			return
		}
		c.Next()
	}
}

func abort(c *gin.Context, err error) {
	verifier.WriteError(c.Writer, err)
	c.Abort()
}

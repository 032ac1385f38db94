package middleware

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// CORS (Fetch standard, "CORS protocol"): only the configured origins, each
// echoed exactly, never "*". The API authenticates with bearer tokens, not
// cookies, so credentials are never allowed.
const (
	corsAllowMethods  = "GET, POST, PUT, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-ID"
	corsExposeHeaders = "Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, WWW-Authenticate, X-Request-ID"
)

// CORS answers preflight requests itself (204; the CORS headers only for
// an allowed origin) and adds Access-Control-Allow-Origin to the responses
// to allowed origins. Every response varies by Origin, so that a cache
// never hands one origin's answer to another.
func CORS(origins []string) gin.HandlerFunc {
	allow := map[string]bool{}
	for _, o := range origins {
		allow[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		origin := c.GetHeader("Origin")
		allowed := origin != "" && allow[origin]
		if c.Request.Method == http.MethodOptions && origin != "" && c.GetHeader("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if allowed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", corsAllowMethods)
				h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
				h.Set("Access-Control-Max-Age", "600")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}
		c.Next()
	}
}

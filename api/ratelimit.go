package api

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
)

// LimitPerIP is route middleware over the limiter's per-address decision,
// answering a refusal in JSON. A refused provider sign-in counts as a
// rate_limited login of that provider.
func (s *Server) LimitPerIP(name string, rate func(middleware.RateLimits) middleware.Rate) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.limiter.PerIP(c, name, rate); err != nil {
			if errors.Is(err, oauth.ErrRateLimited) && (name == middleware.LimitLoginIP || name == middleware.LimitCallbackIP) {
				if p, ok := s.provs.Get(c.Param("provider")); ok {
					s.metrics.Login(p.AMR(), oauth.OutcomeRateLimited)
				}
			}
			s.respondError(c, err)
			return
		}
		c.Next()
	}
}

package api

import (
	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/oauth"
)

// respondError writes err in the contract's error format, as
// oauth.Classify decides, logging a 5xx's cause with the request id.
func (s *Server) respondError(c *gin.Context, err error) {
	oauth.Respond(c, s.log(c), err)
}

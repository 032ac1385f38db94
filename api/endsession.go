package api

import (
	"github.com/gin-gonic/gin"
)

// POST /logout is two endpoints (RP-Initiated Logout 1.0 §2, §3): with an
// Authorization header it is the API logout of the bearer token's session
// (204); without one it is the browser's RP-initiated logout, which the
// hosted pages serve (api/hosted) and register here.

// HandleEndSession sets the handler of POST /logout without an
// Authorization header: the hosted pages' RP-initiated logout.
func (s *Server) HandleEndSession(h gin.HandlerFunc) { s.rpLogout = h }

// endSessionOrBearer runs before the bearer check of POST /logout and
// hands a request without Authorization to the RP-initiated logout.
func (s *Server) endSessionOrBearer(c *gin.Context) {
	if c.GetHeader("Authorization") == "" && s.rpLogout != nil {
		s.rpLogout(c)
		c.Abort()
	}
}

// Client returns the registered client with the given id.
func (s *Server) Client(id string) (*Client, bool) {
	cl, ok := s.clients[id]
	return cl, ok && id != ""
}

// DisplayName is the client's name for the hosted pages: its configured
// name, else its id.
func (cl *Client) DisplayName() string {
	if cl.Name != "" {
		return cl.Name
	}
	return cl.ID
}

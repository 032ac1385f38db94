package api

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
)

// What the hosted pages (api/hosted) use of this Server: its clock,
// logger, limiter, metrics, flow codec and subjects, so that a browser
// sign-in is limited, counted and audited exactly like an API one (the
// codes both redeem are api/authcode's).

// Mount adds routes to the one gin engine behind the Server's middleware
// (api/server mounts the hosted pages with it).
func (s *Server) Mount(routes func(e *gin.Engine)) { routes(s.engine) }

// Now is the Server's clock.
func (s *Server) Now() time.Time { return s.opts.Now() }

// Log returns the logger with the request id.
func (s *Server) Log(c *gin.Context) *slog.Logger { return s.log(c) }

// Limiter returns the rate limiter; nil when none is configured.
func (s *Server) Limiter() *middleware.Limiter { return s.limiter }

// Flow returns the codec that seals the browser flow's cookies and the
// link tickets.
func (s *Server) Flow() *FlowCodec { return s.flow }

// RespondError writes err in the JSON error format, as oauth.Classify
// decides (respondError).
func (s *Server) RespondError(c *gin.Context, err error) { oauth.Respond(c, s.log(c), err) }

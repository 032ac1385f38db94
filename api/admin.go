package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
)

// PermissionUsersAdmin guards every /admin route (docs/http-api.md,
// Authorization and administration).
const PermissionUsersAdmin = "users:admin"

// Page sizes of the admin listings.
const (
	defaultPageLimit = 50
	maxPageLimit     = 200
)

// initAdmin takes the administration use cases from deps.
func (s *Server) initAdmin(deps Deps) error {
	if deps.Accounts == nil || deps.Sessions == nil || deps.Admin == nil || deps.Codes == nil {
		return errors.New("api: Deps.Accounts, Deps.Sessions, Deps.Admin and Deps.Codes are required")
	}
	s.admin = deps.Admin
	return nil
}

// The handlers below pass c.Request.Context(), not the *gin.Context, to
// the domain: gin recycles its Contexts once a handler returns, while a
// database driver may still watch the context's Done (modernc.org/sqlite
// does, from a goroutine), which the race detector reports.
func (s *Server) adminRoutes(e *gin.Engine) {
	g := e.Group("/admin", s.bearer, s.requirePermission(PermissionUsersAdmin))
	g.GET("/users", s.adminListUsers)
	g.GET("/users/:id", s.adminGetUser)
	g.PUT("/users/:id/roles", s.adminSetRoles)
	g.POST("/users/:id/disable", s.adminDisable)
	g.POST("/users/:id/enable", s.adminEnable)
	g.DELETE("/users/:id", s.adminDelete)
	g.DELETE("/users/:id/sessions", s.adminEndSessions)
	g.GET("/audit", s.adminAudit)
	s.adminRecoveryRoutes(g) // admin_recovery.go
}

// requirePermission admits a bearer caller only when perm is both in the
// token's scope and among the permissions of the user's roles as they are
// now: a demoted user loses access at once, a promoted one gains it with
// the next token (refresh or sign-in), and a token whose scope was narrowed
// at issuance keeps its limits. Else 403 insufficient_scope (RFC 6750 §3.1).
func (s *Server) requirePermission(perm string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := caller(c)
		if !slices.Contains(p.claims.Permissions(), perm) || !slices.Contains(s.opts.Permissions(p.user.Roles), perm) {
			c.Header("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+perm+`"`)
			oauth.WriteError(c, http.StatusForbidden, oauth.CodeInsufficientScope, "this needs the permission "+perm)
			return
		}
		c.Next()
	}
}

// actor is the caller of an admin route, for the audit log.
func actor(c *gin.Context) accounts.Actor {
	return accounts.Actor{ID: caller(c).user.ID, IP: c.ClientIP()}
}

// adminUserDetailJSON is GET /admin/users/{id}.
type adminUserDetailJSON struct {
	userWithIdentitiesJSON
	Sessions []sessionJSON `json:"sessions"`
}

// pageQuery reads limit (default 50, 1..200) and cursor.
func pageQuery(c *gin.Context) (limit int, cursor string, err error) {
	limit = defaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return 0, "", oauth.BadRequest("limit must be an integer from 1 to " + strconv.Itoa(maxPageLimit))
		}
		limit = n
	}
	cursor = c.Query("cursor")
	if len(cursor) > 128 {
		return 0, "", oauth.BadRequest("cursor is not one this server returned")
	}
	return limit, cursor, nil
}

// adminListUsers is GET /admin/users?email=&limit=&cursor=: users by id,
// with keyset pagination; next_cursor is present while more users follow.
func (s *Server) adminListUsers(c *gin.Context) {
	limit, cursor, err := pageQuery(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	email := c.Query("email")
	if len(email) > 254 {
		s.respondError(c, oauth.BadRequest("email filter is too long"))
		return
	}
	users, next, err := s.admin.ListUsers(c.Request.Context(), cursor, limit, email)
	if err != nil {
		s.respondError(c, err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, s.userBase(u))
	}
	c.JSON(http.StatusOK, struct {
		Users      []userJSON `json:"users"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{out, next})
}

// adminGetUser is GET /admin/users/{id}: the user with identities and live
// sessions.
func (s *Server) adminGetUser(c *gin.Context) {
	u, err := s.accounts.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.respondError(c, err)
		return
	}
	ids, err := s.accounts.Identities(c.Request.Context(), u.ID)
	if err != nil {
		s.respondError(c, err)
		return
	}
	list, err := s.sessions.List(c.Request.Context(), u.ID)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, adminUserDetailJSON{userWithIdentitiesJSON: s.userView(u, ids), Sessions: sessionViews(list, caller(c).session.ID)})
}

// adminSetRoles is PUT /admin/users/{id}/roles {"roles":[...]}: replaces the
// roles; unknown roles are 400. Tokens get the new roles at their next refresh.
func (s *Server) adminSetRoles(c *gin.Context) {
	var req struct {
		Roles *[]string `json:"roles"`
	}
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.Roles == nil {
		s.respondError(c, oauth.BadRequest("roles is required (an array of role names)"))
		return
	}
	u, err := s.admin.SetRoles(c.Request.Context(), actor(c), c.Param("id"), *req.Roles)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.userBase(u))
}

// adminDisable is POST /admin/users/{id}/disable: disables the user and
// ends all its sessions.
func (s *Server) adminDisable(c *gin.Context) {
	s.adminUser(c, func(ctx context.Context, a accounts.Actor, id string) (*accounts.User, error) {
		u, _, err := s.admin.Disable(ctx, a, id)
		return u, err
	})
}

// adminEnable is POST /admin/users/{id}/enable.
func (s *Server) adminEnable(c *gin.Context) { s.adminUser(c, s.admin.Enable) }

// adminUser runs act, an action of the caller on the user {id} that
// returns the user: 200 with the user.
func (s *Server) adminUser(c *gin.Context, act func(context.Context, accounts.Actor, string) (*accounts.User, error)) {
	u, err := act(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.userBase(u))
}

// adminDelete is DELETE /admin/users/{id}: the user, its identities and
// its sessions go; 204.
func (s *Server) adminDelete(c *gin.Context) {
	if err := s.admin.Delete(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// adminEndSessions is DELETE /admin/users/{id}/sessions: 204.
func (s *Server) adminEndSessions(c *gin.Context) {
	if _, err := s.admin.EndSessions(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type auditEventJSON struct {
	ID      string            `json:"id"`
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Details map[string]string `json:"details"`
	IP      string            `json:"ip,omitempty"`
}

// adminAudit is GET /admin/audit?limit=&cursor=: events newest first.
func (s *Server) adminAudit(c *gin.Context) {
	limit, cursor, err := pageQuery(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	events, next, err := s.admin.ListAudit(c.Request.Context(), cursor, limit)
	if err != nil {
		s.respondError(c, err)
		return
	}
	out := make([]auditEventJSON, 0, len(events))
	for _, e := range events {
		d := e.Details
		if d == nil {
			d = map[string]string{}
		}
		out = append(out, auditEventJSON{ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Details: d, IP: e.IP})
	}
	c.JSON(http.StatusOK, struct {
		Events     []auditEventJSON `json:"events"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}{out, next})
}

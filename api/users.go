package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// securityEvent records a security event in the audit log (best effort:
// a failure is logged, the request goes on). actorID is empty when the
// actor is unknown (a failed sign-in, a presented token).
func (s *Server) SecurityEvent(c *gin.Context, actorID, action, target string, details map[string]string) {
	if err := s.admin.Record(c.Request.Context(), accounts.Actor{ID: actorID, IP: c.ClientIP()}, action, target, details); err != nil {
		s.log(c).Warn("audit log", "action", action, "error", err.Error())
	}
}

// principal is the authenticated caller of a bearer-protected route.
type principal struct {
	claims  *session.AccessClaims
	session *session.Session
	user    *accounts.User
	// identities are the user's, read with the user when the route shows
	// them (showsIdentities); nil otherwise. mfa likewise, when the joined
	// bearer read (BearerReader) gave it.
	identities []*accounts.Identity
	mfa        *mfa.Status
}

// showsIdentities reports whether the route answers with the caller's
// identities (GET /users/me): the bearer check then reads them together
// with the user, in one query, instead of the handler asking again.
func showsIdentities(c *gin.Context) bool {
	return c.Request.Method == http.MethodGet && c.FullPath() == "/users/me"
}

const principalKey = "unilogin.principal"

func caller(c *gin.Context) *principal { return c.MustGet(principalKey).(*principal) }

// bearer authenticates RFC 6750 bearer tokens and checks that the session
// is live and the user enabled (docs/http-api.md, Tokens).
func (s *Server) bearer(c *gin.Context) {
	token, present := bearerToken(c)
	if !present {
		c.Header("WWW-Authenticate", `Bearer realm="unilogin"`)
		oauth.WriteError(c, http.StatusUnauthorized, oauth.CodeInvalidToken, "missing bearer token")
		return
	}
	fail := func(desc string) {
		c.Header("WWW-Authenticate", `Bearer realm="unilogin", error="invalid_token", error_description="`+desc+`"`)
		oauth.WriteError(c, http.StatusUnauthorized, oauth.CodeInvalidToken, desc)
	}
	if token == "" {
		fail("malformed Authorization header; want Bearer <token>")
		return
	}
	claims, sess, read, err := s.authenticate(c, token)
	if errors.Is(err, session.ErrInvalidToken) {
		fail("the access token is invalid, expired or revoked")
		return
	} else if err != nil {
		s.respondError(c, err)
		return
	}
	var (
		u       *accounts.User
		ids     []*accounts.Identity
		factors *mfa.Status
	)
	if read != nil {
		u, ids, factors = read.User, read.Identities, read.MFA
	}
	switch {
	case u != nil && u.Disabled:
		err = accounts.ErrDisabled
	case u != nil:
	case showsIdentities(c):
		u, ids, err = s.accounts.GetActiveWithIdentities(c.Request.Context(), claims.Subject)
	default:
		u, err = s.accounts.GetActive(c.Request.Context(), claims.Subject)
	}
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrDisabled) {
		fail("the user no longer exists or is disabled")
		return
	} else if err != nil {
		s.respondError(c, err)
		return
	}
	c.Set(principalKey, &principal{claims: claims, session: sess, user: u, identities: ids, mfa: factors})
	c.Next()
}

// BearerReader reads what a bearer check needs, the session and its user
// (with the user's identities and second factors when asked, for
// GET /users/me), in one query: the server assembly provides it where the
// stores share a database. It returns nil when no row joins them (the
// session ended or expired, or its user is gone); the check then takes
// the separate reads, which tell these apart.
type BearerReader interface {
	ReadBearer(ctx context.Context, sessionID string, all bool) (*BearerRead, error)
}

// BearerRead is a BearerReader's answer.
type BearerRead struct {
	Session *session.Session
	User    *accounts.User
	// Identities and MFA are read only when asked (nil otherwise).
	Identities []*accounts.Identity
	MFA        *mfa.Status
}

// errNoJoin: the joined read found no row (BearerReader).
var errNoJoin = errors.New("no session joined to a user")

// authenticate verifies token and reads its session and, with a
// BearerReader, the user too (read nil: the caller reads the user).
func (s *Server) authenticate(c *gin.Context, token string) (*session.AccessClaims, *session.Session, *BearerRead, error) {
	ctx := c.Request.Context()
	if s.bearerReader != nil {
		var read *BearerRead
		claims, sess, err := s.sessions.AuthenticateWith(ctx, token, func(ctx context.Context, cl *session.AccessClaims) (*session.Session, error) {
			r, err := s.bearerReader.ReadBearer(ctx, cl.SessionID, showsIdentities(c))
			if err != nil {
				return nil, err
			}
			if r == nil {
				return nil, errNoJoin
			}
			read = r
			return r.Session, nil
		})
		if !errors.Is(err, errNoJoin) {
			if err != nil {
				read = nil
			}
			return claims, sess, read, err
		}
	}
	claims, sess, err := s.sessions.Authenticate(ctx, token)
	return claims, sess, nil, err
}

// userJSON is a user as the API shows it: the admin API's list entries.
type userJSON struct {
	ID            string    `json:"id"`
	Email         *string   `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	Roles         []string  `json:"roles"`
	Permissions   []string  `json:"permissions"`
	HasPassword   bool      `json:"has_password"`
	Disabled      bool      `json:"disabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// userWithIdentitiesJSON is the user object of /users/me and /signup.
type userWithIdentitiesJSON struct {
	userJSON
	Identities []identityJSON `json:"identities"`
}

type identityJSON struct {
	Provider string    `json:"provider"`
	Subject  string    `json:"subject"`
	Email    string    `json:"email"`
	LinkedAt time.Time `json:"linked_at"`
}

func (s *Server) userBase(u *accounts.User) userJSON {
	v := userJSON{
		ID:            u.ID,
		EmailVerified: u.EmailVerified,
		Name:          u.Name,
		Roles:         nonNil(u.Roles),
		Permissions:   nonNil(s.opts.Permissions(u.Roles)),
		HasPassword:   u.HasPassword(),
		Disabled:      u.Disabled,
		CreatedAt:     u.CreatedAt.UTC(),
		UpdatedAt:     u.UpdatedAt.UTC(),
	}
	if u.Email != "" {
		e := u.Email
		v.Email = &e
	}
	return v
}

func (s *Server) userView(u *accounts.User, ids []*accounts.Identity) userWithIdentitiesJSON {
	v := userWithIdentitiesJSON{userJSON: s.userBase(u), Identities: []identityJSON{}}
	for _, id := range ids {
		v.Identities = append(v.Identities, identityJSON{Provider: id.Provider, Subject: id.Subject, Email: id.Email, LinkedAt: id.LinkedAt.UTC()})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// signup is POST /signup.
func (s *Server) signup(c *gin.Context) {
	var req struct {
		Email    *string `json:"email"`
		Password *string `json:"password"`
		Name     string  `json:"name"`
	}
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.Email == nil || req.Password == nil {
		s.respondError(c, oauth.BadRequest("email and password are required"))
		return
	}
	u, err := s.accounts.Signup(c.Request.Context(), accounts.SignupRequest{Email: *req.Email, Password: *req.Password, Name: req.Name})
	if err != nil {
		s.respondError(c, err)
		return
	}
	s.SendVerification(c, u) // recovery.go
	c.JSON(http.StatusCreated, s.userView(u, nil))
}

// me is GET /users/me.
func (s *Server) me(c *gin.Context) {
	p := caller(c)
	ids := p.identities
	if ids == nil {
		var err error
		if ids, err = s.accounts.Identities(c.Request.Context(), p.user.ID); err != nil {
			s.respondError(c, err)
			return
		}
	}
	view, err := s.meView(c.Request.Context(), s.userView(p.user, ids), p.mfa) // mfa.go: adds "mfa"
	if err != nil {
		s.respondError(c, err)
		return
	}
	writeMe(c, &view) // users_json.go
}

// changePassword is POST /users/me/password: sets the password and ends
// every other session of the user.
func (s *Server) changePassword(c *gin.Context) {
	p := caller(c)
	var req struct {
		Current *string `json:"current_password"`
		New     *string `json:"new_password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.New == nil {
		s.respondError(c, oauth.BadRequest("new_password is required"))
		return
	}
	// A fresh proof (docs/security.md, "Re-authentication"): the current
	// password, checked by SetPassword under the sign-in limits, or for an
	// account without one a recent sign-in.
	if err := accounts.CheckPassword("new_password", *req.New); err != nil {
		s.respondError(c, err)
		return
	}
	var err error
	if p.user.HasPassword() {
		if req.Current == nil || *req.Current == "" {
			s.respondError(c, errReauthRequired)
			return
		}
		err = s.PasswordChecked(c, p.user, "api", func(ctx context.Context) error {
			return s.accounts.SetPassword(ctx, p.user.ID, *req.Current, *req.New)
		})
	} else if !s.SignedInRecently(p.session.CreatedAt) {
		err = errReauthRequired
	} else {
		err = s.accounts.SetPassword(c.Request.Context(), p.user.ID, "", *req.New)
	}
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		err = errWrongCurrent
	}
	if err != nil {
		s.respondError(c, err)
		return
	}
	n, err := s.sessions.EndAll(c.Request.Context(), p.user.ID, p.session.ID)
	if err != nil {
		s.respondError(c, err)
		return
	}
	s.SecurityEvent(c, p.user.ID, accounts.ActionPasswordChange, p.user.ID, map[string]string{"other_sessions_ended": strconv.Itoa(n)})
	c.Status(http.StatusNoContent)
}

// logout is POST /logout: ends the bearer token's session.
func (s *Server) logout(c *gin.Context) {
	p := caller(c)
	if err := s.sessions.End(c.Request.Context(), p.user.ID, p.session.ID); err != nil && !errors.Is(err, session.ErrNotFound) {
		s.respondError(c, err)
		return
	}
	s.SecurityEvent(c, p.user.ID, accounts.ActionSessionRevoke, p.user.ID, map[string]string{"session_id": p.session.ID, "via": "logout"})
	c.Status(http.StatusNoContent)
}

type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	AMR        []string  `json:"amr"`
	ClientID   string    `json:"client_id"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

// listSessions is GET /users/me/sessions.
func (s *Server) listSessions(c *gin.Context) {
	p := caller(c)
	list, err := s.sessions.List(c.Request.Context(), p.user.ID)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"sessions": sessionViews(list, p.session.ID)})
}

// sessionViews shows sessions, marking the caller's own as current.
func sessionViews(list []*session.Session, currentID string) []sessionJSON {
	out := make([]sessionJSON, 0, len(list))
	for _, ss := range list {
		out = append(out, sessionJSON{
			ID: ss.ID, CreatedAt: ss.CreatedAt.UTC(), LastUsedAt: ss.LastUsedAt.UTC(), ExpiresAt: ss.ExpiresAt.UTC(),
			AMR: nonNil(ss.AMR), ClientID: ss.ClientID, UserAgent: ss.UserAgent, Current: ss.ID == currentID,
		})
	}
	return out
}

// removed answers a DELETE of the caller's own resource: 404 with
// notFoundMsg when err is missing, the error, or 204 after recording action
// in the audit log.
func (s *Server) removed(c *gin.Context, err, missing error, notFoundMsg, action string, details map[string]string) {
	if errors.Is(err, missing) {
		err = oauth.NotFound(notFoundMsg)
	}
	if err != nil {
		s.respondError(c, err)
		return
	}
	id := caller(c).user.ID
	s.SecurityEvent(c, id, action, id, details)
	c.Status(http.StatusNoContent)
}

// endSession is DELETE /users/me/sessions/{id}.
func (s *Server) endSession(c *gin.Context) {
	p := caller(c)
	err := s.sessions.End(c.Request.Context(), p.user.ID, c.Param("id"))
	s.removed(c, err, session.ErrNotFound, "no such session",
		accounts.ActionSessionRevoke, map[string]string{"session_id": c.Param("id"), "via": "sessions"})
}

// coarseUserAgent reduces a User-Agent to "Browser on OS", enough for a
// user to recognise a device without storing a fingerprint.
func CoarseUserAgent(ua string) string {
	if ua == "" {
		return "unknown"
	}
	pick := func(table [][2]string) string {
		for _, e := range table {
			if strings.Contains(ua, e[0]) {
				return e[1]
			}
		}
		return ""
	}
	browser := pick([][2]string{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go client"}, {"python-requests", "Python client"},
		{"okhttp", "Android app"}, {"node", "Node.js client"},
	})
	os := pick([][2]string{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Mac OS X", "macOS"}, {"Windows", "Windows"},
		{"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	})
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	case os != "":
		return "a browser on " + os
	}
	return "other"
}

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"` // none from client_credentials (RFC 6749 §4.4.3)
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"` // OIDC Core §3.1.3.3, with scope openid
}

// clientForm reads the form body of /token or /revoke and authenticates
// the client that sent it (nil when none identified itself).
func (s *Server) clientForm(c *gin.Context) (url.Values, *Client, error) {
	form, err := ParseForm(c)
	if err != nil {
		return nil, nil, err
	}
	client, err := s.authenticateClient(c, form)
	return form, client, err
}

// token is POST /token (RFC 6749 §3.2).
func (s *Server) token(c *gin.Context) {
	form, client, err := s.clientForm(c)
	if err != nil {
		s.respondError(c, err)
		return
	}
	if err := s.grantAllowed(client, form.Get("grant_type")); err != nil { // token_client.go
		s.respondError(c, err)
		return
	}
	var pair *session.Pair
	switch gt := form.Get("grant_type"); gt {
	case "password":
		pair, err = s.passwordGrant(c, client, form.Get("username"), form.Get("password"), form.Get("scope"))
	case "refresh_token":
		pair, err = s.refreshGrant(c, client, form.Get("refresh_token"), form.Get("scope"))
	case "authorization_code":
		pair, err = s.codeGrant(c, client, form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"))
	case mfaGrantType: // token_mfa.go
		pair, err = s.mfaGrant(c, client, form)
	case "client_credentials":
		pair, err = s.clientCredentialsGrant(c, client, form.Get("scope"))
	case "":
		err = oauth.BadRequest("grant_type is required")
	default:
		err = &oauth.Error{Status: http.StatusBadRequest, Code: oauth.CodeUnsupportedGrantType, Description: fmt.Sprintf("grant_type %.40q is not supported", gt)}
	}
	s.metrics.tokenResult(form.Get("grant_type"), err) // tokens issued by grant; password logins by outcome
	if err != nil {
		s.respondTokenError(c, err) // token_mfa.go: mfa_required carries mfa_token
		return
	}
	withholdRefresh(client, form.Get("grant_type"), pair) // token_client.go
	c.JSON(http.StatusOK, tokenResponse{
		AccessToken:  pair.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    pair.ExpiresIn,
		RefreshToken: pair.RefreshToken,
		Scope:        pair.Scope,
		IDToken:      pair.IDToken,
	})
}

func clientID(cl *Client) string {
	if cl == nil {
		return ""
	}
	return cl.ID
}

// passwordGrant is RFC 6749 §4.3, for first-party apps.
func (s *Server) passwordGrant(c *gin.Context, client *Client, username, password, scope string) (*session.Pair, error) {
	if !s.opts.PasswordGrant {
		return nil, &oauth.Error{Status: http.StatusBadRequest, Code: oauth.CodeUnsupportedGrantType, Description: "the password grant is disabled"}
	}
	if username == "" || password == "" {
		return nil, oauth.BadRequest("username and password are required")
	}
	// Rate limits: checked before any bcrypt work, counted after a failure.
	guard, err := s.limiter.GuardPassword(c, username)
	if err != nil {
		return nil, err
	}
	u, err := s.accounts.Authenticate(c.Request.Context(), username, password)
	guard.Done(c, err)
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		s.SecurityEvent(c, "", accounts.ActionSignInFailed, "", map[string]string{
			"method": "pwd", "reason": "invalid_credentials", "username": AuditUsername(username)})
	}
	if err != nil {
		return nil, err
	}
	if err := s.secondFactor(c, client, u, scope); err != nil { // token_mfa.go: 403 mfa_required
		return nil, err
	}
	pair, err := s.sessions.Start(c.Request.Context(), session.Grant{
		Subject:   s.Subject(u),
		ClientID:  clientID(client),
		AMR:       []string{"pwd"},
		Scope:     scope,
		UserAgent: CoarseUserAgent(c.Request.UserAgent()),
	})
	if err == nil {
		s.SecurityEvent(c, u.ID, accounts.ActionSignIn, u.ID, map[string]string{"method": "pwd", "client_id": clientID(client), "session_id": pair.SessionID})
	}
	return pair, err
}

// auditUsername is what a failed sign-in's audit event says about the
// typed user name: the address when it is one, otherwise a fixed text,
// never the text itself: a password typed into the e-mail field must not
// land in the audit log. (Not even a hash: an unsalted hash of a password
// can be tested against a dictionary.)
func AuditUsername(typed string) string {
	n := accounts.NormalizeEmail(typed)
	if accounts.CheckEmail(n) == nil {
		return n
	}
	return "(not an address)"
}

// refreshGrant is RFC 6749 §6 with rotation.
func (s *Server) refreshGrant(c *gin.Context, client *Client, token, scope string) (*session.Pair, error) {
	if token == "" {
		return nil, oauth.BadRequest("refresh_token is required")
	}
	var advance session.Advancer
	if s.refreshAdvancer != nil {
		advance = s.advanceJoined
	}
	pair, err := s.sessions.RefreshWith(c.Request.Context(), token, clientID(client), scope, s.LoadSubject, advance)
	var reuse *session.ReuseError
	if errors.As(err, &reuse) {
		s.log(c).Warn("refresh token reuse detected; session revoked", "session_id", reuse.SessionID)
		s.metrics.refreshReuse.Inc()
		s.SecurityEvent(c, "", accounts.ActionRefreshReuse, reuse.UserID, map[string]string{"session_id": reuse.SessionID})
	}
	return pair, err
}

// LoadSubject is the session.SubjectLoader: a deleted or disabled user can
// no longer refresh or redeem a code (invalid_grant).
func (s *Server) LoadSubject(ctx context.Context, userID string) (session.Subject, error) {
	u, err := s.accounts.GetActive(ctx, userID)
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrDisabled) {
		return session.Subject{}, fmt.Errorf("%w: user not found or disabled", session.ErrInvalidToken)
	} else if err != nil {
		return session.Subject{}, err
	}
	return s.Subject(u), nil
}

// RefreshAdvancer does the common step of a refresh grant in one
// statement where the stores share a database: the store's
// AdvanceRefresh on the condition that the session's user is active (as
// LoadSubject requires), returning the session and that user (at least
// what Subject reads: ID, Email, EmailVerified, Name, Roles). It returns
// session.ErrNotFound when nothing matched (the user's state included);
// the grant then takes the read path, which tells the cases apart.
type RefreshAdvancer interface {
	AdvanceRefresh(ctx context.Context, a *session.Advance) (*session.Session, *accounts.User, error)
}

// advanceJoined is the session.Advancer over Deps.Refresh.
func (s *Server) advanceJoined(ctx context.Context, a *session.Advance) (*session.Session, session.Subject, error) {
	x, u, err := s.refreshAdvancer.AdvanceRefresh(ctx, a)
	if err != nil {
		return nil, session.Subject{}, err
	}
	return x, s.Subject(u), nil
}

// subject converts an account to what a token says about it.
func (s *Server) Subject(u *accounts.User) session.Subject {
	return session.Subject{
		UserID:        u.ID,
		Name:          u.Name,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Roles:         u.Roles,
		Permissions:   s.opts.Permissions(u.Roles),
	}
}

// confidential reports whether id is a client with a secret: its tokens
// are revoked only with its authentication (RFC 7009 §2.1).
func (s *Server) confidential(id string) bool {
	cl, ok := s.clients[id]
	return ok && cl.Secret != ""
}

// tokenForm reads the form of /revoke and /introspect: the client,
// authenticated as at /token (clientForm), and the token, which is
// required. With confidentialOnly a caller that is not a confidential
// client is invalid_client (RFC 7662 §2.1), before the token is looked at.
func (s *Server) tokenForm(c *gin.Context, confidentialOnly bool) (token string, client *Client, err error) {
	form, client, err := s.clientForm(c)
	if err != nil {
		return "", nil, err
	}
	if confidentialOnly && (client == nil || client.Secret == "") {
		return "", nil, errInvalidClient
	}
	if token = form.Get("token"); token == "" {
		return "", nil, oauth.BadRequest("token is required")
	}
	return token, client, nil
}

// revoke is POST /revoke (RFC 7009): 200 whatever the token, unless the
// request itself is malformed or the client fails authentication. A
// confidential client's token presented without that client's
// authentication is left alone (still 200).
func (s *Server) revoke(c *gin.Context) {
	token, client, err := s.tokenForm(c, false)
	if err != nil {
		s.respondError(c, err)
		return
	}
	ended, err := s.sessions.Revoke(c.Request.Context(), token, clientID(client), s.confidential)
	if err == nil && ended == nil && strings.Count(token, ".") == 2 {
		// An access token: end its session (RFC 7009 §2 allows it), under
		// the same rule as refresh tokens.
		if claims, perr := s.sessions.ParseAccess(c.Request.Context(), token); perr == nil {
			if (clientID(client) == "" && !s.confidential(claims.ClientID)) || (client != nil && claims.ClientID == client.ID) {
				if err = s.sessions.End(c.Request.Context(), claims.Subject, claims.SessionID); err == nil {
					ended = &session.Session{ID: claims.SessionID, UserID: claims.Subject}
				}
			}
		}
	}
	if ended != nil {
		s.SecurityEvent(c, "", accounts.ActionSessionRevoke, ended.UserID, map[string]string{"session_id": ended.ID, "via": "revoke"})
	}
	if err != nil && !errors.Is(err, session.ErrClientMismatch) && !errors.Is(err, session.ErrNotFound) {
		s.respondError(c, err)
		return
	}
	c.Status(http.StatusOK)
}

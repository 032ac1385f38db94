package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// codeGrant is RFC 6749 §4.1.3 with RFC 7636 §4.5.
func (s *Server) codeGrant(c *gin.Context, client *Client, formClientID, code, redirectURI, verifier string) (*session.Pair, error) {
	if client == nil {
		return nil, oauth.BadRequest("client_id is required")
	}
	if code == "" || redirectURI == "" {
		return nil, oauth.BadRequest("code and redirect_uri are required")
	}
	ac, err := s.sessions.RedeemCode(c.Request.Context(), code, client.ID, redirectURI, verifier)
	var replay *session.CodeReplayError
	if errors.As(err, &replay) && replay.SessionID != "" {
		s.log(c).Warn("authorization code replayed; its session revoked", "session_id", replay.SessionID)
		s.SecurityEvent(c, "", accounts.ActionSessionRevoke, replay.UserID, map[string]string{"session_id": replay.SessionID, "via": "code_replay"})
	}
	if err != nil {
		return nil, err
	}
	var payload CodePayload
	if len(ac.Payload) > 0 {
		if err := json.Unmarshal(ac.Payload, &payload); err != nil {
			return nil, err
		}
	}
	if payload.Link != nil {
		if err := s.accounts.Link(c.Request.Context(), ac.UserID, *payload.Link); err != nil {
			return nil, oauth.GrantError(err)
		}
		s.SecurityEvent(c, ac.UserID, accounts.ActionIdentityLink, ac.UserID, map[string]string{"provider": payload.Link.Provider, "subject": payload.Link.Subject})
	}
	sub, err := s.loadSubject(c.Request.Context(), ac.UserID)
	if err != nil {
		return nil, err
	}
	var authTime time.Time
	if payload.AuthTime > 0 {
		authTime = time.Unix(payload.AuthTime, 0)
	}
	pair, err := s.sessions.Start(c.Request.Context(), session.Grant{
		Subject: sub, ClientID: client.ID, AMR: ac.AMR, UserAgent: CoarseUserAgent(c.Request.UserAgent()),
		AuthTime: authTime, Code: code, Scope: payload.Scope, Nonce: payload.Nonce,
	})
	if err == nil {
		s.SecurityEvent(c, ac.UserID, accounts.ActionSignIn, ac.UserID, map[string]string{"method": strings.Join(ac.AMR, " "), "client_id": client.ID, "session_id": pair.SessionID})
	}
	return pair, err
}

// startLink is POST /users/me/identities/{provider}: returns a URL on
// unilogin that starts a link flow for the signed-in user.
func (s *Server) startLink(c *gin.Context) {
	pr := caller(c)
	p, ok := s.provs.Get(c.Param("provider"))
	if !ok {
		s.respondError(c, oauth.NotFound("unknown provider"))
		return
	}
	var req struct {
		ClientID            string  `json:"client_id"`
		RedirectURI         string  `json:"redirect_uri"`
		State               string  `json:"state"`
		CodeChallenge       string  `json:"code_challenge"`
		CodeChallengeMethod string  `json:"code_challenge_method"`
		CurrentPassword     *string `json:"current_password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if _, err := s.CheckRedirect(req.ClientID, req.RedirectURI); err != nil {
		s.respondError(c, err)
		return
	}
	if len(req.State) > MaxAppState {
		s.respondError(c, oauth.BadRequest(fmt.Sprintf("state is too long (at most %d characters)", MaxAppState)))
		return
	}
	// The link commits only with the app's verifier: a challenge is required
	// even for confidential clients.
	if req.CodeChallenge == "" {
		s.respondError(c, oauth.BadRequest("code_challenge is required to link an identity"))
		return
	}
	if err := CheckChallenge(&Client{}, req.CodeChallenge, req.CodeChallengeMethod); err != nil {
		s.respondError(c, oauth.BadRequest(err.Error()))
		return
	}
	// Adding a sign-in method needs a fresh proof (docs/security.md,
	// "Re-authentication"): a stolen access token alone links nothing.
	if err := s.reauthenticate(c, pr.user, pr.session.CreatedAt, req.CurrentPassword, "api"); err != nil {
		if errors.Is(err, accounts.ErrInvalidCredentials) {
			err = errWrongCurrent
		}
		s.respondError(c, err)
		return
	}
	ticket := s.flow.Seal(LinkTicket{
		UserID: pr.user.ID, Provider: p.ID(), ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Challenge: req.CodeChallenge, Expires: s.now().Add(FlowTTL),
	}, "link-ticket")
	q := url.Values{
		"client_id": {req.ClientID}, "redirect_uri": {req.RedirectURI}, "code_challenge": {req.CodeChallenge},
		"code_challenge_method": {"S256"}, "link": {ticket},
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	c.JSON(http.StatusOK, gin.H{"authorization_url": s.opts.Issuer + "/auth/" + p.ID() + "/login?" + q.Encode()})
}

// unlink is DELETE /users/me/identities/{provider}.
func (s *Server) unlink(c *gin.Context) {
	pr := caller(c)
	err := s.accounts.Unlink(c.Request.Context(), pr.user.ID, c.Param("provider"))
	s.removed(c, err, accounts.ErrNotFound, "no identity of this provider is linked",
		accounts.ActionIdentityUnlink, map[string]string{"provider": c.Param("provider")})
}

package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/authcode"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// codeGrant is RFC 6749 §4.1.3 with RFC 7636 §4.5: the code's checks,
// a link flow's commit and the session are authcode.Service.Redeem's.
func (s *Server) codeGrant(c *gin.Context, client *Client, code, redirectURI, verifier string) (*session.Pair, error) {
	if client == nil {
		return nil, oauth.BadRequest("client_id is required")
	}
	if code == "" || redirectURI == "" {
		return nil, oauth.BadRequest("code and redirect_uri are required")
	}
	return s.codes.Redeem(c.Request.Context(), authcode.Redemption{
		Code: code, ClientID: client.ID, RedirectURI: redirectURI, Verifier: verifier,
		ClientIP: c.ClientIP(), UserAgent: CoarseUserAgent(c.Request.UserAgent()), Log: s.log(c),
	}, s.LoadSubject)
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

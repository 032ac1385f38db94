package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// introspection is an RFC 7662 §2.2 answer; an inactive token is
// {"active": false} and nothing more.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
}

// introspect is POST /introspect (RFC 7662): only a confidential client,
// authenticated as at /token, may ask (401 invalid_client otherwise,
// §2.1); token_type_hint is accepted and not needed (§2.1).
func (s *Server) introspect(c *gin.Context) {
	token, client, err := s.tokenForm(c, true)
	if err != nil {
		s.respondError(c, err)
		return
	}
	in, err := s.sessions.Introspect(c.Request.Context(), token, client.ID, s.LoadSubject)
	if err != nil {
		s.respondError(c, err)
		return
	}
	if !in.Active {
		c.JSON(http.StatusOK, introspection{})
		return
	}
	out := introspection{Active: true, Scope: in.Scope, ClientID: in.ClientID, Subject: in.Subject, Issuer: in.Issuer,
		Audience: in.Audience, SessionID: in.SessionID, TokenType: in.TokenType}
	if !in.ExpiresAt.IsZero() {
		out.ExpiresAt = in.ExpiresAt.Unix()
	}
	if !in.IssuedAt.IsZero() {
		out.IssuedAt = in.IssuedAt.Unix()
	}
	c.JSON(http.StatusOK, out)
}

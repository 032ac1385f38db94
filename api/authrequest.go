package api

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/oauth"
)

// What the JSON API and the hosted browser flow (api/hosted) agree on: the
// registered clients, the bounds on an app's request and the link ticket
// that POST /users/me/identities/{provider} hands to /auth/{provider}/login.
// (What a one-time code carries to POST /token is api/authcode's.)
const (
	// FlowTTL bounds a browser flow and a link ticket.
	FlowTTL = 10 * time.Minute
	// MaxAppState bounds an app's state, which travels in the flow cookie.
	MaxAppState = 512
	MaxAppScope = 1024 // the app's requested scope
)

// LinkTicket authorizes one link flow started with a bearer token at
// POST /users/me/identities/{provider}.
type LinkTicket struct {
	UserID      string    `json:"u"`
	Provider    string    `json:"p"`
	ClientID    string    `json:"c"`
	RedirectURI string    `json:"r"`
	Challenge   string    `json:"cc"`
	Expires     time.Time `json:"e"`
}

// listProviders is GET /auth/providers.
func (s *Server) listProviders(c *gin.Context) {
	out := []gin.H{}
	for _, p := range s.provs.List() {
		out = append(out, gin.H{"id": p.ID(), "name": p.Name()})
	}
	c.JSON(http.StatusOK, gin.H{"providers": out})
}

// CheckRedirect validates client_id and redirect_uri exactly (RFC 9700
// §4.1.1: exact string match). Failures must be shown, never redirected.
func (s *Server) CheckRedirect(clientID, redirectURI string) (*Client, error) {
	cl, ok := s.clients[clientID]
	if !ok || clientID == "" {
		return nil, oauth.BadRequest("unknown client_id")
	}
	if !slices.Contains(cl.RedirectURIs, redirectURI) {
		return nil, oauth.BadRequest("redirect_uri is not registered for this client")
	}
	return cl, nil
}

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// CheckChallenge validates an app's RFC 7636 challenge: public clients
// must send one; only S256 is supported.
func CheckChallenge(cl *Client, challenge, method string) error {
	if challenge == "" {
		if method != "" {
			return errors.New("code_challenge_method without code_challenge")
		}
		if cl.Secret == "" {
			return errors.New("code_challenge is required for public clients (PKCE, RFC 7636)")
		}
		return nil
	}
	if method != "S256" {
		return errors.New("code_challenge_method must be S256")
	}
	if !challengeRE.MatchString(challenge) {
		return errors.New("code_challenge must be a base64url SHA-256 (43 characters)")
	}
	return nil
}

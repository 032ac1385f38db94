package api

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// The grants a client's grant_types governs (RFC 6749 §4).
const (
	grantCode              = "authorization_code"
	grantRefresh           = "refresh_token"
	grantPassword          = "password"
	grantClientCredentials = "client_credentials"
)

// allows reports whether the client may use grant: its GrantTypes are
// the effective list the assembly derived from configuration.
func (cl *Client) allows(grant string) bool {
	return slices.Contains(cl.GrantTypes, grant)
}

// errUnauthorizedClient is RFC 6749 §5.2 unauthorized_client.
func errUnauthorizedClient(grant string) error {
	return &oauth.Error{Status: http.StatusBadRequest, Code: oauth.CodeUnauthorizedClient,
		Description: "this client may not use grant_type " + grant}
}

// grantAllowed refuses a grant the identified client may not use
// (unauthorized_client). Grant types other than the four a client's
// grant_types governs are left to /token's dispatch; so is a request
// that identified no client.
func (s *Server) grantAllowed(client *Client, grant string) error {
	switch grant {
	case grantCode, grantRefresh, grantPassword, grantClientCredentials:
	default:
		return nil
	}
	if client != nil && !client.allows(grant) {
		return errUnauthorizedClient(grant)
	}
	return nil
}

// clientCredentialsGrant is RFC 6749 §4.4: a confidential client that
// enabled the grant gets an access token for itself (sub = its id) with
// its configured scopes, narrowed by scope; no refresh and no ID token.
func (s *Server) clientCredentialsGrant(c *gin.Context, client *Client, scope string) (*session.Pair, error) {
	if client == nil {
		return nil, errInvalidClient // §4.4.2: the client MUST authenticate
	}
	if client.Secret == "" {
		return nil, errUnauthorizedClient(grantClientCredentials)
	}
	return s.sessions.ClientCredentials(c.Request.Context(), client.ID, client.Scopes, scope)
}

// withholdRefresh drops the refresh token of a response that must not
// carry one: to a client without the refresh_token grant, and, at the
// start of a session, to a third-party (Consent) client that was not
// granted offline_access (OIDC Core §11).
func withholdRefresh(client *Client, grant string, pair *session.Pair) {
	if pair == nil || client == nil {
		return
	}
	if !client.allows(grantRefresh) || (client.Consent && grant != grantRefresh && !session.HasScope(pair.Scope, session.ScopeOfflineAccess)) {
		pair.RefreshToken = ""
	}
}

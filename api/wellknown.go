package api

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// jwks is GET /.well-known/jwks.json (RFC 7517 §5): current, upcoming and
// still-valid retired keys. Cacheable for JWKSMaxAge; key rotation waits
// at least that long before a new key signs.
func (s *Server) jwks(c *gin.Context) {
	body, err := s.sessions.Keys().JWKS(c.Request.Context())
	if err != nil {
		s.respondError(c, err)
		return
	}
	middleware.Cacheable(c, s.opts.JWKSMaxAge)
	c.Data(http.StatusOK, "application/jwk-set+json", body)
}

// metadata is the RFC 8414 authorization server metadata, also served as
// the OpenID Connect discovery document.
func (s *Server) metadata(c *gin.Context) {
	iss := s.opts.Issuer
	grants := []string{grantCode, grantRefresh, grantClientCredentials}
	if s.opts.PasswordGrant {
		// The second step of a password grant that answered mfa_required.
		grants = append(grants, "password", mfaGrantType)
	}
	perms := s.allPermissions()
	middleware.Cacheable(c, time.Hour)
	c.JSON(http.StatusOK, gin.H{
		"issuer":                 iss,
		"jwks_uri":               iss + "/.well-known/jwks.json",
		"authorization_endpoint": iss + "/authorize",
		"token_endpoint":         iss + "/token",
		"revocation_endpoint":    iss + "/revoke",
		"userinfo_endpoint":      iss + "/userinfo",
		"introspection_endpoint": iss + "/introspect",
		"end_session_endpoint":   iss + "/logout", // RP-Initiated Logout 1.0 §2.1
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"grant_types_supported":                         grants,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":              []string{"S256"},
		"scopes_supported":                              append(slices.Clone(session.OIDCScopes), perms...),
		"subject_types_supported":                       []string{"public"},
		"access_token_signing_alg_values_supported":     s.sessions.Keys().Algorithms(),
		"id_token_signing_alg_values_supported":         s.sessions.Keys().Algorithms(),
		"claims_supported":                              []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr", "email", "email_verified", "name"},
		// The prompt values /authorize honours (OpenID Connect Core §3.1.2.1).
		"prompt_values_supported":                        []string{"none", "login", "consent", "select_account"},
		"authorization_response_iss_parameter_supported": true, // RFC 9207 §3
	})
}

func (s *Server) allPermissions() []string {
	set := map[string]bool{}
	for _, p := range s.opts.AllPermissions {
		set[p] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return slices.Clip(out)
}

// healthz is GET /healthz: 200 while the process serves.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.opts.Version})
}

// readyz is GET /readyz: 200 when the database answers, 503 otherwise or
// while draining for shutdown. The body says why, and lists each
// configured identity provider's state: a provider still being set up does
// not make the instance unready (password sign-in works without it).
func (s *Server) readyz(c *gin.Context) {
	provs := s.provs.Statuses()
	unready := func(why string) {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": oauth.CodeUnavailable, "error_description": why, "providers": provs})
	}
	if s.draining.Load() {
		unready("shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.accounts.Ping(ctx); err != nil {
		s.log(c).Warn("readiness: accounts store", "error", err.Error())
		unready("database unavailable")
		return
	}
	if err := s.sessions.Ping(ctx); err != nil {
		s.log(c).Warn("readiness: session store", "error", err.Error())
		unready("database unavailable")
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "providers": provs})
}

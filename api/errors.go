package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// Error codes (CONTRACT.md, Conventions; RFC 6749 §5.2; RFC 6750 §3.1).
const (
	codeInvalidRequest       = "invalid_request"
	codeInvalidClient        = "invalid_client"
	codeInvalidGrant         = "invalid_grant"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeUnauthorizedClient   = "unauthorized_client"
	codeInvalidToken         = "invalid_token"
	codeInsufficientScope    = "insufficient_scope"
	codeNotFound             = "not_found"
	codeEmailTaken           = "email_taken"
	codeLastLoginMethod      = "last_login_method"
	codeIdentityLinked       = "identity_already_linked"
	codeAccountExists        = "account_exists"
	codeAccessDenied         = "access_denied"
	codeRateLimited          = "rate_limited"
	codeUnavailable          = "temporarily_unavailable"
	codeServerError          = "server_error"
)

// apiError is an error with its HTTP mapping decided at the point of
// failure (bad input detected by a handler).
type apiError struct {
	status      int
	code        string
	description string
}

func (e *apiError) Error() string { return e.code + ": " + e.description }

func badRequest(description string) error {
	return &apiError{http.StatusBadRequest, codeInvalidRequest, description}
}

func invalidGrant(description string) error {
	return &apiError{http.StatusBadRequest, codeInvalidGrant, description}
}

func notFound(description string) error {
	return &apiError{http.StatusNotFound, codeNotFound, description}
}

// errUnavailable: a dependency (the database) is down or overloaded.
var errUnavailable = errors.New("api: temporarily unavailable")

// mapping is the one table from domain errors to HTTP. The first entry
// whose sentinel matches (errors.Is) wins; descriptions are fixed texts,
// never err.Error() of an internal error.
var mapping = []struct {
	err         error
	status      int
	code        string
	description string
}{
	// First: an outage may surface through any other sentinel's path.
	{session.ErrUnavailable, http.StatusServiceUnavailable, codeUnavailable, "the database is unavailable, retry later"},
	{accounts.ErrInvalidCredentials, http.StatusBadRequest, codeInvalidGrant, "invalid username or password"},
	{accounts.ErrEmailTaken, http.StatusConflict, codeEmailTaken, "a user with this email already exists"},
	{accounts.ErrIdentityLinked, http.StatusConflict, codeIdentityLinked, "this identity is already linked to another user"},
	{accounts.ErrLastLoginMethod, http.StatusConflict, codeLastLoginMethod, "this is the only way left to sign in; add another first"},
	{accounts.ErrDisabled, http.StatusUnauthorized, codeInvalidToken, "the user is disabled"},
	{accounts.ErrNotFound, http.StatusNotFound, codeNotFound, "not found"},
	{session.ErrRefreshReused, http.StatusBadRequest, codeInvalidGrant, "refresh token was already used; the session has been revoked"},
	{session.ErrClientMismatch, http.StatusBadRequest, codeInvalidGrant, "the token was issued to another client"},
	{session.ErrInvalidToken, http.StatusBadRequest, codeInvalidGrant, "invalid, expired or revoked token"},
	{session.ErrNotFound, http.StatusNotFound, codeNotFound, "not found"},
	{providers.ErrUnavailable, http.StatusServiceUnavailable, codeUnavailable, "the identity provider is unavailable"},
	{errUnavailable, http.StatusServiceUnavailable, codeUnavailable, "temporarily unavailable, retry later"},
	{accounts.ErrOverloaded, http.StatusServiceUnavailable, codeUnavailable, "too many sign-ins at once, retry later"},
}

// respondError writes err in the contract's error format. Unknown errors
// are 500 server_error with no detail; the cause is logged with the request id.
func (s *Server) respondError(c *gin.Context, err error) {
	var ae *apiError
	var ve *accounts.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		if ae.code == codeInvalidClient {
			c.Header("WWW-Authenticate", `Basic realm="unilogin"`)
		}
		writeError(c, ae.status, ae.code, ae.description)
		return
	case errors.As(err, &mbe):
		writeError(c, http.StatusRequestEntityTooLarge, codeInvalidRequest, "request body too large")
		return
	case errors.As(err, &ve):
		writeError(c, http.StatusBadRequest, codeInvalidRequest, ve.Error())
		return
	}
	for _, m := range mapping {
		if errors.Is(err, m.err) {
			if m.status >= 500 {
				s.log(c).Warn("request failed", slog.String("error", err.Error()))
				c.Header("Retry-After", "5")
			}
			writeError(c, m.status, m.code, m.description)
			return
		}
	}
	if isUnavailable(err) {
		s.log(c).Error("dependency unavailable", slog.String("error", err.Error()))
		c.Header("Retry-After", "5")
		writeError(c, http.StatusServiceUnavailable, codeUnavailable, "temporarily unavailable, retry later")
		return
	}
	s.log(c).Error("internal error", slog.String("error", err.Error()))
	writeError(c, http.StatusInternalServerError, codeServerError, "internal server error")
}

func writeError(c *gin.Context, status int, code, description string) {
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": description})
}

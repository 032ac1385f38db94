package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
)

// Error codes (docs/http-api.md, Errors; RFC 6749 §4.1.2.1 and §5.2;
// RFC 6750 §3.1).
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnsupportedGrantType = "unsupported_grant_type"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeInvalidToken         = "invalid_token"
	CodeInsufficientScope    = "insufficient_scope"
	CodeInvalidScope         = "invalid_scope"
	CodeNotFound             = "not_found"
	CodeEmailTaken           = "email_taken"
	CodeLastLoginMethod      = "last_login_method"
	CodeIdentityLinked       = "identity_already_linked"
	CodeAccountExists        = "account_exists"
	CodeAccessDenied         = "access_denied"
	CodeRateLimited          = "rate_limited"
	CodeUnavailable          = "temporarily_unavailable"
	CodeServerError          = "server_error"
	CodeReauthRequired       = "reauthentication_required"
	CodeSignupDisabled       = "signup_disabled"
	CodeEmailNotVerified     = "email_not_verified"
	CodeMFARequired          = "mfa_required"
	CodeTOTPEnabled          = "totp_enabled"
	CodePasskeyExists        = "passkey_exists"
)

// Error is an error whose HTTP meaning was decided at the point of failure
// (bad input detected by a handler). Description is shown to the client.
type Error struct {
	Status      int
	Code        string
	Description string
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// BadRequest is a 400 invalid_request.
func BadRequest(description string) error {
	return &Error{http.StatusBadRequest, CodeInvalidRequest, description}
}

// InvalidGrant is a 400 invalid_grant (RFC 6749 §5.2).
func InvalidGrant(description string) error {
	return &Error{http.StatusBadRequest, CodeInvalidGrant, description}
}

// NotFound is a 404 not_found.
func NotFound(description string) error {
	return &Error{http.StatusNotFound, CodeNotFound, description}
}

// ErrUnavailable: a dependency (the database) is down or overloaded.
var ErrUnavailable = errors.New("temporarily unavailable")

// ErrRateLimited is the 429 of every rate limit. One text for every limit
// and key, so that it tells nothing about which account or address
// tripped it.
var ErrRateLimited = &Error{http.StatusTooManyRequests, CodeRateLimited, "too many attempts; retry after the number of seconds in Retry-After"}

// mapping is the one table from domain errors to HTTP. The first entry
// whose sentinel matches (errors.Is) wins; descriptions are fixed texts,
// never err.Error() of an internal error. redirect is the code an app is
// redirected with when the error ends a browser sign-in (empty: derived
// from the status); grant is the invalid_grant description when the error
// ends the commit of a link at the code grant (empty: as in the table).
var mapping = []struct {
	err         error
	status      int
	code        string
	description string
	redirect    string
	grant       string
}{
	// First: an outage may surface through any other sentinel's path.
	{session.ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable, "the database is unavailable, retry later", "", ""},
	{accounts.ErrInvalidCredentials, http.StatusBadRequest, CodeInvalidGrant, "invalid username or password", CodeAccessDenied, ""},
	{accounts.ErrInvalidEmailToken, http.StatusBadRequest, CodeInvalidGrant, "the link is invalid, used or expired", CodeAccessDenied, ""},
	{mfa.ErrRateLimited, http.StatusTooManyRequests, CodeRateLimited, ErrRateLimited.Description, "", ""},
	{mfa.ErrInvalidCode, http.StatusBadRequest, CodeInvalidGrant, "the code is wrong, expired or was used already", CodeAccessDenied, ""},
	{mfa.ErrInvalidPasskey, http.StatusBadRequest, CodeInvalidGrant, "the passkey response could not be verified", CodeAccessDenied, ""},
	{mfa.ErrPasskeysDisabled, http.StatusNotFound, CodeNotFound, "passkeys are not configured on this service", "", ""},
	{accounts.ErrTOTPEnabled, http.StatusConflict, CodeTOTPEnabled, "an authenticator app is set up already; remove it first", "", ""},
	{accounts.ErrTOTPNotEnabled, http.StatusNotFound, CodeNotFound, "no authenticator app is set up", "", ""},
	{accounts.ErrPasskeyExists, http.StatusConflict, CodePasskeyExists, "this passkey is registered already", "", ""},
	{accounts.ErrReauthenticationRequired, http.StatusForbidden, CodeReauthRequired,
		"confirm that it is you: send current_password, or (for an account without a password) sign in again and retry within 5 minutes", "", ""},
	{accounts.ErrSignupDisabled, http.StatusForbidden, CodeSignupDisabled, "sign-up is disabled on this service", CodeAccessDenied, ""},
	{accounts.ErrSignupRefused, http.StatusForbidden, CodeAccessDenied, "this service does not create an account for this sign-in", CodeAccessDenied, ""},
	{accounts.ErrEmailNotVerified, http.StatusBadRequest, CodeEmailNotVerified, "the e-mail address must be verified before signing in", CodeAccessDenied, ""},
	{accounts.ErrEmailTaken, http.StatusConflict, CodeEmailTaken, "a user with this email already exists", "", ""},
	{accounts.ErrIdentityLinked, http.StatusConflict, CodeIdentityLinked, "this identity is already linked to another user", CodeIdentityLinked,
		"the identity was linked to another user meanwhile"},
	{accounts.ErrAccountExists, http.StatusConflict, CodeAccountExists, "the user already has an identity at this provider", CodeAccountExists,
		"the user already has an identity at this provider"},
	{accounts.ErrLastLoginMethod, http.StatusConflict, CodeLastLoginMethod, "this is the only way left to sign in; add another first", "", ""},
	{accounts.ErrDisabled, http.StatusUnauthorized, CodeInvalidToken, "the user is disabled", CodeAccessDenied,
		"the user no longer exists or is disabled"},
	{accounts.ErrNotFound, http.StatusNotFound, CodeNotFound, "not found", CodeAccessDenied,
		"the user no longer exists or is disabled"},
	{session.ErrRefreshReused, http.StatusBadRequest, CodeInvalidGrant, "refresh token was already used; the session has been revoked", "", ""},
	{session.ErrClientMismatch, http.StatusBadRequest, CodeInvalidGrant, "the token was issued to another client", "", ""},
	{session.ErrInvalidToken, http.StatusBadRequest, CodeInvalidGrant, "invalid, expired or revoked token", "", ""},
	{session.ErrNotFound, http.StatusNotFound, CodeNotFound, "not found", "", ""},
	{session.ErrInvalidScope, http.StatusBadRequest, CodeInvalidScope, "a requested scope is unknown or not allowed for this client", CodeInvalidScope, ""},
	{providers.ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable, "the identity provider is unavailable", "", ""},
	{providers.ErrAccessDenied, http.StatusBadRequest, CodeAccessDenied, "the identity provider refused the sign-in", CodeAccessDenied, ""},
	{providers.ErrInvalidIDToken, http.StatusBadRequest, CodeAccessDenied, "the identity provider's answer was not valid", CodeAccessDenied, ""},
	{ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable, "temporarily unavailable, retry later", "", ""},
	{accounts.ErrOverloaded, http.StatusServiceUnavailable, CodeUnavailable, "too many sign-ins at once, retry later", "", ""},
	{accounts.ErrConflict, http.StatusServiceUnavailable, CodeUnavailable, "a concurrent change is in progress, retry", "", ""},
}

// Class is what an error means at the HTTP edge: the one decision that the
// JSON writer, the page renderer, the browser flow and the metrics all use.
type Class struct {
	Status      int
	Code        string
	Description string // a fixed text or the handler's: safe to show
	// Decided: a handler decided the answer (bad input), so Description
	// is about the request rather than the domain.
	Decided bool
	// Redirect is the error code an app is redirected with when err ends
	// a browser sign-in (RFC 6749 §4.1.2.1).
	Redirect string
	// Grant, when set, is the invalid_grant description of err ending the
	// commit of a link at the code grant.
	Grant string
	// RetryAfter, when set, is how long the client should wait before
	// retrying (Retry-After): a rate limit's window, or a few seconds of
	// an outage.
	RetryAfter time.Duration
	// Quota, when set, is the rate-limit counter that refused (the
	// RateLimit header fields of the 429).
	Quota *Quota
}

// Internal reports a 5xx: the cause is logged, never shown, and the
// client is told when to retry.
func (c Class) Internal() bool { return c.Status >= 500 }

// Login outcomes: the outcome label of unilogin_logins_total.
const (
	OutcomeSuccess     = "success"
	OutcomeFailure     = "failure"      // bad credentials, refused sign-in, bad input
	OutcomeRateLimited = "rate_limited" // 429 before the attempt was evaluated
	OutcomeError       = "error"        // 5xx: database or provider unavailable, bugs
)

// Outcome is the login outcome of a sign-in that failed with this class.
func (c Class) Outcome() string {
	switch {
	case c.Code == CodeRateLimited:
		return OutcomeRateLimited
	case c.Internal():
		return OutcomeError
	}
	return OutcomeFailure
}

// ProviderOutcome is the outcome label of unilogin_provider_requests_total
// for an exchange with the provider that failed with this class.
func (c Class) ProviderOutcome() string {
	switch c.Redirect {
	case CodeUnavailable:
		return "unavailable"
	case CodeAccessDenied:
		return "rejected"
	}
	return "error"
}

// Classify maps err (not nil) to its Class.
func Classify(err error) Class {
	cl := classify(err)
	cl.RetryAfter, cl.Quota = retryHint(err, cl.Status)
	return cl
}

func classify(err error) Class {
	var e *Error
	var ve *accounts.ValidationError
	var mbe *http.MaxBytesError
	var ue *providers.UpstreamError
	switch {
	case errors.As(err, &e):
		redirect := e.Code
		if e.Status >= 500 {
			redirect = redirectFor(e.Status, "")
		}
		return Class{Status: e.Status, Code: e.Code, Description: e.Description, Decided: true, Redirect: redirect}
	case errors.As(err, &mbe):
		return Class{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest, Description: "request body too large",
			Decided: true, Redirect: CodeServerError}
	case errors.As(err, &ve):
		return Class{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: ve.Error(), Decided: true, Redirect: CodeServerError}
	}
	for _, m := range mapping {
		if errors.Is(err, m.err) {
			return Class{Status: m.status, Code: m.code, Description: m.description, Redirect: redirectFor(m.status, m.redirect), Grant: m.grant}
		}
	}
	if errors.As(err, &ue) { // after the table: ErrUnavailable may wrap one
		return Class{Status: http.StatusBadRequest, Code: CodeAccessDenied, Description: "the identity provider refused the sign-in",
			Redirect: CodeAccessDenied}
	}
	if isUnavailable(err) {
		return Class{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Description: "temporarily unavailable, retry later",
			Redirect: CodeUnavailable}
	}
	return Class{Status: http.StatusInternalServerError, Code: CodeServerError, Description: "internal server error", Redirect: CodeServerError}
}

func redirectFor(status int, explicit string) string {
	switch {
	case explicit != "":
		return explicit
	case status == http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	return CodeServerError
}

// isUnavailable reports errors that mean "try again later": timeouts,
// cancellations and network failures talking to the database.
func isUnavailable(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ne)
}

// GrantError is err as the answer of a code grant whose link commit
// failed: invalid_grant with the table's text, or err itself.
func GrantError(err error) error {
	if g := Classify(err).Grant; g != "" {
		return InvalidGrant(g)
	}
	return err
}

// Respond writes err in the contract's error format (RFC 6749 §5.2: a
// JSON object with error and error_description). A 5xx carries no detail
// and Retry-After when retrying may help, a 429 its limit's Retry-After
// and RateLimit fields; a 5xx's cause goes to log.
func Respond(c *gin.Context, log *slog.Logger, err error) {
	cl := Classify(err)
	SetRetryHeaders(c.Writer.Header(), cl)
	if cl.Code == CodeInvalidClient {
		c.Header("WWW-Authenticate", `Basic realm="unilogin"`)
	}
	switch {
	case cl.Status == http.StatusInternalServerError:
		log.Error("internal error", slog.String("error", err.Error()))
	case cl.Internal():
		log.Warn("request failed", slog.String("error", err.Error()))
	}
	WriteError(c, cl.Status, cl.Code, cl.Description)
}

// WriteError writes one error object and aborts the handler chain.
func WriteError(c *gin.Context, status int, code, description string) {
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": description})
}

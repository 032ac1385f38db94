package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// The password grant's second step (docs/http-api.md, "Multi-factor
// authentication"): a user with TOTP on gets 403 mfa_required with an
// mfa_token instead of tokens, and trades it with a code at /token.

// mfaGrantType is the grant that trades an mfa_token and a code for the
// token pair.
const mfaGrantType = "urn:unilogin:params:oauth:grant-type:mfa"

// errMFARequired is what a client is told after the right password of a
// user with a second factor (as Auth0's mfa_required).
var errMFARequired = &oauth.Error{Status: http.StatusForbidden, Code: oauth.CodeMFARequired,
	Description: "a second factor is required: send mfa_token with otp or recovery_code, grant_type " + mfaGrantType}

// errMFATokenDead: the mfa_token is unknown, expired, used, ended by its
// fifth failure, or presented by another client than it was issued to.
var errMFATokenDead = oauth.InvalidGrant("the mfa_token is invalid, expired, used up or was issued to another client; sign in again")

// mfaRequiredError is errMFARequired carrying the mfa_token of the answer.
type mfaRequiredError struct{ token string }

func (e *mfaRequiredError) Error() string { return errMFARequired.Error() }
func (e *mfaRequiredError) Unwrap() error { return errMFARequired }

// secondFactor is asked by the password grant once the password was
// right: nil when u has no second factor, else an *mfaRequiredError with
// a new mfa_token bound to u and the client (or to no client) and the
// requested scope.
func (s *Server) secondFactor(c *gin.Context, client *Client, u *accounts.User, scope string) error {
	if s.mfa == nil {
		return nil
	}
	ctx := c.Request.Context()
	if on, err := s.mfa.HasTOTP(ctx, u.ID); err != nil || !on {
		return err
	}
	token, err := s.sessions.IssueMFAToken(ctx, u.ID, clientID(client), []string{"pwd"}, scope)
	if err != nil {
		return err
	}
	return &mfaRequiredError{token: token}
}

// respondTokenError writes the error answer of /token: 403 mfa_required
// is RFC 6749 §5.2's error object plus mfa_token, any other err as
// respondError writes it.
func (s *Server) respondTokenError(c *gin.Context, err error) {
	var mr *mfaRequiredError
	if !errors.As(err, &mr) {
		s.respondError(c, err)
		return
	}
	c.AbortWithStatusJSON(errMFARequired.Status, gin.H{"error": errMFARequired.Code,
		"error_description": errMFARequired.Description, "mfa_token": mr.token})
}

// mfaGrant is grant_type=urn:unilogin:params:oauth:grant-type:mfa:
// mfa_token with otp (a TOTP code) or recovery_code. A wrong, replayed or
// rate-limited code counts against the token, which dies on the fifth;
// every failure also counts towards the account's limit (mfa.Service).
func (s *Server) mfaGrant(c *gin.Context, client *Client, form url.Values) (*session.Pair, error) {
	if s.mfa == nil || !s.opts.PasswordGrant {
		return nil, &oauth.Error{Status: http.StatusBadRequest, Code: oauth.CodeUnsupportedGrantType,
			Description: "the password grant and its second step are disabled"}
	}
	token, proof := form.Get("mfa_token"), mfa.Proof{Code: boundCode(form.Get("otp")), RecoveryCode: boundCode(form.Get("recovery_code"))}
	if token == "" {
		return nil, oauth.BadRequest("mfa_token is required")
	}
	if (proof.Code == "") == (proof.RecoveryCode == "") {
		return nil, oauth.BadRequest("send otp or recovery_code (exactly one)")
	}
	ctx := c.Request.Context()
	a, err := s.sessions.BeginMFAAttempt(ctx, token, clientID(client))
	if errors.Is(err, session.ErrInvalidToken) {
		return nil, errMFATokenDead
	} else if err != nil {
		return nil, err
	}
	u, err := s.accounts.GetActive(ctx, a.Token.UserID)
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrDisabled) {
		a.Succeed() // spent: the user is gone
		return nil, errMFATokenDead
	} else if err != nil {
		s.failAttempt(c, a)
		return nil, err
	}
	method, err := s.mfa.Verify(ctx, u.ID, proof)
	switch {
	case errors.Is(err, accounts.ErrTOTPNotEnabled):
		a.Succeed() // the factor was removed meanwhile (an admin reset)
		return nil, oauth.InvalidGrant("the second factor changed meanwhile; sign in again")
	case err != nil && !auditOnly(err):
		if s.failAttempt(c, a) && errors.Is(err, mfa.ErrInvalidCode) {
			return nil, oauth.InvalidGrant("the code is wrong, expired or was used already; that was the last attempt of this mfa_token, sign in again")
		}
		return nil, err // invalid_grant, rate_limited, or the outage
	case err != nil:
		s.log(c).Warn("audit log", "action", accounts.ActionRecoveryCodeUse, "error", err.Error())
	}
	a.Succeed()
	pair, err := s.sessions.Start(ctx, session.Grant{
		Subject:   s.Subject(u),
		ClientID:  a.Token.ClientID,
		AMR:       mfa.AMR(a.Token.AMR, method), // RFC 8176: ["pwd","otp","mfa"] or ["pwd","mfa"]
		Scope:     a.Token.Scope,
		UserAgent: CoarseUserAgent(c.Request.UserAgent()),
	})
	if err == nil {
		s.SecurityEvent(c, u.ID, accounts.ActionSignIn, u.ID, map[string]string{"method": "pwd", "second_factor": string(method),
			"client_id": a.Token.ClientID, "session_id": pair.SessionID})
	}
	return pair, err
}

// failAttempt ends a failed attempt at an mfa_token; it reports whether
// the token is now dead.
func (s *Server) failAttempt(c *gin.Context, a *session.MFAAttempt) bool {
	dead, err := a.Fail(c.Request.Context())
	if err != nil {
		s.log(c).Warn("mfa_token not put back", "error", err.Error())
	}
	return dead
}

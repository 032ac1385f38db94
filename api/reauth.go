package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/oauth"
)

// reauthMaxAge is how recent a sign-in must be to stand in for the
// current password of an account that has none (OWASP ASVS 5 V7.5;
// docs/security.md, "Re-authentication").
const reauthMaxAge = 5 * time.Minute

// errReauthRequired: a sensitive change without a fresh proof.
var errReauthRequired = &oauth.Error{Status: http.StatusForbidden, Code: oauth.CodeReauthRequired,
	Description: "confirm that it is you: send current_password, or (for an account without a password) sign in again and retry within 5 minutes"}

// errWrongCurrent: a wrong current_password.
var errWrongCurrent = oauth.InvalidGrant("current_password is wrong")

// accountKey names a signed-in user in the password limits: the address,
// so that current_password checks share the sign-in counters.
func accountKey(u *accounts.User) string {
	if u.Email != "" {
		return u.Email
	}
	return "user:" + u.ID
}

// passwordChecked runs check, a bcrypt comparison of u's password, under
// the sign-in limits (429 before, counted after) and audits a failure.
// check returns accounts.ErrInvalidCredentials for a wrong password.
func (s *Server) PasswordChecked(c *gin.Context, u *accounts.User, via string, check func(context.Context) error) error {
	guard, err := s.limiter.GuardPassword(c, accountKey(u))
	if err != nil {
		return err
	}
	err = check(c.Request.Context())
	guard.Done(c, err)
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		s.SecurityEvent(c, u.ID, accounts.ActionSignInFailed, u.ID, map[string]string{
			"method": "pwd", "reason": "wrong_current_password", "via": via})
	}
	return err
}

// reauthenticate demands a fresh proof before a sensitive change: the
// current password when u has one (nil or empty: errReauthRequired; wrong:
// accounts.ErrInvalidCredentials), otherwise a sign-in (authTime) less
// than reauthMaxAge old.
func (s *Server) reauthenticate(c *gin.Context, u *accounts.User, authTime time.Time, current *string, via string) error {
	if u.HasPassword() {
		if current == nil || *current == "" {
			return errReauthRequired
		}
		return s.PasswordChecked(c, u, via, func(ctx context.Context) error {
			return s.accounts.VerifyPassword(ctx, u.ID, *current)
		})
	}
	if !s.SignedInRecently(authTime) {
		return errReauthRequired
	}
	return nil
}

func (s *Server) SignedInRecently(authTime time.Time) bool {
	return s.now().Sub(authTime) <= reauthMaxAge
}

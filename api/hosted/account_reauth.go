package hosted

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mfa"
)

// Re-authentication before adding or removing a factor (docs/security.md,
// "Re-authentication"): the current password, a current factor (a TOTP
// code, one of the user's passkeys) or, for an account without a
// password, a sign-in less than 5 minutes old. A proof given on the
// account page counts for 5 minutes for this page session: a sealed
// cookie says so, so that the steps of a setup (scan, confirm) need it
// once.
const (
	reauthCookie     = "unilogin_reauth"
	reauthCookiePath = "/account/"
	reauthMaxAge     = 5 * time.Minute
)

type reauthGrant struct {
	SessionID string    `json:"s"`
	Expires   time.Time `json:"e"`
}

// confirmView is the "confirm that it is you" form of an action: it posts
// to Action again, with Fields (the action's own form) and a proof.
type confirmView struct {
	Action      string
	What        string // the action's name, the form's heading
	Fields      map[string]string
	HasPassword bool
	HasTOTP     bool
	HasPasskeys bool // the passkey button (JavaScript)
	Providers   []providerLink
}

var (
	msgReauthWrongPassword = i18n.M("The password is incorrect.")
)

// reauthFresh reports whether pu has a proof that still counts.
func (s *Server) reauthFresh(c *gin.Context, pu *pageUser) bool {
	var g reauthGrant
	if s.openCookie(c, reauthCookie, "account-reauth", &g) && s.now().Before(g.Expires) &&
		subtle.ConstantTimeCompare([]byte(g.SessionID), []byte(pu.sess.ID)) == 1 {
		return true
	}
	return !pu.user.HasPassword() && s.api.SignedInRecently(pu.sess.CreatedAt)
}

// grantReauth records a proof given now.
func (s *Server) grantReauth(c *gin.Context, pu *pageUser) {
	g := reauthGrant{SessionID: pu.sess.ID, Expires: s.now().Add(reauthMaxAge)}
	s.setCookie(c, reauthCookie, s.flow.Seal(g, "account-reauth"), reauthCookiePath, reauthMaxAge)
}

// reauthed checks the proof of a factor change: a fresh one, or the
// password or TOTP code the confirm form sent. false when it has answered
// (the confirm form, 403; a wrong proof, 400).
func (s *Server) reauthed(c *gin.Context, pu *pageUser, form url.Values, cv confirmView) bool {
	if s.reauthFresh(c, pu) {
		return true
	}
	ctx := c.Request.Context()
	field, err := "", error(nil)
	switch pw, code := form.Get("reauth_password"), form.Get("reauth_code"); {
	case pw != "" && pu.user.HasPassword():
		field = "reauth_password"
		err = s.api.PasswordChecked(c, pu.user, "hosted", func(ctx context.Context) error {
			return s.accounts.VerifyPassword(ctx, pu.user.ID, pw)
		})
	case code != "" && s.mfa != nil:
		field = "reauth_code"
		_, err = s.mfa.Verify(ctx, pu.user.ID, mfa.Proof{Code: code})
		err = s.mfaErr(c, err)
	default:
		s.askConfirm(c, http.StatusForbidden, pu, cv, nil)
		return false
	}
	var rl *mfa.RateLimitError
	switch {
	case err == nil:
		s.grantReauth(c, pu)
		return true
	case errors.Is(err, accounts.ErrInvalidCredentials):
		s.askConfirm(c, http.StatusBadRequest, pu, cv, map[string]string{field: msgReauthWrongPassword})
	case errors.Is(err, mfa.ErrInvalidCode), errors.Is(err, accounts.ErrTOTPNotEnabled):
		s.askConfirm(c, http.StatusBadRequest, pu, cv, map[string]string{field: msgCodeWrong})
	case errors.As(err, &rl):
		s.codesLimited(c, rl)
	default:
		s.pageErr(c, err)
	}
	return false
}

// askConfirm shows the account page with the confirm form of cv.
func (s *Server) askConfirm(c *gin.Context, status int, pu *pageUser, cv confirmView, fieldErr map[string]string) {
	ctx := c.Request.Context()
	cv.HasPassword = pu.user.HasPassword()
	if s.mfa != nil {
		st, err := s.mfa.Status(ctx, pu.user.ID)
		if err != nil {
			s.pageErr(c, err)
			return
		}
		cv.HasTOTP, cv.HasPasskeys = st.TOTP, st.Passkeys > 0
	}
	if !cv.HasPassword {
		ids, err := s.accounts.Identities(ctx, pu.user.ID)
		if err != nil {
			s.pageErr(c, err)
			return
		}
		for _, id := range ids {
			if p, ok := s.provs.Get(id.Provider); ok {
				cv.Providers = append(cv.Providers, providerLink{ID: p.ID(), Name: p.Name(), URL: "/account/signin/" + p.ID()})
			}
		}
	}
	d := &pageData{Error: i18n.M("For your security, confirm that it is you first."), FieldError: fieldErr,
		MFA: &mfaView{Confirm: &cv}}
	if len(fieldErr) > 0 {
		d.Error = i18n.M("Please correct the marked field.")
	}
	s.showAccount(c, status, pu, d)
}

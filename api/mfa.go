package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/oauth"
)

// The second factors over JSON (docs/http-api.md, "Multi-factor
// authentication"): TOTP enrolment, confirmation and removal, and new
// recovery codes. The rules (one code per time step, failures limited
// per account and audited, secrets sealed, recovery codes hashed) are
// mfa.Service's; these handlers parse, prove and map.

// errFactorProofRequired: a change of the second factors without a proof.
var errFactorProofRequired = &oauth.Error{Status: http.StatusForbidden, Code: oauth.CodeReauthRequired,
	Description: "confirm that it is you: send a current code (code, or recovery_code where allowed)"}

// errConfirmReauth: confirming TOTP long after the sign-in without the
// current password.
var errConfirmReauth = &oauth.Error{Status: http.StatusForbidden, Code: oauth.CodeReauthRequired,
	Description: "confirm that it is you: send current_password, or sign in again and retry within 5 minutes"}

// mfaRoutes adds the second-factor routes when the service has them.
func (s *Server) mfaRoutes(e *gin.Engine, me *gin.RouterGroup) {
	if s.mfa == nil {
		return // 404 not_found, as any unknown path
	}
	me.POST("/users/me/mfa/totp", s.enrollTOTP)
	me.POST("/users/me/mfa/totp/confirm", s.confirmTOTP)
	me.DELETE("/users/me/mfa/totp", s.removeTOTP)
	me.POST("/users/me/mfa/recovery-codes", s.regenerateRecoveryCodes)
	s.adminMFARoutes(e) // admin_mfa.go
}

// meJSON is GET /users/me: the user object with its second factors.
type meJSON struct {
	userWithIdentitiesJSON
	MFA *mfa.Status `json:"mfa,omitempty"` // nil only without an mfa.Service
}

// meView adds the user's second factors to v: known when the bearer
// check read them already, else from the MFA service.
func (s *Server) meView(ctx context.Context, v userWithIdentitiesJSON, known *mfa.Status) (meJSON, error) {
	out := meJSON{userWithIdentitiesJSON: v}
	if s.mfa != nil && known != nil {
		// Read with the session and the user (BearerReader).
		st := *known
		out.MFA = &st
	} else if s.mfa != nil {
		st, err := s.mfa.Status(ctx, v.ID)
		if err != nil {
			return out, err
		}
		out.MFA = &st
	}
	return out, nil
}

// factorRequest is the body of the second-factor changes.
type factorRequest struct {
	Code            string  `json:"code"`
	RecoveryCode    string  `json:"recovery_code"`
	CurrentPassword *string `json:"current_password"`
}

// maxCodeLength bounds what is looked at of a code; longer is wrong.
const maxCodeLength = 64

func (r *factorRequest) proof() mfa.Proof {
	return mfa.Proof{Code: r.Code, RecoveryCode: r.RecoveryCode}
}

// enrollTOTP is POST /users/me/mfa/totp (no body): a new pending secret,
// replacing a pending one; 409 totp_enabled when TOTP is on.
func (s *Server) enrollTOTP(c *gin.Context) {
	enr, err := s.mfa.EnrollTOTP(c.Request.Context(), caller(c).user.ID)
	if err != nil {
		s.respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"secret": enr.Secret, "otpauth_uri": enr.OTPAuthURI})
}

// confirmTOTP is POST /users/me/mfa/totp/confirm {"code",
// "current_password"?}: switches TOTP on and shows the recovery codes
// once. Adding a factor needs a fresh proof: a sign-in less than 5 minutes
// old or the current password (reauthFactor).
func (s *Server) confirmTOTP(c *gin.Context) {
	p := caller(c)
	var req factorRequest
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return
	}
	if req.Code == "" {
		s.respondError(c, oauth.BadRequest("code is required: a code of the authenticator app"))
		return
	}
	if err := s.reauthFactor(c, p, req.CurrentPassword); err != nil {
		s.respondError(c, err)
		return
	}
	codes, err := s.mfa.ConfirmTOTP(c.Request.Context(), p.user.ID, boundCode(req.Code))
	if s.mfaFailed(c, err, accounts.ActionTOTPEnable) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"recovery_codes": codes})
}

// removeTOTP is DELETE /users/me/mfa/totp {"code"} or {"recovery_code"}:
// the current factor is the proof; without one 403
// reauthentication_required.
func (s *Server) removeTOTP(c *gin.Context) {
	p := caller(c)
	req, ok := s.factorProof(c, true)
	if !ok {
		return
	}
	err := s.mfa.RemoveTOTP(c.Request.Context(), p.user.ID, req.proof())
	if s.mfaFailed(c, err, accounts.ActionTOTPRemove) {
		return
	}
	c.Status(http.StatusNoContent)
}

// regenerateRecoveryCodes is POST /users/me/mfa/recovery-codes {"code"}:
// a new set; the old codes stop working.
func (s *Server) regenerateRecoveryCodes(c *gin.Context) {
	p := caller(c)
	req, ok := s.factorProof(c, false)
	if !ok {
		return
	}
	codes, err := s.mfa.RegenerateRecoveryCodes(c.Request.Context(), p.user.ID, req.Code)
	if s.mfaFailed(c, err, accounts.ActionRecoveryCodesRegenerate) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"recovery_codes": codes})
}

// factorProof reads the body of a change that a current factor proves: a
// code, or (when recovery is allowed) a recovery code, exactly one. It
// has written the error when ok is false.
func (s *Server) factorProof(c *gin.Context, recovery bool) (req factorRequest, ok bool) {
	if err := decodeJSON(c, &req); err != nil {
		s.respondError(c, err)
		return req, false
	}
	req.Code, req.RecoveryCode = boundCode(req.Code), boundCode(req.RecoveryCode)
	switch {
	case req.Code != "" && req.RecoveryCode != "":
		s.respondError(c, oauth.BadRequest("send code or recovery_code, not both"))
	case !recovery && req.RecoveryCode != "":
		s.respondError(c, oauth.BadRequest("this needs a code of the authenticator app, not a recovery code"))
	case req.Code == "" && req.RecoveryCode == "":
		s.respondError(c, errFactorProofRequired)
	default:
		return req, true
	}
	return req, false
}

// boundCode caps a code's length: a longer one is wrong anyway, and the
// domain then sees a wrong code rather than a large string.
func boundCode(code string) string {
	if len(code) > maxCodeLength {
		return code[:maxCodeLength+1]
	}
	return code
}

// reauthFactor is the re-authentication rule for adding a factor (the
// rule of docs/security.md, "Re-authentication", where a current factor
// is a proof too): current_password when sent (wrong: 400 invalid_grant),
// else a sign-in less than 5 minutes old.
func (s *Server) reauthFactor(c *gin.Context, p *principal, current *string) error {
	if current != nil && *current != "" && p.user.HasPassword() {
		err := s.PasswordChecked(c, p.user, "mfa", func(ctx context.Context) error {
			return s.accounts.VerifyPassword(ctx, p.user.ID, *current)
		})
		if errors.Is(err, accounts.ErrInvalidCredentials) {
			return errWrongCurrent
		}
		return err
	}
	if !s.SignedInRecently(p.session.CreatedAt) {
		return errConfirmReauth
	}
	return nil
}

// auditOnly reports an error of a change that took effect but whose
// audit event was not written: the caller logs it and answers success.
func auditOnly(err error) bool { return errors.Is(err, mfa.ErrNotAudited) }

// mfaFailed writes err of a second-factor change and reports whether it
// did; an audit failure after the change (auditOnly) is logged instead.
func (s *Server) mfaFailed(c *gin.Context, err error, action string) bool {
	switch {
	case err == nil:
		return false
	case auditOnly(err):
		s.log(c).Warn("audit log", "action", action, "error", err.Error())
		return false
	}
	s.respondError(c, err)
	return true
}

package hosted

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mfa"
)

// The authenticator app on the account page (docs/hosted-ui.md,
// i18n.M("Two-step sign-in")): set up (QR code image and the secret as text),
// confirmed by a first code, which shows the 10 recovery codes once;
// recovery codes regenerated with a current code; removal with a code or
// a recovery code.

// mfaView is the second-factor part of a page.
type mfaView struct {
	// code form of the sign-in: show the recovery-code form open
	Recovery bool

	// account page
	Enabled       bool // the service has second factors at all
	TOTP          bool
	RecoveryLeft  int
	PasskeysOn    bool // WebAuthn is configured
	Passkeys      []passkeyView
	Setup         *totpSetupView
	RecoveryCodes []string // shown once, after confirmation or regeneration
	AddPasskey    bool     // the name field and the "Create passkey" button
	Confirm       *confirmView
}

type totpSetupView struct {
	Secret string // in groups of four, for typing
	QRURL  string
}

var (
	msgTOTPWrongCode = i18n.M("That code is not right. Enter the code your app shows now (check that your phone's clock is right).")
	msgTOTPEnterCode = i18n.M("Enter the 6-digit code from your authenticator app.")
	msgTOTPSetupGone = i18n.M("The setup was not finished in time. Start again.")
	msgTOTPAlreadyOn = i18n.M("An authenticator app is already set up. Remove it first to set up another.")
	msgCodeWrong     = i18n.M("That code is not right or was already used.")
)

// mfaPageView loads the account page's second-factor part for pu.
func (s *Server) mfaPageView(c *gin.Context, pu *pageUser, v *mfaView) (*mfaView, error) {
	if v == nil {
		v = &mfaView{}
	}
	if s.mfa == nil {
		return v, nil
	}
	ctx := c.Request.Context()
	st, err := s.mfa.Status(ctx, pu.user.ID)
	if err != nil {
		return nil, err
	}
	v.Enabled, v.TOTP, v.RecoveryLeft, v.PasskeysOn = true, st.TOTP, st.RecoveryCodesLeft, s.mfa.PasskeysEnabled()
	keys, err := s.mfa.ListPasskeys(ctx, pu.user.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		v.Passkeys = append(v.Passkeys, passkeyView{ID: mfa.PasskeyID(k.ID), Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	return v, nil
}

// groupSecret writes a base32 secret in groups of four for reading.
func groupSecret(secret string) string {
	var b strings.Builder
	for i, r := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Server) showTOTPSetup(c *gin.Context, status int, pu *pageUser, enr *mfa.Enrollment, fieldErr map[string]string) {
	d := &pageData{FieldError: fieldErr, MFA: &mfaView{Setup: &totpSetupView{Secret: groupSecret(enr.Secret), QRURL: "/account/mfa/totp/qr.png"}}}
	if len(fieldErr) > 0 {
		d.Error = i18n.M("Please correct the marked field.")
	}
	s.showAccount(c, status, pu, d)
}

// accountTOTPStart is POST /account/mfa/totp: a new pending secret.
func (s *Server) accountTOTPStart(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.mfaOn(c) {
		return
	}
	if !s.reauthed(c, pu, form, confirmView{Action: "/account/mfa/totp", What: i18n.M("Set up an authenticator app")}) {
		return
	}
	enr, err := s.mfa.EnrollTOTP(c.Request.Context(), pu.user.ID)
	if errors.Is(err, accounts.ErrTOTPEnabled) {
		s.showAccount(c, http.StatusConflict, pu, &pageData{Error: msgTOTPAlreadyOn})
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	s.showTOTPSetup(c, http.StatusOK, pu, enr, nil)
}

// accountTOTPQR is GET /account/mfa/totp/qr.png: the pending secret's QR
// code, from this origin (the CSP allows no data: URLs), to a page session
// with a fresh proof only.
func (s *Server) accountTOTPQR(c *gin.Context) {
	pu := s.requirePage(c)
	if pu == nil {
		return
	}
	c.Header("Cache-Control", "no-store")
	if s.mfa == nil || !s.reauthFresh(c, pu) {
		c.AbortWithStatus(http.StatusForbidden)
		return
	}
	uri, err := s.mfa.PendingOTPAuthURI(c.Request.Context(), pu.user.ID)
	if errors.Is(err, accounts.ErrTOTPNotEnabled) {
		c.AbortWithStatus(http.StatusNotFound)
		return
	} else if err != nil {
		s.log(c).Error("qr code", "error", err.Error())
		c.AbortWithStatus(http.StatusServiceUnavailable)
		return
	}
	png, err := mfa.QRCodePNG(uri, 256)
	if err != nil {
		s.log(c).Error("qr code", "error", err.Error())
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}

// accountTOTPConfirm is POST /account/mfa/totp/confirm: the first code
// switches TOTP on and shows the recovery codes, once.
func (s *Server) accountTOTPConfirm(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.mfaOn(c) {
		return
	}
	code := strings.TrimSpace(form.Get("code"))
	if !s.reauthed(c, pu, form, confirmView{Action: "/account/mfa/totp/confirm", What: i18n.M("Set up an authenticator app"),
		Fields: map[string]string{"code": code}}) {
		return
	}
	ctx := c.Request.Context()
	wrong := func(msg string) {
		enr, err := s.mfa.PendingEnrollment(ctx, pu.user.ID)
		if errors.Is(err, accounts.ErrTOTPNotEnabled) {
			s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: msgTOTPSetupGone})
			return
		} else if err != nil {
			s.pageErr(c, err)
			return
		}
		s.showTOTPSetup(c, http.StatusBadRequest, pu, enr, map[string]string{"totp_code": msg})
	}
	if code == "" {
		wrong(msgTOTPEnterCode)
		return
	}
	codes, err := s.mfa.ConfirmTOTP(ctx, pu.user.ID, code)
	err = s.mfaErr(c, err)
	var rl *mfa.RateLimitError
	switch {
	case errors.Is(err, mfa.ErrInvalidCode):
		wrong(msgTOTPWrongCode)
	case errors.As(err, &rl):
		s.codesLimited(c, rl)
	case errors.Is(err, accounts.ErrTOTPNotEnabled):
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: msgTOTPSetupGone})
	case errors.Is(err, accounts.ErrTOTPEnabled):
		s.showAccount(c, http.StatusConflict, pu, &pageData{Error: msgTOTPAlreadyOn})
	case err != nil:
		s.pageErr(c, err)
	default:
		s.showAccount(c, http.StatusOK, pu, &pageData{Notice: i18n.M("Two-step sign-in is on. Save your recovery codes now: they are shown only once."),
			MFA: &mfaView{RecoveryCodes: codes}})
	}
}

// accountTOTPRemove is POST /account/mfa/totp/remove: a current code or a
// recovery code (itself the proof) switches TOTP off.
func (s *Server) accountTOTPRemove(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.mfaOn(c) {
		return
	}
	p := proofOf(form.Get("code"))
	if p.Code == "" && p.RecoveryCode == "" {
		s.codeFieldError(c, pu, "remove_code", msgTOTPEnterCode)
		return
	}
	if s.codeRefused(c, pu, "remove_code", s.mfaErr(c, s.mfa.RemoveTOTP(c.Request.Context(), pu.user.ID, p))) {
		return
	}
	c.Redirect(http.StatusSeeOther, "/account?done=totp_removed")
}

// accountRecoveryCodes is POST /account/mfa/recovery-codes: a new set
// after a current code; the old codes stop working.
func (s *Server) accountRecoveryCodes(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.mfaOn(c) {
		return
	}
	code := strings.TrimSpace(form.Get("code"))
	if code == "" {
		s.codeFieldError(c, pu, "regen_code", msgTOTPEnterCode)
		return
	}
	codes, err := s.mfa.RegenerateRecoveryCodes(c.Request.Context(), pu.user.ID, code)
	if s.codeRefused(c, pu, "regen_code", s.mfaErr(c, err)) {
		return
	}
	s.showAccount(c, http.StatusOK, pu, &pageData{Notice: i18n.M("New recovery codes were made; the old ones no longer work. Save these now: they are shown only once."),
		MFA: &mfaView{RecoveryCodes: codes}})
}

// codeFieldError shows the account page with msg at the code field.
func (s *Server) codeFieldError(c *gin.Context, pu *pageUser, field, msg string) {
	s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: i18n.M("Please correct the marked field."),
		FieldError: map[string]string{field: msg}})
}

// codeRefused answers an account action checked by a code when err says
// it was refused (a wrong or used code at field, the account's code
// limit, TOTP off meanwhile, an outage); false when err is nil.
func (s *Server) codeRefused(c *gin.Context, pu *pageUser, field string, err error) bool {
	var rl *mfa.RateLimitError
	switch {
	case err == nil:
		return false
	case errors.Is(err, mfa.ErrInvalidCode):
		s.codeFieldError(c, pu, field, msgCodeWrong)
	case errors.As(err, &rl):
		s.codesLimited(c, rl)
	case errors.Is(err, accounts.ErrTOTPNotEnabled):
		c.Redirect(http.StatusSeeOther, "/account")
	default:
		s.pageErr(c, err)
	}
	return true
}

// proofOf reads the one field that takes a TOTP code or a recovery code:
// six digits (spaces aside) are a code, anything else a recovery code.
func proofOf(v string) mfa.Proof {
	v = strings.TrimSpace(v)
	digits := strings.ReplaceAll(v, " ", "")
	if len(digits) == 6 && strings.Trim(digits, "0123456789") == "" {
		return mfa.Proof{Code: digits}
	}
	return mfa.Proof{RecoveryCode: v}
}

// mfaOn answers 404 when the pages have no second factors.
func (s *Server) mfaOn(c *gin.Context) bool {
	if s.mfa == nil {
		s.pageError(c, http.StatusNotFound, i18n.M("Not available"), i18n.M("Two-step sign-in is not enabled on this server."))
		return false
	}
	return true
}

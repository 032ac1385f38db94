package hosted

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/middleware"
	"github.com/unilogin/unilogin/api/oauth"
	"github.com/unilogin/unilogin/session"
)

// The second step of a hosted sign-in (docs/hosted-ui.md, "Two-step
// sign-in"): after the password (and, with mfa.apply_to_providers, after
// a provider) a user with TOTP on gives a code or a recovery code. The
// step rides on an mfa_token of the password grant's kind (session
// package), bound to the built-in client: the same five attempts, the same
// expiry, the same per-account code limit. The raw token lives only in a
// sealed cookie of this browser.
const (
	mfaCookie     = "unilogin_mfa"
	mfaCookiePath = "/signin/"
)

// mfaPending is the mfa cookie: the mfa_token, the app's request the
// sign-in continues to, and whether a hosted-page session starts (a
// password sign-in) or only the app gets its code (a provider sign-in, as
// without a second factor).
type mfaPending struct {
	Token   string       `json:"m"`
	Req     authzRequest `json:"r"`
	Page    bool         `json:"p,omitempty"`
	Expires time.Time    `json:"e"`
}

// Messages of the second step.
var (
	msgMFAStartAgain = i18n.M("Your sign-in took too long or was already completed. Sign in again.")
	msgMFADead       = i18n.M("Too many wrong codes. Sign in again.")
	msgMFAWrongCode  = i18n.M("That code is not right or was already used. Enter the current code.")
	msgRecoveryEmpty = i18n.M("Enter one of your recovery codes.")
	msgRecoveryWrong = i18n.M("That recovery code is not right or was already used.")
)

// needsSecondFactor reports whether a sign-in with amr still needs the
// second factor of userID: amr has none (no "mfa", no passkey), the user
// has TOTP on, and the first factor is a password, or a provider while
// mfa.apply_to_providers is on.
func (s *Server) needsSecondFactor(ctx context.Context, userID string, amr []string) (bool, error) {
	if s.mfa == nil || slices.Contains(amr, "mfa") || slices.Contains(amr, "hwk") {
		return false, nil
	}
	if !slices.Contains(amr, "pwd") && !s.opts.MFAForProviders {
		return false, nil
	}
	return s.mfa.HasTOTP(ctx, userID)
}

// startSecondFactor sends the browser to the code form for userID, whose
// first factor was amr; req is where the sign-in goes on to.
func (s *Server) startSecondFactor(c *gin.Context, userID string, amr []string, req authzRequest, page bool) {
	token, err := s.sessions.IssueMFAToken(c.Request.Context(), userID, AccountClientID, amr, "")
	if err != nil {
		s.pageErr(c, err)
		return
	}
	mp := mfaPending{Token: token, Req: req, Page: page, Expires: s.now().Add(session.MFATokenTTL)}
	s.setCookie(c, mfaCookie, s.flow.Seal(mp, "mfa-pending"), mfaCookiePath, session.MFATokenTTL)
	c.Header("Cache-Control", "no-store")
	if page {
		c.Redirect(http.StatusSeeOther, "/signin/mfa") // after the password form's POST
		return
	}
	c.Redirect(http.StatusFound, "/signin/mfa") // the provider callback's documented redirect

}

func (s *Server) openMFAPending(c *gin.Context) (*mfaPending, bool) {
	var mp mfaPending
	if !s.openCookie(c, mfaCookie, "mfa-pending", &mp) || !s.now().Before(mp.Expires) {
		return nil, false
	}
	return &mp, true
}

// showMFA renders the code form of the sign-in that goes on to req; field
// names the input an error is for.
func (s *Server) showMFA(c *gin.Context, status int, req authzRequest, field, msg string) {
	d := &pageData{Title: i18n.M("Two-step sign-in"), CSRF: s.preCSRF(c), SigninURL: "/signin", AppName: req.ClientID}
	if req.present() {
		q := req.query()
		q.Set("response_type", "code")
		d.SigninURL = "/authorize?" + q.Encode()
	}
	if msg != "" {
		d.Error = msg
		d.FieldError = map[string]string{field: msg}
	}
	d.MFA = &mfaView{Recovery: field == "recovery_code"}
	s.render(c, status, "signin_mfa.html", d)
}

// mfaPage is GET /signin/mfa.
func (s *Server) mfaPage(c *gin.Context) {
	mp, ok := s.openMFAPending(c)
	if !ok {
		s.showSignin(c, http.StatusBadRequest, authzRequest{}, "", msgMFAStartAgain)
		return
	}
	s.showMFA(c, http.StatusOK, mp.Req, "", "")
}

// mfaSubmit is POST /signin/mfa: one attempt at the mfa_token with a TOTP
// code or a recovery code.
func (s *Server) mfaSubmit(c *gin.Context) {
	form, _, ok := s.preForm(c)
	if !ok {
		return
	}
	mp, ok := s.openMFAPending(c)
	if !ok {
		s.showSignin(c, http.StatusBadRequest, authzRequest{}, "", msgMFAStartAgain)
		return
	}
	field := "code"
	proof := mfa.Proof{Code: strings.TrimSpace(form.Get("code"))}
	if proof.Code == "" {
		field, proof.RecoveryCode = "recovery_code", strings.TrimSpace(form.Get("recovery_code"))
	}
	if proof.Code == "" && proof.RecoveryCode == "" {
		msg := msgTOTPEnterCode
		if form.Has("recovery_code") {
			msg = msgRecoveryEmpty
		}
		s.showMFA(c, http.StatusBadRequest, mp.Req, field, msg)
		return
	}
	ctx := c.Request.Context()
	att, err := s.sessions.BeginMFAAttempt(ctx, mp.Token, AccountClientID)
	if errors.Is(err, session.ErrInvalidToken) {
		s.clearCookie(c, mfaCookie, mfaCookiePath)
		s.showSignin(c, http.StatusBadRequest, mp.Req, "", msgMFAStartAgain)
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	method, err := s.mfa.Verify(ctx, att.Token.UserID, proof)
	err = s.mfaErr(c, err)
	s.metrics.Login(api.MethodMFA, api.LoginOutcome(err)) // as at the MFA grant
	if err == nil {
		att.Succeed()
		s.clearCookie(c, mfaCookie, mfaCookiePath)
		s.secondFactorDone(c, mp, att.Token, method)
		return
	}
	dead, ferr := att.Fail(ctx) // every failure counts, as at the mfa grant
	var rl *mfa.RateLimitError
	switch {
	case ferr != nil:
		s.pageErr(c, ferr)
	case errors.As(err, &rl):
		s.codesLimited(c, rl)
	case errors.Is(err, mfa.ErrInvalidCode) && dead:
		s.clearCookie(c, mfaCookie, mfaCookiePath)
		s.showSignin(c, http.StatusBadRequest, mp.Req, "", msgMFADead)
	case errors.Is(err, mfa.ErrInvalidCode):
		msg := msgMFAWrongCode
		if field == "recovery_code" {
			msg = msgRecoveryWrong
		}
		s.showMFA(c, http.StatusBadRequest, mp.Req, field, msg)
	case errors.Is(err, accounts.ErrTOTPNotEnabled):
		// Switched off meanwhile (an admin reset): sign in afresh.
		s.clearCookie(c, mfaCookie, mfaCookiePath)
		s.showSignin(c, http.StatusBadRequest, mp.Req, "", msgMFAStartAgain)
	default:
		s.pageErr(c, err)
	}
}

// mfaErr takes mfa.ErrNotAudited for success: the change or the use of a
// code took effect and only its audit event is missing (logged here).
func (s *Server) mfaErr(c *gin.Context, err error) error {
	if errors.Is(err, mfa.ErrNotAudited) {
		s.log(c).Warn("audit log", "error", err.Error())
		return nil
	}
	return err
}

// codesLimited is the page of an account whose failed codes reached the
// limit (rl: 429 with Retry-After).
func (s *Server) codesLimited(c *gin.Context, rl *mfa.RateLimitError) {
	s.errorPage(c, oauth.Classify(rl), i18n.M("Too many attempts"),
		i18n.M("Too many wrong codes for this account. Wait a little, then try again."))
}

// secondFactorDone ends a two-step sign-in: a page session for a password
// sign-in, then the app's code (or the account page).
func (s *Server) secondFactorDone(c *gin.Context, mp *mfaPending, tok session.MFAToken, method mfa.Method) {
	u, err := s.accounts.GetActive(c.Request.Context(), tok.UserID)
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrDisabled) {
		s.showSignin(c, http.StatusBadRequest, mp.Req, "", errGenericSignin)
		return
	} else if err != nil {
		s.pageErr(c, err)
		return
	}
	amr := mfa.AMR(tok.AMR, method)
	// A password sign-in, or a provider's to a third-party app (whose
	// consent page needs a page session), signs the browser in here; a
	// provider's to a first-party app gives the app its code only, as
	// without a second factor.
	if cl, ok := s.api.Client(mp.Req.ClientID); mp.Page || (ok && cl.Consent) {
		s.pageSignedIn(c, u, amr, mp.Req)
		return
	}
	s.finishAuthz(c, mp.Req, u.ID, amr, s.now())
}

// mfaRoutes mounts the second-factor and passkey pages.
func (s *Server) mfaRoutes(e gin.IRoutes) {
	e.GET("/signin/mfa", s.mfaPage)
	e.POST("/signin/mfa", s.mfaSubmit)
	e.POST("/signin/passkey/options", s.api.LimitPerIP(middleware.LimitLoginIP, middleware.BrowserLoginRate), s.signinPasskeyOptions)
	e.POST("/signin/passkey", s.signinPasskey)

	e.POST("/account/mfa/totp", s.accountTOTPStart)
	e.GET("/account/mfa/totp/qr.png", s.accountTOTPQR)
	e.POST("/account/mfa/totp/confirm", s.accountTOTPConfirm)
	e.POST("/account/mfa/totp/remove", s.accountTOTPRemove)
	e.POST("/account/mfa/recovery-codes", s.accountRecoveryCodes)
	e.POST("/account/passkeys/add", s.accountPasskeyAdd)
	e.POST("/account/passkeys/options", s.accountPasskeyOptions)
	e.POST("/account/passkeys/register", s.accountPasskeyRegister)
	e.POST("/account/passkeys/remove", s.accountPasskeyRemove)
	e.POST("/account/reauth/passkey/options", s.reauthPasskeyOptions)
	e.POST("/account/reauth/passkey", s.reauthPasskey)
}

func (s *Server) passkeyScript(c *gin.Context) {
	middleware.Cacheable(c, time.Hour)
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", passkeyJS)
}

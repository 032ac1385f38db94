package hosted

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/oauth"
)

// Passkey ceremonies of the pages (W3C WebAuthn; docs/hosted-ui.md,
// "Passkeys"). static/passkey.js asks an options URL for a ceremony's
// options, the browser's credential comes back in a normal form post. The
// ceremony's state is kept by accounts/mfa in the database, under a handle
// that only this browser holds, in a sealed cookie bound to the purpose
// (and, on the account page, to the page session): any instance can
// finish what another began, and no other browser can.
const (
	passkeyCookie    = "unilogin_passkey"
	passkeyCookieTTL = 5 * time.Minute
)

// Kinds of passkey ceremony.
const (
	ceremonySignin   = "signin"   // sign in with a passkey
	ceremonyReauth   = "reauth"   // confirm it is you on the account page
	ceremonyRegister = "register" // add a passkey on the account page
)

type passkeyCeremony struct {
	Handle    string    `json:"h"`
	Kind      string    `json:"k"`
	SessionID string    `json:"s,omitempty"` // account ceremonies: the page session's
	Expires   time.Time `json:"e"`
}

var (
	msgPasskeyRefused = i18n.M("That passkey was not accepted. Try again, or sign in another way.")
	msgPasskeyAgain   = i18n.M("The passkey request took too long or was already used. Try again.")
)

// errNoPasskeys: the pages were built without a WebAuthn relying party.
var errNoPasskeys = oauth.NotFound("passkeys are not enabled")

// passkeyOptions answers an options URL: the ceremony's options as JSON
// and the handle in the cookie. begin runs accounts/mfa's Begin….
func (s *Server) passkeyOptions(c *gin.Context, kind, sessionID string, begin func() ([]byte, string, error)) {
	if s.mfa == nil {
		s.api.RespondError(c, errNoPasskeys)
		return
	}
	options, handle, err := begin()
	if errors.Is(err, mfa.ErrPasskeysDisabled) {
		err = errNoPasskeys
	}
	if err != nil {
		s.api.RespondError(c, err)
		return
	}
	pc := passkeyCeremony{Handle: handle, Kind: kind, SessionID: sessionID, Expires: s.now().Add(passkeyCookieTTL)}
	s.setCookie(c, passkeyCookie, s.flow.Seal(pc, "passkey-ceremony"), "/", passkeyCookieTTL)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", options)
}

// takePasskeyCeremony returns the handle of this browser's ceremony of
// kind (for sessionID), clearing the cookie; false when there is none.
func (s *Server) takePasskeyCeremony(c *gin.Context, kind, sessionID string) (string, bool) {
	var pc passkeyCeremony
	if !s.openCookie(c, passkeyCookie, "passkey-ceremony", &pc) {
		return "", false
	}
	s.clearCookie(c, passkeyCookie, "/")
	ok := pc.Kind == kind && s.now().Before(pc.Expires) &&
		subtle.ConstantTimeCompare([]byte(pc.SessionID), []byte(sessionID)) == 1
	return pc.Handle, ok
}

// signinPasskeyOptions is POST /signin/passkey/options (passkey.js).
func (s *Server) signinPasskeyOptions(c *gin.Context) {
	form, err := api.ParseForm(c)
	if err != nil {
		s.api.RespondError(c, err)
		return
	}
	if !s.csrfOK(c, form.Get("csrf"), nil, true) {
		s.api.RespondError(c, errFormExpired)
		return
	}
	s.passkeyOptions(c, ceremonySignin, "", func() ([]byte, string, error) {
		return s.mfa.BeginPasskeyLogin(c.Request.Context())
	})
}

// signinPasskey is POST /signin/passkey: the assertion of a discoverable
// credential signs its user in (amr hwk user: two factors at once).
func (s *Server) signinPasskey(c *gin.Context) {
	form, req, ok := s.preForm(c)
	if !ok {
		return
	}
	handle, ok := s.takePasskeyCeremony(c, ceremonySignin, "")
	if !ok || s.mfa == nil {
		s.showSignin(c, http.StatusBadRequest, req, "", msgPasskeyAgain)
		return
	}
	u, _, err := s.mfa.FinishPasskeyLogin(c.Request.Context(), handle, []byte(form.Get("credential")))
	switch {
	case errors.Is(err, mfa.ErrInvalidPasskey), errors.Is(err, accounts.ErrDisabled), errors.Is(err, accounts.ErrNotFound):
		s.log(c).Info("passkey sign-in refused", "error", err.Error())
		s.api.SecurityEvent(c, "", accounts.ActionSignInFailed, "", map[string]string{"method": "hwk", "reason": "invalid_passkey", "via": "hosted"})
		s.showSignin(c, http.StatusBadRequest, req, "", msgPasskeyRefused)
		return
	case err != nil:
		s.pageErr(c, err)
		return
	}
	s.pageSignedIn(c, u, mfa.PasskeyAMR, req)
}

// accountJSON starts a JSON request of the account page (passkey.js): the
// page session and its CSRF token; false when it has answered.
func (s *Server) accountJSON(c *gin.Context) (*pageUser, bool) {
	form, err := api.ParseForm(c)
	if err != nil {
		s.api.RespondError(c, err)
		return nil, false
	}
	pu, err := s.loadPage(c)
	if err != nil {
		s.api.RespondError(c, err)
		return nil, false
	}
	if pu == nil || !s.csrfOK(c, form.Get("csrf"), pu, false) {
		s.api.RespondError(c, errFormExpired)
		return nil, false
	}
	return pu, true
}

// reauthPasskeyOptions is POST /account/reauth/passkey/options.
func (s *Server) reauthPasskeyOptions(c *gin.Context) {
	pu, ok := s.accountJSON(c)
	if !ok {
		return
	}
	s.passkeyOptions(c, ceremonyReauth, pu.sess.ID, func() ([]byte, string, error) {
		return s.mfa.BeginPasskeyLogin(c.Request.Context())
	})
}

// reauthPasskey is POST /account/reauth/passkey: a passkey of this user
// confirms it is them (a current factor); another user's passkey does not.
func (s *Server) reauthPasskey(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil {
		return
	}
	handle, ok := s.takePasskeyCeremony(c, ceremonyReauth, pu.sess.ID)
	if !ok || s.mfa == nil {
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: msgPasskeyAgain})
		return
	}
	u, _, err := s.mfa.FinishPasskeyLogin(c.Request.Context(), handle, []byte(form.Get("credential")))
	if err == nil && subtle.ConstantTimeCompare([]byte(u.ID), []byte(pu.user.ID)) != 1 {
		err = mfa.ErrInvalidPasskey // a passkey, but someone else's
	}
	switch {
	case errors.Is(err, mfa.ErrInvalidPasskey), errors.Is(err, accounts.ErrDisabled), errors.Is(err, accounts.ErrNotFound):
		s.api.SecurityEvent(c, pu.user.ID, accounts.ActionMFAFailed, pu.user.ID, map[string]string{"method": "passkey", "reason": "reauth_refused"})
		s.showAccount(c, http.StatusForbidden, pu, &pageData{Error: msgPasskeyRefused})
		return
	case err != nil:
		s.pageErr(c, err)
		return
	}
	s.grantReauth(c, pu)
	c.Redirect(http.StatusSeeOther, "/account?done=confirmed")
}

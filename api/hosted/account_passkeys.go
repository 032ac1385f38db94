package hosted

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/i18n"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/api/oauth"
)

// Passkeys on the account page: added after a proof (a plain form, then
// the "Create passkey" button of passkey.js), listed, and removed after a
// proof unless one is the last way to sign in.

type passkeyView struct {
	ID, Name              string
	CreatedAt, LastUsedAt time.Time
	Last                  bool // the only way left to sign in: Remove is refused
}

// errReauthFirst answers passkey.js when the proof has run out meanwhile.
var errReauthFirst = &oauth.Error{Status: http.StatusForbidden, Code: oauth.CodeReauthRequired,
	Description: "confirm that it is you first: reload the page"}

// errFormExpired answers passkey.js for a page whose session or CSRF token
// no longer holds.
var errFormExpired = &oauth.Error{Status: http.StatusForbidden, Code: oauth.CodeInvalidRequest,
	Description: "the form has expired: reload the page"}

var (
	msgPasskeyNotRegistered = i18n.M("The passkey could not be registered. Try again.")
	msgPasskeyTaken         = i18n.M("This passkey is registered already.")
	msgPasskeyName          = i18n.M("Give the passkey a name of at most 100 characters.")
	msgPasskeyLast          = i18n.M("This passkey is the only way left to sign in to your account, so it cannot be removed. Set a password, link a provider or add another passkey first.")
)

func (s *Server) passkeysOn(c *gin.Context) bool {
	if s.mfa == nil || !s.mfa.PasskeysEnabled() {
		s.pageError(c, http.StatusNotFound, i18n.M("Not available"), i18n.M("Passkeys are not enabled on this server."))
		return false
	}
	return true
}

var confirmAddPasskey = confirmView{Action: "/account/passkeys/add", What: i18n.M("Add a passkey")}

// accountPasskeyAdd is POST /account/passkeys/add: after a proof, the page
// with the name field and the "Create passkey" button.
func (s *Server) accountPasskeyAdd(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.passkeysOn(c) || !s.reauthed(c, pu, form, confirmAddPasskey) {
		return
	}
	s.showAccount(c, http.StatusOK, pu, &pageData{MFA: &mfaView{AddPasskey: true}})
}

// accountPasskeyOptions is POST /account/passkeys/options (passkey.js).
func (s *Server) accountPasskeyOptions(c *gin.Context) {
	pu, ok := s.accountJSON(c)
	if !ok {
		return
	}
	if !s.reauthFresh(c, pu) {
		s.api.RespondError(c, errReauthFirst)
		return
	}
	s.passkeyOptions(c, ceremonyRegister, pu.sess.ID, func() ([]byte, string, error) {
		return s.mfa.BeginPasskeyRegistration(c.Request.Context(), pu.user.ID)
	})
}

// accountPasskeyRegister is POST /account/passkeys/register: the
// authenticator's new credential, verified and stored under its name.
func (s *Server) accountPasskeyRegister(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.passkeysOn(c) || !s.reauthed(c, pu, form, confirmAddPasskey) {
		return
	}
	handle, ok := s.takePasskeyCeremony(c, ceremonyRegister, pu.sess.ID)
	if !ok {
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: msgPasskeyAgain, MFA: &mfaView{AddPasskey: true}})
		return
	}
	_, err := s.mfa.FinishPasskeyRegistration(c.Request.Context(), pu.user.ID, handle, form.Get("name"), []byte(form.Get("credential")))
	err = s.mfaErr(c, err)
	var ve *accounts.ValidationError
	switch {
	case errors.As(err, &ve):
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: i18n.M("Please correct the marked field."),
			FieldError: map[string]string{"passkey_name": msgPasskeyName}, MFA: &mfaView{AddPasskey: true}})
	case errors.Is(err, mfa.ErrInvalidPasskey):
		s.log(c).Info("passkey registration refused", "error", err.Error())
		s.showAccount(c, http.StatusBadRequest, pu, &pageData{Error: msgPasskeyNotRegistered, MFA: &mfaView{AddPasskey: true}})
	case errors.Is(err, accounts.ErrPasskeyExists):
		s.showAccount(c, http.StatusConflict, pu, &pageData{Error: msgPasskeyTaken})
	case err != nil:
		s.pageErr(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/account?done=passkey_added")
	}
}

// accountPasskeyRemove is POST /account/passkeys/remove (form field id).
func (s *Server) accountPasskeyRemove(c *gin.Context) {
	pu, form := s.accountPOST(c)
	if pu == nil || !s.passkeysOn(c) {
		return
	}
	id := form.Get("id")
	if !s.reauthed(c, pu, form, confirmView{Action: "/account/passkeys/remove", What: i18n.M("Remove a passkey"),
		Fields: map[string]string{"id": id}}) {
		return
	}
	err := s.mfaErr(c, s.mfa.RemovePasskey(c.Request.Context(), pu.user.ID, id))
	switch {
	case errors.Is(err, accounts.ErrLastLoginMethod):
		s.showAccount(c, http.StatusConflict, pu, &pageData{Error: msgPasskeyLast})
	case errors.Is(err, accounts.ErrNotFound):
		s.showAccount(c, http.StatusNotFound, pu, &pageData{Error: i18n.M("That passkey is not registered to your account.")})
	case err != nil:
		s.pageErr(c, err)
	default:
		c.Redirect(http.StatusSeeOther, "/account?done=passkey_removed")
	}
}

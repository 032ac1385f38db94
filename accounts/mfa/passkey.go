package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/unilogin/unilogin/accounts"
)

// A passkey is a sign-in method of its own and, with user verification
// required at registration and sign-in, two factors at once (possession
// and the authenticator's PIN or biometric): amr ["hwk","user"] (RFC 8176).
var PasskeyAMR = []string{"hwk", "user"}

// errHandleMismatch: the user handle of an assertion is not the one its
// credential was registered with.
var errHandleMismatch = errors.New("user handle is not the credential's")

// MaxPasskeyName is the longest passkey name, in characters.
const MaxPasskeyName = 100

// ceremony is the server-side state of one WebAuthn ceremony, kept in the
// FactorStore (never in process memory: every instance must be able to
// finish what another began).
type ceremony struct {
	Kind    string               `json:"kind"`              // "register" or "login"
	UserID  string               `json:"user_id,omitempty"` // register: whose
	Session webauthn.SessionData `json:"session"`
}

// ceremonyKey is what the store keeps a ceremony under: the hash of the
// handle the browser holds, so a database reader cannot finish one.
func ceremonyKey(handle string) string {
	sum := sha256.Sum256([]byte("webauthn-ceremony\x00" + handle))
	return hex.EncodeToString(sum[:])
}

// waUser adapts a user and its passkeys to webauthn.User. The user
// handle is the user id.
type waUser struct {
	u     *accounts.User
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string {
	if w.u.Email != "" {
		return w.u.Email
	}
	return w.u.ID
}
func (w *waUser) WebAuthnDisplayName() string {
	if w.u.Name != "" {
		return w.u.Name
	}
	return w.WebAuthnName()
}
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func (s *Service) loadUser(ctx context.Context, userID string) (*waUser, []*accounts.Passkey, error) {
	u, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, accounts.ErrDisabled
	}
	keys, err := s.factors.ListPasskeys(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	w := &waUser{u: u}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal(k.Data, &c); err != nil {
			return nil, nil, fmt.Errorf("mfa: decode passkey: %w", err)
		}
		w.creds = append(w.creds, c)
	}
	return w, keys, nil
}

func (s *Service) putCeremony(ctx context.Context, c ceremony) (string, error) {
	handle := rand.Text() + rand.Text()
	data, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	if err := s.factors.PutCeremony(ctx, ceremonyKey(handle), data, s.opts.Now().Add(s.opts.CeremonyTTL)); err != nil {
		return "", err
	}
	return handle, nil
}

func (s *Service) takeCeremony(ctx context.Context, handle, kind string) (*ceremony, error) {
	if handle == "" || len(handle) > 256 {
		return nil, fmt.Errorf("%w: unknown ceremony", ErrInvalidPasskey)
	}
	data, err := s.factors.TakeCeremony(ctx, ceremonyKey(handle), s.opts.Now())
	if errors.Is(err, accounts.ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown, used or expired ceremony", ErrInvalidPasskey)
	} else if err != nil {
		return nil, err
	}
	var c ceremony
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("mfa: decode ceremony: %w", err)
	}
	if c.Kind != kind {
		return nil, fmt.Errorf("%w: ceremony of another kind", ErrInvalidPasskey)
	}
	return &c, nil
}

// BeginPasskeyRegistration starts registering a passkey for a signed-in
// user: it returns the PublicKeyCredentialCreationOptions (JSON, for
// navigator.credentials.create) and the ceremony handle to give back to
// FinishPasskeyRegistration (within CeremonyTTL, once). The credential
// must be discoverable and verify the user.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userID string) (options json.RawMessage, handle string, err error) {
	if s.webauthn == nil {
		return nil, "", ErrPasskeysDisabled
	}
	w, _, err := s.loadUser(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(w.creds))
	for i := range w.creds {
		exclude = append(exclude, w.creds[i].Descriptor())
	}
	creation, sess, err := s.webauthn.BeginRegistration(w,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationRequired}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, "", fmt.Errorf("mfa: begin registration: %w", err)
	}
	if handle, err = s.putCeremony(ctx, ceremony{Kind: "register", UserID: userID, Session: *sess}); err != nil {
		return nil, "", err
	}
	if options, err = json.Marshal(creation); err != nil {
		return nil, "", err
	}
	return options, handle, nil
}

// FinishPasskeyRegistration verifies the authenticator's response (the
// PublicKeyCredential as JSON) against the ceremony begun for the same
// user, and stores the passkey under name. ErrInvalidPasskey when it does
// not verify (W3C WebAuthn §7.1: challenge, origin, RP ID hash, flags).
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userID, handle, name string, response []byte) (*accounts.Passkey, error) {
	if s.webauthn == nil {
		return nil, ErrPasskeysDisabled
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxPasskeyName || !utf8.ValidString(name) {
		return nil, &accounts.ValidationError{Field: "name", Reason: fmt.Sprintf("must be valid text of at most %d characters", MaxPasskeyName), Err: accounts.ErrInvalidInput}
	}
	c, err := s.takeCeremony(ctx, handle, "register")
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(c.UserID), []byte(userID)) != 1 {
		return nil, fmt.Errorf("%w: ceremony begun for another user", ErrInvalidPasskey)
	}
	w, _, err := s.loadUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPasskey, err)
	}
	cred, err := s.webauthn.CreateCredential(w, c.Session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPasskey, err)
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "Passkey"
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	p := &accounts.Passkey{ID: cred.ID, UserID: userID, UserHandle: w.WebAuthnID(), PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, Transports: transports, Name: name, Data: data,
		CreatedAt: s.opts.Now().UTC().Truncate(time.Millisecond)}
	if err := s.factors.CreatePasskey(ctx, p); err != nil {
		return nil, err
	}
	return p, s.record(ctx, self(ctx, userID), accounts.ActionPasskeyAdd, userID,
		map[string]string{"credential": PasskeyID(p.ID), "name": name})
}

// BeginPasskeyLogin starts a discoverable sign-in (no user named): it
// returns the PublicKeyCredentialRequestOptions (JSON) and the handle.
func (s *Service) BeginPasskeyLogin(ctx context.Context) (options json.RawMessage, handle string, err error) {
	if s.webauthn == nil {
		return nil, "", ErrPasskeysDisabled
	}
	assertion, sess, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("mfa: begin login: %w", err)
	}
	if handle, err = s.putCeremony(ctx, ceremony{Kind: "login", Session: *sess}); err != nil {
		return nil, "", err
	}
	if options, err = json.Marshal(assertion); err != nil {
		return nil, "", err
	}
	return options, handle, nil
}

// FinishPasskeyLogin verifies an assertion (W3C WebAuthn §7.2) against the
// ceremony: the credential is looked up by its id, and the user handle the
// authenticator returned must be the one it was registered with. It
// returns the signed-in user. ErrInvalidPasskey for every verification
// failure, accounts.ErrDisabled for a disabled user.
func (s *Service) FinishPasskeyLogin(ctx context.Context, handle string, response []byte) (*accounts.User, *accounts.Passkey, error) {
	if s.webauthn == nil {
		return nil, nil, ErrPasskeysDisabled
	}
	c, err := s.takeCeremony(ctx, handle, "login")
	if err != nil {
		return nil, nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidPasskey, err)
	}
	var (
		found   *accounts.Passkey
		user    *waUser
		lookErr error
	)
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.factors.GetPasskey(ctx, rawID)
		if err != nil {
			lookErr = err
			return nil, err
		}
		if len(userHandle) == 0 || !bytes.Equal(userHandle, p.UserHandle) {
			lookErr = errHandleMismatch
			return nil, lookErr
		}
		w, _, err := s.loadUser(ctx, p.UserID)
		if err != nil {
			lookErr = err
			return nil, err
		}
		found, user = p, w
		return w, nil
	}
	cred, err := s.webauthn.ValidateDiscoverableLogin(handler, c.Session, parsed)
	if err != nil {
		if errors.Is(lookErr, accounts.ErrDisabled) {
			return nil, nil, accounts.ErrDisabled
		}
		if lookErr != nil && !errors.Is(lookErr, accounts.ErrNotFound) && !errors.Is(lookErr, errHandleMismatch) {
			return nil, nil, lookErr
		}
		s.auditPasskeyFailure(ctx, found, "invalid")
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidPasskey, err)
	}
	if cred.Authenticator.CloneWarning {
		s.auditPasskeyFailure(ctx, found, "sign_count")
		return nil, nil, fmt.Errorf("%w: signature counter went backwards (cloned authenticator?)", ErrInvalidPasskey)
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return nil, nil, err
	}
	if err := s.factors.UpdatePasskeyUse(ctx, cred.ID, cred.Authenticator.SignCount, data, s.opts.Now().UTC()); err != nil {
		return nil, nil, err
	}
	return user.u, found, nil
}

func (s *Service) auditPasskeyFailure(ctx context.Context, p *accounts.Passkey, reason string) {
	if p == nil {
		return // no known user to record it against
	}
	_ = s.record(ctx, accounts.Actor{ID: p.UserID, IP: accounts.ClientAddress(ctx)}, accounts.ActionMFAFailed, p.UserID,
		map[string]string{"method": "passkey", "reason": reason})
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, userID string) ([]*accounts.Passkey, error) {
	return s.factors.ListPasskeys(ctx, userID)
}

// RemovePasskey removes one of the user's passkeys (id as PasskeyID
// encodes it) unless it is the last way to sign in
// (accounts.ErrLastLoginMethod). The caller checks re-authentication.
func (s *Service) RemovePasskey(ctx context.Context, userID, id string) error {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 || len(raw) > 1023 {
		return accounts.ErrNotFound
	}
	if err := s.factors.DeletePasskeyIfNotLast(ctx, userID, raw); err != nil {
		return err
	}
	return s.record(ctx, self(ctx, userID), accounts.ActionPasskeyRemove, userID, map[string]string{"credential": id})
}

// PasskeyID is the credential id as the API shows it: base64url.
func PasskeyID(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

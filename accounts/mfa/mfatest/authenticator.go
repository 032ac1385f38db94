// Package mfatest helps tests of passkeys: a software WebAuthn
// authenticator that answers the options of accounts/mfa's ceremonies the
// way a browser and an authenticator would, and can be told to lie about
// its origin, RP ID, user handle or signature counter.
package mfatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

var b64 = base64.RawURLEncoding

// Authenticator is a minimal software authenticator (W3C WebAuthn §6) and
// the client around it: one ES256 key per credential, attestation "none",
// user presence and verification always asserted. Copying an
// Authenticator shares its keys (a clone of the device).
type Authenticator struct {
	t       testing.TB
	Origin  string // what the client puts in clientDataJSON
	RPID    string // whose SHA-256 goes into authenticatorData
	Count   uint32 // the signature counter, incremented before each use
	keys    map[string]*ecdsa.PrivateKey
	handles map[string][]byte
}

// New returns an authenticator for the relying party at origin with the
// RP ID rpID.
func New(t testing.TB, origin, rpID string) *Authenticator {
	return &Authenticator{t: t, Origin: origin, RPID: rpID,
		keys: map[string]*ecdsa.PrivateKey{}, handles: map[string][]byte{}}
}

type publicKeyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func (a *Authenticator) options(options []byte) publicKeyOptions {
	a.t.Helper()
	var o publicKeyOptions
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		a.t.Fatalf("webauthn options %s: %v", options, err)
	}
	return o
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(a.RPID))
	a.Count++
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.Count)
	return append(out, attested...)
}

// Create answers navigator.credentials.create() for the creation options
// (JSON, as BeginPasskeyRegistration returns them): the new credential's
// id and the PublicKeyCredential as JSON.
func (a *Authenticator) Create(options []byte) (credID []byte, response []byte) {
	t := a.t
	t.Helper()
	o := a.options(options)
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		t.Fatalf("webauthn options: user id: %v", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	credID = make([]byte, 16)
	rand.Read(credID)
	a.keys[string(credID)] = key
	a.handles[string(credID)] = handle
	// The uncompressed point is 0x04 || X || Y (SEC 1 §2.3.3).
	point, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	x, y := point[1:33], point[33:65]
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: zeros
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(credID)))
	attested = append(append(attested, credID...), cose...)
	authData := a.authData(0x01|0x04|0x40, attested) // UP, UV, AT
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		t.Fatal(err)
	}
	response, _ = json.Marshal(map[string]any{
		"id": b64.EncodeToString(credID), "rawId": b64.EncodeToString(credID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
	return credID, response
}

// Get answers navigator.credentials.get() for the request options with
// the credential; handle is the user handle returned (the registered one
// when nil).
func (a *Authenticator) Get(options []byte, credID, handle []byte) []byte {
	t := a.t
	t.Helper()
	key := a.keys[string(credID)]
	if key == nil {
		t.Fatalf("webauthn: the authenticator holds no credential %x", credID)
	}
	if handle == nil {
		handle = a.handles[string(credID)]
	}
	cd := a.clientData("webauthn.get", a.options(options).PublicKey.Challenge)
	authData := a.authData(0x01|0x04, nil)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, authData...), h[:]...)) // ES256 signs SHA-256(authData || hash)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(credID), "rawId": b64.EncodeToString(credID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(handle),
		},
	})
	return b
}

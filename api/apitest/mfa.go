package apitest

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts/mfa/mfatest"
)

// TOTPCode is the RFC 6238 code of secret at the time at (SHA-1, six
// digits, 30-second steps), as an authenticator app shows it.
func TOTPCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// EnableTOTP switches TOTP on for the user id through the MFA service
// and returns the secret and the recovery codes; the code of the current
// step (on the env's clock) is spent by the confirmation.
func (e *Env) EnableTOTP(id string) (secret string, recovery []string) {
	e.T.Helper()
	ctx := context.Background()
	enr, err := e.MFA.EnrollTOTP(ctx, id)
	if err != nil {
		e.T.Fatal(err)
	}
	codes, err := e.MFA.ConfirmTOTP(ctx, id, TOTPCode(e.T, enr.Secret, e.Clock.Now()))
	if err != nil {
		e.T.Fatal(err)
	}
	return enr.Secret, codes
}

// JWTPayload decodes a JWT's claims without checking it.
func JWTPayload(t testing.TB, jwt string) []byte {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Authenticator is a software passkey device for the env's origin (use
// EnvOptions.Localhost: the RP ID must be a domain).
func (e *Env) Authenticator() *mfatest.Authenticator {
	u, err := url.Parse(e.URL)
	if err != nil {
		e.T.Fatal(err)
	}
	return mfatest.New(e.T, e.URL, u.Hostname())
}

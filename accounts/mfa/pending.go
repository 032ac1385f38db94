package mfa

import (
	"context"
	"fmt"

	"github.com/pquerna/otp"
)

// PendingEnrollment returns the pending secret again, as EnrollTOTP did
// (the account page shows it once more when the first code was wrong).
// accounts.ErrTOTPNotEnabled when none is pending. The caller checks that
// the user proved it is them before showing it.
func (s *Service) PendingEnrollment(ctx context.Context, userID string) (*Enrollment, error) {
	uri, err := s.PendingOTPAuthURI(ctx, userID)
	if err != nil {
		return nil, err
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("mfa: pending otpauth URI: %w", err)
	}
	return &Enrollment{Secret: key.Secret(), OTPAuthURI: uri}, nil
}

// PasskeysEnabled reports whether the service has a WebAuthn relying
// party (else every passkey method is ErrPasskeysDisabled), so that pages
// offer passkeys only where they work.
func (s *Service) PasskeysEnabled() bool { return s.webauthn != nil }

package accounts

import "context"

// GetByEmail returns the user with the (normalized) e-mail address.
func (s *Service) GetByEmail(ctx context.Context, email string) (*User, error) {
	return s.store.GetUserByEmail(ctx, email)
}

// Identities returns the external identities linked to the user.
func (s *Service) Identities(ctx context.Context, userID string) ([]*Identity, error) {
	return s.store.ListIdentities(ctx, userID)
}

// Ping reports whether the accounts store answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

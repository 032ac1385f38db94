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

// userWithIdentities is the optional store method behind
// GetActiveWithIdentities: the user and their identities in one query
// (SQLite) or one round trip (MongoDB). Both stores implement it; a store
// without it is asked twice.
type userWithIdentities interface {
	GetUserWithIdentities(ctx context.Context, id string) (*User, []*Identity, error)
}

// GetActiveWithIdentities is GetActive with the user's identities (ordered
// by provider, then subject), read together: the bearer check of
// GET /users/me.
func (s *Service) GetActiveWithIdentities(ctx context.Context, id string) (*User, []*Identity, error) {
	var (
		u   *User
		ids []*Identity
		err error
	)
	if st, ok := s.store.(userWithIdentities); ok {
		u, ids, err = st.GetUserWithIdentities(ctx, id)
	} else if u, err = s.store.GetUser(ctx, id); err == nil {
		ids, err = s.store.ListIdentities(ctx, id)
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, ErrDisabled
	}
	return u, ids, nil
}

// Ping reports whether the accounts store answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

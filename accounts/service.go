package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Options configure a Service.
type Options struct {
	BcryptCost   int      // default 12
	DefaultRoles []string // roles given to every new user
	// Gate, when set, bounds concurrent password hashing (admission
	// control and fairness per client address and account) and runs it.
	Gate Gate
	Now  func() time.Time // for tests; default time.Now
	// Signup controls who may create an account (signup.go); the zero
	// value lets everyone.
	Signup SignupPolicy
}

// Gate admits CPU-heavy password hashing work: Run runs work once admitted
// under keys (the client address and the account it is for), or returns
// an error wrapping ErrOverloaded (or ctx's error) without running it.
type Gate interface {
	Run(ctx context.Context, work func(), keys ...string) error
}

type clientAddressKey struct{}

// WithClientAddress returns ctx carrying the client's address, which the
// Gate uses to share hashing fairly between clients. The HTTP layer sets it
// on every request.
func WithClientAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddressKey{}, addr)
}

// gateKeys are the fairness keys of a password check for account (an
// e-mail address or a user id): the client address first (its queue), then
// the account.
func gateKeys(ctx context.Context, account string) []string {
	var keys []string
	if addr, _ := ctx.Value(clientAddressKey{}).(string); addr != "" {
		keys = append(keys, "addr:"+addr)
	}
	if account != "" {
		keys = append(keys, "account:"+strings.ToLower(account))
	}
	return keys
}

// Service implements the account use cases on top of a Store.
type Service struct {
	store        Store
	hasher       *Hasher
	defaultRoles []string
	gate         Gate
	now          func() time.Time
	signup       SignupPolicy
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) (*Service, error) {
	if opts.BcryptCost == 0 {
		opts.BcryptCost = 12
	}
	h, err := NewHasher(opts.BcryptCost)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Signup.AllowedDomains = slices.Clone(opts.Signup.AllowedDomains)
	return &Service{store: store, hasher: h, defaultRoles: slices.Clone(opts.DefaultRoles), gate: opts.Gate, now: opts.Now,
		signup: opts.Signup}, nil
}

// Hasher returns the password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// NewID returns a new user id: a UUIDv7, so ids sort by creation time and
// cursor pagination sees users added while it pages at the end.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// CheckEmail validates an address for sign-up: a bare addr-spec (no display
// name), at most 254 octets.
func CheckEmail(email string) error {
	invalid := func(reason string) error {
		return &ValidationError{Field: "email", Reason: reason, Err: ErrInvalidEmail}
	}
	if email == "" {
		return invalid("is required")
	}
	if len(email) > 254 || !utf8.ValidString(email) {
		return invalid("is not a valid e-mail address")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return invalid("is not a valid e-mail address")
	}
	return nil
}

// SignupRequest is a password sign-up.
type SignupRequest struct {
	Email, Password, Name string
}

// Signup creates a user with a password. Its e-mail counts as unverified.
// ErrSignupDisabled when sign-up is off; an address outside the allowed
// domains is a *ValidationError wrapping ErrDomainNotAllowed.
func (s *Service) Signup(ctx context.Context, req SignupRequest) (*User, error) {
	if s.signup.Disabled {
		return nil, ErrSignupDisabled
	}
	req.Email = strings.TrimSpace(req.Email)
	if err := CheckEmail(req.Email); err != nil {
		return nil, err
	}
	if err := s.signup.checkDomain("email", req.Email); err != nil {
		return nil, err
	}
	if err := CheckPassword("password", req.Password); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(req.Name) > 200 || !utf8.ValidString(req.Name) {
		return nil, &ValidationError{Field: "name", Reason: "must be valid text of at most 200 characters", Err: ErrInvalidInput}
	}
	// Refuse a taken address before paying for bcrypt; the store's unique
	// constraint still decides races.
	if _, err := s.store.GetUserByEmail(ctx, req.Email); err == nil {
		return nil, ErrEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	hash, err := s.hash(ctx, req.Password, req.Email)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := &User{
		ID:           NewID(),
		Email:        req.Email,
		Name:         strings.TrimSpace(req.Name),
		PasswordHash: hash,
		Roles:        slices.Clone(s.defaultRoles),
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Authenticate checks an e-mail and password. Unknown user, wrong password
// and disabled user all return ErrInvalidCredentials after the same amount
// of bcrypt work. A correct password stored in an older format or at another
// cost is re-hashed. With the policy's RequireVerifiedEmail, a right
// password of a user whose address is unverified gives ErrEmailNotVerified
// (and nothing for a wrong one).
func (s *Service) Authenticate(ctx context.Context, email, password string) (*User, error) {
	email = strings.TrimSpace(email)
	var (
		u          *User
		ok, rehash bool
		storeErr   error
	)
	// The lookup runs once admitted, so that a storm is refused before it
	// reaches the store.
	err := s.run(ctx, gateKeys(ctx, email), func() {
		var err error
		u, err = s.store.GetUserByEmail(ctx, email)
		if err != nil && !errors.Is(err, ErrNotFound) {
			storeErr = err
			return
		}
		if err != nil || !u.HasPassword() || !utf8.ValidString(password) || utf8.RuneCountInString(password) > MaxPasswordLength {
			s.hasher.VerifyDummy(password)
			return
		}
		ok, rehash = s.hasher.Verify(u.PasswordHash, password)
	})
	if err != nil {
		return nil, err
	}
	if storeErr != nil {
		return nil, storeErr
	}
	if !ok || u.Disabled {
		return nil, ErrInvalidCredentials
	}
	if s.signup.RequireVerifiedEmail && !u.EmailVerified {
		return nil, ErrEmailNotVerified
	}
	if rehash {
		if h, err := s.hash(ctx, password, email); err == nil {
			// Best effort: a failure leaves the old, still valid hash.
			if s.store.SetPasswordHash(ctx, u.ID, h) == nil {
				u.PasswordHash = h
			}
		}
	}
	return u, nil
}

// VerifyPassword checks the password of a signed-in user (a re-authentication
// before a sensitive change) through the same gate as sign-in. A wrong
// password, or a user without one, is ErrInvalidCredentials.
func (s *Service) VerifyPassword(ctx context.Context, userID, password string) error {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return ErrDisabled
	}
	ok := false
	err = s.run(ctx, gateKeys(ctx, u.ID), func() {
		if !u.HasPassword() || !utf8.ValidString(password) || utf8.RuneCountInString(password) > MaxPasswordLength {
			s.hasher.VerifyDummy(password)
			return
		}
		ok, _ = s.hasher.Verify(u.PasswordHash, password)
	})
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidCredentials
	}
	return nil
}

// SetPassword sets a user's password. When the user has one, current must
// match it. It does not end sessions: the caller does that.
func (s *Service) SetPassword(ctx context.Context, userID, current, next string) error {
	if err := CheckPassword("new_password", next); err != nil {
		return err
	}
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return ErrDisabled
	}
	if u.HasPassword() {
		var ok bool
		if err := s.run(ctx, gateKeys(ctx, u.ID), func() { ok, _ = s.hasher.Verify(u.PasswordHash, current) }); err != nil {
			return err
		}
		if !ok {
			return ErrInvalidCredentials
		}
	}
	hash, err := s.hash(ctx, next, u.ID)
	if err != nil {
		return err
	}
	return s.store.SetPasswordHash(ctx, userID, hash)
}

// Get returns a user by id.
func (s *Service) Get(ctx context.Context, id string) (*User, error) {
	return s.store.GetUser(ctx, id)
}

// GetActive returns a user by id, or ErrDisabled when the user is disabled.
func (s *Service) GetActive(ctx context.Context, id string) (*User, error) {
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrDisabled
	}
	return u, nil
}

// hash hashes pw through the gate; account is the fairness key.
func (s *Service) hash(ctx context.Context, pw, account string) (h string, err error) {
	if gerr := s.run(ctx, gateKeys(ctx, account), func() { h, err = s.hasher.Hash(pw) }); gerr != nil {
		return "", gerr
	}
	return h, err
}

// run runs bcrypt work through the gate (directly without one).
func (s *Service) run(ctx context.Context, keys []string, work func()) error {
	if s.gate == nil {
		work()
		return nil
	}
	if err := s.gate.Run(ctx, work, keys...); err != nil {
		return fmt.Errorf("accounts: password hashing: %w", err)
	}
	return nil
}

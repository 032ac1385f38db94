package accounts

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Callers compare with errors.Is; never mutate them.
var (
	// ErrNotFound: no such user (or identity).
	ErrNotFound = errors.New("accounts: not found")
	// ErrEmailTaken: another user already has this e-mail address (as
	// NormalizeEmail compares them).
	ErrEmailTaken = errors.New("accounts: email taken")
	// ErrIdentityLinked: this (provider, subject) is already linked to a user.
	ErrIdentityLinked = errors.New("accounts: identity already linked")
	// ErrInvalidCredentials: wrong password, unknown user or disabled user.
	// The three are deliberately indistinguishable.
	ErrInvalidCredentials = errors.New("accounts: invalid credentials")
	// ErrDisabled: the user exists but is disabled.
	ErrDisabled = errors.New("accounts: user disabled")
	// ErrInvalidEmail: the address is not a usable e-mail address.
	ErrInvalidEmail = errors.New("accounts: invalid email")
	// ErrLastLoginMethod: removing this would leave the user no way to sign in.
	ErrLastLoginMethod = errors.New("accounts: last login method")
	// ErrAccountExists: a provider sign-in found a user with the same e-mail
	// that cannot be linked automatically.
	ErrAccountExists = errors.New("accounts: account exists")
	// ErrInvalidInput: other bad input (e.g. a name that is too long).
	ErrInvalidInput = errors.New("accounts: invalid input")
	// ErrConflict: an optimistic update lost a race; the caller may retry.
	ErrConflict = errors.New("accounts: concurrent update")
)

// User is a local account. Every sign-in method ends at one User.
type User struct {
	ID            string
	Email         string // as entered; empty when the user has none
	EmailVerified bool
	Name          string
	PasswordHash  string // empty when the user has no password
	Roles         []string
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// HasPassword reports whether the user can sign in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != "" }

// Identity is an external identity (Google, GitHub, an OIDC provider) linked
// to a user. (Provider, Subject) is unique across all users.
type Identity struct {
	Provider string // "google", "github" or a configured OIDC id
	Subject  string // the provider's stable subject (OIDC sub, GitHub numeric id)
	UserID   string
	Email    string
	LinkedAt time.Time
}

// Store persists users and identities. Implementations must make CreateUser
// atomic with respect to the e-mail uniqueness check: of two concurrent
// CreateUser calls with the same (normalized) e-mail exactly one succeeds and
// the other returns ErrEmailTaken. Every method returns ErrNotFound for an
// unknown id. Implementations are safe for concurrent use.
type Store interface {
	// AuditStore: every backend keeps the audit log next to the users.
	AuditStore

	// CreateUser inserts u (u.ID set by the caller). ErrEmailTaken when another
	// user has the same normalized e-mail. A user without e-mail never collides.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user with this id.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail looks a user up by e-mail, case-insensitively.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// SetPasswordHash replaces the user's password hash (empty removes it).
	SetPasswordHash(ctx context.Context, id, hash string) error
	// SetRoles replaces the user's roles.
	SetRoles(ctx context.Context, id string, roles []string) error
	// SetDisabled disables or enables the user.
	SetDisabled(ctx context.Context, id string, disabled bool) error
	// DeleteUser removes the user, its e-mail reservation and its identities.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns up to limit users ordered by id, with id > after,
	// whose normalized e-mail contains emailContains (when non-empty).
	ListUsers(ctx context.Context, after string, limit int, emailContains string) ([]*User, error)

	// LinkIdentity stores an identity. ErrIdentityLinked when (provider,
	// subject) already exists; ErrAccountExists when the user already has an
	// identity at this provider (a user has at most one per provider, and of
	// concurrent links at one provider exactly one succeeds); ErrNotFound
	// when the user does not exist.
	LinkIdentity(ctx context.Context, id *Identity) error
	// GetIdentity returns the identity for (provider, subject).
	GetIdentity(ctx context.Context, provider, subject string) (*Identity, error)
	// ListIdentities returns the user's identities ordered by provider.
	ListIdentities(ctx context.Context, userID string) ([]*Identity, error)
	// UnlinkIdentity removes the user's identity at this provider.
	UnlinkIdentity(ctx context.Context, userID, provider string) error
	// UnlinkIdentityIfNotLast removes the user's identity at this provider
	// unless it is the user's last way to sign in (no password and no other
	// identity): then ErrLastLoginMethod and nothing changes. ErrNotFound
	// when the user has no identity there. The check and the removal are one
	// atomic step, so concurrent calls can never remove every method.
	UnlinkIdentityIfNotLast(ctx context.Context, userID, provider string) error

	// E-mail tokens and address changes (emailtoken.go).
	EmailTokenStore

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error

	// Consents of users to third-party clients (consent.go).
	ConsentStore

	// Second factors, passkeys and WebAuthn ceremonies (factors.go).
	FactorStore
}

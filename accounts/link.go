package accounts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// ExternalIdentity is an identity vouched for by an upstream provider, as
// the accounts package sees it (the api layer converts providers.Identity).
type ExternalIdentity struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// LinkPolicy is the operator's linking policy.
type LinkPolicy struct {
	// ByVerifiedEmail links a new identity to the existing user whose
	// verified e-mail equals the provider's verified e-mail.
	ByVerifiedEmail bool
	// Signup says whether a user may be created (signup.go). Service's
	// SignInExternal sets it from the service's own policy.
	Signup SignupPolicy
}

// DecisionKind is the outcome of DecideLink.
type DecisionKind int

const (
	// SignIn: the identity is known; sign its user in.
	SignIn DecisionKind = iota + 1
	// LinkToExisting: link the identity to the user found by e-mail.
	LinkToExisting
	// CreateWithEmail: create a user with the provider's e-mail and its
	// verified flag, and link the identity.
	CreateWithEmail
	// CreateWithoutEmail: create a user without e-mail (the address belongs
	// to someone else who may not be linked), and link the identity.
	CreateWithoutEmail
	// RefuseAccountExists: a user with this e-mail exists but linking to it
	// is unsafe or impossible; nothing changes (ErrAccountExists).
	RefuseAccountExists
	// RefuseSignup: the identity would need a new user, but sign-up is off
	// or the address is not at an allowed domain; nothing changes
	// (ErrSignupRefused).
	RefuseSignup
)

func (k DecisionKind) String() string {
	switch k {
	case SignIn:
		return "sign_in"
	case LinkToExisting:
		return "link_to_existing"
	case CreateWithEmail:
		return "create_with_email"
	case CreateWithoutEmail:
		return "create_without_email"
	case RefuseAccountExists:
		return "account_exists"
	case RefuseSignup:
		return "signup_refused"
	}
	return "unknown"
}

// Decision is what to do with an external identity at sign-in.
type Decision struct {
	Kind   DecisionKind
	UserID string // SignIn, LinkToExisting
}

// EmailOwner is the existing user whose e-mail equals the provider's, with
// the providers at which that user already has an identity.
type EmailOwner struct {
	User      *User
	Providers []string
}

// DecideLink is the linking decision, pure and exhaustively tested
// (docs/http-api.md, External providers):
//   - a known identity signs its user in;
//   - else, when a user has the same e-mail (EmailsMatch: exact up to
//     ASCII case and IDNA form, never Unicode case folding; an owner whose
//     address does not match is treated as someone else's, below):
//   - that user's e-mail is unverified: refuse (account_exists). Linking
//     would hand a pre-registered account to whoever signs in with the
//     provider, or the victim's identity to an attacker's account
//     (pre-account takeover);
//   - both e-mails verified and the policy allows: link, unless that user
//     already has an identity at this provider (one per provider):
//     refuse (account_exists);
//   - otherwise (the provider's e-mail unverified, or the policy off):
//     create a new user without e-mail;
//   - else create a user with the provider's e-mail and its verified flag.
//
// The owner may be a password account: its address counts once verified
// (by a verification link, a reset, or an administrator), like any other.
// Whenever the decision would create a user, the sign-up policy must allow
// it (sign-up on; with allowed domains, a verified address at one of
// them), else RefuseSignup.
func DecideLink(byIdentity *User, byEmail *EmailOwner, ext ExternalIdentity, policy LinkPolicy) Decision {
	d := decideLink(byIdentity, byEmail, ext, policy)
	if (d.Kind == CreateWithEmail || d.Kind == CreateWithoutEmail) && !policy.Signup.mayCreate(ext) {
		return Decision{Kind: RefuseSignup}
	}
	return d
}

func decideLink(byIdentity *User, byEmail *EmailOwner, ext ExternalIdentity, policy LinkPolicy) Decision {
	if byIdentity != nil {
		return Decision{Kind: SignIn, UserID: byIdentity.ID}
	}
	if byEmail == nil || byEmail.User == nil || ext.Email == "" {
		if ext.Email == "" {
			return Decision{Kind: CreateWithoutEmail}
		}
		return Decision{Kind: CreateWithEmail}
	}
	owner := byEmail.User
	switch {
	case !EmailsMatch(owner.Email, ext.Email):
		// Not the same address under NormalizeEmail (e.g. one that only
		// Unicode case folding would equate): never link on it.
		return Decision{Kind: CreateWithoutEmail}
	case !owner.EmailVerified:
		return Decision{Kind: RefuseAccountExists}
	case ext.EmailVerified && policy.ByVerifiedEmail:
		if slices.Contains(byEmail.Providers, ext.Provider) {
			return Decision{Kind: RefuseAccountExists}
		}
		return Decision{Kind: LinkToExisting, UserID: owner.ID}
	default:
		return Decision{Kind: CreateWithoutEmail}
	}
}

// SignInExternal resolves an external identity to the user it signs in,
// linking or creating as DecideLink says (with the service's sign-up
// policy, whatever policy.Signup holds). It returns ErrAccountExists or
// ErrSignupRefused when the decision refuses, ErrDisabled for a disabled
// user.
func (s *Service) SignInExternal(ctx context.Context, ext ExternalIdentity, policy LinkPolicy) (u *User, d Decision, err error) {
	policy.Signup = s.signup
	// Two tries: a concurrent sign-in of the same identity or e-mail can
	// change the facts between our reads and writes.
	for attempt := 0; ; attempt++ {
		u, d, err = s.signInExternal(ctx, ext, policy)
		if attempt == 0 && (errors.Is(err, ErrIdentityLinked) || errors.Is(err, ErrEmailTaken)) {
			continue
		}
		return u, d, err
	}
}

func (s *Service) signInExternal(ctx context.Context, ext ExternalIdentity, policy LinkPolicy) (*User, Decision, error) {
	var byIdentity *User
	if id, err := s.store.GetIdentity(ctx, ext.Provider, ext.Subject); err == nil {
		if byIdentity, err = s.store.GetUser(ctx, id.UserID); err != nil {
			return nil, Decision{}, err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, Decision{}, err
	}
	var owner *EmailOwner
	if byIdentity == nil && ext.Email != "" {
		if u, err := s.store.GetUserByEmail(ctx, ext.Email); err == nil {
			owner = &EmailOwner{User: u}
			ids, err := s.store.ListIdentities(ctx, u.ID)
			if err != nil {
				return nil, Decision{}, err
			}
			for _, id := range ids {
				owner.Providers = append(owner.Providers, id.Provider)
			}
		} else if !errors.Is(err, ErrNotFound) {
			return nil, Decision{}, err
		}
	}
	d := DecideLink(byIdentity, owner, ext, policy)
	switch d.Kind {
	case SignIn:
		if byIdentity.Disabled {
			return nil, d, ErrDisabled
		}
		return byIdentity, d, nil
	case LinkToExisting:
		if owner.User.Disabled {
			return nil, d, ErrDisabled
		}
		if err := s.store.LinkIdentity(ctx, s.identity(owner.User.ID, ext)); err != nil {
			return nil, d, err
		}
		return owner.User, d, nil
	case CreateWithEmail, CreateWithoutEmail:
		u, err := s.createExternal(ctx, ext, d.Kind == CreateWithEmail)
		return u, d, err
	case RefuseSignup:
		return nil, d, ErrSignupRefused
	default:
		return nil, d, ErrAccountExists
	}
}

func (s *Service) identity(userID string, ext ExternalIdentity) *Identity {
	return &Identity{Provider: ext.Provider, Subject: ext.Subject, UserID: userID, Email: ext.Email, LinkedAt: s.now().UTC().Truncate(time.Millisecond)}
}

// createExternal creates a password-less user for ext and links ext to it.
// If the link loses a race, the new user is removed again.
func (s *Service) createExternal(ctx context.Context, ext ExternalIdentity, withEmail bool) (*User, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	u := &User{ID: NewID(), Name: strings.TrimSpace(ext.Name), Roles: slices.Clone(s.defaultRoles), CreatedAt: now, UpdatedAt: now}
	if withEmail {
		u.Email, u.EmailVerified = ext.Email, ext.EmailVerified
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := s.store.LinkIdentity(ctx, s.identity(u.ID, ext)); err != nil {
		if derr := s.store.DeleteUser(context.WithoutCancel(ctx), u.ID); derr != nil {
			return nil, errors.Join(err, derr)
		}
		return nil, err
	}
	return u, nil
}

// CheckLink reports whether ext could be linked to the user: nil when it
// is already the user's own (idempotent) or free; ErrIdentityLinked when it
// belongs to another user; ErrAccountExists when the user already has
// another identity at this provider.
func (s *Service) CheckLink(ctx context.Context, userID string, ext ExternalIdentity) error {
	if id, err := s.store.GetIdentity(ctx, ext.Provider, ext.Subject); err == nil {
		if id.UserID != userID {
			return ErrIdentityLinked
		}
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	ids, err := s.store.ListIdentities(ctx, userID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id.Provider == ext.Provider {
			return ErrAccountExists
		}
	}
	return nil
}

// Link links ext to an enabled user (explicit linking while signed in).
// Linking an identity the user already has is a no-op.
func (s *Service) Link(ctx context.Context, userID string, ext ExternalIdentity) error {
	if _, err := s.GetActive(ctx, userID); err != nil {
		return err
	}
	if err := s.CheckLink(ctx, userID, ext); err != nil {
		return err
	}
	err := s.store.LinkIdentity(ctx, s.identity(userID, ext))
	if errors.Is(err, ErrIdentityLinked) {
		// Lost a race: fine if the winner linked it to this user.
		if id, gerr := s.store.GetIdentity(ctx, ext.Provider, ext.Subject); gerr == nil && id.UserID == userID {
			return nil
		}
	}
	return err
}

// Unlink removes the user's identity at provider. ErrNotFound when none is
// linked; ErrLastLoginMethod when it is the only way left to sign in (no
// password and no other identity). The store decides atomically, so two
// concurrent unlinks of a password-less user's last two identities leave
// one.
func (s *Service) Unlink(ctx context.Context, userID, provider string) error {
	return s.store.UnlinkIdentityIfNotLast(ctx, userID, provider)
}

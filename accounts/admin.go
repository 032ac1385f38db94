package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Actor is who performs an administrative action, as the audit log names
// them.
type Actor struct {
	ID string // the acting user's id, or "cli:<os user>"
	IP string // the client address; empty from the CLI
}

// SessionEnder ends every session of a user except exceptID (may be
// empty). *session.Manager is one; accounts does not import session.
type SessionEnder interface {
	EndAll(ctx context.Context, userID, exceptID string) (int, error)
}

// AdminOptions configure an Admin.
type AdminOptions struct {
	// Audit keeps the audit log; nil: the service's store (tests inject a
	// failing one).
	Audit AuditStore
	// Sessions ends the sessions of disabled and deleted users. Required.
	Sessions SessionEnder
	// Roles are the configured role names. SetRoles and CreateUser refuse
	// any other; with none configured only an empty role list is accepted.
	Roles []string
	// Recovery sends the links of ResendVerification and StartReset
	// (admin_recovery.go); without it those two fail.
	Recovery *Recovery
}

// Admin implements the administration use cases: every successful action
// appends an AuditEvent. State changes come first and the audit record
// after; if recording fails the action has still happened and the error
// says so. Role changes reach tokens at their next refresh (tokens carry
// roles until exp); disabling and deleting end the user's sessions at once.
type Admin struct {
	svc      *Service
	audit    AuditStore
	sessions SessionEnder
	roles    []string
	recovery *Recovery
}

// detachedTimeout bounds the writes that must happen once a state change
// is committed (ending sessions, the audit record), which run on a context
// detached from the caller's so that a client going away cannot skip them.
const detachedTimeout = 10 * time.Second

// MaxRoles is the most roles one user may hold.
const MaxRoles = 64

// NewAdmin returns an Admin over svc.
func NewAdmin(svc *Service, opts AdminOptions) (*Admin, error) {
	if svc == nil || opts.Sessions == nil {
		return nil, errors.New("accounts: NewAdmin needs a service and a session ender")
	}
	if opts.Audit == nil {
		opts.Audit = svc.store
	}
	return &Admin{svc: svc, audit: opts.Audit, sessions: opts.Sessions, roles: slices.Clone(opts.Roles), recovery: opts.Recovery}, nil
}

// CheckRoles validates roles against the known role names and returns them
// without duplicates, in their first order. An unknown role is a
// *ValidationError (Field "roles") wrapping ErrInvalidInput.
func CheckRoles(roles, known []string) ([]string, error) {
	invalid := func(reason string) error {
		return &ValidationError{Field: "roles", Reason: reason, Err: ErrInvalidInput}
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		if slices.Contains(out, r) {
			continue
		}
		if !slices.Contains(known, r) {
			if len(r) > 64 || !utf8.ValidString(r) {
				return nil, invalid("contains an unknown role")
			}
			k := slices.Clone(known)
			slices.Sort(k)
			if len(k) == 0 {
				return nil, invalid(fmt.Sprintf("unknown role %q: no roles are configured", r))
			}
			return nil, invalid(fmt.Sprintf("unknown role %q (configured roles: %s)", r, strings.Join(k, ", ")))
		}
		out = append(out, r)
	}
	if len(out) > MaxRoles {
		return nil, invalid(fmt.Sprintf("at most %d roles", MaxRoles))
	}
	return out, nil
}

// CreateUserRequest is a user created by an administrator.
type CreateUserRequest struct {
	Email string
	// Password follows the sign-up rules; empty creates a user without a
	// password, who can sign in only through a provider (linked by e-mail).
	Password string
	Name     string
	// Roles are checked against the configured roles; nil gives the
	// default roles, an empty non-nil slice none.
	Roles []string
	// EmailVerified records that the administrator vouches for the
	// address, so a provider sign-in with the same verified e-mail links to
	// this user. Default false, as with a sign-up: a user without password
	// and without a verified e-mail cannot sign in.
	EmailVerified bool
}

// CreateUser creates a user (event user.create).
func (a *Admin) CreateUser(ctx context.Context, actor Actor, req CreateUserRequest) (*User, error) {
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	req.Email = strings.TrimSpace(req.Email)
	if err := CheckEmail(req.Email); err != nil {
		return nil, err
	}
	if req.Password != "" {
		if err := CheckPassword("password", req.Password); err != nil {
			return nil, err
		}
	}
	if err := checkName(req.Name); err != nil {
		return nil, err
	}
	roles := slices.Clone(a.svc.defaultRoles)
	if req.Roles != nil {
		var err error
		if roles, err = CheckRoles(req.Roles, a.roles); err != nil {
			return nil, err
		}
	}
	if _, err := a.svc.store.GetUserByEmail(ctx, req.Email); err == nil {
		return nil, ErrEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	hash := ""
	if req.Password != "" {
		var err error
		if hash, err = a.svc.hash(ctx, req.Password, req.Email); err != nil {
			return nil, err
		}
	}
	now := a.svc.now().UTC().Truncate(time.Millisecond)
	u := &User{
		ID:            NewID(),
		Email:         req.Email,
		EmailVerified: req.EmailVerified,
		Name:          strings.TrimSpace(req.Name),
		PasswordHash:  hash,
		Roles:         roles,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := a.svc.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	err := a.Record(ctx, actor, ActionUserCreate, u.ID, map[string]string{
		"email":          u.Email,
		"roles":          strings.Join(u.Roles, ","),
		"has_password":   strconv.FormatBool(u.HasPassword()),
		"email_verified": strconv.FormatBool(u.EmailVerified),
	})
	return u, err
}

// SetRoles replaces the user's roles (event user.roles.set) and returns the
// updated user. Tokens already issued keep their roles until they expire;
// the next refresh carries the new ones.
func (a *Admin) SetRoles(ctx context.Context, actor Actor, id string, roles []string) (*User, error) {
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	roles, err := CheckRoles(roles, a.roles)
	if err != nil {
		return nil, err
	}
	before, err := a.svc.store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.svc.store.SetRoles(ctx, id, roles); err != nil {
		return nil, err
	}
	u, err := a.svc.store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	err = a.Record(ctx, actor, ActionUserRolesSet, id, map[string]string{
		"roles":          strings.Join(roles, ","),
		"previous_roles": strings.Join(before.Roles, ","),
	})
	return u, err
}

// Disable disables the user and ends all its sessions (event
// user.disable). Password sign-in, provider sign-in and refresh are refused
// from then on, and unilogin's own endpoints refuse its access tokens.
// It returns the user and the number of sessions ended.
func (a *Admin) Disable(ctx context.Context, actor Actor, id string) (*User, int, error) {
	if err := checkActor(actor); err != nil {
		return nil, 0, err
	}
	if err := a.svc.store.SetDisabled(ctx, id, true); err != nil {
		return nil, 0, err
	}
	// Sessions end after the flag is set: a refresh racing with this
	// either sees the user disabled or finds its session gone.
	n, endErr := a.endAll(ctx, id)
	details := map[string]string{"sessions_ended": strconv.Itoa(n)}
	if endErr != nil {
		details["sessions_error"] = "ending the sessions failed"
	}
	if err := a.Record(ctx, actor, ActionUserDisable, id, details); err != nil {
		return nil, n, errors.Join(endErr, err)
	}
	if endErr != nil {
		return nil, n, endErr
	}
	u, err := a.svc.store.GetUser(ctx, id)
	return u, n, err
}

// Enable enables a disabled user (event user.enable). Sessions ended by
// Disable stay ended.
func (a *Admin) Enable(ctx context.Context, actor Actor, id string) (*User, error) {
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	if err := a.svc.store.SetDisabled(ctx, id, false); err != nil {
		return nil, err
	}
	if err := a.Record(ctx, actor, ActionUserEnable, id, nil); err != nil {
		return nil, err
	}
	return a.svc.store.GetUser(ctx, id)
}

// Delete deletes the user with its e-mail reservation and identities, then
// ends its sessions (event user.delete, whose details keep the e-mail).
// The same e-mail and provider identities can sign up afresh afterwards.
func (a *Admin) Delete(ctx context.Context, actor Actor, id string) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	u, err := a.svc.store.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if err := a.svc.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	n, endErr := a.endAll(ctx, id)
	details := map[string]string{"email": u.Email, "sessions_ended": strconv.Itoa(n)}
	if endErr != nil {
		details["sessions_error"] = "ending the sessions failed"
	}
	return errors.Join(endErr, a.Record(ctx, actor, ActionUserDelete, id, details))
}

// EndSessions ends every session of the user (event user.sessions.end) and
// returns how many there were.
func (a *Admin) EndSessions(ctx context.Context, actor Actor, id string) (int, error) {
	if err := checkActor(actor); err != nil {
		return 0, err
	}
	if _, err := a.svc.store.GetUser(ctx, id); err != nil {
		return 0, err
	}
	n, err := a.sessions.EndAll(ctx, id, "")
	if err != nil {
		return 0, err
	}
	return n, a.Record(ctx, actor, ActionUserSessionsEnd, id, map[string]string{"sessions_ended": strconv.Itoa(n)})
}

// ListUsers returns up to limit users with id > after, ordered by id,
// whose e-mail contains emailContains (case-insensitive; empty: all), and
// the cursor for the next page: the last id listed, or "" when there are no
// more users. Users created while paging have larger ids (UUIDv7) and are
// met on later pages, so every user is listed once.
func (a *Admin) ListUsers(ctx context.Context, after string, limit int, emailContains string) ([]*User, string, error) {
	return paged(limit, func(n int) ([]*User, error) { return a.svc.store.ListUsers(ctx, after, n, emailContains) },
		func(u *User) string { return u.ID })
}

// ListAudit returns up to limit events older than the event before (all
// when empty), newest first, and the cursor for the next page ("" when
// there are no more).
func (a *Admin) ListAudit(ctx context.Context, before string, limit int) ([]*AuditEvent, string, error) {
	return paged(limit, func(n int) ([]*AuditEvent, error) { return a.audit.ListAudit(ctx, before, n) },
		func(e *AuditEvent) string { return e.ID })
}

// paged reads one page of up to limit items with list (asked for one more,
// to know whether another page follows) and returns it with the cursor of
// the next page: the id of its last item, or "" when there is none.
func paged[T any](limit int, list func(n int) ([]T, error), id func(T) string) ([]T, string, error) {
	if limit <= 0 {
		return nil, "", nil
	}
	page, err := list(limit + 1)
	if err != nil {
		return nil, "", err
	}
	if len(page) <= limit {
		return page, "", nil
	}
	page = page[:limit]
	return page, id(page[limit-1]), nil
}

// endAll ends the user's sessions on a context detached from the caller's:
// once the user is disabled or deleted this must not be skipped.
func (a *Admin) endAll(ctx context.Context, id string) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	n, err := a.sessions.EndAll(ctx, id, "")
	if err != nil {
		return n, fmt.Errorf("accounts: end sessions of user %s: %w", id, err)
	}
	return n, nil
}

// Record appends the audit event of a committed action or a security event
// (sign-ins, links, revocations...). It runs detached from ctx's
// cancellation: what happened is recorded even if the client went away.
func (a *Admin) Record(ctx context.Context, actor Actor, action, target string, details map[string]string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	e := &AuditEvent{
		ID:      NewID(),
		Time:    a.svc.now().UTC().Truncate(time.Millisecond),
		Actor:   actor.ID,
		Action:  action,
		Target:  target,
		Details: details,
		IP:      actor.IP,
	}
	if err := a.audit.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("accounts: %s of %s was done but not recorded in the audit log: %w", action, target, err)
	}
	return nil
}

func checkActor(actor Actor) error {
	if strings.TrimSpace(actor.ID) == "" {
		return errors.New("accounts: administrative action without an actor")
	}
	return nil
}

func checkName(name string) error {
	if utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		return &ValidationError{Field: "name", Reason: "must be valid text of at most 200 characters", Err: ErrInvalidInput}
	}
	return nil
}

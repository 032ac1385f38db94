package accounts_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/accounts/sqlitestore/sqlitetest"
)

// fakeSessions records EndAll calls.
type fakeSessions struct {
	mu    sync.Mutex
	ended []string
	n     int
	err   error
}

func (f *fakeSessions) EndAll(_ context.Context, userID, exceptID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if exceptID != "" {
		panic("admin must end every session")
	}
	f.ended = append(f.ended, userID)
	return f.n, f.err
}

// failingAudit refuses every append.
type failingAudit struct{ accounts.AuditStore }

func (failingAudit) AppendAudit(context.Context, *accounts.AuditEvent) error {
	return errors.New("disk full")
}

type adminFixture struct {
	store    *sqlitestore.Store
	svc      *accounts.Service
	admin    *accounts.Admin
	sessions *fakeSessions
}

var operator = accounts.Actor{ID: "cli:root"}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	st := sqlitetest.New(t)
	svc, err := accounts.NewService(st, accounts.Options{BcryptCost: 4, DefaultRoles: []string{"member"}})
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSessions{n: 2}
	adm, err := accounts.NewAdmin(svc, accounts.AdminOptions{Sessions: fs, Roles: []string{"admin", "member", "support"}})
	if err != nil {
		t.Fatal(err)
	}
	return &adminFixture{store: st, svc: svc, admin: adm, sessions: fs}
}

// createUser creates a user through the admin service as operator,
// failing the test on error.
func (f *adminFixture) createUser(t *testing.T, req accounts.CreateUserRequest) *accounts.User {
	t.Helper()
	u, err := f.admin.CreateUser(t.Context(), operator, req)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", req.Email, err)
	}
	return u
}

// events returns the audit log, oldest first.
func (f *adminFixture) events(t *testing.T) []*accounts.AuditEvent {
	t.Helper()
	evs, err := f.store.ListAudit(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

func TestCheckRoles(t *testing.T) {
	known := []string{"member", "admin"}
	for _, tc := range []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{nil, []string{}, ""},
		{[]string{}, []string{}, ""},
		{[]string{"admin"}, []string{"admin"}, ""},
		{[]string{"member", "admin", "member"}, []string{"member", "admin"}, ""},
		{[]string{"root"}, nil, `unknown role "root" (configured roles: admin, member)`},
		{[]string{"Admin"}, nil, "unknown role"},
		{[]string{""}, nil, "unknown role"},
		{[]string{strings.Repeat("x", 100)}, nil, "unknown role"},
	} {
		got, err := accounts.CheckRoles(tc.in, known)
		if tc.wantErr != "" {
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) || ve.Field != "roles" || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, accounts.ErrInvalidInput) {
				t.Errorf("CheckRoles(%q) = %v, want a roles ValidationError with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("CheckRoles(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := accounts.CheckRoles([]string{"admin"}, nil); err == nil || !strings.Contains(err.Error(), "no roles are configured") {
		t.Errorf("CheckRoles without configured roles: %v", err)
	}
}

func TestAdminCreateUser(t *testing.T) {
	f := newAdminFixture(t)
	ctx := t.Context()
	const pw = "correct horse battery staple"

	admin := f.createUser(t, accounts.CreateUserRequest{Email: " Admin@Example.com ", Password: pw, Name: "Ada", Roles: []string{"admin"}})
	if admin.Email != "Admin@Example.com" || !slices.Equal(admin.Roles, []string{"admin"}) || !admin.HasPassword() || admin.EmailVerified {
		t.Errorf("created %+v", admin)
	}
	if _, err := f.svc.Authenticate(ctx, "admin@example.com", pw); err != nil {
		t.Errorf("the created user cannot sign in with its password: %v", err)
	}

	plain := f.createUser(t, accounts.CreateUserRequest{Email: "plain@example.com", EmailVerified: true})
	if plain.HasPassword() || !slices.Equal(plain.Roles, []string{"member"}) || !plain.EmailVerified {
		t.Errorf("without password and roles: %+v, want no password, the default roles, verified", plain)
	}
	none, err := f.admin.CreateUser(ctx, operator, accounts.CreateUserRequest{Email: "none@example.com", Roles: []string{}})
	if err != nil || len(none.Roles) != 0 {
		t.Errorf("CreateUser with an empty role list = %v, %v; want no roles", none, err)
	}

	for _, tc := range []struct {
		name string
		req  accounts.CreateUserRequest
		want error
	}{
		{"taken e-mail", accounts.CreateUserRequest{Email: "ADMIN@example.com"}, accounts.ErrEmailTaken},
		{"bad e-mail", accounts.CreateUserRequest{Email: "not an address"}, accounts.ErrInvalidEmail},
		{"short password", accounts.CreateUserRequest{Email: "x@example.com", Password: "short"}, accounts.ErrInvalidPassword},
		{"common password", accounts.CreateUserRequest{Email: "x@example.com", Password: "password1234"}, accounts.ErrInvalidPassword},
		{"unknown role", accounts.CreateUserRequest{Email: "x@example.com", Roles: []string{"root"}}, accounts.ErrInvalidInput},
	} {
		if _, err := f.admin.CreateUser(ctx, operator, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := f.admin.CreateUser(ctx, accounts.Actor{}, accounts.CreateUserRequest{Email: "y@example.com"}); err == nil {
		t.Error("CreateUser without an actor succeeded")
	}

	evs := f.events(t)
	if len(evs) != 3 {
		t.Fatalf("%d audit events, want 3 (one per created user)", len(evs))
	}
	e := evs[0]
	if e.Action != accounts.ActionUserCreate || e.Actor != "cli:root" || e.Target != admin.ID ||
		e.Details["email"] != "Admin@Example.com" || e.Details["roles"] != "admin" || e.Details["has_password"] != "true" {
		t.Errorf("create event = %+v", e)
	}
	for _, ev := range evs {
		for k, v := range ev.Details {
			if strings.Contains(v, pw) || strings.Contains(v, "$2") || strings.Contains(strings.ToLower(k), "hash") {
				t.Errorf("event %s details hold a secret: %s=%q", ev.Action, k, v)
			}
		}
	}
}

func TestAdminActionsAreAudited(t *testing.T) {
	f := newAdminFixture(t)
	ctx := t.Context()
	u := f.createUser(t, accounts.CreateUserRequest{Email: "kim@example.com"})
	by := accounts.Actor{ID: "admin-user-id", IP: "198.51.100.4"}

	got, err := f.admin.SetRoles(ctx, by, u.ID, []string{"support", "admin", "support"})
	if err != nil || !slices.Equal(got.Roles, []string{"support", "admin"}) {
		t.Fatalf("SetRoles = %v, %v", got, err)
	}
	if _, err := f.admin.SetRoles(ctx, by, u.ID, []string{"root"}); !errors.Is(err, accounts.ErrInvalidInput) {
		t.Errorf("SetRoles(unknown role): err = %v", err)
	}
	got, n, err := f.admin.Disable(ctx, by, u.ID)
	if err != nil || !got.Disabled || n != 2 {
		t.Fatalf("Disable = %v, %d, %v", got, n, err)
	}
	if got, err = f.admin.Enable(ctx, by, u.ID); err != nil || got.Disabled {
		t.Fatalf("Enable = %v, %v", got, err)
	}
	if n, err := f.admin.EndSessions(ctx, by, u.ID); err != nil || n != 2 {
		t.Fatalf("EndSessions = %d, %v", n, err)
	}
	if err := f.admin.Delete(ctx, by, u.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := f.store.GetUser(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser after Delete: %v", err)
	}
	if want := []string{u.ID, u.ID, u.ID}; !slices.Equal(f.sessions.ended, want) {
		t.Errorf("sessions ended for %q, want %q (disable, end sessions, delete)", f.sessions.ended, want)
	}

	// Unknown users: ErrNotFound, nothing recorded.
	before := len(f.events(t))
	unknown := accounts.NewID()
	for name, call := range map[string]func() error{
		"SetRoles":    func() error { _, err := f.admin.SetRoles(ctx, by, unknown, []string{"admin"}); return err },
		"Disable":     func() error { _, _, err := f.admin.Disable(ctx, by, unknown); return err },
		"Enable":      func() error { _, err := f.admin.Enable(ctx, by, unknown); return err },
		"Delete":      func() error { return f.admin.Delete(ctx, by, unknown) },
		"EndSessions": func() error { _, err := f.admin.EndSessions(ctx, by, unknown); return err },
	} {
		if err := call(); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("%s(unknown): err = %v, want ErrNotFound", name, err)
		}
	}

	evs := f.events(t)
	if len(evs) != before {
		t.Errorf("failed actions were audited: %d events, want %d", len(evs), before)
	}
	var actions []string
	for _, e := range evs[1:] {
		actions = append(actions, e.Action)
		if e.Actor != by.ID || e.IP != by.IP || e.Target != u.ID {
			t.Errorf("event %+v: want actor %s, ip %s, target %s", e, by.ID, by.IP, u.ID)
		}
	}
	want := []string{accounts.ActionUserRolesSet, accounts.ActionUserDisable, accounts.ActionUserEnable, accounts.ActionUserSessionsEnd, accounts.ActionUserDelete}
	if !slices.Equal(actions, want) {
		t.Fatalf("actions %q, want %q", actions, want)
	}
	if d := evs[1].Details; d["roles"] != "support,admin" || d["previous_roles"] != "member" {
		t.Errorf("roles.set details = %v", d)
	}
	if d := evs[2].Details; d["sessions_ended"] != "2" {
		t.Errorf("disable details = %v", d)
	}
	if d := evs[5].Details; d["email"] != "kim@example.com" {
		t.Errorf("delete details = %v", d)
	}
}

func TestAdminAuditFailureIsReported(t *testing.T) {
	f := newAdminFixture(t)
	ctx := t.Context()
	u := f.createUser(t, accounts.CreateUserRequest{Email: "lee@example.com"})
	adm, err := accounts.NewAdmin(f.svc, accounts.AdminOptions{Audit: failingAudit{f.store}, Sessions: f.sessions, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = adm.Disable(ctx, operator, u.ID)
	if err == nil || !strings.Contains(err.Error(), "not recorded in the audit log") {
		t.Fatalf("Disable with a failing audit log: err = %v", err)
	}
	// The action itself happened, sessions included.
	if got, _ := f.store.GetUser(ctx, u.ID); !got.Disabled || len(f.sessions.ended) != 1 {
		t.Errorf("after the audit failure: disabled=%v, sessions ended %v", got.Disabled, f.sessions.ended)
	}

	f.sessions.err = errors.New("db down")
	if _, _, err := f.admin.Disable(ctx, operator, u.ID); err == nil || !strings.Contains(err.Error(), "db down") {
		t.Errorf("Disable with failing sessions: err = %v", err)
	}
	evs := f.events(t)
	if last := evs[len(evs)-1]; last.Action != accounts.ActionUserDisable || last.Details["sessions_error"] == "" {
		t.Errorf("a disable whose session ending failed is still recorded, with the failure: %+v", last)
	}

	if _, err := accounts.NewAdmin(f.svc, accounts.AdminOptions{}); err == nil {
		t.Error("NewAdmin without a session ender succeeded")
	}
}

func TestAdminListPages(t *testing.T) {
	f := newAdminFixture(t)
	ctx := t.Context()
	var want []string
	for i := range 7 {
		u := f.createUser(t, accounts.CreateUserRequest{Email: strings.Repeat("a", i+1) + "@example.com"})
		want = append(want, u.ID)
	}
	var got []string
	cursor := ""
	for pages := 1; ; pages++ {
		page, next, err := f.admin.ListUsers(ctx, cursor, 3, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page {
			got = append(got, u.ID)
		}
		if next == "" {
			if pages != 3 {
				t.Errorf("%d pages of 3 for 7 users, want 3", pages)
			}
			break
		}
		if next != page[len(page)-1].ID {
			t.Errorf("next cursor %s is not the last id listed", next)
		}
		cursor = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
	// An exact multiple of the page size ends without an empty page.
	if page, next, err := f.admin.ListUsers(ctx, want[3], 3, ""); err != nil || len(page) != 3 || next != "" {
		t.Errorf("last full page: %d users, next %q, %v; want 3 and no cursor", len(page), next, err)
	}

	evs, next, err := f.admin.ListAudit(ctx, "", 5)
	if err != nil || len(evs) != 5 || next != evs[4].ID {
		t.Fatalf("ListAudit(5) = %d, %q, %v", len(evs), next, err)
	}
	if evs[0].Target != want[6] {
		t.Errorf("newest event is about %s, want the last user created %s", evs[0].Target, want[6])
	}
	rest, next, err := f.admin.ListAudit(ctx, next, 5)
	if err != nil || len(rest) != 2 || next != "" {
		t.Errorf("ListAudit page 2 = %d, %q, %v; want 2 and no cursor", len(rest), next, err)
	}
}

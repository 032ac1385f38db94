package accountstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// Concurrency of the race tests: enough goroutines to make a lost race
// likely on a broken backend, few enough for a 2-core CI machine.
const racers = 20

// storeCase is one named conformance case; it gets a fresh, empty store.
type storeCase[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

// runCases runs every case as a subtest of t, each on a fresh store.
func runCases[S any](t *testing.T, newStore func(t *testing.T) S, cases []storeCase[S]) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// Run runs the conformance suite. newStore must return a new, empty store
// for every call (each subtest gets its own) and arrange its cleanup with
// t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) accounts.Store) {
	tests := []storeCase[accounts.Store]{
		{"CreateAndGetUser", testCreateAndGetUser},
		{"GetUserByEmailIgnoresCase", testGetUserByEmailIgnoresCase},
		{"GetUnknownUser", testGetUnknownUser},
		{"DuplicateEmail", testDuplicateEmail},
		{"DuplicateID", testDuplicateID},
		{"UsersWithoutEmail", testUsersWithoutEmail},
		{"ConcurrentCreateSameEmail", testConcurrentCreateSameEmail},
		{"SetPasswordHash", testSetPasswordHash},
		{"SetRoles", testSetRoles},
		{"SetDisabled", testSetDisabled},
		{"SetUnknownUser", testSetUnknownUser},
		{"RolesRoundTrip", testRolesRoundTrip},
		{"TimestampsRoundTrip", testTimestampsRoundTrip},
		{"DeleteUser", testDeleteUser},
		{"DeleteUnknownUser", testDeleteUnknownUser},
		{"LinkAndGetIdentity", testLinkAndGetIdentity},
		{"LinkIdentityTwice", testLinkIdentityTwice},
		{"LinkIdentityUnknownUser", testLinkIdentityUnknownUser},
		{"ConcurrentLinkIdentity", testConcurrentLinkIdentity},
		{"ListIdentities", testListIdentities},
		{"UnlinkIdentity", testUnlinkIdentity},
		{"ListUsersPages", testListUsersPages},
		{"ListUsersEmailContains", testListUsersEmailContains},
		{"ListUsersWhileAdding", testListUsersWhileAdding},
		{"Ping", testPing},
	}
	tests = append(tests, auditCases...)  // audit.go
	tests = append(tests, methodCases...) // methods.go
	tests = append(tests, emailCases...)  // email.go

	tests = append(tests, userIdentitiesCases...) // useridentities.go

	tests = append(tests, consentCases...)    // consent.go
	tests = append(tests, emailTokenCases...) // emailtoken.go
	runCases(t, newStore, tests)
}

// --- users ---

func testCreateAndGetUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	want := newUser("Carol@Example.com")
	want.EmailVerified = true
	want.Name = "Carol Q. Tester"
	want.PasswordHash = "$2a$12$abcdefghijklmnopqrstuv"
	want.Roles = []string{"member", "admin"}
	mustCreate(t, s, want)

	got, err := s.GetUser(ctx, want.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	checkUser(t, "GetUser", got, want)
	if !got.HasPassword() {
		t.Error("HasPassword() = false after creating with a hash")
	}

	got, err = s.GetUserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatalf("GetUserByEmail: %v", err)
	}
	checkUser(t, "GetUserByEmail", got, want)

	// The store must not keep a reference to the caller's struct or slice.
	want.Roles[0] = "mutated"
	got, err = s.GetUser(ctx, want.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.Roles[0] != "member" {
		t.Errorf("roles changed with the caller's slice: %q", got.Roles)
	}
}

func testGetUserByEmailIgnoresCase(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "Alice@Example.com")
	for _, email := range []string{"alice@example.COM", "ALICE@EXAMPLE.COM", "alice@example.com", "  Alice@Example.com "} {
		got, err := s.GetUserByEmail(ctx, email)
		if err != nil {
			t.Errorf("GetUserByEmail(%q): %v", email, err)
			continue
		}
		if got.ID != u.ID {
			t.Errorf("GetUserByEmail(%q).ID = %q, want %q", email, got.ID, u.ID)
		}
		if got.Email != "Alice@Example.com" {
			t.Errorf("GetUserByEmail(%q).Email = %q, want the address as entered", email, got.Email)
		}
	}
	if _, err := s.GetUserByEmail(ctx, "alice@example.org"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUserByEmail(another domain): err = %v, want ErrNotFound", err)
	}
}

func testGetUnknownUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	mustCreate(t, s, newUser("someone@example.com"))
	if _, err := s.GetUser(ctx, newID()); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser(unknown): err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(ctx, ""); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser(\"\"): err = %v, want ErrNotFound", err)
	}
	for _, email := range []string{"nobody@example.com", "", "   "} {
		if _, err := s.GetUserByEmail(ctx, email); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetUserByEmail(%q): err = %v, want ErrNotFound", email, err)
		}
	}
}

func testDuplicateEmail(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	first := createUser(t, s, "bob@example.com")

	second := newUser("BOB@Example.COM")
	if err := s.CreateUser(ctx, second); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Fatalf("CreateUser(same e-mail, other case): err = %v, want ErrEmailTaken", err)
	}
	if _, err := s.GetUser(ctx, second.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser(loser): err = %v, want ErrNotFound", err)
	}
	got, err := s.GetUserByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatalf("GetUserByEmail: %v", err)
	}
	checkUser(t, "GetUserByEmail after the lost race", got, first)

	// A later attempt fails the same way (no state left by the first failure).
	third := newUser("bob@example.com")
	if err := s.CreateUser(ctx, third); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Errorf("CreateUser(same e-mail, again): err = %v, want ErrEmailTaken", err)
	}
}

func testDuplicateID(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	first := createUser(t, s, "dana@example.com")

	dup := newUser("dana.other@example.com")
	dup.ID = first.ID
	if err := s.CreateUser(ctx, dup); err == nil {
		t.Fatal("CreateUser(existing id): err = nil, want an error")
	}
	got, err := s.GetUser(ctx, first.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	checkUser(t, "GetUser after a failed create with its id", got, first)

	// The failed create must not keep its e-mail.
	if _, err := s.GetUserByEmail(ctx, dup.Email); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUserByEmail(e-mail of the failed create): err = %v, want ErrNotFound", err)
	}
	mustCreate(t, s, newUser(dup.Email))
}

func testUsersWithoutEmail(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	var users []*accounts.User
	for range 5 {
		u := createUser(t, s, "")
		users = append(users, u)
	}
	for _, u := range users {
		got, err := s.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", u.ID, err)
		}
		checkUser(t, "GetUser", got, u)
	}
	if _, err := s.GetUserByEmail(ctx, ""); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUserByEmail(\"\"): err = %v, want ErrNotFound", err)
	}
	// Users with an e-mail still collide among themselves.
	mustCreate(t, s, newUser("erin@example.com"))
	if err := s.CreateUser(ctx, newUser("erin@example.com")); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Errorf("CreateUser(duplicate e-mail among users without one): err = %v, want ErrEmailTaken", err)
	}
}

func testConcurrentCreateSameEmail(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	users := make([]*accounts.User, racers)
	for i := range users {
		// Different spellings of one address.
		users[i] = newUser([]string{"race@example.com", "Race@Example.com", "RACE@EXAMPLE.COM"}[i%3])
	}
	errs := testkit.Race(racers, func(i int) error { return s.CreateUser(ctx, users[i]) })

	winner := testkit.OneWinner(t, "CreateUser(same e-mail)", errs, accounts.ErrEmailTaken)
	got, err := s.GetUserByEmail(ctx, "race@example.com")
	if err != nil {
		t.Fatalf("GetUserByEmail: %v", err)
	}
	if got.ID != users[winner].ID {
		t.Errorf("GetUserByEmail().ID = %s, want the winner %s", got.ID, users[winner].ID)
	}
	for i, u := range users {
		if i == winner {
			continue
		}
		if _, err := s.GetUser(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetUser(loser %d): err = %v, want ErrNotFound", i, err)
		}
	}
}

func testSetPasswordHash(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "frank@example.com")

	if err := s.SetPasswordHash(ctx, u.ID, "$2a$12$newhash"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	want := *u
	want.PasswordHash = "$2a$12$newhash"
	got := checkUpdated(t, s, &want, u.UpdatedAt)
	if !got.HasPassword() {
		t.Error("HasPassword() = false after setting a hash")
	}

	if err := s.SetPasswordHash(ctx, u.ID, ""); err != nil {
		t.Fatalf("SetPasswordHash(\"\"): %v", err)
	}
	want.PasswordHash = ""
	if got := checkUpdated(t, s, &want, u.UpdatedAt); got.HasPassword() {
		t.Error("HasPassword() = true after removing the hash")
	}
}

func testSetRoles(t *testing.T, s accounts.Store) {
	u := newUser("grace@example.com")
	u.Roles = []string{"member"}
	mustCreate(t, s, u)

	checkSets(t, s, u, "SetRoles", s.SetRoles, func(u *accounts.User, roles []string) { u.Roles = roles },
		[]string{"viewer", "admin", "member"}, nil, []string{}, []string{"admin"})
}

func testSetDisabled(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "heidi@example.com")
	checkSets(t, s, u, "SetDisabled", s.SetDisabled, func(u *accounts.User, disabled bool) { u.Disabled = disabled },
		true, true, false)
}

func testSetUnknownUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	mustCreate(t, s, newUser("ivan@example.com"))
	unknown := newID()
	for name, set := range map[string]func() error{
		"SetPasswordHash": func() error { return s.SetPasswordHash(ctx, unknown, "x") },
		"SetRoles":        func() error { return s.SetRoles(ctx, unknown, []string{"admin"}) },
		"SetDisabled":     func() error { return s.SetDisabled(ctx, unknown, true) },
	} {
		if err := set(); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("%s(unknown id): err = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.GetUser(ctx, unknown); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser after Set* on an unknown id: err = %v, want ErrNotFound (no upsert)", err)
	}
}

func testRolesRoundTrip(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	for _, roles := range [][]string{nil, {}, {"admin"}, {"b", "a", "c"}, {"users:admin", "x y", "ünïcode"}} {
		u := newUser("")
		u.Roles = slices.Clone(roles)
		mustCreate(t, s, u)
		got, err := s.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if !sameField(got.Roles, roles) {
			t.Errorf("roles %q came back as %q", roles, got.Roles)
		}
	}
}

func testTimestampsRoundTrip(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	u := newUser("judy@example.com")
	u.CreatedAt = time.Date(2024, 2, 29, 23, 59, 58, 123456789, zone) // a leap day, sub-ms digits, not UTC
	u.UpdatedAt = time.Now()                                          // with a monotonic reading
	mustCreate(t, s, u)
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, u.UpdatedAt)

	id := &accounts.Identity{Provider: "google", Subject: "1", UserID: u.ID, LinkedAt: time.Date(2031, 12, 31, 1, 2, 3, 999999999, zone)}
	mustLink(t, s, id)
	gotID, err := s.GetIdentity(ctx, "google", "1")
	if err != nil {
		t.Fatalf("GetIdentity: %v", err)
	}
	checkTime(t, "LinkedAt", gotID.LinkedAt, id.LinkedAt)
}

func testDeleteUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "Kim@Example.com")
	other := createUser(t, s, "other@example.com")
	mustLink(t, s, &accounts.Identity{Provider: "google", Subject: "g-kim", UserID: u.ID, Email: u.Email})
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "4711", UserID: u.ID})
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "4712", UserID: other.ID})

	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.GetUser(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUser(deleted): err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetUserByEmail(ctx, "kim@example.com"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetUserByEmail(deleted): err = %v, want ErrNotFound", err)
	}
	for _, key := range [][2]string{{"google", "g-kim"}, {"github", "4711"}} {
		if _, err := s.GetIdentity(ctx, key[0], key[1]); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetIdentity(%s, %s) of the deleted user: err = %v, want ErrNotFound", key[0], key[1], err)
		}
	}
	if _, err := s.ListIdentities(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("ListIdentities(deleted): err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("DeleteUser(again): err = %v, want ErrNotFound", err)
	}

	// The other user is untouched.
	got, err := s.GetUser(ctx, other.ID)
	if err != nil {
		t.Fatalf("GetUser(other): %v", err)
	}
	checkUser(t, "other user", got, other)
	if ids, err := s.ListIdentities(ctx, other.ID); err != nil || len(ids) != 1 {
		t.Errorf("ListIdentities(other) = %d identities, %v; want 1, nil", len(ids), err)
	}

	// The e-mail and the identities are free again.
	next := createUser(t, s, "KIM@example.com")
	got, err = s.GetUserByEmail(ctx, "kim@example.com")
	if err != nil {
		t.Fatalf("GetUserByEmail(new owner): %v", err)
	}
	if got.ID != next.ID {
		t.Errorf("GetUserByEmail(new owner).ID = %s, want %s", got.ID, next.ID)
	}
	mustLink(t, s, &accounts.Identity{Provider: "google", Subject: "g-kim", UserID: next.ID})
	gotID, err := s.GetIdentity(ctx, "google", "g-kim")
	if err != nil {
		t.Fatalf("GetIdentity(relinked): %v", err)
	}
	if gotID.UserID != next.ID {
		t.Errorf("relinked identity belongs to %s, want %s", gotID.UserID, next.ID)
	}
}

func testDeleteUnknownUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "leo@example.com")
	if err := s.DeleteUser(ctx, newID()); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("DeleteUser(unknown): err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(ctx, u.ID); err != nil {
		t.Errorf("GetUser(bystander) after deleting an unknown id: %v", err)
	}
}

// --- identities ---

func testLinkAndGetIdentity(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "mallory@example.com")
	want := &accounts.Identity{Provider: "google", Subject: "108234", UserID: u.ID, Email: "Mallory@Example.com", LinkedAt: ms(time.Now())}
	mustLink(t, s, want)

	got, err := s.GetIdentity(ctx, "google", "108234")
	if err != nil {
		t.Fatalf("GetIdentity: %v", err)
	}
	checkIdentity(t, "GetIdentity", got, want)

	// Provider and subject are both part of the key, and compare exactly.
	for _, key := range [][2]string{{"github", "108234"}, {"google", "1082345"}, {"Google", "108234"}, {"google", ""}, {"", "108234"}} {
		if _, err := s.GetIdentity(ctx, key[0], key[1]); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetIdentity(%q, %q): err = %v, want ErrNotFound", key[0], key[1], err)
		}
	}
	// The same subject at another provider is another identity.
	mustLink(t, s, &accounts.Identity{Provider: "corp", Subject: "108234", UserID: u.ID})
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "108234", UserID: u.ID})
}

func testLinkIdentityTwice(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "nina@example.com")
	other := createUser(t, s, "")
	first := &accounts.Identity{Provider: "github", Subject: "99", UserID: u.ID, Email: "nina@example.com", LinkedAt: ms(time.Now())}
	mustLink(t, s, first)

	for _, owner := range []*accounts.User{u, other} {
		again := &accounts.Identity{Provider: "github", Subject: "99", UserID: owner.ID, Email: "changed@example.com"}
		if err := s.LinkIdentity(ctx, again); !errors.Is(err, accounts.ErrIdentityLinked) {
			t.Errorf("LinkIdentity(existing identity to %s): err = %v, want ErrIdentityLinked", owner.ID, err)
		}
	}
	got, err := s.GetIdentity(ctx, "github", "99")
	if err != nil {
		t.Fatalf("GetIdentity: %v", err)
	}
	checkIdentity(t, "GetIdentity after failed relinks", got, first)
}

func testLinkIdentityUnknownUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	mustCreate(t, s, newUser("oscar@example.com"))
	err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "google", Subject: "nobody", UserID: newID()})
	if !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("LinkIdentity(unknown user): err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetIdentity(ctx, "google", "nobody"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetIdentity after a failed link: err = %v, want ErrNotFound", err)
	}
}

func testConcurrentLinkIdentity(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	users := make([]*accounts.User, racers)
	for i := range users {
		users[i] = newUser("")
		mustCreate(t, s, users[i])
	}
	errs := testkit.Race(racers, func(i int) error {
		return s.LinkIdentity(ctx, &accounts.Identity{Provider: "google", Subject: "contested", UserID: users[i].ID})
	})

	winner := testkit.OneWinner(t, "LinkIdentity(same identity)", errs, accounts.ErrIdentityLinked)
	got, err := s.GetIdentity(ctx, "google", "contested")
	if err != nil {
		t.Fatalf("GetIdentity: %v", err)
	}
	if got.UserID != users[winner].ID {
		t.Errorf("identity belongs to %s, want the winner %s", got.UserID, users[winner].ID)
	}
	for i, u := range users {
		ids, err := s.ListIdentities(ctx, u.ID)
		if err != nil {
			t.Fatalf("ListIdentities(racer %d): %v", i, err)
		}
		if want := boolToInt(i == winner); len(ids) != want {
			t.Errorf("racer %d has %d identities, want %d", i, len(ids), want)
		}
	}
}

func testListIdentities(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := newUser("pat@example.com")
	other := newUser("")
	lonely := newUser("")
	for _, x := range []*accounts.User{u, other, lonely} {
		mustCreate(t, s, x)
	}
	// Linked out of order; listed by provider.
	for _, p := range []string{"google", "corp", "github", "acme"} {
		mustLink(t, s, &accounts.Identity{Provider: p, Subject: "pat-" + p, UserID: u.ID, Email: "pat@" + p + ".example"})
	}
	mustLink(t, s, &accounts.Identity{Provider: "bitbucket", Subject: "other", UserID: other.ID})

	ids, err := s.ListIdentities(ctx, u.ID)
	if err != nil {
		t.Fatalf("ListIdentities: %v", err)
	}
	var providers []string
	for _, id := range ids {
		providers = append(providers, id.Provider)
		if id.UserID != u.ID || id.Subject != "pat-"+id.Provider || id.Email != "pat@"+id.Provider+".example" {
			t.Errorf("listed identity %+v does not match what was linked", *id)
		}
	}
	if want := []string{"acme", "corp", "github", "google"}; !slices.Equal(providers, want) {
		t.Errorf("ListIdentities providers = %q, want %q", providers, want)
	}

	ids, err = s.ListIdentities(ctx, lonely.ID)
	if err != nil || len(ids) != 0 {
		t.Errorf("ListIdentities(user without identities) = %d identities, %v; want 0, nil", len(ids), err)
	}
	if _, err := s.ListIdentities(ctx, newID()); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("ListIdentities(unknown user): err = %v, want ErrNotFound", err)
	}
}

func testUnlinkIdentity(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "quinn@example.com")
	other := createUser(t, s, "")
	mustLink(t, s, &accounts.Identity{Provider: "google", Subject: "q-g", UserID: u.ID})
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "q-gh", UserID: u.ID})
	mustLink(t, s, &accounts.Identity{Provider: "corp", Subject: "o-c", UserID: other.ID})

	if err := s.UnlinkIdentity(ctx, u.ID, "github"); err != nil {
		t.Fatalf("UnlinkIdentity: %v", err)
	}
	if _, err := s.GetIdentity(ctx, "github", "q-gh"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetIdentity(unlinked): err = %v, want ErrNotFound", err)
	}
	ids, err := s.ListIdentities(ctx, u.ID)
	if err != nil || len(ids) != 1 || ids[0].Provider != "google" {
		t.Errorf("ListIdentities after unlink = %v, %v; want only google", ids, err)
	}

	for _, tc := range []struct{ name, userID, provider string }{
		{"already unlinked", u.ID, "github"},
		{"another user's identity", u.ID, "corp"},
		{"provider never linked", u.ID, "acme"},
		{"unknown user", newID(), "google"},
	} {
		if err := s.UnlinkIdentity(ctx, tc.userID, tc.provider); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("UnlinkIdentity(%s): err = %v, want ErrNotFound", tc.name, err)
		}
	}
	if _, err := s.GetIdentity(ctx, "corp", "o-c"); err != nil {
		t.Errorf("GetIdentity(other user's identity) after a refused unlink: %v", err)
	}

	// Unlinked identities can be linked again, to anyone.
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "q-gh", UserID: other.ID})
}

// --- listing ---

func testListUsersPages(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	var want []string
	for i := range 23 {
		email := ""
		if i%3 != 0 {
			email = fmt.Sprintf("user%02d@example.com", i)
		}
		u := createUser(t, s, email)
		want = append(want, u.ID)
	}
	slices.Sort(want)

	for _, limit := range []int{1, 5, 23, 100} {
		got := listAll(t, s, limit, "")
		if !slices.Equal(got, want) {
			t.Errorf("paging with limit %d returned %d ids %q, want %d ids %q", limit, len(got), got, len(want), want)
		}
	}

	// A page is at most limit long, and starts strictly after the cursor.
	page, err := s.ListUsers(ctx, want[9], 4, "")
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if got := userIDs(page); !slices.Equal(got, want[10:14]) {
		t.Errorf("ListUsers(after #9, limit 4) = %q, want %q", got, want[10:14])
	}
	page, err = s.ListUsers(ctx, want[len(want)-1], 10, "")
	if err != nil || len(page) != 0 {
		t.Errorf("ListUsers(after the last id) = %d users, %v; want 0, nil", len(page), err)
	}

	// Listed users are complete records.
	page, err = s.ListUsers(ctx, "", 100, "")
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	for _, u := range page {
		got, err := s.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", u.ID, err)
		}
		checkUser(t, "ListUsers entry", u, got)
	}
}

func testListUsersEmailContains(t *testing.T, s accounts.Store) {
	emails := []string{
		"Ann@Example.org", "bert@example.org", "carl@example.com", "dora@sub.example.org",
		"a+b@example.org", "aab@example.org", "x.y@example.net", "xzy@example.net", "",
	}
	byEmail := map[string]string{}
	for _, email := range emails {
		u := createUser(t, s, email)
		byEmail[email] = u.ID
	}
	ids := func(emails ...string) []string {
		var out []string
		for _, e := range emails {
			out = append(out, byEmail[e])
		}
		slices.Sort(out)
		return out
	}

	for _, tc := range []struct {
		contains string
		want     []string
	}{
		{"example.org", ids("Ann@Example.org", "bert@example.org", "dora@sub.example.org", "a+b@example.org", "aab@example.org")},
		{"ann@", ids("Ann@Example.org")}, // matched against the normalized e-mail
		{"@example.com", ids("carl@example.com")},
		{"a+b", ids("a+b@example.org")}, // regular-expression and LIKE characters are literal
		{"x.y", ids("x.y@example.net")},
		{"%", nil},
		{"_", nil},
		{"nomatch", nil},
		{"", ids(emails...)}, // no filter: every user, also those without e-mail
	} {
		for _, limit := range []int{2, 50} {
			if got := listAll(t, s, limit, tc.contains); !slices.Equal(got, tc.want) {
				t.Errorf("ListUsers(emailContains %q, limit %d) = %q, want %q", tc.contains, limit, got, tc.want)
			}
		}
	}
}

func testListUsersWhileAdding(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	initial := map[string]bool{}
	for range 40 {
		u := createUser(t, s, "")
		initial[u.ID] = false
	}

	// Two writers add users (some with e-mail) until the pager is done; each
	// is bounded, so the test ends even on a store that never ends a listing.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writerErrs := make([]error, 2)
	for w := range writerErrs {
		wg.Go(func() {
			for i := range 200 {
				select {
				case <-stop:
					return
				default:
				}
				email := ""
				if i%2 == 0 {
					email = fmt.Sprintf("writer%d-%d@example.com", w, i)
				}
				if err := s.CreateUser(ctx, newUser(email)); err != nil {
					writerErrs[w] = err
					return
				}
			}
		})
	}

	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging did not end")
		}
		page, err := s.ListUsers(ctx, after, 6, "")
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("ListUsers: %v", err)
		}
		for _, u := range page {
			seen = append(seen, u.ID)
		}
		if len(page) < 6 {
			break
		}
		after = page[len(page)-1].ID
	}
	close(stop)
	wg.Wait()

	for w, err := range writerErrs {
		if err != nil {
			t.Errorf("writer %d: CreateUser: %v", w, err)
		}
	}
	for i := 1; i < len(seen); i++ {
		if seen[i-1] >= seen[i] {
			t.Fatalf("ids not strictly increasing across pages at %d: %s then %s (a user listed twice or out of order)", i, seen[i-1], seen[i])
		}
	}
	for _, id := range seen {
		if _, ok := initial[id]; ok {
			initial[id] = true
		}
	}
	for id, found := range initial {
		if !found {
			t.Errorf("user %s, created before paging began, was never listed", id)
		}
	}
}

func testPing(t *testing.T, s accounts.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// --- helpers ---

// newID returns a UUIDv7 string, as the service generates: ids created
// later sort later. Safe to call from any goroutine.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// newUser returns a user with a fresh id, the given e-mail (empty for none)
// and timestamps an hour in the past, so that an update is visible in
// UpdatedAt.
func newUser(email string) *accounts.User {
	created := ms(time.Now().Add(-time.Hour))
	return &accounts.User{
		ID:        newID(),
		Email:     email,
		Name:      "Test User",
		Roles:     []string{"member"},
		CreatedAt: created,
		UpdatedAt: created,
	}
}

func mustCreate(t *testing.T, s accounts.Store, u *accounts.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s, %q): %v", u.ID, u.Email, err)
	}
}

// createUser creates and returns a new user (newUser) with this e-mail.
func createUser(t *testing.T, s accounts.Store, email string) *accounts.User {
	t.Helper()
	u := newUser(email)
	mustCreate(t, s, u)
	return u
}

func mustLink(t *testing.T, s accounts.Store, id *accounts.Identity) {
	t.Helper()
	if id.LinkedAt.IsZero() {
		id.LinkedAt = ms(time.Now())
	}
	if err := s.LinkIdentity(t.Context(), id); err != nil {
		t.Fatalf("LinkIdentity(%s, %s -> %s): %v", id.Provider, id.Subject, id.UserID, err)
	}
}

// listAll pages through ListUsers with the given page size and returns the
// ids in the order listed.
func listAll(t *testing.T, s accounts.Store, limit int, emailContains string) []string {
	t.Helper()
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging did not end")
		}
		page, err := s.ListUsers(t.Context(), after, limit, emailContains)
		if err != nil {
			t.Fatalf("ListUsers(after %q, limit %d, %q): %v", after, limit, emailContains, err)
		}
		if len(page) > limit {
			t.Fatalf("ListUsers(limit %d) returned %d users", limit, len(page))
		}
		ids = append(ids, userIDs(page)...)
		if len(page) < limit {
			return ids
		}
		after = page[len(page)-1].ID
	}
}

func userIDs(users []*accounts.User) []string {
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

// checkSets sets each value in turn with set (a Store setter) and checks
// that u reads back with apply's change and a later UpdatedAt.
func checkSets[V any](t *testing.T, s accounts.Store, u *accounts.User, name string,
	set func(ctx context.Context, id string, v V) error, apply func(*accounts.User, V), values ...V) {
	t.Helper()
	for _, v := range values {
		if err := set(t.Context(), u.ID, v); err != nil {
			t.Fatalf("%s(%v): %v", name, v, err)
		}
		want := *u
		apply(&want, v)
		checkUpdated(t, s, &want, u.UpdatedAt)
	}
}

// checkUpdated reads the user back, compares it with want except for
// UpdatedAt, which must have moved past before, and returns it.
func checkUpdated(t *testing.T, s accounts.Store, want *accounts.User, before time.Time) *accounts.User {
	t.Helper()
	got, err := s.GetUser(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if !got.UpdatedAt.After(before) {
		t.Errorf("UpdatedAt = %v after an update, want later than %v", got.UpdatedAt, before)
	}
	w := *want
	w.UpdatedAt = got.UpdatedAt
	checkUser(t, "after update", got, &w)
	return got
}

func checkUser(t *testing.T, what string, got, want *accounts.User) {
	t.Helper()
	checkFields(t, what+": user "+want.ID, got, want)
}

// checkFields reports every field in which got differs from want, in one
// error: times compare to the millisecond (what every backend keeps), and
// a nil slice or map equals an empty one.
func checkFields[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	var diffs []string
	for i := range g.NumField() {
		if gf, wf := g.Field(i).Interface(), w.Field(i).Interface(); !sameField(gf, wf) {
			diffs = append(diffs, fmt.Sprintf("%s = %#v, want %#v", g.Type().Field(i).Name, gf, wf))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(diffs, "\n\t"))
	}
}

func sameField(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		return ms(ta).Equal(ms(b.(time.Time)))
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if k := va.Kind(); (k == reflect.Slice || k == reflect.Map) && va.Len() == 0 && vb.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func checkIdentity(t *testing.T, what string, got, want *accounts.Identity) {
	t.Helper()
	if got.Provider != want.Provider || got.Subject != want.Subject || got.UserID != want.UserID ||
		got.Email != want.Email || !ms(got.LinkedAt).Equal(ms(want.LinkedAt)) {
		t.Errorf("%s = %+v, want %+v", what, *got, *want)
	}
}

func checkTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if !ms(got).Equal(ms(want)) {
		t.Errorf("%s = %v, want %v (to the millisecond)", field, got.UTC(), want.UTC())
	}
}

// ms is the precision that every backend keeps (BSON dates are milliseconds).
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

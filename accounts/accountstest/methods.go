package accountstest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// methodCases cover the sign-in methods of one user: one identity per
// provider, and the last-method guard on unlink (issue 11, items 4 and 6).
var methodCases = []storeCase[accounts.Store]{
	{"LinkSecondIdentityAtProvider", testLinkSecondIdentityAtProvider},
	{"ConcurrentLinkSameProvider", testConcurrentLinkSameProvider},
	{"UnlinkIdentityIfNotLast", testUnlinkIdentityIfNotLast},
	{"ConcurrentUnlinkLastMethods", testConcurrentUnlinkLastMethods},
}

func testLinkSecondIdentityAtProvider(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "")
	first := &accounts.Identity{Provider: "github", Subject: "1", UserID: u.ID}
	mustLink(t, s, first)
	err := s.LinkIdentity(ctx, &accounts.Identity{Provider: "github", Subject: "2", UserID: u.ID})
	if !errors.Is(err, accounts.ErrAccountExists) {
		t.Fatalf("LinkIdentity(second github identity): err = %v, want ErrAccountExists", err)
	}
	if _, err := s.GetIdentity(ctx, "github", "2"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetIdentity(refused identity): err = %v, want ErrNotFound", err)
	}
	// Another provider, and the same provider for another user, are fine.
	mustLink(t, s, &accounts.Identity{Provider: "google", Subject: "1", UserID: u.ID})
	other := createUser(t, s, "")
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "2", UserID: other.ID})
	// After an unlink the provider's slot is free again.
	must(t, "UnlinkIdentity", s.UnlinkIdentity(ctx, u.ID, "github"))
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "3", UserID: u.ID})
}

// Two (or twenty) link commits at once for one user and one provider, each
// with another subject: exactly one identity results.
func testConcurrentLinkSameProvider(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "")
	errs := testkit.Race(racers, func(i int) error {
		return s.LinkIdentity(ctx, &accounts.Identity{Provider: "github", Subject: fmt.Sprint("sub-", i), UserID: u.ID})
	})
	testkit.OneWinner(t, "LinkIdentity(github)", errs, accounts.ErrAccountExists)
	ids, err := s.ListIdentities(ctx, u.ID)
	must(t, "ListIdentities", err)
	if len(ids) != 1 {
		t.Errorf("user has %d identities after the race, want 1: %v", len(ids), ids)
	}
}

func testUnlinkIdentityIfNotLast(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	noPassword := newUser("")
	withPassword := newUser("")
	withPassword.PasswordHash = "$2a$12$abcdefghijklmnopqrstuv"
	mustCreate(t, s, noPassword)
	mustCreate(t, s, withPassword)
	mustLink(t, s, &accounts.Identity{Provider: "google", Subject: "np-g", UserID: noPassword.ID})
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "np-gh", UserID: noPassword.ID})
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "wp-gh", UserID: withPassword.ID})

	must(t, "unlink one of two", s.UnlinkIdentityIfNotLast(ctx, noPassword.ID, "github"))
	wantErr(t, "unlink the last method", s.UnlinkIdentityIfNotLast(ctx, noPassword.ID, "google"), accounts.ErrLastLoginMethod)
	if _, err := s.GetIdentity(ctx, "google", "np-g"); err != nil {
		t.Errorf("GetIdentity after a refused unlink: %v", err)
	}
	must(t, "unlink the last identity of a user with a password", s.UnlinkIdentityIfNotLast(ctx, withPassword.ID, "github"))
	for _, tc := range []struct{ name, userID, provider string }{
		{"already unlinked", noPassword.ID, "github"},
		{"provider never linked", noPassword.ID, "acme"},
		{"another user's provider", withPassword.ID, "google"},
		{"unknown user", newID(), "google"},
	} {
		wantErr(t, "UnlinkIdentityIfNotLast("+tc.name+")", s.UnlinkIdentityIfNotLast(ctx, tc.userID, tc.provider), accounts.ErrNotFound)
	}
}

// The attack of issue 11, item 4: a password-less user with two identities
// unlinks both at once, many times over. One identity must always remain.
// It runs through accounts.Service, as the API does.
func testConcurrentUnlinkLastMethods(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	svc, err := accounts.NewService(s, accounts.Options{BcryptCost: 4})
	must(t, "NewService", err)
	for round := range 5 {
		u := createUser(t, s, "")
		mustLink(t, s, &accounts.Identity{Provider: "google", Subject: fmt.Sprint("g-", round), UserID: u.ID})
		mustLink(t, s, &accounts.Identity{Provider: "github", Subject: fmt.Sprint("gh-", round), UserID: u.ID})
		errs := testkit.Race(racers, func(i int) error {
			return svc.Unlink(ctx, u.ID, []string{"google", "github"}[i%2])
		})
		wins := testkit.Tally(t, fmt.Sprint("Unlink, round ", round), errs, accounts.ErrLastLoginMethod, accounts.ErrNotFound)
		ids, err := s.ListIdentities(ctx, u.ID)
		must(t, "ListIdentities", err)
		if len(ids) != 1 || wins != 1 {
			t.Fatalf("round %d: %d unlinks succeeded and %d identities remain, want 1 and 1", round, wins, len(ids))
		}
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Errorf("%s: err = %v, want %v", what, got, want)
	}
}

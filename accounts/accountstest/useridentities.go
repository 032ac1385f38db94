package accountstest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

// userIdentitiesCases cover the bearer check's read of a user with their
// identities in one query (accounts.Service.GetActiveWithIdentities).
var userIdentitiesCases = []storeCase[accounts.Store]{
	{"GetUserWithIdentities", testGetUserWithIdentities},
}

// userWithIdentities is the optional store method; every store here has it.
type userWithIdentities interface {
	GetUserWithIdentities(ctx context.Context, id string) (*accounts.User, []*accounts.Identity, error)
}

func testGetUserWithIdentities(t *testing.T, store accounts.Store) {
	s, ok := store.(userWithIdentities)
	if !ok {
		t.Fatalf("%T has no GetUserWithIdentities", store)
	}
	ctx := t.Context()
	u := newUser("rio@example.com")
	u.Roles = []string{"member", "admin"}
	lonely := newUser("")
	for _, x := range []*accounts.User{u, lonely} {
		mustCreate(t, store, x)
	}
	for _, p := range []string{"google", "acme", "github"} {
		mustLink(t, store, &accounts.Identity{Provider: p, Subject: "rio-" + p, UserID: u.ID, Email: "rio@" + p + ".example"})
	}
	want, err := store.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs, err := store.ListIdentities(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, ids, err := s.GetUserWithIdentities(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUserWithIdentities: %v", err)
	}
	if got.ID != want.ID || got.Email != want.Email || got.Name != want.Name || got.PasswordHash != want.PasswordHash ||
		!slices.Equal(got.Roles, want.Roles) || got.Disabled != want.Disabled ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("user = %+v, want %+v (GetUser)", *got, *want)
	}
	if len(ids) != 3 || len(ids) != len(wantIDs) {
		t.Fatalf("%d identities, want 3 as ListIdentities has %d", len(ids), len(wantIDs))
	}
	for i, id := range ids {
		w := wantIDs[i]
		if id.Provider != w.Provider || id.Subject != w.Subject || id.UserID != u.ID || id.Email != w.Email || !id.LinkedAt.Equal(w.LinkedAt) {
			t.Errorf("identity %d = %+v, want %+v", i, *id, *w)
		}
	}
	if ids[0].Provider != "acme" || ids[2].Provider != "google" {
		t.Errorf("identities not ordered by provider: %s, %s, %s", ids[0].Provider, ids[1].Provider, ids[2].Provider)
	}

	got, ids, err = s.GetUserWithIdentities(ctx, lonely.ID)
	if err != nil || got.ID != lonely.ID || ids == nil || len(ids) != 0 {
		t.Errorf("user without identities: %v, %v identities, %v; want the user, an empty list", got, ids, err)
	}
	if _, _, err := s.GetUserWithIdentities(ctx, newID()); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("unknown user: err = %v, want ErrNotFound", err)
	}
	// A disabled user is still returned: refusing it is the service's part.
	if err := store.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.GetUserWithIdentities(ctx, u.ID); err != nil || !got.Disabled {
		t.Errorf("disabled user: %v, %v; want it, disabled", got, err)
	}
	if err := store.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetUserWithIdentities(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("deleted user: err = %v, want ErrNotFound", err)
	}
}

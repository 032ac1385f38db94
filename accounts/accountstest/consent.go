package accountstest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// consentCases cover the consents of users to third-party clients (issue
// 14): union of grants, listing, revocation, and concurrent grants.
var consentCases = []storeCase[accounts.Store]{
	{"ConsentGrantAndGet", testConsentGrantAndGet},
	{"ConsentGrantsAddUp", testConsentGrantsAddUp},
	{"ConsentUnknownUser", testConsentUnknownUser},
	{"ConsentList", testConsentList},
	{"ConsentRevoke", testConsentRevoke},
	{"ConsentConcurrentGrants", testConsentConcurrentGrants},
	{"ConsentConcurrentRevoke", testConsentConcurrentRevoke},
	{"ConsentDeletedWithUser", testConsentDeletedWithUser},
}

func mustGrant(t *testing.T, s accounts.Store, user, client string, at time.Time, scopes ...string) {
	t.Helper()
	if err := s.GrantConsent(t.Context(), user, client, scopes, at); err != nil {
		t.Fatalf("GrantConsent(%s, %s, %q): %v", user, client, scopes, err)
	}
}

func checkConsent(t *testing.T, got *accounts.Consent, user, client string, at time.Time, scopes ...string) {
	t.Helper()
	if got.UserID != user || got.ClientID != client || !slices.Equal(got.Scopes, scopes) {
		t.Errorf("consent = %s %s %q, want %s %s %q", got.UserID, got.ClientID, got.Scopes, user, client, scopes)
	}
	if !got.GrantedAt.Equal(at) || got.GrantedAt.Location() != time.UTC {
		t.Errorf("GrantedAt = %v, want %v in UTC", got.GrantedAt, at)
	}
}

func testConsentGrantAndGet(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "")
	at := ms(time.Now())
	if _, err := s.GetConsent(t.Context(), u.ID, "app"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("GetConsent before any grant: err = %v, want ErrNotFound", err)
	}
	mustGrant(t, s, u.ID, "app", at, "openid", "email", "docs:read")
	c, err := s.GetConsent(t.Context(), u.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	checkConsent(t, c, u.ID, "app", at, "docs:read", "email", "openid")
	if _, err := s.GetConsent(t.Context(), u.ID, "other-app"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetConsent(other client): err = %v, want ErrNotFound", err)
	}
}

// A later grant adds to the earlier; granting a scope again keeps its time.
func testConsentGrantsAddUp(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "")
	t1 := ms(time.Now().Add(-time.Hour))
	t2 := t1.Add(time.Minute)
	mustGrant(t, s, u.ID, "app", t1, "openid", "email")
	mustGrant(t, s, u.ID, "app", t2, "openid") // nothing new
	c, err := s.GetConsent(t.Context(), u.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	checkConsent(t, c, u.ID, "app", t1, "email", "openid")
	t3 := t2.Add(time.Minute)
	mustGrant(t, s, u.ID, "app", t3, "profile", "email")
	if c, err = s.GetConsent(t.Context(), u.ID, "app"); err != nil {
		t.Fatal(err)
	}
	checkConsent(t, c, u.ID, "app", t3, "email", "openid", "profile")
}

func testConsentUnknownUser(t *testing.T, s accounts.Store) {
	err := s.GrantConsent(t.Context(), newID(), "app", []string{"openid"}, ms(time.Now()))
	if !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("GrantConsent(unknown user): err = %v, want ErrNotFound", err)
	}
	cs, err := s.ListConsents(t.Context(), newID())
	if err != nil || len(cs) != 0 {
		t.Errorf("ListConsents(unknown user) = %v, %v; want none", cs, err)
	}
}

func testConsentList(t *testing.T, s accounts.Store) {
	u, other := newUser(""), newUser("")
	mustCreate(t, s, u)
	mustCreate(t, s, other)
	at := ms(time.Now())
	mustGrant(t, s, u.ID, "zeta-app", at, "openid")
	mustGrant(t, s, u.ID, "alpha-app", at.Add(time.Second), "openid", "profile")
	mustGrant(t, s, other.ID, "beta-app", at, "openid")
	cs, err := s.ListConsents(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("ListConsents = %d consents, want 2", len(cs))
	}
	checkConsent(t, cs[0], u.ID, "alpha-app", at.Add(time.Second), "openid", "profile")
	checkConsent(t, cs[1], u.ID, "zeta-app", at, "openid")
}

func testConsentRevoke(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "")
	at := ms(time.Now())
	mustGrant(t, s, u.ID, "app", at, "openid", "email")
	mustGrant(t, s, u.ID, "other-app", at, "openid")
	if err := s.RevokeConsent(t.Context(), u.ID, "app"); err != nil {
		t.Fatalf("RevokeConsent: %v", err)
	}
	if _, err := s.GetConsent(t.Context(), u.ID, "app"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetConsent after revoke: err = %v, want ErrNotFound", err)
	}
	if err := s.RevokeConsent(t.Context(), u.ID, "app"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("second RevokeConsent: err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetConsent(t.Context(), u.ID, "other-app"); err != nil {
		t.Errorf("another client's consent went too: %v", err)
	}
	// Asking again after a revocation starts afresh.
	mustGrant(t, s, u.ID, "app", at.Add(time.Minute), "openid")
	c, err := s.GetConsent(t.Context(), u.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	checkConsent(t, c, u.ID, "app", at.Add(time.Minute), "openid")
}

// Concurrent grants of different and overlapping scopes all succeed and
// leave their union: no grant is lost to another.
func testConsentConcurrentGrants(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "")
	at := ms(time.Now())
	var wg sync.WaitGroup
	errs := make([]error, racers)
	want := []string{"openid"}
	for i := range racers {
		want = append(want, fmt.Sprintf("p%02d", i))
	}
	slices.Sort(want)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.GrantConsent(t.Context(), u.ID, "app", []string{"openid", fmt.Sprintf("p%02d", i)}, at)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("grant %d: %v", i, err)
		}
	}
	c, err := s.GetConsent(t.Context(), u.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	checkConsent(t, c, u.ID, "app", at, want...)
}

// Concurrent revocations all end without error or with ErrNotFound, and
// the consent is gone.
func testConsentConcurrentRevoke(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "")
	mustGrant(t, s, u.ID, "app", ms(time.Now()), "openid", "email", "profile")
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.RevokeConsent(t.Context(), u.ID, "app")
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, accounts.ErrNotFound):
			t.Errorf("revoke %d: %v", i, err)
		}
	}
	if ok == 0 {
		t.Error("no revocation succeeded")
	}
	if _, err := s.GetConsent(t.Context(), u.ID, "app"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("GetConsent after revocations: err = %v, want ErrNotFound", err)
	}
}

func testConsentDeletedWithUser(t *testing.T, s accounts.Store) {
	u := createUser(t, s, "")
	mustGrant(t, s, u.ID, "app", ms(time.Now()), "openid")
	if err := s.DeleteUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	cs, err := s.ListConsents(t.Context(), u.ID)
	if err != nil || len(cs) != 0 {
		t.Errorf("ListConsents after DeleteUser = %v, %v; want none", cs, err)
	}
}

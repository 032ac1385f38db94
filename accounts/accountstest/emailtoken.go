package accountstest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// emailTokenCases cover e-mail tokens and the address changes they lead to
// (issue 15): single use (also under concurrency), purpose and expiry,
// and the conditional SetEmail / MarkEmailVerified.
var emailTokenCases = []storeCase[accounts.Store]{
	{"EmailTokenRoundTrip", testEmailTokenRoundTrip},
	{"EmailTokenSingleUse", testEmailTokenSingleUse},
	{"EmailTokenPurposeAndExpiry", testEmailTokenPurposeAndExpiry},
	{"EmailTokenDeleteAndSweep", testEmailTokenDeleteAndSweep},
	{"ConcurrentConsumeEmailToken", testConcurrentConsumeEmailToken},
	{"SetEmail", testSetEmail},
	{"ConcurrentSetEmailSameAddress", testConcurrentSetEmailSameAddress},
	{"MarkEmailVerified", testMarkEmailVerified},
	{"RecoveryConcurrentReset", testRecoveryConcurrentReset},             // recovery.go
	{"RecoveryConcurrentEmailChange", testRecoveryConcurrentEmailChange}, // recovery.go
}

func newToken(userID string, purpose accounts.TokenPurpose, email string, ttl time.Duration) (string, *accounts.EmailToken) {
	tok, hash := accounts.NewEmailToken()
	now := ms(time.Now())
	return tok, &accounts.EmailToken{Hash: hash, Purpose: purpose, UserID: userID, Email: email,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
}

func mustCreateToken(t *testing.T, s accounts.Store, et *accounts.EmailToken) {
	t.Helper()
	must(t, "CreateEmailToken", s.CreateEmailToken(t.Context(), et))
}

func checkToken(t *testing.T, what string, got, want *accounts.EmailToken) {
	t.Helper()
	if !bytes.Equal(got.Hash, want.Hash) || got.Purpose != want.Purpose || got.UserID != want.UserID ||
		got.Email != want.Email || got.NewEmail != want.NewEmail {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	checkTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+".ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func testEmailTokenRoundTrip(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	tok, want := newToken(newID(), accounts.PurposeChange, "Old@Example.com", time.Hour)
	want.NewEmail = "New@Example.org"
	mustCreateToken(t, s, want)
	if err := s.CreateEmailToken(ctx, want); err == nil {
		t.Error("CreateEmailToken(duplicate hash) succeeded")
	}
	hash, ok := accounts.HashEmailToken(tok)
	if !ok || !bytes.Equal(hash, want.Hash) {
		t.Fatalf("HashEmailToken(token) = %x, %v; want %x", hash, ok, want.Hash)
	}
	now := time.Now()
	got, err := s.GetEmailToken(ctx, hash, accounts.PurposeChange, now)
	must(t, "GetEmailToken", err)
	checkToken(t, "GetEmailToken", got, want)
	got, err = s.GetEmailToken(ctx, hash, accounts.PurposeChange, now)
	must(t, "GetEmailToken (a read does not consume)", err)
	checkToken(t, "GetEmailToken again", got, want)
	got, err = s.ConsumeEmailToken(ctx, hash, accounts.PurposeChange, now)
	must(t, "ConsumeEmailToken", err)
	checkToken(t, "ConsumeEmailToken", got, want)
	_, err = s.GetEmailToken(ctx, hash, accounts.PurposeChange, now)
	wantErr(t, "GetEmailToken after consumption", err, accounts.ErrNotFound)
}

func testEmailTokenSingleUse(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	_, et := newToken(newID(), accounts.PurposeReset, "a@example.com", time.Hour)
	mustCreateToken(t, s, et)
	now := time.Now()
	_, err := s.ConsumeEmailToken(ctx, et.Hash, accounts.PurposeReset, now)
	must(t, "first ConsumeEmailToken", err)
	_, err = s.ConsumeEmailToken(ctx, et.Hash, accounts.PurposeReset, now)
	wantErr(t, "second ConsumeEmailToken", err, accounts.ErrNotFound)
	_, unknown := accounts.NewEmailToken()
	_, err = s.ConsumeEmailToken(ctx, unknown, accounts.PurposeReset, now)
	wantErr(t, "ConsumeEmailToken(unknown hash)", err, accounts.ErrNotFound)
	_, err = s.GetEmailToken(ctx, unknown, accounts.PurposeReset, now)
	wantErr(t, "GetEmailToken(unknown hash)", err, accounts.ErrNotFound)
}

func testEmailTokenPurposeAndExpiry(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	now := time.Now()
	_, verify := newToken(newID(), accounts.PurposeVerify, "a@example.com", time.Hour)
	mustCreateToken(t, s, verify)
	for _, p := range []accounts.TokenPurpose{accounts.PurposeReset, accounts.PurposeChange} {
		_, err := s.GetEmailToken(ctx, verify.Hash, p, now)
		wantErr(t, fmt.Sprintf("GetEmailToken(verify token as %s)", p), err, accounts.ErrNotFound)
		_, err = s.ConsumeEmailToken(ctx, verify.Hash, p, now)
		wantErr(t, fmt.Sprintf("ConsumeEmailToken(verify token as %s)", p), err, accounts.ErrNotFound)
	}
	// A try with the wrong purpose leaves the token usable for its own.
	_, err := s.ConsumeEmailToken(ctx, verify.Hash, accounts.PurposeVerify, now)
	must(t, "ConsumeEmailToken(own purpose after wrong ones)", err)

	_, expired := newToken(newID(), accounts.PurposeReset, "a@example.com", time.Minute)
	mustCreateToken(t, s, expired)
	later := expired.ExpiresAt // expiry is exclusive: at ExpiresAt it is dead
	_, err = s.GetEmailToken(ctx, expired.Hash, accounts.PurposeReset, later)
	wantErr(t, "GetEmailToken(expired)", err, accounts.ErrNotFound)
	_, err = s.ConsumeEmailToken(ctx, expired.Hash, accounts.PurposeReset, later)
	wantErr(t, "ConsumeEmailToken(expired)", err, accounts.ErrNotFound)
	_, err = s.ConsumeEmailToken(ctx, expired.Hash, accounts.PurposeReset, now)
	wantErr(t, "ConsumeEmailToken(expired, tried again before its expiry)", err, accounts.ErrNotFound)
}

func testEmailTokenDeleteAndSweep(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	now := time.Now()
	user, other := newID(), newID()
	_, r1 := newToken(user, accounts.PurposeReset, "a@example.com", time.Hour)
	_, r2 := newToken(user, accounts.PurposeReset, "a@example.com", time.Hour)
	_, v := newToken(user, accounts.PurposeVerify, "a@example.com", time.Hour)
	_, o := newToken(other, accounts.PurposeReset, "b@example.com", time.Hour)
	_, old := newToken(other, accounts.PurposeVerify, "b@example.com", time.Minute)
	for _, et := range []*accounts.EmailToken{r1, r2, v, o, old} {
		mustCreateToken(t, s, et)
	}
	n, err := s.DeleteEmailTokens(ctx, user, accounts.PurposeReset)
	must(t, "DeleteEmailTokens(reset)", err)
	if n != 2 {
		t.Errorf("DeleteEmailTokens(reset) = %d, want 2", n)
	}
	for _, et := range []*accounts.EmailToken{r1, r2} {
		_, err := s.GetEmailToken(ctx, et.Hash, accounts.PurposeReset, now)
		wantErr(t, "GetEmailToken(deleted reset token)", err, accounts.ErrNotFound)
	}
	_, err = s.GetEmailToken(ctx, v.Hash, accounts.PurposeVerify, now)
	must(t, "GetEmailToken(the user's verify token survives)", err)
	_, err = s.GetEmailToken(ctx, o.Hash, accounts.PurposeReset, now)
	must(t, "GetEmailToken(another user's reset token survives)", err)

	n, err = s.SweepEmailTokens(ctx, old.ExpiresAt)
	must(t, "SweepEmailTokens", err)
	if n != 1 {
		t.Errorf("SweepEmailTokens = %d, want 1 (the expired token)", n)
	}
	n, err = s.DeleteEmailTokens(ctx, user, "")
	must(t, "DeleteEmailTokens(all)", err)
	if n != 1 {
		t.Errorf("DeleteEmailTokens(all) = %d, want 1", n)
	}
	_, err = s.GetEmailToken(ctx, o.Hash, accounts.PurposeReset, now)
	must(t, "GetEmailToken(another user's token after sweep and delete)", err)
}

// Many requests presenting one link at once: exactly one consumes it.
func testConcurrentConsumeEmailToken(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	for round := range 3 {
		_, et := newToken(newID(), accounts.PurposeReset, "a@example.com", time.Hour)
		mustCreateToken(t, s, et)
		now := time.Now()
		errs := testkit.Race(racers, func(int) error {
			_, err := s.ConsumeEmailToken(ctx, et.Hash, accounts.PurposeReset, now)
			return err
		})
		testkit.OneWinner(t, fmt.Sprint("ConsumeEmailToken, round ", round), errs, accounts.ErrNotFound)
	}
}

func testSetEmail(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := newUser("Old@Example.com")
	u.EmailVerified = true
	other := newUser("taken@example.com")
	noEmail := newUser("")
	mustCreate(t, s, u)
	mustCreate(t, s, other)
	mustCreate(t, s, noEmail)

	wantErr(t, "SetEmail(to another user's address)", s.SetEmail(ctx, u.ID, u.Email, "TAKEN@example.com", true), accounts.ErrEmailTaken)
	wantErr(t, "SetEmail(stale current address)", s.SetEmail(ctx, u.ID, "older@example.com", "new@example.com", true), accounts.ErrConflict)
	wantErr(t, "SetEmail(unknown user)", s.SetEmail(ctx, newID(), "", "x@example.com", true), accounts.ErrNotFound)
	if got, err := s.GetUser(ctx, u.ID); err != nil || got.Email != u.Email || !got.EmailVerified {
		t.Fatalf("user after refused SetEmail = %+v, %v; want it unchanged", got, err)
	}

	must(t, "SetEmail", s.SetEmail(ctx, u.ID, "old@EXAMPLE.com", "New@Example.org", false))
	want := *u
	want.Email, want.EmailVerified = "New@Example.org", false
	checkUpdated(t, s, &want, u.UpdatedAt)
	if got, err := s.GetUserByEmail(ctx, "new@example.org"); err != nil || got.ID != u.ID {
		t.Errorf("GetUserByEmail(new address) = %v, %v; want %s", got, err, u.ID)
	}
	_, err := s.GetUserByEmail(ctx, "old@example.com")
	wantErr(t, "GetUserByEmail(old address)", err, accounts.ErrNotFound)
	mustCreate(t, s, newUser("old@example.com")) // the old address is free again
	wantErr(t, "CreateUser(the new address)", s.CreateUser(ctx, newUser("NEW@example.org")), accounts.ErrEmailTaken)

	// A case-only change keeps the address's claim; a user without an
	// address gets one.
	must(t, "SetEmail(case only)", s.SetEmail(ctx, u.ID, "New@Example.org", "new@example.org", true))
	if got, err := s.GetUserByEmail(ctx, "NEW@EXAMPLE.ORG"); err != nil || got.Email != "new@example.org" || !got.EmailVerified {
		t.Errorf("after a case-only change: %+v, %v", got, err)
	}
	must(t, "SetEmail(user without address)", s.SetEmail(ctx, noEmail.ID, "", "first@example.com", true))
	if got, err := s.GetUserByEmail(ctx, "first@example.com"); err != nil || got.ID != noEmail.ID {
		t.Errorf("GetUserByEmail(first address) = %v, %v; want %s", got, err, noEmail.ID)
	}
}

// Two users confirming a move to the same address at once: one gets it.
func testConcurrentSetEmailSameAddress(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	const n = 6
	users := make([]*accounts.User, n)
	for i := range users {
		users[i] = newUser(fmt.Sprintf("user%d@example.com", i))
		mustCreate(t, s, users[i])
	}
	errs := testkit.Race(n, func(i int) error {
		return s.SetEmail(ctx, users[i].ID, users[i].Email, "wanted@example.com", true)
	})
	testkit.OneWinner(t, "SetEmail to one address", errs, accounts.ErrEmailTaken)
	got, err := s.GetUserByEmail(ctx, "wanted@example.com")
	must(t, "GetUserByEmail(wanted)", err)
	for i, err := range errs {
		if (err == nil) != (got.ID == users[i].ID) {
			t.Errorf("the address belongs to %s, but racer %d (%s) returned %v", got.ID, i, users[i].ID, err)
		}
	}
}

func testMarkEmailVerified(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "Ann@Example.com")
	wantErr(t, "MarkEmailVerified(another address)", s.MarkEmailVerified(ctx, u.ID, "bob@example.com"), accounts.ErrConflict)
	wantErr(t, "MarkEmailVerified(unknown user)", s.MarkEmailVerified(ctx, newID(), "ann@example.com"), accounts.ErrNotFound)
	if got, _ := s.GetUser(ctx, u.ID); got == nil || got.EmailVerified {
		t.Fatalf("user verified by a refused MarkEmailVerified: %+v", got)
	}
	must(t, "MarkEmailVerified", s.MarkEmailVerified(ctx, u.ID, "ann@EXAMPLE.com"))
	want := *u
	want.EmailVerified = true
	checkUpdated(t, s, &want, u.UpdatedAt)
}

package accountstest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// FactorBackend is a backend that keeps users, their second factors and
// the audit log.
type FactorBackend interface {
	accounts.Store
	accounts.FactorStore
	accounts.AuditStore
}

// RunFactors runs the conformance suite of accounts.FactorStore. newStore
// must return a new, empty backend for every call.
func RunFactors(t *testing.T, newStore func(t *testing.T) FactorBackend) {
	runCases(t, newStore, []storeCase[FactorBackend]{
		{"PendingAndConfirmTOTP", testPendingAndConfirmTOTP},
		{"ConcurrentConfirmTOTP", testConcurrentConfirmTOTP},
		{"AcceptTOTPStep", testAcceptTOTPStep},
		{"ConcurrentAcceptSameStep", testConcurrentAcceptSameStep},
		{"ConcurrentAcceptTwoSteps", testConcurrentAcceptTwoSteps},
		{"RecoveryCodes", testRecoveryCodes},
		{"ConcurrentRecoveryCodeUse", testConcurrentRecoveryCodeUse},
		{"DeleteTOTP", testDeleteTOTP},
		{"Passkeys", testPasskeys},
		{"PasskeyLastMethodGuard", testPasskeyLastMethodGuard},
		{"ConcurrentRemoveLastPasskeys", testConcurrentRemoveLastPasskeys},
		{"ConcurrentUnlinkAndRemovePasskey", testConcurrentUnlinkAndRemovePasskey},
		{"DeleteUserRemovesFactors", testDeleteUserRemovesFactors},
		{"Ceremonies", testCeremonies},
		{"ConcurrentTakeCeremony", testConcurrentTakeCeremony},
		{"ConcurrentVerifySameCode", testConcurrentVerifySameCode}, // mfa.go
	})
}

func hashOf(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func hashes(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = hashOf(fmt.Sprint(prefix, i))
	}
	return out
}

func pending(userID, id string) *accounts.TOTPSecret {
	return &accounts.TOTPSecret{UserID: userID, ID: id, Sealed: []byte("sealed-" + id), CreatedAt: ms(time.Now())}
}

// withTOTP creates a user whose TOTP is on, confirmed at step.
func withTOTP(t *testing.T, s FactorBackend, step int64) *accounts.User {
	t.Helper()
	u := newUser("")
	u.PasswordHash = "$2a$12$abcdefghijklmnopqrstuv"
	mustCreate(t, s, u)
	must(t, "PutPendingTOTP", s.PutPendingTOTP(t.Context(), pending(u.ID, "p1")))
	must(t, "ConfirmTOTP", s.ConfirmTOTP(t.Context(), u.ID, "p1", step, hashes(u.ID, 10), time.Now()))
	return u
}

func testPendingAndConfirmTOTP(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := createUser(t, s, "")
	wantErr(t, "GetPendingTOTP(none)", errOf(s.GetPendingTOTP(ctx, u.ID)), accounts.ErrNotFound)
	wantErr(t, "GetTOTP(none)", errOf(s.GetTOTP(ctx, u.ID)), accounts.ErrNotFound)
	must(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, pending(u.ID, "first")))
	must(t, "PutPendingTOTP(again)", s.PutPendingTOTP(ctx, pending(u.ID, "second")))
	p, err := s.GetPendingTOTP(ctx, u.ID)
	must(t, "GetPendingTOTP", err)
	if p.ID != "second" || string(p.Sealed) != "sealed-second" {
		t.Errorf("pending = %q %q, want the replacement", p.ID, p.Sealed)
	}
	wantErr(t, "ConfirmTOTP(replaced secret)", s.ConfirmTOTP(ctx, u.ID, "first", 100, nil, time.Now()), accounts.ErrNotFound)
	wantErr(t, "GetTOTP(unconfirmed)", errOf(s.GetTOTP(ctx, u.ID)), accounts.ErrNotFound)
	must(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, u.ID, "second", 100, hashes("c", 10), time.Now()))
	got, err := s.GetTOTP(ctx, u.ID)
	must(t, "GetTOTP", err)
	if got.ID != "second" || string(got.Sealed) != "sealed-second" || got.LastStep != 100 {
		t.Errorf("confirmed = %q %q step %d, want second, sealed-second, 100", got.ID, got.Sealed, got.LastStep)
	}
	wantErr(t, "GetPendingTOTP(after confirm)", errOf(s.GetPendingTOTP(ctx, u.ID)), accounts.ErrNotFound)
	if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 10 {
		t.Errorf("CountRecoveryCodes = %d, %v; want 10", n, err)
	}
	wantErr(t, "PutPendingTOTP(enabled)", s.PutPendingTOTP(ctx, pending(u.ID, "third")), accounts.ErrTOTPEnabled)
	got, err = s.GetTOTP(ctx, u.ID)
	must(t, "GetTOTP", err)
	if got.ID != "second" {
		t.Errorf("a refused enrolment changed the confirmed secret to %q", got.ID)
	}
}

func testConcurrentConfirmTOTP(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := createUser(t, s, "")
	must(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, pending(u.ID, "p")))
	errs := testkit.Race(racers, func(i int) error {
		return s.ConfirmTOTP(ctx, u.ID, "p", 50, hashes(fmt.Sprint("r", i), 10), time.Now())
	})
	testkit.OneWinner(t, "ConfirmTOTP", errs, accounts.ErrTOTPEnabled, accounts.ErrNotFound)
}

func testAcceptTOTPStep(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := withTOTP(t, s, 1000)
	wantErr(t, "accept the confirming step", s.AcceptTOTPStep(ctx, u.ID, 1000), accounts.ErrCodeReplayed)
	wantErr(t, "accept an earlier step", s.AcceptTOTPStep(ctx, u.ID, 999), accounts.ErrCodeReplayed)
	must(t, "accept the next step", s.AcceptTOTPStep(ctx, u.ID, 1001))
	wantErr(t, "accept it again", s.AcceptTOTPStep(ctx, u.ID, 1001), accounts.ErrCodeReplayed)
	must(t, "skip ahead", s.AcceptTOTPStep(ctx, u.ID, 1005))
	wantErr(t, "go back", s.AcceptTOTPStep(ctx, u.ID, 1003), accounts.ErrCodeReplayed)
	got, err := s.GetTOTP(ctx, u.ID)
	must(t, "GetTOTP", err)
	if got.LastStep != 1005 {
		t.Errorf("LastStep = %d, want 1005", got.LastStep)
	}
	other := createUser(t, s, "")
	wantErr(t, "accept without totp", s.AcceptTOTPStep(ctx, other.ID, 1006), accounts.ErrNotFound)
}

// One code, many concurrent verifications: exactly one is accepted.
func testConcurrentAcceptSameStep(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	for round := range 3 {
		u := withTOTP(t, s, 10)
		errs := testkit.Race(racers, func(int) error { return s.AcceptTOTPStep(ctx, u.ID, 11) })
		testkit.OneWinner(t, fmt.Sprint("AcceptTOTPStep, round ", round), errs, accounts.ErrCodeReplayed)
	}
}

// Codes of two adjacent steps at once: each step is accepted at most once,
// and afterwards neither is accepted again.
func testConcurrentAcceptTwoSteps(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := withTOTP(t, s, 10)
	errs := testkit.Race(racers, func(i int) error { return s.AcceptTOTPStep(ctx, u.ID, int64(11+i%2)) })
	won := map[int64]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			won[int64(11+i%2)]++
		case !errors.Is(err, accounts.ErrCodeReplayed):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if won[11] > 1 || won[12] > 1 || won[11]+won[12] == 0 {
		t.Errorf("accepted per step = %v, want at most one each and at least one", won)
	}
	for _, step := range []int64{11, 12} {
		wantErr(t, fmt.Sprint("step ", step, " after the race"), s.AcceptTOTPStep(ctx, u.ID, step), accounts.ErrCodeReplayed)
	}
}

func testRecoveryCodes(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := withTOTP(t, s, 10)
	other := withTOTP(t, s, 10)
	codes := hashes(u.ID, 10)
	must(t, "use a code", s.UseRecoveryCode(ctx, u.ID, codes[3]))
	wantErr(t, "use it again", s.UseRecoveryCode(ctx, u.ID, codes[3]), accounts.ErrNotFound)
	wantErr(t, "use another user's code", s.UseRecoveryCode(ctx, u.ID, hashes(other.ID, 10)[0]), accounts.ErrNotFound)
	wantErr(t, "use an unknown code", s.UseRecoveryCode(ctx, u.ID, hashOf("nope")), accounts.ErrNotFound)
	if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 9 {
		t.Errorf("CountRecoveryCodes = %d, %v; want 9", n, err)
	}
	must(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, hashes("new", 10)))
	wantErr(t, "use an old code", s.UseRecoveryCode(ctx, u.ID, codes[0]), accounts.ErrNotFound)
	must(t, "use a new code", s.UseRecoveryCode(ctx, u.ID, hashes("new", 10)[0]))
	if n, err := s.CountRecoveryCodes(ctx, other.ID); err != nil || n != 10 {
		t.Errorf("other user's CountRecoveryCodes = %d, %v; want 10", n, err)
	}
}

func testConcurrentRecoveryCodeUse(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := withTOTP(t, s, 10)
	code := hashes(u.ID, 10)[0]
	errs := testkit.Race(racers, func(int) error { return s.UseRecoveryCode(ctx, u.ID, code) })
	testkit.OneWinner(t, "UseRecoveryCode", errs, accounts.ErrNotFound)
}

func testDeleteTOTP(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := withTOTP(t, s, 10)
	must(t, "AcceptTOTPStep", s.AcceptTOTPStep(ctx, u.ID, 20))
	must(t, "DeleteTOTP", s.DeleteTOTP(ctx, u.ID))
	wantErr(t, "DeleteTOTP again", s.DeleteTOTP(ctx, u.ID), accounts.ErrNotFound)
	wantErr(t, "GetTOTP", errOf(s.GetTOTP(ctx, u.ID)), accounts.ErrNotFound)
	if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("CountRecoveryCodes after removal = %d, %v; want 0", n, err)
	}
	// A new secret starts afresh: its steps are not those of the old one.
	must(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, pending(u.ID, "again")))
	must(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, u.ID, "again", 15, nil, time.Now()))
	must(t, "AcceptTOTPStep(new secret)", s.AcceptTOTPStep(ctx, u.ID, 16))
}

func newPasskey(userID string, id string) *accounts.Passkey {
	return &accounts.Passkey{ID: []byte(id), UserID: userID, UserHandle: []byte(userID), PublicKey: []byte("cose-" + id),
		SignCount: 1, Transports: []string{"internal", "hybrid"}, Name: "Key " + id, Data: []byte(`{"id":"` + id + `"}`),
		CreatedAt: ms(time.Now())}
}

func testPasskeys(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := createUser(t, s, "")
	a, b := newPasskey(u.ID, "cred-a"), newPasskey(u.ID, "cred-b")
	b.CreatedAt = a.CreatedAt.Add(time.Second)
	must(t, "CreatePasskey(a)", s.CreatePasskey(ctx, a))
	must(t, "CreatePasskey(b)", s.CreatePasskey(ctx, b))
	other := createUser(t, s, "")
	wantErr(t, "CreatePasskey(taken id)", s.CreatePasskey(ctx, newPasskey(other.ID, "cred-a")), accounts.ErrPasskeyExists)
	wantErr(t, "CreatePasskey(unknown user)", s.CreatePasskey(ctx, newPasskey(newID(), "cred-c")), accounts.ErrNotFound)
	got, err := s.GetPasskey(ctx, []byte("cred-a"))
	must(t, "GetPasskey", err)
	if got.UserID != u.ID || !bytes.Equal(got.UserHandle, []byte(u.ID)) || string(got.PublicKey) != "cose-cred-a" ||
		got.SignCount != 1 || len(got.Transports) != 2 || got.Name != "Key cred-a" || !got.CreatedAt.Equal(a.CreatedAt) || !got.LastUsedAt.IsZero() {
		t.Errorf("GetPasskey = %+v, want %+v", got, a)
	}
	wantErr(t, "GetPasskey(unknown)", errOf(s.GetPasskey(ctx, []byte("nope"))), accounts.ErrNotFound)
	used := ms(time.Now())
	must(t, "UpdatePasskeyUse", s.UpdatePasskeyUse(ctx, []byte("cred-a"), 7, []byte(`{"n":7}`), used))
	list, err := s.ListPasskeys(ctx, u.ID)
	must(t, "ListPasskeys", err)
	if len(list) != 2 || string(list[0].ID) != "cred-a" || string(list[1].ID) != "cred-b" {
		t.Fatalf("ListPasskeys = %v, want cred-a, cred-b", list)
	}
	if list[0].SignCount != 7 || string(list[0].Data) != `{"n":7}` || !list[0].LastUsedAt.Equal(used) {
		t.Errorf("after UpdatePasskeyUse: count %d data %s used %v", list[0].SignCount, list[0].Data, list[0].LastUsedAt)
	}
	if l, err := s.ListPasskeys(ctx, other.ID); err != nil || len(l) != 0 {
		t.Errorf("ListPasskeys(other) = %v, %v; want none", l, err)
	}
	if n, err := s.DeletePasskeys(ctx, u.ID); err != nil || n != 2 {
		t.Errorf("DeletePasskeys = %d, %v; want 2", n, err)
	}
}

func testPasskeyLastMethodGuard(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	only := createUser(t, s, "")
	must(t, "CreatePasskey", s.CreatePasskey(ctx, newPasskey(only.ID, "only-1")))
	must(t, "CreatePasskey", s.CreatePasskey(ctx, newPasskey(only.ID, "only-2")))
	must(t, "remove one of two passkeys", s.DeletePasskeyIfNotLast(ctx, only.ID, []byte("only-1")))
	wantErr(t, "remove the last passkey", s.DeletePasskeyIfNotLast(ctx, only.ID, []byte("only-2")), accounts.ErrLastLoginMethod)
	wantErr(t, "remove it again", s.DeletePasskeyIfNotLast(ctx, only.ID, []byte("only-1")), accounts.ErrNotFound)

	// A passkey keeps an identity unlinkable, and an identity a passkey removable.
	mustLink(t, s, &accounts.Identity{Provider: "github", Subject: "pk-" + only.ID, UserID: only.ID})
	must(t, "unlink the identity of a user with a passkey", s.UnlinkIdentityIfNotLast(ctx, only.ID, "github"))
	mustLink(t, s, &accounts.Identity{Provider: "google", Subject: "pk-" + only.ID, UserID: only.ID})
	must(t, "remove the passkey of a user with an identity", s.DeletePasskeyIfNotLast(ctx, only.ID, []byte("only-2")))
	wantErr(t, "unlink the last identity", s.UnlinkIdentityIfNotLast(ctx, only.ID, "google"), accounts.ErrLastLoginMethod)

	withPassword := newUser("")
	withPassword.PasswordHash = "$2a$12$abcdefghijklmnopqrstuv"
	mustCreate(t, s, withPassword)
	must(t, "CreatePasskey", s.CreatePasskey(ctx, newPasskey(withPassword.ID, "pw-1")))
	wantErr(t, "remove another user's passkey", s.DeletePasskeyIfNotLast(ctx, only.ID, []byte("pw-1")), accounts.ErrNotFound)
	must(t, "remove the passkey of a user with a password", s.DeletePasskeyIfNotLast(ctx, withPassword.ID, []byte("pw-1")))
}

// A password-less user with two passkeys removes both at once: one remains.
func testConcurrentRemoveLastPasskeys(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	for round := range 3 {
		u := createUser(t, s, "")
		ids := []string{fmt.Sprint("r", round, "-a-", u.ID), fmt.Sprint("r", round, "-b-", u.ID)}
		for _, id := range ids {
			must(t, "CreatePasskey", s.CreatePasskey(ctx, newPasskey(u.ID, id)))
		}
		testkit.Race(racers, func(i int) error { return s.DeletePasskeyIfNotLast(ctx, u.ID, []byte(ids[i%2])) })
		left, err := s.ListPasskeys(ctx, u.ID)
		must(t, "ListPasskeys", err)
		if len(left) != 1 {
			t.Fatalf("round %d: %d passkeys remain, want 1", round, len(left))
		}
	}
}

// The last identity and the last passkey removed at once: one remains.
func testConcurrentUnlinkAndRemovePasskey(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	for round := range 3 {
		u := createUser(t, s, "")
		mustLink(t, s, &accounts.Identity{Provider: "github", Subject: fmt.Sprint("mix-", round, u.ID), UserID: u.ID})
		must(t, "CreatePasskey", s.CreatePasskey(ctx, newPasskey(u.ID, "mix-"+u.ID)))
		testkit.Race(racers, func(i int) error {
			if i%2 == 0 {
				return s.UnlinkIdentityIfNotLast(ctx, u.ID, "github")
			}
			return s.DeletePasskeyIfNotLast(ctx, u.ID, []byte("mix-"+u.ID))
		})
		ids, err := s.ListIdentities(ctx, u.ID)
		must(t, "ListIdentities", err)
		keys, err := s.ListPasskeys(ctx, u.ID)
		must(t, "ListPasskeys", err)
		if len(ids)+len(keys) != 1 {
			t.Fatalf("round %d: %d identities and %d passkeys remain, want one method", round, len(ids), len(keys))
		}
	}
}

func testDeleteUserRemovesFactors(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	u := withTOTP(t, s, 10)
	must(t, "CreatePasskey", s.CreatePasskey(ctx, newPasskey(u.ID, "del-"+u.ID)))
	keep := withTOTP(t, s, 10)
	must(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	wantErr(t, "GetTOTP", errOf(s.GetTOTP(ctx, u.ID)), accounts.ErrNotFound)
	wantErr(t, "GetPasskey", errOf(s.GetPasskey(ctx, []byte("del-"+u.ID))), accounts.ErrNotFound)
	if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("CountRecoveryCodes of a deleted user = %d, %v", n, err)
	}
	if n, err := s.CountRecoveryCodes(ctx, keep.ID); err != nil || n != 10 {
		t.Errorf("another user's CountRecoveryCodes = %d, %v; want 10", n, err)
	}
}

func testCeremonies(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	now := time.Now()
	must(t, "PutCeremony", s.PutCeremony(ctx, "c1", []byte("state"), now.Add(time.Minute)))
	got, err := s.TakeCeremony(ctx, "c1", now)
	must(t, "TakeCeremony", err)
	if string(got) != "state" {
		t.Errorf("TakeCeremony = %q, want state", got)
	}
	wantErr(t, "TakeCeremony again", errOf(s.TakeCeremony(ctx, "c1", now)), accounts.ErrNotFound)
	must(t, "PutCeremony", s.PutCeremony(ctx, "c2", []byte("state"), now.Add(time.Minute)))
	wantErr(t, "TakeCeremony(expired)", errOf(s.TakeCeremony(ctx, "c2", now.Add(2*time.Minute))), accounts.ErrNotFound)
	wantErr(t, "TakeCeremony(unknown)", errOf(s.TakeCeremony(ctx, "nope", now)), accounts.ErrNotFound)
}

func testConcurrentTakeCeremony(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	must(t, "PutCeremony", s.PutCeremony(ctx, "once", []byte("state"), time.Now().Add(time.Minute)))
	errs := testkit.Race(racers, func(int) error { _, err := s.TakeCeremony(ctx, "once", time.Now()); return err })
	testkit.OneWinner(t, "TakeCeremony", errs, accounts.ErrNotFound)
}

func errOf[T any](_ T, err error) error { return err }

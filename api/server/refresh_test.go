package server

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session"
)

// The joined refresh step moves the session on and returns it with its
// user exactly as the stores read them apart; for a disabled or deleted
// user, and for every check the session store's step makes, it matches
// nothing and leaves the session as it was.
func TestSQLiteRefreshStep(t *testing.T) {
	ctx := context.Background()
	st := embeddedStores(t) // instrument_test.go
	if st.refresh == nil {
		t.Fatal("the embedded store has no joined refresh step")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	newUser := func(email string) *accounts.User {
		u := &accounts.User{ID: accounts.NewID(), Email: email, EmailVerified: true, Name: "Rea", Roles: []string{"member", "admin"},
			PasswordHash: "hash", CreatedAt: now, UpdatedAt: now}
		if err := st.accounts.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	newSession := func(userID string) (*session.Session, *session.Advance) {
		x := &session.Session{ID: accounts.NewID(), UserID: userID, ClientID: "app", AMR: []string{"pwd"}, Scope: "openid",
			UserAgent: "test", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour),
			RefreshHash: []byte("0123456789abcdef0123456789abcdef"), RefreshExpiresAt: now.Add(time.Hour)}
		if err := st.sessions.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		return x, &session.Advance{ClientID: "app", Rotation: session.Rotation{SessionID: x.ID, FromHash: x.RefreshHash,
			ToHash: []byte("fedcba9876543210fedcba9876543210"), At: now.Add(time.Second), IdleExpiresAt: now.Add(2 * time.Hour)}}
	}
	unmoved := func(what string, x *session.Session) {
		t.Helper()
		got, err := st.sessions.GetSession(ctx, x.ID)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.RefreshGen != 0 || string(got.RefreshHash) != string(x.RefreshHash) {
			t.Fatalf("%s moved the session to generation %d", what, got.RefreshGen)
		}
	}

	u := newUser("rea@example.com")
	x, a := newSession(u.ID)
	for name, change := range map[string]func(b *session.Advance){
		"another client":  func(b *session.Advance) { b.ClientID = "other" },
		"another hash":    func(b *session.Advance) { b.FromHash = []byte("x") },
		"idle":            func(b *session.Advance) { b.At = now.Add(2 * time.Hour) },
		"unknown session": func(b *session.Advance) { b.SessionID = accounts.NewID() },
	} {
		b := *a
		change(&b)
		if _, _, err := st.refresh.AdvanceRefresh(ctx, &b); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("%s: %v, want ErrNotFound", name, err)
		}
		unmoved(name, x)
	}
	s, gu, err := st.refresh.AdvanceRefresh(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	wantS, err := st.sessions.GetSession(ctx, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantU, err := st.accounts.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != x.ID || s.UserID != u.ID || s.RefreshGen != 1 || string(s.RefreshHash) != string(a.ToHash) ||
		!s.RotatedAt.Equal(a.At) || !s.LastUsedAt.Equal(a.At) || !s.RefreshExpiresAt.Equal(x.ExpiresAt) ||
		wantS.RefreshGen != 1 || !wantS.RefreshExpiresAt.Equal(s.RefreshExpiresAt) || s.Scope != x.Scope || !slices.Equal(s.AMR, x.AMR) {
		t.Fatalf("advanced session %+v, stored %+v", s, wantS)
	}
	if gu.ID != wantU.ID || gu.Email != wantU.Email || gu.EmailVerified != wantU.EmailVerified || gu.Name != wantU.Name ||
		!slices.Equal(gu.Roles, wantU.Roles) || gu.Disabled {
		t.Fatalf("user %+v, want %+v", gu, wantU)
	}
	if _, _, err := st.refresh.AdvanceRefresh(ctx, a); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("a spent generation: %v, want ErrNotFound", err)
	}

	// A disabled user's session does not move; enabled again, it does.
	d := newUser("dis@example.com")
	y, b := newSession(d.ID)
	if err := st.accounts.SetDisabled(ctx, d.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.refresh.AdvanceRefresh(ctx, b); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("disabled user: %v, want ErrNotFound", err)
	}
	unmoved("a disabled user", y)
	if err := st.accounts.SetDisabled(ctx, d.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.refresh.AdvanceRefresh(ctx, b); err != nil {
		t.Fatalf("enabled again: %v", err)
	}

	// A session whose user is gone.
	z, c := newSession(accounts.NewID())
	if _, _, err := st.refresh.AdvanceRefresh(ctx, c); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("deleted user: %v, want ErrNotFound", err)
	}
	unmoved("a deleted user", z)
}

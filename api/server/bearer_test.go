package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session"
)

// The joined bearer read answers what the two stores answer apart, and
// nothing (ok false) once the session ended or expired or its user is gone.
func TestSQLiteBearerRead(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ctx := context.Background()
	st, err := openStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close(ctx)
	if st.bearer == nil {
		t.Fatal("the embedded store has no joined bearer read")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &accounts.User{ID: accounts.NewID(), Email: "bea@example.com", Name: "Bea", Roles: []string{"member", "admin"},
		CreatedAt: now, UpdatedAt: now}
	if err := st.accounts.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"github", "acme"} {
		if err := st.accounts.LinkIdentity(ctx, &accounts.Identity{Provider: p, Subject: "bea-" + p, UserID: u.ID, Email: "bea@" + p, LinkedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	newSession := func(userID string, expires time.Time) *session.Session {
		x := &session.Session{ID: accounts.NewID(), UserID: userID, ClientID: "app", AMR: []string{"pwd"}, Scope: "openid",
			UserAgent: "test", CreatedAt: now, LastUsedAt: now, ExpiresAt: expires,
			RefreshHash: []byte("0123456789abcdef0123456789abcdef"), RefreshExpiresAt: expires}
		if err := st.sessions.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	live := newSession(u.ID, now.Add(time.Hour))

	wantS, err := st.sessions.GetSession(ctx, live.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantU, err := st.accounts.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs, err := st.accounts.ListIdentities(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, withIDs := range []bool{true, false} {
		s, gu, ids, ok, err := st.bearer.ReadBearer(ctx, live.ID, withIDs)
		if err != nil || !ok {
			t.Fatalf("ReadBearer(live, %v): ok %v, %v", withIDs, ok, err)
		}
		if s.ID != wantS.ID || s.UserID != wantS.UserID || s.ClientID != wantS.ClientID || !slices.Equal(s.AMR, wantS.AMR) ||
			s.Scope != wantS.Scope || s.UserAgent != wantS.UserAgent || !s.ExpiresAt.Equal(wantS.ExpiresAt) ||
			!s.CreatedAt.Equal(wantS.CreatedAt) || string(s.RefreshHash) != string(wantS.RefreshHash) || s.RefreshGen != wantS.RefreshGen {
			t.Errorf("session = %+v, want %+v", *s, *wantS)
		}
		if gu.ID != wantU.ID || gu.Email != wantU.Email || gu.Name != wantU.Name || !slices.Equal(gu.Roles, wantU.Roles) ||
			gu.Disabled || !gu.CreatedAt.Equal(wantU.CreatedAt) {
			t.Errorf("user = %+v, want %+v", *gu, *wantU)
		}
		if !withIDs {
			if ids != nil {
				t.Errorf("identities read though not asked for: %v", ids)
			}
			continue
		}
		if len(ids) != len(wantIDs) || len(ids) != 2 {
			t.Fatalf("%d identities, want %d", len(ids), len(wantIDs))
		}
		for i := range ids {
			if ids[i].Provider != wantIDs[i].Provider || ids[i].Subject != wantIDs[i].Subject || ids[i].UserID != u.ID ||
				ids[i].Email != wantIDs[i].Email || !ids[i].LinkedAt.Equal(wantIDs[i].LinkedAt) {
				t.Errorf("identity %d = %+v, want %+v", i, *ids[i], *wantIDs[i])
			}
		}
	}

	// Disabling shows at the next read (refusing is the API's part).
	if err := st.accounts.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, gu, _, ok, err := st.bearer.ReadBearer(ctx, live.ID, false); err != nil || !ok || !gu.Disabled {
		t.Errorf("after disabling: ok %v, %v, user %+v", ok, err, gu)
	}
	// An expired session, an unknown one, an ended one, a deleted user.
	expired := newSession(u.ID, now.Add(-time.Second))
	if _, _, _, ok, err := st.bearer.ReadBearer(ctx, expired.ID, true); ok || err != nil {
		t.Errorf("expired session: ok %v, %v", ok, err)
	}
	if _, _, _, ok, err := st.bearer.ReadBearer(ctx, accounts.NewID(), true); ok || err != nil {
		t.Errorf("unknown session: ok %v, %v", ok, err)
	}
	ended := newSession(u.ID, now.Add(time.Hour))
	if err := st.sessions.DeleteSession(ctx, ended.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok, err := st.bearer.ReadBearer(ctx, ended.ID, false); ok || err != nil {
		t.Errorf("ended session: ok %v, %v", ok, err)
	}
	if err := st.accounts.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok, err := st.bearer.ReadBearer(ctx, live.ID, true); ok || err != nil {
		t.Errorf("session of a deleted user: ok %v, %v", ok, err)
	}
}

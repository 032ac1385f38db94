package server

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session"
)

// The joined bearer read answers what the two stores answer apart, and
// nothing (ok false) once the session ended or expired or its user is gone.
func TestSQLiteBearerRead(t *testing.T) {
	ctx := context.Background()
	st := embeddedStores(t) // instrument_test.go
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
	// Second factors: a confirmed TOTP secret with three recovery codes, and
	// a passkey.
	fs, ok := st.accounts.(factorStore)
	if !ok {
		t.Fatalf("%T stores no factors", st.accounts)
	}
	pending := &accounts.TOTPSecret{ID: accounts.NewID(), UserID: u.ID, Sealed: []byte("sealed"), CreatedAt: now}
	if err := fs.PutPendingTOTP(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if err := fs.ConfirmTOTP(ctx, u.ID, pending.ID, 1, [][]byte{[]byte("h1"), []byte("h2"), []byte("h3")}, now); err != nil {
		t.Fatal(err)
	}
	if err := fs.CreatePasskey(ctx, &accounts.Passkey{ID: []byte("cred-1"), UserID: u.ID, UserHandle: []byte("h"),
		PublicKey: []byte("k"), Name: "key", Data: []byte("{}"), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

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
		r, err := st.bearer.ReadBearer(ctx, live.ID, withIDs)
		if err != nil || r == nil {
			t.Fatalf("ReadBearer(live, %v): %v, %v", withIDs, r, err)
		}
		s, gu, ids := r.Session, r.User, r.Identities
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
			if ids != nil || r.MFA != nil {
				t.Errorf("identities or factors read though not asked for: %v, %v", ids, r.MFA)
			}
			continue
		}
		if want := (mfa.Status{TOTP: true, Passkeys: 1, RecoveryCodesLeft: 3}); r.MFA == nil || *r.MFA != want {
			t.Errorf("factors = %+v, want %+v", r.MFA, want)
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
	if r, err := st.bearer.ReadBearer(ctx, live.ID, false); err != nil || r == nil || !r.User.Disabled {
		t.Errorf("after disabling: %+v, %v", r, err)
	}
	// An expired session, an unknown one, an ended one, a deleted user.
	expired := newSession(u.ID, now.Add(-time.Second))
	if r, err := st.bearer.ReadBearer(ctx, expired.ID, true); r != nil || err != nil {
		t.Errorf("expired session: %+v, %v", r, err)
	}
	if r, err := st.bearer.ReadBearer(ctx, accounts.NewID(), true); r != nil || err != nil {
		t.Errorf("unknown session: %+v, %v", r, err)
	}
	ended := newSession(u.ID, now.Add(time.Hour))
	if err := st.sessions.DeleteSession(ctx, ended.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := st.bearer.ReadBearer(ctx, ended.ID, false); r != nil || err != nil {
		t.Errorf("ended session: %+v, %v", r, err)
	}
	if err := st.accounts.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := st.bearer.ReadBearer(ctx, live.ID, true); r != nil || err != nil {
		t.Errorf("session of a deleted user: %+v, %v", r, err)
	}
}

// factorStore is the part of the accounts store the test sets factors with.
type factorStore interface {
	PutPendingTOTP(ctx context.Context, t *accounts.TOTPSecret) error
	ConfirmTOTP(ctx context.Context, userID, pendingID string, step int64, hashes [][]byte, at time.Time) error
	CreatePasskey(ctx context.Context, p *accounts.Passkey) error
}

// BenchmarkSQLiteBearerRead is the joined read of every GET /users/me.
func BenchmarkSQLiteBearerRead(b *testing.B) {
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	ctx := context.Background()
	st, err := openStores(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer st.close(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &accounts.User{ID: accounts.NewID(), Email: "bea@example.com", Name: "Bea", Roles: []string{"member"},
		PasswordHash: "$2a$10$abcdefghijklmnopqrstuv", CreatedAt: now, UpdatedAt: now}
	if err := st.accounts.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	s := &session.Session{ID: accounts.NewID(), UserID: u.ID, ClientID: "app", AMR: []string{"pwd"}, Scope: "openid",
		UserAgent: "Go client on Linux", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour),
		RefreshHash: []byte("0123456789abcdef0123456789abcdef"), RefreshExpiresAt: now.Add(time.Hour)}
	if err := st.sessions.CreateSession(ctx, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if r, err := st.bearer.ReadBearer(ctx, s.ID, true); err != nil || r == nil {
			b.Fatal(r, err)
		}
	}
	// CPU time, not wall-clock: robust to what else the machine runs.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's user and system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

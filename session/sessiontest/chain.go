package sessiontest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// chainCases cover refresh tokens as an HMAC chain held by the session
// record: constant storage, reuse detection however old the token, the
// atomic rotation step, and tokens from before the chain.
var chainCases = []testCase{
	{"RotateRefreshOneWinner", testRotateRefreshOneWinner},
	{"RotateRefreshEndedSession", testRotateRefreshEndedSession},
	{"ManagerConstantRecordsPerSession", testManagerConstantRecords},
	{"ManagerReuseOfOldTokenRevokes", testManagerReuseOfOldToken},
	{"ManagerForgedTokenRevokesNothing", testManagerForgedToken},
	{"ManagerIdleDeadline", testManagerIdleDeadline},
	{"ManagerTokensFromBeforeTheChain", testManagerLegacyTokens},
	{"ManagerCachedAccessTokens", testManagerCachedAccessTokens},
}

func chainSession(t *testing.T, s session.Store) *session.Session {
	t.Helper()
	at := now()
	x := &session.Session{ID: randomID(t), UserID: randomID(t), CreatedAt: at, LastUsedAt: at,
		ExpiresAt: at.Add(time.Hour), RefreshHash: hashOf(t), RefreshExpiresAt: at.Add(time.Hour)}
	must(t, "CreateSession", s.CreateSession(t.Context(), x))
	return x
}

// Of concurrent rotations from one generation exactly one wins; the rest,
// and any later rotation from that generation, get ErrAlreadyExists; the
// session then holds the winner's hash, generation and times.
func testRotateRefreshOneWinner(t *testing.T, s session.Store) {
	ctx := t.Context()
	x := chainSession(t, s)
	at := now().Add(time.Minute)
	next := hashOf(t)
	r := &session.Rotation{SessionID: x.ID, FromGen: 0, FromHash: x.RefreshHash, ToHash: next, At: at, IdleExpiresAt: at.Add(30 * time.Minute)}
	errs := testkit.Race(20, func(int) error { return s.RotateRefresh(ctx, r) })
	testkit.OneWinner(t, "RotateRefresh", errs, session.ErrAlreadyExists)
	wantErr(t, "RotateRefresh(spent generation)", s.RotateRefresh(ctx, r), session.ErrAlreadyExists)
	got, err := s.GetSession(ctx, x.ID)
	must(t, "GetSession", err)
	if got.RefreshGen != 1 || string(got.RefreshHash) != string(next) || !got.RotatedAt.Equal(at) ||
		!got.LastUsedAt.Equal(at) || !got.RefreshExpiresAt.Equal(at.Add(30*time.Minute)) {
		t.Fatalf("after the rotation: gen %d, rotated %v, last used %v, idle %v", got.RefreshGen, got.RotatedAt, got.LastUsedAt, got.RefreshExpiresAt)
	}
	r2 := &session.Rotation{SessionID: x.ID, FromGen: 1, FromHash: next, ToHash: hashOf(t), At: at, IdleExpiresAt: at.Add(time.Minute)}
	must(t, "RotateRefresh(next generation)", s.RotateRefresh(ctx, r2))
}

func testRotateRefreshEndedSession(t *testing.T, s session.Store) {
	ctx := t.Context()
	r := &session.Rotation{SessionID: randomID(t), FromHash: hashOf(t), ToHash: hashOf(t), At: now(), IdleExpiresAt: now().Add(time.Minute)}
	wantErr(t, "RotateRefresh(unknown session)", s.RotateRefresh(ctx, r), session.ErrNotFound)
	x := chainSession(t, s)
	must(t, "DeleteSession", s.DeleteSession(ctx, x.ID))
	r = &session.Rotation{SessionID: x.ID, FromHash: x.RefreshHash, ToHash: hashOf(t), At: now(), IdleExpiresAt: now().Add(time.Minute)}
	wantErr(t, "RotateRefresh(ended session)", s.RotateRefresh(ctx, r), session.ErrNotFound)
	if n, err := s.SessionRecords(ctx, x.ID); err != nil || n != 0 {
		t.Fatalf("records of an ended session: %d, %v", n, err)
	}
}

// A session keeps the same number of records across 1,000 refreshes.
func testManagerConstantRecords(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	ctx := t.Context()
	count := func() int {
		n, err := s.SessionRecords(ctx, p.SessionID)
		must(t, "SessionRecords", err)
		return n
	}
	token := p.RefreshToken
	var base int
	for i := range 1000 {
		next, err := m.Refresh(ctx, token, "", "", subjectLoader)
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		token = next.RefreshToken
		clk.Advance(time.Minute)
		if i == 0 {
			base = count()
			if base < 1 || base > 2 {
				t.Fatalf("a refreshed session keeps %d records, want 1 or 2", base)
			}
		} else if i%100 == 99 {
			if n := count(); n != base {
				t.Fatalf("after %d refreshes the session keeps %d records, after 1 it kept %d", i+1, n, base)
			}
		}
	}
}

// A token spent many rotations ago revokes the session when it comes back,
// even within the grace window of the latest rotation.
func testManagerReuseOfOldToken(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	ctx := t.Context()
	old, token := p.RefreshToken, p.RefreshToken
	var last *session.Pair
	for range 25 {
		next, err := m.Refresh(ctx, token, "", "", subjectLoader)
		must(t, "refresh", err)
		token, last = next.RefreshToken, next
	}
	var re *session.ReuseError
	if _, err := m.Refresh(ctx, old, "", "", subjectLoader); !errors.As(err, &re) || re.SessionID != p.SessionID {
		t.Fatalf("token spent 25 rotations ago: %v, want a ReuseError for the session", err)
	}
	if _, err := m.Refresh(ctx, token, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("current token after the reuse: %v, want ErrInvalidToken", err)
	}
	if _, _, err := m.Authenticate(ctx, last.AccessToken); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("access token after the reuse: %v", err)
	}
}

// Knowing a session id (it is the sid of every access token) or altering a
// token is not enough to revoke a session: such a token is just invalid.
func testManagerForgedToken(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	ctx := t.Context()
	next, err := m.Refresh(ctx, p.RefreshToken, "", "", subjectLoader)
	must(t, "refresh", err)
	parts := strings.Split(p.RefreshToken, ".")
	if len(parts) != 4 || parts[0] != p.SessionID {
		t.Fatalf("refresh token %q does not name its session", p.RefreshToken)
	}
	for name, forged := range map[string]string{
		"other secret":  strings.Join([]string{parts[0], parts[1], testkit.Tamper(parts[2], 0), parts[3]}, "."),
		"other tag":     strings.Join([]string{parts[0], parts[1], parts[2], testkit.Tamper(parts[3], 0)}, "."),
		"other gen":     strings.Join([]string{parts[0], "7", parts[2], parts[3]}, "."),
		"no tag":        strings.Join(parts[:3], "."),
		"extra part":    p.RefreshToken + ".x",
		"empty session": strings.Join(append([]string{""}, parts[1:]...), "."),
	} {
		if _, err := m.Refresh(ctx, forged, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
			t.Fatalf("%s: %v, want ErrInvalidToken", name, err)
		}
		if sess, err := m.Revoke(ctx, forged, "", nil); err != nil || sess != nil {
			t.Fatalf("revoke with %s: %v, %v; want nothing revoked", name, sess, err)
		}
	}
	if _, err := m.Refresh(ctx, next.RefreshToken, "", "", subjectLoader); err != nil {
		t.Fatalf("the real token after the forgeries: %v", err)
	}
}

func testManagerIdleDeadline(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	clk.Advance(31 * 24 * time.Hour) // past the 30-day idle deadline, before the 90-day absolute one
	if _, err := m.Refresh(t.Context(), p.RefreshToken, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("refresh after the idle deadline: %v, want ErrInvalidToken", err)
	}
}

// Sessions and tokens stored before the chain keep working: the old token
// rotates onto the chain (a retry within grace gets the same successor),
// and presented again after the grace window it revokes the session.
func testManagerLegacyTokens(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	ctx := t.Context()
	at := clk.Now()
	x := &session.Session{ID: randomID(t), UserID: randomID(t), AMR: []string{"pwd"}, CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
	must(t, "CreateSession(old)", s.CreateSession(ctx, x))
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	legacy := base64.RawURLEncoding.EncodeToString(b[:])
	must(t, "CreateRefresh(old)", s.CreateRefresh(ctx, &session.RefreshToken{Hash: session.HashToken(legacy), SessionID: x.ID, UserID: x.UserID, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}))

	p, err := m.Refresh(ctx, legacy, "", "", subjectLoader)
	must(t, "refresh an old token", err)
	if p.SessionID != x.ID || !strings.HasPrefix(p.RefreshToken, x.ID+".") {
		t.Fatalf("successor of an old token: session %q, token %q", p.SessionID, p.RefreshToken)
	}
	again, err := m.Refresh(ctx, legacy, "", "", subjectLoader)
	must(t, "retry of the old token within grace", err)
	if again.RefreshToken != p.RefreshToken {
		t.Fatal("a retry within grace got another successor")
	}
	next, err := m.Refresh(ctx, p.RefreshToken, "", "", subjectLoader)
	must(t, "refresh on the chain", err)
	clk.Advance(11 * time.Second)
	if _, err := m.Refresh(ctx, legacy, "", "", subjectLoader); !errors.Is(err, session.ErrRefreshReused) {
		t.Fatalf("old token reused after grace: %v, want ErrRefreshReused", err)
	}
	if _, err := m.Refresh(ctx, next.RefreshToken, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("chain token after the reuse: %v", err)
	}
}

// An access token verified before (and so cached) still stops working at
// its expiry and as soon as its session ends.
func testManagerCachedAccessTokens(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	ctx := t.Context()
	p := startSession(t, m)
	for range 3 {
		if _, _, err := m.Authenticate(ctx, p.AccessToken); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
	}
	clk.Advance(m.AccessTTL() + 11*time.Second) // past exp and the 10 s leeway
	if _, err := m.ParseAccess(ctx, p.AccessToken); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("expired cached token: %v, want ErrInvalidToken", err)
	}
	q := startSession(t, m)
	if _, _, err := m.Authenticate(ctx, q.AccessToken); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if _, err := m.Revoke(ctx, q.RefreshToken, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Authenticate(ctx, q.AccessToken); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("cached token of a revoked session: %v, want ErrInvalidToken", err)
	}
}

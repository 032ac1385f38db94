package sessiontest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// advanceCases cover Store.AdvanceRefresh, the common refresh checked and
// done in one write, and the Manager's use of it.
var advanceCases = []testCase{
	{"AdvanceRefreshMovesOn", testAdvanceMovesOn},
	{"AdvanceRefreshCapsIdleDeadline", testAdvanceCapsIdle},
	{"AdvanceRefreshChecksChangeNothing", testAdvanceChecks},
	{"AdvanceRefreshOneWinner", testAdvanceOneWinner},
	{"RotateRefreshFromGoneGeneration", testRotateFromGoneGeneration},
	{"ManagerAdvancerRefusesUser", testManagerAdvancerRefusesUser},
	{"ManagerRefreshWrongClientSpendsNothing", testManagerWrongClient},
}

// advanceSession stores a chain session of client "app" and returns it
// with the Advance of its current token at at.
func advanceSession(t *testing.T, s session.Store, at time.Time) (*session.Session, *session.Advance) {
	t.Helper()
	x := &session.Session{ID: randomID(t), UserID: randomID(t), ClientID: "app", AMR: []string{"pwd"}, Scope: "openid",
		CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(24 * time.Hour), RefreshHash: hashOf(t), RefreshExpiresAt: at.Add(time.Hour)}
	must(t, "CreateSession", s.CreateSession(t.Context(), x))
	next := at.Add(time.Minute)
	return x, &session.Advance{ClientID: "app", Rotation: session.Rotation{SessionID: x.ID, FromGen: 0, FromHash: x.RefreshHash,
		ToHash: hashOf(t), At: next, IdleExpiresAt: next.Add(30 * time.Minute)}}
}

// checkAdvanced checks that got (and the stored session) is x moved on by a.
func checkAdvanced(t *testing.T, s session.Store, got, x *session.Session, a *session.Advance, idle time.Time) {
	t.Helper()
	stored, err := s.GetSession(t.Context(), x.ID)
	must(t, "GetSession", err)
	for what, g := range map[string]*session.Session{"returned": got, "stored": stored} {
		want := *x
		want.LastUsedAt = a.At
		checkSession(t, g, &want)
		if g.RefreshGen != a.FromGen+1 {
			t.Errorf("%s RefreshGen = %d, want %d", what, g.RefreshGen, a.FromGen+1)
		}
		equalBytes(t, what+" RefreshHash", g.RefreshHash, a.ToHash)
		equalTime(t, what+" RotatedAt", g.RotatedAt, a.At)
		equalTime(t, what+" RefreshExpiresAt", g.RefreshExpiresAt, idle)
	}
}

func testAdvanceMovesOn(t *testing.T, s session.Store) {
	ctx := t.Context()
	x, a := advanceSession(t, s, now())
	got, err := s.AdvanceRefresh(ctx, a)
	must(t, "AdvanceRefresh", err)
	checkAdvanced(t, s, got, x, a, a.IdleExpiresAt)
	// The next generation, and one without a client.
	b := &session.Advance{ClientID: "app", Rotation: session.Rotation{SessionID: x.ID, FromGen: 1, FromHash: a.ToHash,
		ToHash: hashOf(t), At: a.At.Add(time.Minute), IdleExpiresAt: a.At.Add(time.Hour)}}
	got, err = s.AdvanceRefresh(ctx, b)
	must(t, "AdvanceRefresh(next generation)", err)
	checkAdvanced(t, s, got, x, b, b.IdleExpiresAt)

	y := &session.Session{ID: randomID(t), UserID: randomID(t), CreatedAt: a.At, LastUsedAt: a.At,
		ExpiresAt: a.At.Add(time.Hour), RefreshHash: hashOf(t), RefreshExpiresAt: a.At.Add(time.Hour)}
	must(t, "CreateSession(no client)", s.CreateSession(ctx, y))
	c := &session.Advance{Rotation: session.Rotation{SessionID: y.ID, FromHash: y.RefreshHash, ToHash: hashOf(t),
		At: a.At, IdleExpiresAt: a.At.Add(time.Minute)}}
	got, err = s.AdvanceRefresh(ctx, c)
	must(t, "AdvanceRefresh(no client)", err)
	checkAdvanced(t, s, got, y, c, c.IdleExpiresAt)
	if n, err := s.SessionRecords(ctx, x.ID); err != nil || n < 1 || n > 2 {
		t.Fatalf("records of an advanced session: %d, %v; want 1 or 2", n, err)
	}
}

// The idle deadline never passes the session's absolute expiry.
func testAdvanceCapsIdle(t *testing.T, s session.Store) {
	x, a := advanceSession(t, s, now())
	a.IdleExpiresAt = x.ExpiresAt.Add(time.Hour)
	got, err := s.AdvanceRefresh(t.Context(), a)
	must(t, "AdvanceRefresh", err)
	checkAdvanced(t, s, got, x, a, x.ExpiresAt)
}

// Every failed check is ErrNotFound and leaves the session as it was; the
// right Advance still succeeds afterwards.
func testAdvanceChecks(t *testing.T, s session.Store) {
	ctx := t.Context()
	at := now()
	x, a := advanceSession(t, s, at)
	for name, change := range map[string]func(b *session.Advance){
		"another generation": func(b *session.Advance) { b.FromGen = 1 },
		"another hash":       func(b *session.Advance) { b.FromHash = hashOf(t) },
		"another client":     func(b *session.Advance) { b.ClientID = "other" },
		"no client":          func(b *session.Advance) { b.ClientID = "" },
		"idle":               func(b *session.Advance) { b.At = x.RefreshExpiresAt.Add(time.Millisecond) },
		"unknown session":    func(b *session.Advance) { b.SessionID = randomID(t) },
	} {
		b := *a
		change(&b)
		_, err := s.AdvanceRefresh(ctx, &b)
		wantErr(t, "AdvanceRefresh("+name+")", err, session.ErrNotFound)
		got, err := s.GetSession(ctx, x.ID)
		must(t, "GetSession", err)
		if got.RefreshGen != 0 || string(got.RefreshHash) != string(x.RefreshHash) || !got.LastUsedAt.Equal(x.LastUsedAt) {
			t.Fatalf("%s moved the session: gen %d, last used %v", name, got.RefreshGen, got.LastUsedAt)
		}
	}
	got, err := s.AdvanceRefresh(ctx, a)
	must(t, "AdvanceRefresh after the failed checks", err)
	checkAdvanced(t, s, got, x, a, a.IdleExpiresAt)
	_, err = s.AdvanceRefresh(ctx, a)
	wantErr(t, "AdvanceRefresh(spent generation)", err, session.ErrNotFound)

	// An expired or ended session.
	old := &session.Session{ID: randomID(t), UserID: randomID(t), ClientID: "app", CreatedAt: at.Add(-2 * time.Hour),
		ExpiresAt: at.Add(-time.Hour), RefreshHash: hashOf(t)}
	must(t, "CreateSession(expired)", s.CreateSession(ctx, old))
	b := *a
	b.SessionID, b.FromGen, b.FromHash = old.ID, 0, old.RefreshHash
	_, err = s.AdvanceRefresh(ctx, &b)
	wantErr(t, "AdvanceRefresh(expired session)", err, session.ErrNotFound)
	y, c := advanceSession(t, s, at)
	must(t, "DeleteSession", s.DeleteSession(ctx, y.ID))
	_, err = s.AdvanceRefresh(ctx, c)
	wantErr(t, "AdvanceRefresh(ended session)", err, session.ErrNotFound)
	if n, err := s.SessionRecords(ctx, y.ID); err != nil || n != 0 {
		t.Fatalf("records of an ended session: %d, %v", n, err)
	}
}

// Of concurrent AdvanceRefresh and RotateRefresh calls from one generation
// exactly one moves the session on.
func testAdvanceOneWinner(t *testing.T, s session.Store) {
	ctx := t.Context()
	x, a := advanceSession(t, s, now())
	errs := testkit.Race(20, func(i int) error {
		if i%2 == 0 {
			_, err := s.AdvanceRefresh(ctx, a)
			return err
		}
		return s.RotateRefresh(ctx, &a.Rotation)
	})
	testkit.OneWinner(t, "AdvanceRefresh and RotateRefresh", errs, session.ErrNotFound, session.ErrAlreadyExists)
	got, err := s.GetSession(ctx, x.ID)
	must(t, "GetSession", err)
	if got.RefreshGen != 1 || string(got.RefreshHash) != string(a.ToHash) {
		t.Fatalf("after the race: gen %d", got.RefreshGen)
	}
}

// A rotation from a generation the session left long ago (two steps: its
// claim is free again where claims are records) never moves it back.
func testRotateFromGoneGeneration(t *testing.T, s session.Store) {
	ctx := t.Context()
	x, a := advanceSession(t, s, now())
	_, err := s.AdvanceRefresh(ctx, a)
	must(t, "AdvanceRefresh", err)
	b := &session.Advance{ClientID: "app", Rotation: session.Rotation{SessionID: x.ID, FromGen: 1, FromHash: a.ToHash,
		ToHash: hashOf(t), At: a.At, IdleExpiresAt: a.IdleExpiresAt}}
	_, err = s.AdvanceRefresh(ctx, b)
	must(t, "AdvanceRefresh(next)", err)
	wantErr(t, "RotateRefresh(gone generation)", s.RotateRefresh(ctx, &a.Rotation), session.ErrAlreadyExists)
	_, err = s.AdvanceRefresh(ctx, a)
	wantErr(t, "AdvanceRefresh(gone generation)", err, session.ErrNotFound)
	got, err := s.GetSession(ctx, x.ID)
	must(t, "GetSession", err)
	if got.RefreshGen != 2 || string(got.RefreshHash) != string(b.ToHash) {
		t.Fatalf("a rotation from generation 0 moved the session to generation %d", got.RefreshGen)
	}
	c := &session.Advance{ClientID: "app", Rotation: session.Rotation{SessionID: x.ID, FromGen: 2, FromHash: b.ToHash,
		ToHash: hashOf(t), At: a.At, IdleExpiresAt: a.IdleExpiresAt}}
	_, err = s.AdvanceRefresh(ctx, c)
	must(t, "AdvanceRefresh(current)", err)
}

// An Advancer that refuses the user (ErrNotFound) leaves the token
// unspent: Refresh takes the read path, whose SubjectLoader refuses too;
// once the user may refresh again the same token works.
func testManagerAdvancerRefusesUser(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 0)
	ctx := t.Context()
	p := startSession(t, m)
	var refused atomic.Bool
	refused.Store(true)
	errRefused := errors.New("user disabled")
	var advanced atomic.Int32
	advance := func(ctx context.Context, a *session.Advance) (*session.Session, session.Subject, error) {
		if refused.Load() {
			return nil, session.Subject{}, session.ErrNotFound
		}
		x, err := s.AdvanceRefresh(ctx, a)
		if err != nil {
			return nil, session.Subject{}, err
		}
		advanced.Add(1)
		return x, session.Subject{UserID: x.UserID, Roles: []string{"advanced"}}, nil
	}
	load := func(ctx context.Context, userID string) (session.Subject, error) {
		if refused.Load() {
			return session.Subject{}, errRefused
		}
		return subjectLoader(ctx, userID)
	}
	if _, err := m.RefreshWith(ctx, p.RefreshToken, "", "", load, advance); !errors.Is(err, errRefused) {
		t.Fatalf("refresh of a refused user: %v, want the loader's error", err)
	}
	refused.Store(false)
	next, err := m.RefreshWith(ctx, p.RefreshToken, "", "", load, advance)
	must(t, "refresh once the user may again", err)
	if advanced.Load() != 1 {
		t.Fatalf("the Advancer moved %d sessions, want 1", advanced.Load())
	}
	claims, err := m.ParseAccess(ctx, next.AccessToken)
	must(t, "ParseAccess", err)
	if len(claims.Roles) != 1 || claims.Roles[0] != "advanced" {
		t.Fatalf("roles %q: the Advancer's subject was not used", claims.Roles)
	}
	if _, err := m.RefreshWith(ctx, next.RefreshToken, "", "", load, advance); err != nil {
		t.Fatalf("refresh of the successor: %v", err)
	}
}

// A token presented by another client is refused and stays the current
// one for its own client.
func testManagerWrongClient(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 0)
	ctx := t.Context()
	p, err := m.Start(ctx, session.Grant{Subject: session.Subject{UserID: randomID(t)}, ClientID: "app", AMR: []string{"pwd"}})
	must(t, "start", err)
	for _, other := range []string{"other", ""} {
		if _, err := m.Refresh(ctx, p.RefreshToken, other, "", subjectLoader); !errors.Is(err, session.ErrClientMismatch) {
			t.Fatalf("refresh by client %q: %v, want ErrClientMismatch", other, err)
		}
	}
	next, err := m.Refresh(ctx, p.RefreshToken, "app", "", subjectLoader)
	must(t, "refresh by the session's client", err)
	if _, err := m.Refresh(ctx, next.RefreshToken, "app", "", subjectLoader); err != nil {
		t.Fatalf("refresh of the successor: %v", err)
	}
}

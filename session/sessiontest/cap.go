package sessiontest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// capCases: a user's sessions are capped, the oldest ended first (issue 11,
// item 1: one account created sessions without bound).
var capCases = []testCase{
	{"TrimUserSessions", testTrimUserSessions},
	{"ManagerSessionCap", testManagerSessionCap},
	{"ManagerSessionCapStorm", testManagerSessionCapStorm},
}

func testTrimUserSessions(t *testing.T, s session.Store) {
	ctx := t.Context()
	t0 := now()
	user, other := randomID(t), randomID(t)
	var ids []string
	for i := range 5 {
		x := &session.Session{ID: fmt.Sprint("s", i, randomID(t)), UserID: user, CreatedAt: t0.Add(time.Duration(i) * time.Second),
			LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		create(t, s, x)
		ids = append(ids, x.ID)
	}
	must(t, "CreateSession(other user)", s.CreateSession(ctx, &session.Session{ID: randomID(t), UserID: other, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	// Keep the oldest (as if just created) plus the newest two others.
	n, err := s.TrimUserSessions(ctx, user, ids[0], 2)
	must(t, "TrimUserSessions", err)
	if n != 2 {
		t.Errorf("TrimUserSessions ended %d, want 2", n)
	}
	list := listSessions(t, s, user, t0)
	got := map[string]bool{}
	for _, x := range list {
		got[x.ID] = true
	}
	if len(list) != 3 || !got[ids[0]] || !got[ids[3]] || !got[ids[4]] {
		t.Errorf("sessions after the trim = %v, want %s, %s and %s", got, ids[0], ids[3], ids[4])
	}
	if l, _ := s.ListSessions(ctx, other, t0); len(l) != 1 {
		t.Errorf("another user's sessions: %d, want 1", len(l))
	}
	if n, err := s.TrimUserSessions(ctx, user, ids[0], 2); err != nil || n != 0 {
		t.Errorf("second TrimUserSessions = %d, %v; want 0, nil", n, err)
	}
}

func testManagerSessionCap(t *testing.T, s session.Store) {
	ctx := t.Context()
	clk := testkit.NewClock(now())
	m := newCappedManager(t, s, clk, 3)
	user := randomID(t)
	var pairs []*session.Pair
	for range 5 {
		p, err := m.Start(ctx, session.Grant{Subject: session.Subject{UserID: user}, AMR: []string{"pwd"}})
		must(t, "Start", err)
		pairs = append(pairs, p)
		clk.Advance(time.Second)
	}
	list := listSessions(t, s, user, clk.Now())
	if len(list) != 3 {
		t.Fatalf("%d sessions after 5 sign-ins with a cap of 3", len(list))
	}
	for i, p := range pairs {
		_, err := m.Refresh(ctx, p.RefreshToken, "", "", subjectLoader)
		if ended := i < 2; ended != (err != nil) {
			t.Errorf("sign-in %d: refresh err = %v, want ended=%v (the oldest end first)", i, err, ended)
		}
	}
}

// A storm of concurrent sign-ins of one user: once they are over the user
// has at most the cap, and every one of them got a session that was live
// when it started (none failed).
func testManagerSessionCapStorm(t *testing.T, s session.Store) {
	ctx := t.Context()
	m := newCappedManager(t, s, testkit.NewClock(now()), 5)
	user := randomID(t)
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = m.Start(ctx, session.Grant{Subject: session.Subject{UserID: user}, AMR: []string{"pwd"}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Start %d: %v", i, err)
		}
	}
	list := listSessions(t, s, user, now())
	if len(list) > 5 || len(list) == 0 {
		t.Errorf("%d sessions after 30 concurrent sign-ins with a cap of 5", len(list))
	}
}

func newCappedManager(t *testing.T, s session.Store, clk *testkit.Clock, max int) *session.Manager {
	t.Helper()
	sealer, err := session.NewSealer(testKEK)
	must(t, "sealer", err)
	kr, err := session.NewKeyring(t.Context(), s, sealer, session.KeyringOptions{Now: clk.Now, ReloadInterval: time.Second})
	must(t, "keyring", err)
	m, err := session.NewManager(t.Context(), s, kr, sealer, session.Options{Issuer: "https://login.test", MaxSessionsPerUser: max, Now: clk.Now})
	must(t, "manager", err)
	return m
}

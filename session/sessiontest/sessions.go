package sessiontest

import (
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

var sessionCases = []testCase{
	{"SessionRoundTrip", testSessionRoundTrip},
	{"SessionMinimalFields", testSessionMinimalFields},
	{"SessionNotFound", testSessionNotFound},
	{"SessionExpired", testSessionExpired},
	{"SessionDuplicate", testSessionDuplicate},
	{"TouchSession", testTouchSession},
	{"ListSessions", testListSessions},
	{"ListSessionsUsesNow", testListSessionsUsesNow},
	{"DeleteSession", testDeleteSession},
	{"DeleteUserSessions", testDeleteUserSessions},
}

func testSessionRoundTrip(t *testing.T, s session.Store) {
	n := now()
	want := &session.Session{
		ID:         randomID(t),
		UserID:     randomID(t),
		ClientID:   "demo-app",
		AMR:        []string{"google", "pwd"},
		Scope:      "openid users:admin",
		UserAgent:  "Safari on macOS",
		CreatedAt:  n.Add(-time.Minute),
		LastUsedAt: n.Add(-time.Second),
		ExpiresAt:  n.Add(30 * 24 * time.Hour),
	}
	create(t, s, want)
	wantStored(t, s, want)
}

// Optional fields left empty come back empty, and a zero time stays zero.
func testSessionMinimalFields(t *testing.T, s session.Store) {
	n := now()
	want := &session.Session{
		ID:        randomID(t),
		UserID:    randomID(t),
		CreatedAt: n,
		ExpiresAt: n.Add(time.Hour),
	}
	create(t, s, want)
	wantStored(t, s, want)
}

func testSessionNotFound(t *testing.T, s session.Store) {
	_, err := s.GetSession(t.Context(), randomID(t))
	wantErr(t, "GetSession(unknown)", err, session.ErrNotFound)
}

func testSessionExpired(t *testing.T, s session.Store) {
	n := now()
	old := newSession(t, randomID(t), n.Add(-48*time.Hour))
	old.ExpiresAt = n.Add(-time.Second)
	create(t, s, old)
	wantGone(t, s, "GetSession(expired)", old)
}

func testSessionDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	first := newSession(t, randomID(t), now())
	create(t, s, first)
	second := newSession(t, randomID(t), now())
	second.ID = first.ID
	wantErr(t, "CreateSession(duplicate)", s.CreateSession(ctx, second), session.ErrAlreadyExists)
	wantStored(t, s, first) // the loser changed nothing
}

func testTouchSession(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	want := newSession(t, randomID(t), n.Add(-time.Hour))
	create(t, s, want)
	want.LastUsedAt = n
	must(t, "TouchSession", s.TouchSession(ctx, want.ID, n))
	wantStored(t, s, want)

	wantErr(t, "TouchSession(unknown)", s.TouchSession(ctx, randomID(t), n), session.ErrNotFound)
}

func testListSessions(t *testing.T, s session.Store) {
	n := now()
	user := randomID(t)
	oldest := newSession(t, user, n.Add(-3*time.Hour))
	newest := newSession(t, user, n.Add(-1*time.Hour))
	middle := newSession(t, user, n.Add(-2*time.Hour))
	expired := newSession(t, user, n.Add(-30*time.Hour))
	expired.ExpiresAt = n.Add(-time.Minute)
	other := newSession(t, randomID(t), n)
	create(t, s, oldest, newest, middle, expired, other)

	wantSessions(t, s, user, n, newest, middle, oldest)
	wantSessions(t, s, randomID(t), n) // a user without sessions
}

// ListSessions judges expiry by its now argument, not the clock.
func testListSessionsUsesNow(t *testing.T, s session.Store) {
	n := now()
	user := randomID(t)
	x := newSession(t, user, n)
	x.ExpiresAt = n.Add(time.Hour)
	create(t, s, x)

	wantSessions(t, s, user, n.Add(2*time.Hour)) // none two hours later
}

func testDeleteSession(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	user := randomID(t)
	doomed := newSession(t, user, n)
	kept := newSession(t, user, n)
	r1 := newRefresh(t, doomed, n)
	r2 := newRefresh(t, doomed, n)
	r2.ParentHash = r1.Hash
	rk := newRefresh(t, kept, n)
	create(t, s, doomed, kept, r1, r2, rk)

	must(t, "DeleteSession", s.DeleteSession(ctx, doomed.ID))
	wantGone(t, s, "GetSession(deleted)", doomed)
	wantGone(t, s, "GetRefresh(token of deleted session)", r1, r2)
	wantStored(t, s, kept, rk) // the other session and its token

	wantErr(t, "DeleteSession(again)", s.DeleteSession(ctx, doomed.ID), session.ErrNotFound)
	wantErr(t, "DeleteSession(unknown)", s.DeleteSession(ctx, randomID(t)), session.ErrNotFound)
}

func testDeleteUserSessions(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	user := randomID(t)
	var mine []*session.Session
	var tokens []*session.RefreshToken
	for i := range 3 {
		x := newSession(t, user, n.Add(time.Duration(i)*time.Second))
		r := newRefresh(t, x, n)
		create(t, s, x, r)
		mine = append(mine, x)
		tokens = append(tokens, r)
	}
	other := newSession(t, randomID(t), n)
	otherToken := newRefresh(t, other, n)
	create(t, s, other, otherToken)

	// Everything but the current session (as on a password change).
	count, err := s.DeleteUserSessions(ctx, user, mine[1].ID)
	must(t, "DeleteUserSessions(except)", err)
	if count != 2 {
		t.Errorf("DeleteUserSessions(except) = %d, want 2", count)
	}
	wantStored(t, s, mine[1], tokens[1]) // the excepted session and its token
	wantGone(t, s, "GetSession(ended)", mine[0], mine[2])
	wantGone(t, s, "GetRefresh(token of ended session)", tokens[0], tokens[2])

	// Everything (as on disabling the user).
	count, err = s.DeleteUserSessions(ctx, user, "")
	must(t, "DeleteUserSessions(all)", err)
	if count != 1 {
		t.Errorf("DeleteUserSessions(all) = %d, want 1", count)
	}
	wantGone(t, s, "GetSession(ended)", mine[1])
	wantGone(t, s, "GetRefresh(token of ended session)", tokens[1])

	count, err = s.DeleteUserSessions(ctx, user, "")
	must(t, "DeleteUserSessions(none left)", err)
	if count != 0 {
		t.Errorf("DeleteUserSessions(none left) = %d, want 0", count)
	}

	wantStored(t, s, other, otherToken) // other users are untouched
}

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
	ctx := t.Context()
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
	must(t, "CreateSession", s.CreateSession(ctx, want))
	got, err := s.GetSession(ctx, want.ID)
	must(t, "GetSession", err)
	checkSession(t, got, want)
}

// Optional fields left empty come back empty, and a zero time stays zero.
func testSessionMinimalFields(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	want := &session.Session{
		ID:        randomID(t),
		UserID:    randomID(t),
		CreatedAt: n,
		ExpiresAt: n.Add(time.Hour),
	}
	must(t, "CreateSession", s.CreateSession(ctx, want))
	got, err := s.GetSession(ctx, want.ID)
	must(t, "GetSession", err)
	checkSession(t, got, want)
}

func testSessionNotFound(t *testing.T, s session.Store) {
	_, err := s.GetSession(t.Context(), randomID(t))
	wantErr(t, "GetSession(unknown)", err, session.ErrNotFound)
}

func testSessionExpired(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	old := newSession(t, randomID(t), n.Add(-48*time.Hour))
	old.ExpiresAt = n.Add(-time.Second)
	must(t, "CreateSession", s.CreateSession(ctx, old))
	_, err := s.GetSession(ctx, old.ID)
	wantErr(t, "GetSession(expired)", err, session.ErrNotFound)
}

func testSessionDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	first := newSession(t, randomID(t), now())
	must(t, "CreateSession", s.CreateSession(ctx, first))
	second := newSession(t, randomID(t), now())
	second.ID = first.ID
	wantErr(t, "CreateSession(duplicate)", s.CreateSession(ctx, second), session.ErrAlreadyExists)

	got, err := s.GetSession(ctx, first.ID)
	must(t, "GetSession", err)
	checkSession(t, got, first) // the loser changed nothing
}

func testTouchSession(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	want := newSession(t, randomID(t), n.Add(-time.Hour))
	must(t, "CreateSession", s.CreateSession(ctx, want))
	want.LastUsedAt = n
	must(t, "TouchSession", s.TouchSession(ctx, want.ID, n))
	got, err := s.GetSession(ctx, want.ID)
	must(t, "GetSession", err)
	checkSession(t, got, want)

	wantErr(t, "TouchSession(unknown)", s.TouchSession(ctx, randomID(t), n), session.ErrNotFound)
}

func testListSessions(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	user := randomID(t)
	oldest := newSession(t, user, n.Add(-3*time.Hour))
	newest := newSession(t, user, n.Add(-1*time.Hour))
	middle := newSession(t, user, n.Add(-2*time.Hour))
	expired := newSession(t, user, n.Add(-30*time.Hour))
	expired.ExpiresAt = n.Add(-time.Minute)
	other := newSession(t, randomID(t), n)
	for _, x := range []*session.Session{oldest, newest, middle, expired, other} {
		must(t, "CreateSession", s.CreateSession(ctx, x))
	}

	got, err := s.ListSessions(ctx, user, n)
	must(t, "ListSessions", err)
	want := []*session.Session{newest, middle, oldest}
	if len(got) != len(want) {
		t.Fatalf("ListSessions returned %d sessions, want %d (newest, middle, oldest)", len(got), len(want))
	}
	for i := range want {
		checkSession(t, got[i], want[i])
	}

	none, err := s.ListSessions(ctx, randomID(t), n)
	must(t, "ListSessions(no sessions)", err)
	if len(none) != 0 {
		t.Errorf("ListSessions of a user without sessions returned %d", len(none))
	}
}

// ListSessions judges expiry by its now argument, not the clock.
func testListSessionsUsesNow(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	user := randomID(t)
	x := newSession(t, user, n)
	x.ExpiresAt = n.Add(time.Hour)
	must(t, "CreateSession", s.CreateSession(ctx, x))

	got, err := s.ListSessions(ctx, user, n.Add(2*time.Hour))
	must(t, "ListSessions", err)
	if len(got) != 0 {
		t.Errorf("ListSessions two hours later returned %d sessions, want 0", len(got))
	}
}

func testDeleteSession(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	user := randomID(t)
	doomed := newSession(t, user, n)
	kept := newSession(t, user, n)
	must(t, "CreateSession", s.CreateSession(ctx, doomed))
	must(t, "CreateSession", s.CreateSession(ctx, kept))
	r1 := newRefresh(t, doomed, n)
	r2 := newRefresh(t, doomed, n)
	r2.ParentHash = r1.Hash
	rk := newRefresh(t, kept, n)
	for _, r := range []*session.RefreshToken{r1, r2, rk} {
		must(t, "CreateRefresh", s.CreateRefresh(ctx, r))
	}

	must(t, "DeleteSession", s.DeleteSession(ctx, doomed.ID))
	_, err := s.GetSession(ctx, doomed.ID)
	wantErr(t, "GetSession(deleted)", err, session.ErrNotFound)
	for _, r := range []*session.RefreshToken{r1, r2} {
		_, err := s.GetRefresh(ctx, r.Hash)
		wantErr(t, "GetRefresh(token of deleted session)", err, session.ErrNotFound)
	}
	if _, err := s.GetSession(ctx, kept.ID); err != nil {
		t.Errorf("GetSession(other session): %v", err)
	}
	if _, err := s.GetRefresh(ctx, rk.Hash); err != nil {
		t.Errorf("GetRefresh(token of other session): %v", err)
	}

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
		must(t, "CreateSession", s.CreateSession(ctx, x))
		r := newRefresh(t, x, n)
		must(t, "CreateRefresh", s.CreateRefresh(ctx, r))
		mine = append(mine, x)
		tokens = append(tokens, r)
	}
	other := newSession(t, randomID(t), n)
	must(t, "CreateSession", s.CreateSession(ctx, other))
	otherToken := newRefresh(t, other, n)
	must(t, "CreateRefresh", s.CreateRefresh(ctx, otherToken))

	// Everything but the current session (as on a password change).
	count, err := s.DeleteUserSessions(ctx, user, mine[1].ID)
	must(t, "DeleteUserSessions(except)", err)
	if count != 2 {
		t.Errorf("DeleteUserSessions(except) = %d, want 2", count)
	}
	for i, x := range mine {
		_, errS := s.GetSession(ctx, x.ID)
		_, errR := s.GetRefresh(ctx, tokens[i].Hash)
		if i == 1 {
			if errS != nil || errR != nil {
				t.Errorf("the excepted session or its token is gone: %v, %v", errS, errR)
			}
			continue
		}
		wantErr(t, "GetSession(ended)", errS, session.ErrNotFound)
		wantErr(t, "GetRefresh(token of ended session)", errR, session.ErrNotFound)
	}

	// Everything (as on disabling the user).
	count, err = s.DeleteUserSessions(ctx, user, "")
	must(t, "DeleteUserSessions(all)", err)
	if count != 1 {
		t.Errorf("DeleteUserSessions(all) = %d, want 1", count)
	}
	_, err = s.GetSession(ctx, mine[1].ID)
	wantErr(t, "GetSession(ended)", err, session.ErrNotFound)
	_, err = s.GetRefresh(ctx, tokens[1].Hash)
	wantErr(t, "GetRefresh(token of ended session)", err, session.ErrNotFound)

	count, err = s.DeleteUserSessions(ctx, user, "")
	must(t, "DeleteUserSessions(none left)", err)
	if count != 0 {
		t.Errorf("DeleteUserSessions(none left) = %d, want 0", count)
	}

	// Other users are untouched.
	if _, err := s.GetSession(ctx, other.ID); err != nil {
		t.Errorf("GetSession(other user's session): %v", err)
	}
	if _, err := s.GetRefresh(ctx, otherToken.Hash); err != nil {
		t.Errorf("GetRefresh(other user's token): %v", err)
	}
}

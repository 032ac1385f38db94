package sessiontest

import (
	"fmt"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

// The steps the cases share: storing records, and checking what the store
// holds afterwards. A record is a *session.Session, *session.RefreshToken,
// *session.AuthCode or *session.SigningKey.

// create stores every record in s, failing t on the first error.
func create(t *testing.T, s session.Store, records ...any) {
	t.Helper()
	ctx := t.Context()
	for _, r := range records {
		switch r := r.(type) {
		case *session.Session:
			must(t, "CreateSession", s.CreateSession(ctx, r))
		case *session.RefreshToken:
			must(t, "CreateRefresh", s.CreateRefresh(ctx, r))
		case *session.AuthCode:
			must(t, "CreateCode", s.CreateCode(ctx, r))
		case *session.SigningKey:
			must(t, "CreateKey", s.CreateKey(ctx, r))
		default:
			t.Fatalf("sessiontest: create: no store method for %T", r)
		}
	}
}

// read reads record back from s by its key: a session by its ID, a
// refresh token by its hash.
func read(t *testing.T, s session.Store, record any) (any, error) {
	t.Helper()
	switch r := record.(type) {
	case *session.Session:
		return s.GetSession(t.Context(), r.ID)
	case *session.RefreshToken:
		return s.GetRefresh(t.Context(), r.Hash)
	}
	t.Fatalf("sessiontest: no read for %T", record)
	return nil, nil
}

// wantStored checks that s reads back each session and refresh token
// exactly as it is now.
func wantStored(t *testing.T, s session.Store, records ...any) {
	t.Helper()
	for _, want := range records {
		got, err := read(t, s, want)
		must(t, fmt.Sprintf("read %T", want), err)
		switch want := want.(type) {
		case *session.Session:
			checkSession(t, got.(*session.Session), want)
		case *session.RefreshToken:
			checkRefresh(t, got.(*session.RefreshToken), want)
		}
	}
}

// wantGone checks that s finds none of the sessions and refresh tokens
// (ErrNotFound); what says why they must be gone.
func wantGone(t *testing.T, s session.Store, what string, records ...any) {
	t.Helper()
	for _, r := range records {
		_, err := read(t, s, r)
		wantErr(t, what, err, session.ErrNotFound)
	}
}

// wantConsumed checks that ConsumeCode at now returns want exactly.
func wantConsumed(t *testing.T, s session.Store, want *session.AuthCode, now time.Time) {
	t.Helper()
	got, err := s.ConsumeCode(t.Context(), want.Hash, now)
	must(t, "ConsumeCode", err)
	checkCode(t, got, want)
}

// listSessions returns ListSessions' answer for user at now, failing the
// test on error.
func listSessions(t *testing.T, s session.Store, user string, now time.Time) []*session.Session {
	t.Helper()
	list, err := s.ListSessions(t.Context(), user, now)
	must(t, "ListSessions", err)
	return list
}

// wantSessions checks that ListSessions of user at now returns exactly
// want, in order, field by field.
func wantSessions(t *testing.T, s session.Store, user string, now time.Time, want ...*session.Session) {
	t.Helper()
	got := listSessions(t, s, user, now)
	if len(got) != len(want) {
		t.Fatalf("ListSessions(%s) = %q, want %q", now.Format(time.TimeOnly), sessionIDs(got), sessionIDs(want))
	}
	for i := range want {
		checkSession(t, got[i], want[i])
	}
}

func sessionIDs(list []*session.Session) []string {
	ids := make([]string, len(list))
	for i, x := range list {
		ids[i] = x.ID
	}
	return ids
}

// wantKeys checks that ListKeys returns exactly want, in order, field by
// field.
func wantKeys(t *testing.T, s session.Store, want ...*session.SigningKey) {
	t.Helper()
	keys := listKeys(t, s)
	if len(keys) != len(want) {
		t.Fatalf("ListKeys = %q, want %q", keyIDs(keys), keyIDs(want))
	}
	for i := range want {
		checkKey(t, keys[i], want[i])
	}
}

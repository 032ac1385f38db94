package sessiontest

import (
	"bytes"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

var refreshCases = []testCase{
	{"RefreshRoundTrip", testRefreshRoundTrip},
	{"RefreshNotFound", testRefreshNotFound},
	{"RefreshExpired", testRefreshExpired},
	{"RefreshDuplicate", testRefreshDuplicate},
}

func testRefreshRoundTrip(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	sess := newSession(t, randomID(t), n)
	must(t, "CreateSession", s.CreateSession(ctx, sess))

	first := newRefresh(t, sess, n.Add(-time.Minute))
	must(t, "CreateRefresh(first)", s.CreateRefresh(ctx, first))
	got, err := s.GetRefresh(ctx, first.Hash)
	must(t, "GetRefresh(first)", err)
	checkRefresh(t, got, first)
	if len(got.ParentHash) != 0 {
		t.Errorf("ParentHash of the first token = %x, want none", got.ParentHash)
	}

	second := newRefresh(t, sess, n)
	second.ParentHash = first.Hash
	must(t, "CreateRefresh(successor)", s.CreateRefresh(ctx, second))
	got, err = s.GetRefresh(ctx, second.Hash)
	must(t, "GetRefresh(successor)", err)
	checkRefresh(t, got, second)

	// The hash is the whole key: a different one finds nothing, even when it
	// shares a prefix.
	_, err = s.GetRefresh(ctx, first.Hash[:16])
	wantErr(t, "GetRefresh(prefix of a hash)", err, session.ErrNotFound)
}

func testRefreshNotFound(t *testing.T, s session.Store) {
	_, err := s.GetRefresh(t.Context(), hashOf(t))
	wantErr(t, "GetRefresh(unknown)", err, session.ErrNotFound)
}

func testRefreshExpired(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	sess := newSession(t, randomID(t), n.Add(-2*time.Hour))
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	r := newRefresh(t, sess, n.Add(-2*time.Hour))
	r.ExpiresAt = n.Add(-time.Second)
	must(t, "CreateRefresh", s.CreateRefresh(ctx, r))
	_, err := s.GetRefresh(ctx, r.Hash)
	wantErr(t, "GetRefresh(expired)", err, session.ErrNotFound)
}

func testRefreshDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	sess := newSession(t, randomID(t), n)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	r := newRefresh(t, sess, n)
	must(t, "CreateRefresh", s.CreateRefresh(ctx, r))

	dup := newRefresh(t, sess, n.Add(time.Second))
	dup.Hash = bytes.Clone(r.Hash)
	dup.ParentHash = hashOf(t)
	wantErr(t, "CreateRefresh(duplicate)", s.CreateRefresh(ctx, dup), session.ErrAlreadyExists)

	got, err := s.GetRefresh(ctx, r.Hash)
	must(t, "GetRefresh", err)
	checkRefresh(t, got, r) // the loser changed nothing
}

var codeCases = []testCase{
	{"CodeRoundTrip", testCodeRoundTrip},
	{"CodeMinimalFields", testCodeMinimalFields},
	{"CodeSingleUse", testCodeSingleUse},
	{"CodeExpired", testCodeExpired},
	{"CodeDuplicate", testCodeDuplicate},
}

func testCodeRoundTrip(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	want := newCode(t, n)
	must(t, "CreateCode", s.CreateCode(ctx, want))
	got, err := s.ConsumeCode(ctx, want.Hash, n)
	must(t, "ConsumeCode", err)
	checkCode(t, got, want)
}

func testCodeMinimalFields(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	want := &session.AuthCode{
		Hash:        hashOf(t),
		ClientID:    "demo-app",
		RedirectURI: "https://app.example.com/callback",
		UserID:      randomID(t),
		CreatedAt:   n,
		ExpiresAt:   n.Add(time.Minute),
	}
	must(t, "CreateCode", s.CreateCode(ctx, want))
	got, err := s.ConsumeCode(ctx, want.Hash, n)
	must(t, "ConsumeCode", err)
	checkCode(t, got, want)
}

func testCodeSingleUse(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	c := newCode(t, n)
	must(t, "CreateCode", s.CreateCode(ctx, c))
	_, err := s.ConsumeCode(ctx, c.Hash, n)
	must(t, "ConsumeCode(first)", err)
	_, err = s.ConsumeCode(ctx, c.Hash, n)
	wantErr(t, "ConsumeCode(second)", err, session.ErrNotFound)
	_, err = s.ConsumeCode(ctx, hashOf(t), n)
	wantErr(t, "ConsumeCode(unknown)", err, session.ErrNotFound)
}

// ConsumeCode judges expiry by its now argument, and an expired code stays
// unusable.
func testCodeExpired(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	c := newCode(t, n)
	c.ExpiresAt = n.Add(time.Minute)
	must(t, "CreateCode", s.CreateCode(ctx, c))
	_, err := s.ConsumeCode(ctx, c.Hash, n.Add(2*time.Minute))
	wantErr(t, "ConsumeCode(after expiry)", err, session.ErrNotFound)
	_, err = s.ConsumeCode(ctx, c.Hash, n.Add(2*time.Minute))
	wantErr(t, "ConsumeCode(after expiry, again)", err, session.ErrNotFound)

	past := newCode(t, n.Add(-2*time.Minute))
	past.ExpiresAt = n.Add(-time.Minute)
	must(t, "CreateCode(expired)", s.CreateCode(ctx, past))
	_, err = s.ConsumeCode(ctx, past.Hash, n)
	wantErr(t, "ConsumeCode(expired)", err, session.ErrNotFound)
}

func testCodeDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	c := newCode(t, n)
	must(t, "CreateCode", s.CreateCode(ctx, c))
	dup := newCode(t, n)
	dup.Hash = bytes.Clone(c.Hash)
	wantErr(t, "CreateCode(duplicate)", s.CreateCode(ctx, dup), session.ErrAlreadyExists)
	got, err := s.ConsumeCode(ctx, c.Hash, n)
	must(t, "ConsumeCode", err)
	checkCode(t, got, c) // the loser changed nothing
}

var claimCases = []testCase{
	{"Claim", testClaim},
}

func testClaim(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	key := "flow:" + randomID(t)
	must(t, "Claim", s.Claim(ctx, key, n.Add(10*time.Minute)))
	wantErr(t, "Claim(again)", s.Claim(ctx, key, n.Add(10*time.Minute)), session.ErrAlreadyExists)
	must(t, "Claim(other key)", s.Claim(ctx, "flow:"+randomID(t), n.Add(10*time.Minute)))
}

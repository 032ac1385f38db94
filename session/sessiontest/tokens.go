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
	first := newRefresh(t, sess, n.Add(-time.Minute)) // no parent: ParentHash stays empty
	create(t, s, sess, first)
	wantStored(t, s, first)

	second := newRefresh(t, sess, n)
	second.ParentHash = first.Hash
	create(t, s, second)
	wantStored(t, s, second)

	// The hash is the whole key: a different one finds nothing, even when it
	// shares a prefix.
	_, err := s.GetRefresh(ctx, first.Hash[:16])
	wantErr(t, "GetRefresh(prefix of a hash)", err, session.ErrNotFound)
}

func testRefreshNotFound(t *testing.T, s session.Store) {
	_, err := s.GetRefresh(t.Context(), hashOf(t))
	wantErr(t, "GetRefresh(unknown)", err, session.ErrNotFound)
}

func testRefreshExpired(t *testing.T, s session.Store) {
	n := now()
	sess := newSession(t, randomID(t), n.Add(-2*time.Hour))
	r := newRefresh(t, sess, n.Add(-2*time.Hour))
	r.ExpiresAt = n.Add(-time.Second)
	create(t, s, sess, r)
	wantGone(t, s, "GetRefresh(expired)", r)
}

func testRefreshDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	sess := newSession(t, randomID(t), n)
	r := newRefresh(t, sess, n)
	create(t, s, sess, r)

	dup := newRefresh(t, sess, n.Add(time.Second))
	dup.Hash = bytes.Clone(r.Hash)
	dup.ParentHash = hashOf(t)
	wantErr(t, "CreateRefresh(duplicate)", s.CreateRefresh(ctx, dup), session.ErrAlreadyExists)
	wantStored(t, s, r) // the loser changed nothing
}

var codeCases = []testCase{
	{"CodeRoundTrip", testCodeRoundTrip},
	{"CodeMinimalFields", testCodeMinimalFields},
	{"CodeSingleUse", testCodeSingleUse},
	{"CodeExpired", testCodeExpired},
	{"CodeDuplicate", testCodeDuplicate},
}

func testCodeRoundTrip(t *testing.T, s session.Store) {
	n := now()
	want := newCode(t, n)
	create(t, s, want)
	wantConsumed(t, s, want, n)
}

func testCodeMinimalFields(t *testing.T, s session.Store) {
	n := now()
	want := &session.AuthCode{
		Hash:        hashOf(t),
		ClientID:    "demo-app",
		RedirectURI: "https://app.example.com/callback",
		UserID:      randomID(t),
		CreatedAt:   n,
		ExpiresAt:   n.Add(time.Minute),
	}
	create(t, s, want)
	wantConsumed(t, s, want, n)
}

func testCodeSingleUse(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	c := newCode(t, n)
	create(t, s, c)
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
	create(t, s, c)
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
	create(t, s, c)
	dup := newCode(t, n)
	dup.Hash = bytes.Clone(c.Hash)
	wantErr(t, "CreateCode(duplicate)", s.CreateCode(ctx, dup), session.ErrAlreadyExists)
	wantConsumed(t, s, c, n) // the loser changed nothing
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

package sessiontest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

var concurrencyCases = []testCase{
	{"ConcurrentCreateRefresh", testConcurrentCreateRefresh},
	{"ConcurrentConsumeCode", testConcurrentConsumeCode},
	{"ConcurrentGetOrCreateSecret", testConcurrentGetOrCreateSecret},
	{"ConcurrentClaim", testConcurrentClaim},
}

// Rotation: N concurrent rotations of one token insert the same successor
// hash; exactly one insert wins.
func testConcurrentCreateRefresh(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	sess := newSession(t, randomID(t), n)
	create(t, s, sess)
	hash := hashOf(t)
	tokens := make([]*session.RefreshToken, 50)
	for i := range tokens {
		tokens[i] = newRefresh(t, sess, n.Add(time.Duration(i)*time.Millisecond))
		tokens[i].Hash = bytes.Clone(hash)
	}
	errs := testkit.Race(len(tokens), func(i int) error { return s.CreateRefresh(ctx, tokens[i]) })
	testkit.OneWinner(t, "CreateRefresh", errs, session.ErrAlreadyExists)
	if _, err := s.GetRefresh(ctx, hash); err != nil {
		t.Errorf("GetRefresh(winner): %v", err)
	}
}

func testConcurrentConsumeCode(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	c := newCode(t, n)
	create(t, s, c)
	var mu sync.Mutex
	var got []*session.AuthCode
	errs := testkit.Race(50, func(int) error {
		x, err := s.ConsumeCode(ctx, c.Hash, n)
		if err == nil {
			mu.Lock()
			got = append(got, x)
			mu.Unlock()
		}
		return err
	})
	testkit.OneWinner(t, "ConsumeCode", errs, session.ErrNotFound)
	if len(got) == 1 {
		checkCode(t, got[0], c)
	}
}

func testConcurrentGetOrCreateSecret(t *testing.T, s session.Store) {
	ctx := t.Context()
	const n = 20
	got := make([][]byte, n)
	errs := testkit.Race(n, func(i int) error {
		var err error
		got[i], err = s.GetOrCreateSecret(ctx, "jwt-hmac", fmt.Appendf(nil, "candidate-%02d", i))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("GetOrCreateSecret #%d: %v", i, err)
		}
	}
	for i := range got {
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("GetOrCreateSecret #%d returned %q, #0 returned %q; want the same bytes for all", i, got[i], got[0])
		}
	}
	if !bytes.HasPrefix(got[0], []byte("candidate-")) {
		t.Errorf("GetOrCreateSecret returned %q, which no caller offered", got[0])
	}
	again, err := s.GetOrCreateSecret(ctx, "jwt-hmac", []byte("late"))
	must(t, "GetOrCreateSecret(late)", err)
	equalBytes(t, "secret after the race", again, got[0])
}

func testConcurrentClaim(t *testing.T, s session.Store) {
	ctx := t.Context()
	key := "flow:" + randomID(t)
	expires := now().Add(10 * time.Minute)
	errs := testkit.Race(50, func(int) error { return s.Claim(ctx, key, expires) })
	testkit.OneWinner(t, "Claim", errs, session.ErrAlreadyExists)
}

// Package mailtest owns the conformance suite of mail.QueueStore: what
// every backend must do, including the atomicity the queue relies on (of N
// concurrent claims of one message one wins; N concurrent enqueues for one
// recipient accept at most the bound). Backends' tests call Run with a
// factory of fresh, empty stores.
package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

const racers = 20

// Run runs the suite; newStore returns a new, empty store per call.
func Run(t *testing.T, newStore func(t *testing.T) mail.QueueStore) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s mail.QueueStore)
	}{
		{"EnqueueAndDue", testEnqueueAndDue},
		{"ClaimExclusive", testClaimExclusive},
		{"ConcurrentClaim", testConcurrentClaim},
		{"RetryReschedules", testRetryReschedules},
		{"StaleLeaseRecovered", testStaleLeaseRecovered},
		{"DeleteRemoves", testDeleteRemoves},
		{"RecipientBound", testRecipientBound},
		{"ConcurrentRecipientBound", testConcurrentRecipientBound},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

var base = time.UnixMilli(1_800_000_000_000).UTC()

func msg(id string, at time.Time) *mail.QueuedMessage {
	return &mail.QueuedMessage{ID: id, From: "noreply@example.com", To: "ann@example.org",
		Raw: []byte("Subject: hi\r\n\r\nbody " + id + "\r\n"), CreatedAt: at, NotAfter: at.Add(24 * time.Hour), NextAttempt: at}
}

func noBound() mail.RecipientBound { return mail.RecipientBound{} }

func enqueue(t *testing.T, s mail.QueueStore, m *mail.QueuedMessage) {
	t.Helper()
	if err := s.EnqueueMail(t.Context(), m, noBound()); err != nil {
		t.Fatalf("EnqueueMail(%s): %v", m.ID, err)
	}
}

func due(t *testing.T, s mail.QueueStore, now time.Time) []*mail.QueuedMessage {
	t.Helper()
	got, err := s.DueMail(t.Context(), now, 100)
	if err != nil {
		t.Fatalf("DueMail: %v", err)
	}
	return got
}

func claim(t *testing.T, s mail.QueueStore, m *mail.QueuedMessage, owner string, now time.Time) *mail.QueuedMessage {
	t.Helper()
	c, err := s.ClaimMail(t.Context(), m, owner, now, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("ClaimMail(%s) by %s: %v", m.ID, owner, err)
	}
	return c
}

func testEnqueueAndDue(t *testing.T, s mail.QueueStore) {
	enqueue(t, s, msg("b", base.Add(time.Second)))
	enqueue(t, s, msg("a", base))
	enqueue(t, s, msg("later", base.Add(time.Hour)))
	if err := s.EnqueueMail(t.Context(), msg("a", base), noBound()); err == nil {
		t.Error("EnqueueMail with a duplicate id succeeded")
	}
	got := due(t, s, base.Add(time.Minute))
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Fatalf("DueMail = %v, want a then b", ids(got))
	}
	want := msg("a", base)
	g := got[0]
	if g.From != want.From || g.To != want.To || !bytes.Equal(g.Raw, want.Raw) || !g.CreatedAt.Equal(want.CreatedAt) ||
		!g.NotAfter.Equal(want.NotAfter) || !g.NextAttempt.Equal(want.NextAttempt) || g.Attempts != 0 {
		t.Errorf("round trip: got %+v, want %+v", *g, *want)
	}
	if got := due(t, s, base.Add(-time.Second)); len(got) != 0 {
		t.Errorf("DueMail before any is due = %v", ids(got))
	}
	if got, _ := s.DueMail(t.Context(), base.Add(2*time.Hour), 1); len(got) != 1 || got[0].ID != "a" {
		t.Errorf("DueMail(limit 1) = %v, want [a]", ids(got))
	}
}

func testClaimExclusive(t *testing.T, s mail.QueueStore) {
	enqueue(t, s, msg("m", base))
	m := due(t, s, base)[0]
	claim(t, s, m, "A", base)
	if _, err := s.ClaimMail(t.Context(), m, "B", base.Add(30*time.Second), base.Add(2*time.Minute)); !errors.Is(err, mail.ErrNotClaimed) {
		t.Errorf("second ClaimMail during the lease: err = %v, want ErrNotClaimed", err)
	}
}

func testConcurrentClaim(t *testing.T, s mail.QueueStore) {
	enqueue(t, s, msg("m", base))
	m := due(t, s, base)[0]
	errs := testkit.Race(racers, func(i int) error {
		_, err := s.ClaimMail(t.Context(), m, fmt.Sprint("owner", i), base, base.Add(time.Minute))
		return err
	})
	testkit.OneWinner(t, "ClaimMail", errs, mail.ErrNotClaimed)
}

func testRetryReschedules(t *testing.T, s mail.QueueStore) {
	enqueue(t, s, msg("m", base))
	c := claim(t, s, due(t, s, base)[0], "A", base)
	c.Attempts, c.LastError, c.NextAttempt = 1, "421 try later", base.Add(10*time.Minute)
	if err := s.RetryMail(t.Context(), c); err != nil {
		t.Fatalf("RetryMail: %v", err)
	}
	if got := due(t, s, base.Add(time.Minute)); len(got) != 0 {
		t.Errorf("due before the retry time: %v", ids(got))
	}
	got := due(t, s, base.Add(10*time.Minute))
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "421 try later" {
		t.Fatalf("due at the retry time = %+v, want m with 1 attempt", got)
	}
	if err := s.RetryMail(t.Context(), c); !errors.Is(err, mail.ErrNotClaimed) {
		t.Errorf("RetryMail with the spent claim: err = %v, want ErrNotClaimed", err)
	}
	claim(t, s, got[0], "B", base.Add(10*time.Minute)) // the lease ended with the retry
}

func testStaleLeaseRecovered(t *testing.T, s mail.QueueStore) {
	enqueue(t, s, msg("m", base))
	old := claim(t, s, due(t, s, base)[0], "A", base) // A's lease ends at base+1m; A crashes
	later := base.Add(2 * time.Minute)
	var m *mail.QueuedMessage
	for _, d := range due(t, s, later) {
		if d.ID == "m" {
			m = d
		}
	}
	if m == nil {
		t.Fatal("a message with an expired lease is not due")
	}
	c := claim(t, s, m, "B", later)
	if c.Attempts != 1 {
		t.Errorf("attempts after recovering a lost lease = %d, want 1", c.Attempts)
	}
	if err := s.DeleteMail(t.Context(), old); !errors.Is(err, mail.ErrNotClaimed) {
		t.Errorf("DeleteMail by the holder whose lease ran out: err = %v, want ErrNotClaimed", err)
	}
	if err := s.DeleteMail(t.Context(), c); err != nil {
		t.Errorf("DeleteMail by the new holder: %v", err)
	}
	if got := due(t, s, later.Add(time.Hour)); len(got) != 0 {
		t.Errorf("due after delete: %v", ids(got))
	}
}

func testDeleteRemoves(t *testing.T, s mail.QueueStore) {
	enqueue(t, s, msg("m", base))
	enqueue(t, s, msg("n", base))
	c := claim(t, s, due(t, s, base)[0], "A", base)
	if err := s.DeleteMail(t.Context(), c); err != nil {
		t.Fatalf("DeleteMail: %v", err)
	}
	if err := s.DeleteMail(t.Context(), c); !errors.Is(err, mail.ErrNotClaimed) {
		t.Errorf("second DeleteMail: err = %v, want ErrNotClaimed", err)
	}
	if got := due(t, s, base.Add(time.Hour)); len(got) != 1 || got[0].ID != "n" {
		t.Errorf("due after deleting m = %v, want [n]", ids(got))
	}
}

func bound(key string, limit int, at time.Time) mail.RecipientBound {
	start := at.Truncate(time.Hour)
	return mail.RecipientBound{Key: key, Limit: limit, WindowStart: start, WindowEnd: start.Add(time.Hour)}
}

func testRecipientBound(t *testing.T, s mail.QueueStore) {
	ctx := t.Context()
	for i := range 3 {
		if err := s.EnqueueMail(ctx, msg(fmt.Sprint("a", i), base), bound("k1", 3, base)); err != nil {
			t.Fatalf("EnqueueMail %d within the bound: %v", i, err)
		}
	}
	if err := s.EnqueueMail(ctx, msg("a3", base), bound("k1", 3, base)); !errors.Is(err, mail.ErrRecipientLimit) {
		t.Errorf("EnqueueMail over the bound: err = %v, want ErrRecipientLimit", err)
	}
	if err := s.EnqueueMail(ctx, msg("b0", base), bound("k2", 3, base)); err != nil {
		t.Errorf("EnqueueMail to another recipient: %v", err)
	}
	next := base.Add(time.Hour)
	if err := s.SweepMail(ctx, next); err != nil {
		t.Fatalf("SweepMail: %v", err)
	}
	if err := s.EnqueueMail(ctx, msg("a4", next), bound("k1", 3, next)); err != nil {
		t.Errorf("EnqueueMail in the next window: %v", err)
	}
	if got := due(t, s, next); len(got) != 5 {
		t.Errorf("queued %v, want the 5 accepted messages", ids(got))
	}
}

func testConcurrentRecipientBound(t *testing.T, s mail.QueueStore) {
	const limit = 5
	errs := testkit.Race(racers, func(i int) error {
		return s.EnqueueMail(t.Context(), msg(fmt.Sprint("m", i), base), bound("k", limit, base))
	})
	accepted := testkit.Tally(t, "EnqueueMail", errs, mail.ErrRecipientLimit)
	if accepted != limit {
		t.Errorf("%d of %d concurrent enqueues accepted, want exactly %d", accepted, racers, limit)
	}
	if got := due(t, s, base); len(got) != accepted {
		t.Errorf("%d messages queued, want %d", len(got), accepted)
	}
}

func ids(ms []*mail.QueuedMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

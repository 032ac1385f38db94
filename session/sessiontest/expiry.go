package sessiontest

import (
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

var expiryCases = []testCase{
	{"DeleteExpired", testDeleteExpired},
	{"DeleteExpiredRetiredKey", testDeleteExpiredRetiredKey},
}

// DeleteExpired removes exactly the expired records of every kind and
// counts them; live ones stay usable.
func testDeleteExpired(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	past := n.Add(-time.Minute)

	liveSess := newSession(t, randomID(t), n)
	oldSess := newSession(t, randomID(t), n.Add(-48*time.Hour))
	oldSess.ExpiresAt = past
	liveTok := newRefresh(t, liveSess, n)
	oldTok := newRefresh(t, oldSess, n.Add(-2*time.Hour))
	oldTok.ExpiresAt = past
	liveCode := newCode(t, n)
	oldCode := newCode(t, n.Add(-2*time.Minute))
	oldCode.ExpiresAt = past
	activeKey := newKey(t, n.Add(-time.Hour))  // never retired: ExpiresAt is zero
	retiredKey := newKey(t, n.Add(-time.Hour)) // retired, still published
	oldKey := newKey(t, n.Add(-3*time.Hour))   // retired and expired
	liveClaim, oldClaim := "flow:"+randomID(t), "flow:"+randomID(t)

	create(t, s, liveSess, oldSess, liveTok, oldTok, liveCode, oldCode, activeKey, retiredKey, oldKey)
	must(t, "RetireKey", s.RetireKey(ctx, retiredKey.ID, n.Add(-time.Minute), n.Add(time.Hour)))
	must(t, "RetireKey", s.RetireKey(ctx, oldKey.ID, n.Add(-2*time.Hour), past))
	must(t, "Claim", s.Claim(ctx, liveClaim, n.Add(10*time.Minute)))
	must(t, "Claim", s.Claim(ctx, oldClaim, past))

	count, err := s.DeleteExpired(ctx, n)
	must(t, "DeleteExpired", err)
	if count != 5 {
		t.Errorf("DeleteExpired = %d, want 5 (one session, token, code, claim and key)", count)
	}
	count, err = s.DeleteExpired(ctx, n)
	must(t, "DeleteExpired(again)", err)
	if count != 0 {
		t.Errorf("DeleteExpired(again) = %d, want 0", count)
	}

	wantStored(t, s, liveSess, liveTok)
	wantConsumed(t, s, liveCode, n)
	wantErr(t, "Claim(live, again)", s.Claim(ctx, liveClaim, n.Add(10*time.Minute)), session.ErrAlreadyExists)
	// The expired claim is gone, so its key can be claimed afresh.
	must(t, "Claim(swept key)", s.Claim(ctx, oldClaim, n.Add(10*time.Minute)))
	// The swept records are really gone, not just hidden: their keys are free.
	must(t, "CreateSession(swept id)", s.CreateSession(ctx, oldSess))
	must(t, "CreateRefresh(swept hash)", s.CreateRefresh(ctx, oldTok))
	must(t, "CreateCode(swept hash)", s.CreateCode(ctx, oldCode))
	must(t, "CreateKey(swept id)", s.CreateKey(ctx, oldKey))

	keys := listKeys(t, s)
	ids := keyIDs(keys)
	if len(ids) != 3 {
		t.Errorf("ListKeys = %q, want the active, the retired and the re-created key", ids)
	}
}

// A retired key stays until its ExpiresAt, then the sweeper removes it; a
// key in service (zero ExpiresAt) is never swept.
func testDeleteExpiredRetiredKey(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	active := newKey(t, n.Add(-time.Hour))
	retired := newKey(t, n.Add(-2*time.Hour))
	create(t, s, active, retired)
	must(t, "RetireKey", s.RetireKey(ctx, retired.ID, n, n.Add(time.Hour)))

	count, err := s.DeleteExpired(ctx, n.Add(30*time.Minute))
	must(t, "DeleteExpired(before the key expires)", err)
	if count != 0 {
		t.Errorf("DeleteExpired(before the key expires) = %d, want 0", count)
	}
	if ids := keyIDs(listKeys(t, s)); len(ids) != 2 {
		t.Errorf("ListKeys = %q, want both keys", ids)
	}

	count, err = s.DeleteExpired(ctx, n.Add(2*time.Hour))
	must(t, "DeleteExpired(after the key expires)", err)
	if count != 1 {
		t.Errorf("DeleteExpired(after the key expires) = %d, want 1", count)
	}
	if ids := keyIDs(listKeys(t, s)); len(ids) != 1 || ids[0] != active.ID {
		t.Errorf("ListKeys = %q, want only the active key %q", ids, active.ID)
	}
}

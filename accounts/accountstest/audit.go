package accountstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// auditCases are the conformance cases of accounts.AuditStore, the audit
// log part of accounts.Store.
var auditCases = []storeCase[accounts.Store]{
	{"AuditAppendAndList", testAuditAppendAndList},
	{"AuditPages", testAuditPages},
	{"AuditDuplicateID", testAuditDuplicateID},
	{"AuditEmptyDetails", testAuditEmptyDetails},
	{"AuditConcurrentAppend", testAuditConcurrentAppend},
	{"AuditOutlivesUser", testAuditOutlivesUser},
}

func newEvent(action, target string) *accounts.AuditEvent {
	return &accounts.AuditEvent{
		ID:      newID(),
		Time:    ms(time.Now()),
		Actor:   "cli:root",
		Action:  action,
		Target:  target,
		Details: map[string]string{"roles": "admin,member"},
		IP:      "192.0.2.7",
	}
}

func mustAppend(t *testing.T, s accounts.AuditStore, e *accounts.AuditEvent) {
	t.Helper()
	if err := s.AppendAudit(t.Context(), e); err != nil {
		t.Fatalf("AppendAudit(%s): %v", e.ID, err)
	}
}

func testAuditAppendAndList(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	if got, err := s.ListAudit(ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("ListAudit(empty log) = %d events, %v; want 0, nil", len(got), err)
	}
	zone := time.FixedZone("UTC-03:00", -3*3600)
	first := newEvent(accounts.ActionUserRolesSet, newID())
	first.Time = time.Date(2025, 3, 1, 12, 0, 0, 987654321, zone)
	first.Details = map[string]string{"roles": "admin", "previous_roles": "", "note": "ünïcode, \"quotes\" and $dollar.dots"}
	second := newEvent(accounts.ActionUserDisable, newID())
	second.IP = "2001:db8::1"
	mustAppend(t, s, first)
	mustAppend(t, s, second)

	// The store keeps no reference to the caller's map.
	first.Details["roles"] = "mutated"

	got, err := s.ListAudit(ctx, "", 10)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("ListAudit = %d events, want 2", len(got))
	}
	first.Details["roles"] = "admin"
	checkEvent(t, "newest", got[0], second)
	checkEvent(t, "oldest", got[1], first)
	if got[1].Time.Location() != time.UTC {
		t.Errorf("Time comes back in %v, want UTC", got[1].Time.Location())
	}
	if got, err := s.ListAudit(ctx, "", 0); err != nil || len(got) != 0 {
		t.Errorf("ListAudit(limit 0) = %d events, %v; want 0, nil", len(got), err)
	}
}

func testAuditPages(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	var want []string
	for i := range 17 {
		e := newEvent(accounts.ActionUserEnable, fmt.Sprintf("user-%02d", i))
		mustAppend(t, s, e)
		want = append(want, e.ID)
	}
	slices.Reverse(want) // newest first

	for _, limit := range []int{1, 4, 17, 50} {
		var got []string
		before := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("paging did not end")
			}
			page, err := s.ListAudit(ctx, before, limit)
			if err != nil {
				t.Fatalf("ListAudit(before %q, limit %d): %v", before, limit, err)
			}
			if len(page) > limit {
				t.Fatalf("ListAudit(limit %d) returned %d events", limit, len(page))
			}
			for _, e := range page {
				got = append(got, e.ID)
			}
			if len(page) < limit {
				break
			}
			before = page[len(page)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging with limit %d returned %q, want %q", limit, got, want)
		}
	}

	// A page starts strictly before the cursor.
	page, err := s.ListAudit(ctx, want[5], 3)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if got := eventIDs(page); !slices.Equal(got, want[6:9]) {
		t.Errorf("ListAudit(before #5, limit 3) = %q, want %q", got, want[6:9])
	}
	page, err = s.ListAudit(ctx, want[len(want)-1], 10)
	if err != nil || len(page) != 0 {
		t.Errorf("ListAudit(before the oldest) = %d events, %v; want 0, nil", len(page), err)
	}
	// Any id works as a cursor, not only stored ones.
	page, err = s.ListAudit(ctx, newID(), 100)
	if err != nil || len(page) != len(want) {
		t.Errorf("ListAudit(before a new id) = %d events, %v; want all %d", len(page), err, len(want))
	}
}

func testAuditDuplicateID(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	e := newEvent(accounts.ActionUserDelete, newID())
	mustAppend(t, s, e)
	dup := newEvent(accounts.ActionUserCreate, "other")
	dup.ID = e.ID
	if err := s.AppendAudit(ctx, dup); err == nil {
		t.Fatal("AppendAudit(existing id): err = nil, want an error")
	}
	got, err := s.ListAudit(ctx, "", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAudit = %d events, %v; want 1", len(got), err)
	}
	checkEvent(t, "after a refused duplicate", got[0], e)
}

func testAuditEmptyDetails(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	nilDetails := newEvent(accounts.ActionUserEnable, "a")
	nilDetails.Details = nil
	nilDetails.IP = ""
	emptyDetails := newEvent(accounts.ActionUserEnable, "b")
	emptyDetails.Details = map[string]string{}
	mustAppend(t, s, nilDetails)
	mustAppend(t, s, emptyDetails)
	got, err := s.ListAudit(ctx, "", 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("ListAudit = %d events, %v; want 2", len(got), err)
	}
	checkEvent(t, "empty details", got[0], emptyDetails)
	checkEvent(t, "nil details", got[1], nilDetails)
}

func testAuditConcurrentAppend(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	events := make([]*accounts.AuditEvent, racers)
	for i := range events {
		events[i] = newEvent(accounts.ActionUserSessionsEnd, fmt.Sprintf("u%d", i))
	}
	for i, err := range testkit.Race(racers, func(i int) error { return s.AppendAudit(ctx, events[i]) }) {
		if err != nil {
			t.Errorf("racer %d: AppendAudit: %v", i, err)
		}
	}
	got, err := s.ListAudit(ctx, "", 2*racers)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	want := eventIDs(events)
	slices.Sort(want)
	slices.Reverse(want)
	if ids := eventIDs(got); !slices.Equal(ids, want) {
		t.Errorf("ListAudit after concurrent appends = %q, want %q", ids, want)
	}
}

func testAuditOutlivesUser(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "gone@example.com")
	e := newEvent(accounts.ActionUserDelete, u.ID)
	e.Details = map[string]string{"email": u.Email}
	mustAppend(t, s, e)
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	got, err := s.ListAudit(ctx, "", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAudit after deleting the target = %d events, %v; want 1", len(got), err)
	}
	checkEvent(t, "event of a deleted user", got[0], e)
}

func eventIDs(events []*accounts.AuditEvent) []string {
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}

func checkEvent(t *testing.T, what string, got, want *accounts.AuditEvent) {
	t.Helper()
	checkFields(t, what+": event "+want.ID, got, want)
}

package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/prom"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/session"
)

// The decorators time every Store method, audit log and rate counters
// included, and pass errors through untouched.
func TestTimedStores(t *testing.T) {
	st := embeddedStores(t)
	m := api.NewMetrics(prom.NewRegistry())
	guardStores(m.DBDuration, nil)(st)
	ctx := context.Background()
	if err := st.accounts.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.sessions.GetSession(ctx, "no-such-session"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("GetSession through the decorator: %v, want session.ErrNotFound", err)
	}
	if _, err := st.accounts.ListAudit(ctx, "", 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.sessions.Peek(ctx, "k", time.Minute, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range m.Registry().Gather() {
		if f.Name != "unilogin_db_operation_duration_seconds" {
			continue
		}
		for _, s := range f.Samples {
			if s.Suffix == "_count" {
				got[s.Get("store")+"."+s.Get("op")] = s.Value
			}
		}
	}
	for _, op := range []string{"accounts.Ping", "sessions.GetSession", "accounts.ListAudit", "sessions.Peek"} {
		if got[op] != 1 {
			t.Errorf("%s observed %v times, want 1 (all: %v)", op, got[op], got)
		}
	}
}

// embeddedStores opens the embedded (SQLite) stores in a temporary data
// directory, closed when the test ends.
func embeddedStores(t *testing.T) *stores {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	st, err := openStores(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close(context.Background()) })
	return st
}

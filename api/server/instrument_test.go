package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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
	rec := httptest.NewRecorder()
	m.Handler("").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, op := range []string{"accounts.Ping", "sessions.GetSession", "accounts.ListAudit", "sessions.Peek"} {
		store, op, _ := strings.Cut(op, ".")
		if line := `unilogin_db_operation_duration_seconds_count{op="` + op + `",store="` + store + `"} 1`; !strings.Contains(rec.Body.String(), line+"\n") {
			t.Errorf("no %s in\n%s", line, rec.Body)
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

package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/session"
)

// Timing decorators for the stores: every Store method is delegated and its
// duration observed in unilogin_db_operation_duration_seconds{store,op}
// (api.Metrics.DBDuration). Errors are passed through untouched, so
// errors.Is on sentinels works as before.

// newMetrics builds the server's collectors on a registry of their own.
func newMetrics() *api.Metrics { return api.NewMetrics(prometheus.NewRegistry()) }

// instrumentStores returns a hook for openCore that wraps the opened stores
// with the timing decorators before any service is built over them.
func instrumentStores(h *prometheus.HistogramVec) func(*stores) {
	return func(st *stores) {
		st.accounts = timeAccounts(st.accounts, h)
		st.sessions = timeSessions(st.sessions, h)
	}
}

// withMetrics sets the collectors the API serves at /metrics.
func withMetrics(o api.Options, m *api.Metrics) api.Options {
	o.Metrics = m
	return o
}

// timer starts timing one operation; call the result when it is done.
func timer(h *prometheus.HistogramVec, store, op string) func() {
	start := time.Now()
	return func() { h.WithLabelValues(store, op).Observe(time.Since(start).Seconds()) }
}

// timeAccounts wraps an accounts.Store. When s also keeps the audit log
// (accounts.AuditStore), so does the result: callers find it by a type
// assertion on the store.
func timeAccounts(s accounts.Store, h *prometheus.HistogramVec) accounts.Store {
	t := &timedAccounts{s: s, h: h}
	if a, ok := s.(accounts.AuditStore); ok {
		return &timedAuditAccounts{timedAccounts: t, a: a}
	}
	return t
}

type timedAccounts struct {
	s accounts.Store
	h *prometheus.HistogramVec
}

var _ accounts.Store = (*timedAccounts)(nil)

func (t *timedAccounts) time(op string) func() { return timer(t.h, "accounts", op) }

func (t *timedAccounts) CreateUser(ctx context.Context, u *accounts.User) error {
	defer t.time("CreateUser")()
	return t.s.CreateUser(ctx, u)
}

func (t *timedAccounts) GetUser(ctx context.Context, id string) (*accounts.User, error) {
	defer t.time("GetUser")()
	return t.s.GetUser(ctx, id)
}

func (t *timedAccounts) GetUserByEmail(ctx context.Context, email string) (*accounts.User, error) {
	defer t.time("GetUserByEmail")()
	return t.s.GetUserByEmail(ctx, email)
}

func (t *timedAccounts) SetPasswordHash(ctx context.Context, id, hash string) error {
	defer t.time("SetPasswordHash")()
	return t.s.SetPasswordHash(ctx, id, hash)
}

func (t *timedAccounts) SetRoles(ctx context.Context, id string, roles []string) error {
	defer t.time("SetRoles")()
	return t.s.SetRoles(ctx, id, roles)
}

func (t *timedAccounts) SetDisabled(ctx context.Context, id string, disabled bool) error {
	defer t.time("SetDisabled")()
	return t.s.SetDisabled(ctx, id, disabled)
}

func (t *timedAccounts) DeleteUser(ctx context.Context, id string) error {
	defer t.time("DeleteUser")()
	return t.s.DeleteUser(ctx, id)
}

func (t *timedAccounts) ListUsers(ctx context.Context, after string, limit int, emailContains string) ([]*accounts.User, error) {
	defer t.time("ListUsers")()
	return t.s.ListUsers(ctx, after, limit, emailContains)
}

func (t *timedAccounts) LinkIdentity(ctx context.Context, id *accounts.Identity) error {
	defer t.time("LinkIdentity")()
	return t.s.LinkIdentity(ctx, id)
}

func (t *timedAccounts) GetIdentity(ctx context.Context, provider, subject string) (*accounts.Identity, error) {
	defer t.time("GetIdentity")()
	return t.s.GetIdentity(ctx, provider, subject)
}

func (t *timedAccounts) ListIdentities(ctx context.Context, userID string) ([]*accounts.Identity, error) {
	defer t.time("ListIdentities")()
	return t.s.ListIdentities(ctx, userID)
}

func (t *timedAccounts) UnlinkIdentity(ctx context.Context, userID, provider string) error {
	defer t.time("UnlinkIdentity")()
	return t.s.UnlinkIdentity(ctx, userID, provider)
}

func (t *timedAccounts) Ping(ctx context.Context) error {
	defer t.time("Ping")()
	return t.s.Ping(ctx)
}

// timedAuditAccounts is timedAccounts over a store that keeps the audit log.
type timedAuditAccounts struct {
	*timedAccounts
	a accounts.AuditStore
}

var (
	_ accounts.Store      = (*timedAuditAccounts)(nil)
	_ accounts.AuditStore = (*timedAuditAccounts)(nil)
)

func (t *timedAuditAccounts) AppendAudit(ctx context.Context, e *accounts.AuditEvent) error {
	defer t.time("AppendAudit")()
	return t.a.AppendAudit(ctx, e)
}

func (t *timedAuditAccounts) ListAudit(ctx context.Context, before string, limit int) ([]*accounts.AuditEvent, error) {
	defer t.time("ListAudit")()
	return t.a.ListAudit(ctx, before, limit)
}

// timeSessions wraps a session.Store. When s also keeps rate-limit
// counters (session.RateStore), so does the result.
func timeSessions(s session.Store, h *prometheus.HistogramVec) session.Store {
	t := &timedSessions{s: s, h: h}
	if r, ok := s.(session.RateStore); ok {
		return &timedRateSessions{timedSessions: t, r: r}
	}
	return t
}

type timedSessions struct {
	s session.Store
	h *prometheus.HistogramVec
}

var _ session.Store = (*timedSessions)(nil)

func (t *timedSessions) time(op string) func() { return timer(t.h, "sessions", op) }

func (t *timedSessions) CreateSession(ctx context.Context, s *session.Session) error {
	defer t.time("CreateSession")()
	return t.s.CreateSession(ctx, s)
}

func (t *timedSessions) GetSession(ctx context.Context, id string) (*session.Session, error) {
	defer t.time("GetSession")()
	return t.s.GetSession(ctx, id)
}

func (t *timedSessions) TouchSession(ctx context.Context, id string, at time.Time) error {
	defer t.time("TouchSession")()
	return t.s.TouchSession(ctx, id, at)
}

func (t *timedSessions) ListSessions(ctx context.Context, userID string, now time.Time) ([]*session.Session, error) {
	defer t.time("ListSessions")()
	return t.s.ListSessions(ctx, userID, now)
}

func (t *timedSessions) DeleteSession(ctx context.Context, id string) error {
	defer t.time("DeleteSession")()
	return t.s.DeleteSession(ctx, id)
}

func (t *timedSessions) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	defer t.time("DeleteUserSessions")()
	return t.s.DeleteUserSessions(ctx, userID, exceptID)
}

func (t *timedSessions) RotateRefresh(ctx context.Context, r *session.Rotation) error {
	defer t.time("RotateRefresh")()
	return t.s.RotateRefresh(ctx, r)
}

func (t *timedSessions) SessionRecords(ctx context.Context, id string) (int, error) {
	defer t.time("SessionRecords")()
	return t.s.SessionRecords(ctx, id)
}

func (t *timedSessions) CreateRefresh(ctx context.Context, r *session.RefreshToken) error {
	defer t.time("CreateRefresh")()
	return t.s.CreateRefresh(ctx, r)
}

func (t *timedSessions) GetRefresh(ctx context.Context, hash []byte) (*session.RefreshToken, error) {
	defer t.time("GetRefresh")()
	return t.s.GetRefresh(ctx, hash)
}

func (t *timedSessions) CreateCode(ctx context.Context, c *session.AuthCode) error {
	defer t.time("CreateCode")()
	return t.s.CreateCode(ctx, c)
}

func (t *timedSessions) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*session.AuthCode, error) {
	defer t.time("ConsumeCode")()
	return t.s.ConsumeCode(ctx, hash, now)
}

func (t *timedSessions) Claim(ctx context.Context, key string, expires time.Time) error {
	defer t.time("Claim")()
	return t.s.Claim(ctx, key, expires)
}

func (t *timedSessions) CreateKey(ctx context.Context, k *session.SigningKey) error {
	defer t.time("CreateKey")()
	return t.s.CreateKey(ctx, k)
}

func (t *timedSessions) ListKeys(ctx context.Context) ([]*session.SigningKey, error) {
	defer t.time("ListKeys")()
	return t.s.ListKeys(ctx)
}

func (t *timedSessions) RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	defer t.time("RetireKey")()
	return t.s.RetireKey(ctx, id, retiredAt, expiresAt)
}

func (t *timedSessions) DeleteKey(ctx context.Context, id string) error {
	defer t.time("DeleteKey")()
	return t.s.DeleteKey(ctx, id)
}

func (t *timedSessions) GetOrCreateSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	defer t.time("GetOrCreateSecret")()
	return t.s.GetOrCreateSecret(ctx, name, value)
}

func (t *timedSessions) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	defer t.time("DeleteExpired")()
	return t.s.DeleteExpired(ctx, now)
}

func (t *timedSessions) Ping(ctx context.Context) error {
	defer t.time("Ping")()
	return t.s.Ping(ctx)
}

// timedRateSessions is timedSessions over a store that keeps rate-limit
// counters.
type timedRateSessions struct {
	*timedSessions
	r session.RateStore
}

var (
	_ session.Store     = (*timedRateSessions)(nil)
	_ session.RateStore = (*timedRateSessions)(nil)
)

func (t *timedRateSessions) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	defer t.time("Hit")()
	return t.r.Hit(ctx, key, window, now)
}

func (t *timedRateSessions) Peek(ctx context.Context, key string, window time.Duration, now time.Time) (int64, time.Time, error) {
	defer t.time("Peek")()
	return t.r.Peek(ctx, key, window, now)
}

package server

import (
	"context"
	"time"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/api/prom"
	"github.com/unilogin/unilogin/session"
)

// Timing decorators for the stores: every Store method is delegated and its
// duration observed in unilogin_db_operation_duration_seconds{store,op}
// (api.Metrics.DBDuration); in the server each call also passes the
// database guard (guard.go). Errors are passed through untouched, so
// errors.Is on sentinels works as before.

// guardStores returns a hook for open that wraps the opened stores with
// the timing decorators before any service is built over them; with a
// guard g every call also passes it (the deadline, the in-flight bound and
// the fail-fast window; guard.go).
func guardStores(h *prom.HistogramVec, g *dbGuard) func(*stores) {
	return func(st *stores) {
		st.accounts = timeAccounts(st.accounts, h, g)
		st.sessions = timeSessions(st.sessions, h, g)
		if st.bearer != nil {
			st.bearer = &timedBearer{b: st.bearer, h: h, g: g} // bearer.go
		}
	}
}

// timer starts timing one operation; call the result when it is done.
func timer(h *prom.HistogramVec, store, op string) func() {
	start := time.Now()
	return func() { h.WithLabelValues(store, op).Observe(time.Since(start).Seconds()) }
}

// timeAccounts wraps an accounts.Store.
func timeAccounts(s accounts.Store, h *prom.HistogramVec, g *dbGuard) accounts.Store {
	return &timedAccounts{s: s, h: h, g: g}
}

type timedAccounts struct {
	s accounts.Store
	h *prom.HistogramVec
	g *dbGuard // nil: no deadline
}

var _ accounts.Store = (*timedAccounts)(nil)

func (t *timedAccounts) time(ctx context.Context, op string) (context.Context, func(error) error) {
	return t.g.enter(ctx, op, timer(t.h, "accounts", op))
}

func (t *timedAccounts) CreateUser(ctx context.Context, u *accounts.User) (err error) {
	ctx, done := t.time(ctx, "CreateUser")
	defer func() { err = done(err) }()
	return t.s.CreateUser(ctx, u)
}

func (t *timedAccounts) GetUser(ctx context.Context, id string) (_ *accounts.User, err error) {
	ctx, done := t.time(ctx, "GetUser")
	defer func() { err = done(err) }()
	return t.s.GetUser(ctx, id)
}

// GetUserWithIdentities passes the stores' one-query read of a user with
// their identities through (accounts.Service.GetActiveWithIdentities).
func (t *timedAccounts) GetUserWithIdentities(ctx context.Context, id string) (_ *accounts.User, _ []*accounts.Identity, err error) {
	ctx, done := t.time(ctx, "GetUserWithIdentities")
	defer func() { err = done(err) }()
	if s, ok := t.s.(interface {
		GetUserWithIdentities(context.Context, string) (*accounts.User, []*accounts.Identity, error)
	}); ok {
		return s.GetUserWithIdentities(ctx, id)
	}
	u, err := t.s.GetUser(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ids, err := t.s.ListIdentities(ctx, id)
	return u, ids, err
}

func (t *timedAccounts) GetUserByEmail(ctx context.Context, email string) (_ *accounts.User, err error) {
	ctx, done := t.time(ctx, "GetUserByEmail")
	defer func() { err = done(err) }()
	return t.s.GetUserByEmail(ctx, email)
}

func (t *timedAccounts) SetPasswordHash(ctx context.Context, id, hash string) (err error) {
	ctx, done := t.time(ctx, "SetPasswordHash")
	defer func() { err = done(err) }()
	return t.s.SetPasswordHash(ctx, id, hash)
}

func (t *timedAccounts) SetRoles(ctx context.Context, id string, roles []string) (err error) {
	ctx, done := t.time(ctx, "SetRoles")
	defer func() { err = done(err) }()
	return t.s.SetRoles(ctx, id, roles)
}

func (t *timedAccounts) SetDisabled(ctx context.Context, id string, disabled bool) (err error) {
	ctx, done := t.time(ctx, "SetDisabled")
	defer func() { err = done(err) }()
	return t.s.SetDisabled(ctx, id, disabled)
}

func (t *timedAccounts) DeleteUser(ctx context.Context, id string) (err error) {
	ctx, done := t.time(ctx, "DeleteUser")
	defer func() { err = done(err) }()
	return t.s.DeleteUser(ctx, id)
}

func (t *timedAccounts) ListUsers(ctx context.Context, after string, limit int, emailContains string) (_ []*accounts.User, err error) {
	ctx, done := t.time(ctx, "ListUsers")
	defer func() { err = done(err) }()
	return t.s.ListUsers(ctx, after, limit, emailContains)
}

func (t *timedAccounts) LinkIdentity(ctx context.Context, id *accounts.Identity) (err error) {
	ctx, done := t.time(ctx, "LinkIdentity")
	defer func() { err = done(err) }()
	return t.s.LinkIdentity(ctx, id)
}

func (t *timedAccounts) GetIdentity(ctx context.Context, provider, subject string) (_ *accounts.Identity, err error) {
	ctx, done := t.time(ctx, "GetIdentity")
	defer func() { err = done(err) }()
	return t.s.GetIdentity(ctx, provider, subject)
}

func (t *timedAccounts) ListIdentities(ctx context.Context, userID string) (_ []*accounts.Identity, err error) {
	ctx, done := t.time(ctx, "ListIdentities")
	defer func() { err = done(err) }()
	return t.s.ListIdentities(ctx, userID)
}

func (t *timedAccounts) UnlinkIdentity(ctx context.Context, userID, provider string) (err error) {
	ctx, done := t.time(ctx, "UnlinkIdentity")
	defer func() { err = done(err) }()
	return t.s.UnlinkIdentity(ctx, userID, provider)
}

func (t *timedAccounts) UnlinkIdentityIfNotLast(ctx context.Context, userID, provider string) (err error) {
	ctx, done := t.time(ctx, "UnlinkIdentityIfNotLast")
	defer func() { err = done(err) }()
	return t.s.UnlinkIdentityIfNotLast(ctx, userID, provider)
}

func (t *timedAccounts) Ping(ctx context.Context) (err error) {
	ctx, done := t.time(ctx, "Ping")
	defer func() { err = done(err) }()
	return t.s.Ping(ctx)
}

func (t *timedAccounts) AppendAudit(ctx context.Context, e *accounts.AuditEvent) (err error) {
	ctx, done := t.time(ctx, "AppendAudit")
	defer func() { err = done(err) }()
	return t.s.AppendAudit(ctx, e)
}

func (t *timedAccounts) ListAudit(ctx context.Context, before string, limit int) (_ []*accounts.AuditEvent, err error) {
	ctx, done := t.time(ctx, "ListAudit")
	defer func() { err = done(err) }()
	return t.s.ListAudit(ctx, before, limit)
}

// timeSessions wraps a session.Store.
func timeSessions(s session.Store, h *prom.HistogramVec, g *dbGuard) session.Store {
	return &timedSessions{s: s, h: h, g: g}
}

type timedSessions struct {
	s session.Store
	h *prom.HistogramVec
	g *dbGuard // nil: no deadline
}

var _ session.Store = (*timedSessions)(nil)

func (t *timedSessions) time(ctx context.Context, op string) (context.Context, func(error) error) {
	return t.g.enter(ctx, op, timer(t.h, "sessions", op))
}

func (t *timedSessions) CreateSession(ctx context.Context, s *session.Session) (err error) {
	ctx, done := t.time(ctx, "CreateSession")
	defer func() { err = done(err) }()
	return t.s.CreateSession(ctx, s)
}

func (t *timedSessions) GetSession(ctx context.Context, id string) (_ *session.Session, err error) {
	ctx, done := t.time(ctx, "GetSession")
	defer func() { err = done(err) }()
	return t.s.GetSession(ctx, id)
}

func (t *timedSessions) TouchSession(ctx context.Context, id string, at time.Time) (err error) {
	ctx, done := t.time(ctx, "TouchSession")
	defer func() { err = done(err) }()
	return t.s.TouchSession(ctx, id, at)
}

func (t *timedSessions) ListSessions(ctx context.Context, userID string, now time.Time) (_ []*session.Session, err error) {
	ctx, done := t.time(ctx, "ListSessions")
	defer func() { err = done(err) }()
	return t.s.ListSessions(ctx, userID, now)
}

func (t *timedSessions) DeleteSession(ctx context.Context, id string) (err error) {
	ctx, done := t.time(ctx, "DeleteSession")
	defer func() { err = done(err) }()
	return t.s.DeleteSession(ctx, id)
}

func (t *timedSessions) DeleteUserSessions(ctx context.Context, userID, exceptID string) (_ int, err error) {
	ctx, done := t.time(ctx, "DeleteUserSessions")
	defer func() { err = done(err) }()
	return t.s.DeleteUserSessions(ctx, userID, exceptID)
}

func (t *timedSessions) TrimUserSessions(ctx context.Context, userID, keepID string, max int) (_ int, err error) {
	ctx, done := t.time(ctx, "TrimUserSessions")
	defer func() { err = done(err) }()
	return t.s.TrimUserSessions(ctx, userID, keepID, max)
}

func (t *timedSessions) RotateRefresh(ctx context.Context, r *session.Rotation) (err error) {
	ctx, done := t.time(ctx, "RotateRefresh")
	defer func() { err = done(err) }()
	return t.s.RotateRefresh(ctx, r)
}

func (t *timedSessions) SessionRecords(ctx context.Context, id string) (_ int, err error) {
	ctx, done := t.time(ctx, "SessionRecords")
	defer func() { err = done(err) }()
	return t.s.SessionRecords(ctx, id)
}

func (t *timedSessions) CreateRefresh(ctx context.Context, r *session.RefreshToken) (err error) {
	ctx, done := t.time(ctx, "CreateRefresh")
	defer func() { err = done(err) }()
	return t.s.CreateRefresh(ctx, r)
}

func (t *timedSessions) GetRefresh(ctx context.Context, hash []byte) (_ *session.RefreshToken, err error) {
	ctx, done := t.time(ctx, "GetRefresh")
	defer func() { err = done(err) }()
	return t.s.GetRefresh(ctx, hash)
}

func (t *timedSessions) CreateCode(ctx context.Context, c *session.AuthCode) (err error) {
	ctx, done := t.time(ctx, "CreateCode")
	defer func() { err = done(err) }()
	return t.s.CreateCode(ctx, c)
}

func (t *timedSessions) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (_ *session.AuthCode, err error) {
	ctx, done := t.time(ctx, "ConsumeCode")
	defer func() { err = done(err) }()
	return t.s.ConsumeCode(ctx, hash, now)
}

func (t *timedSessions) Claim(ctx context.Context, key string, expires time.Time) (err error) {
	ctx, done := t.time(ctx, "Claim")
	defer func() { err = done(err) }()
	return t.s.Claim(ctx, key, expires)
}

func (t *timedSessions) CreateKey(ctx context.Context, k *session.SigningKey) (err error) {
	ctx, done := t.time(ctx, "CreateKey")
	defer func() { err = done(err) }()
	return t.s.CreateKey(ctx, k)
}

func (t *timedSessions) ListKeys(ctx context.Context) (_ []*session.SigningKey, err error) {
	ctx, done := t.time(ctx, "ListKeys")
	defer func() { err = done(err) }()
	return t.s.ListKeys(ctx)
}

func (t *timedSessions) RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) (err error) {
	ctx, done := t.time(ctx, "RetireKey")
	defer func() { err = done(err) }()
	return t.s.RetireKey(ctx, id, retiredAt, expiresAt)
}

func (t *timedSessions) DeleteKey(ctx context.Context, id string) (err error) {
	ctx, done := t.time(ctx, "DeleteKey")
	defer func() { err = done(err) }()
	return t.s.DeleteKey(ctx, id)
}

func (t *timedSessions) GetOrCreateSecret(ctx context.Context, name string, value []byte) (_ []byte, err error) {
	ctx, done := t.time(ctx, "GetOrCreateSecret")
	defer func() { err = done(err) }()
	return t.s.GetOrCreateSecret(ctx, name, value)
}

func (t *timedSessions) DeleteExpired(ctx context.Context, now time.Time) (_ int, err error) {
	ctx, done := t.time(ctx, "DeleteExpired")
	defer func() { err = done(err) }()
	return t.s.DeleteExpired(ctx, now)
}

func (t *timedSessions) Ping(ctx context.Context) (err error) {
	ctx, done := t.time(ctx, "Ping")
	defer func() { err = done(err) }()
	return t.s.Ping(ctx)
}

func (t *timedSessions) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (_ int64, _ time.Time, err error) {
	ctx, done := t.time(ctx, "Hit")
	defer func() { err = done(err) }()
	return t.s.Hit(ctx, key, window, now)
}

func (t *timedSessions) Peek(ctx context.Context, key string, window time.Duration, now time.Time) (_ int64, _ time.Time, err error) {
	ctx, done := t.time(ctx, "Peek")
	defer func() { err = done(err) }()
	return t.s.Peek(ctx, key, window, now)
}

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
		st.accounts = &timedAccounts{s: st.accounts, d: &deco{store: "accounts", h: h, g: g}}
		st.sessions = &timedSessions{s: st.sessions, d: &deco{store: "sessions", h: h, g: g}}
		if st.bearer != nil {
			st.bearer = &timedBearer{b: st.bearer, h: h, g: g} // bearer.go
		}
		if st.refresh != nil {
			st.refresh = &timedRefresh{r: st.refresh, d: &deco{store: "sessions", h: h, g: g}} // refresh.go
		}
	}
}

// timer starts timing one operation; call the result when it is done.
func timer(h *prom.HistogramVec, store, op string) func() {
	start := time.Now()
	return func() { h.WithLabelValues(store, op).Observe(time.Since(start).Seconds()) }
}

// deco is what a decorator adds to each call of its store: the store label
// of the histogram and the guard.
type deco struct {
	store string
	h     *prom.HistogramVec
	g     *dbGuard // nil: no deadline
}

// timed runs one store call f, as operation op, through the guard and the
// histogram: f gets the guarded context, its error passes through the guard.
func timed[T any](d *deco, ctx context.Context, op string, f func(context.Context) (T, error)) (_ T, err error) {
	ctx, done := d.g.enter(ctx, op, timer(d.h, d.store, op))
	defer func() { err = done(err) }()
	return f(ctx)
}

// do is timed for a call that returns only an error.
func do(d *deco, ctx context.Context, op string, f func(context.Context) error) error {
	_, err := timed(d, ctx, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// timedAccounts decorates an accounts.Store.
type timedAccounts struct {
	s accounts.Store
	d *deco
}

var _ accounts.Store = (*timedAccounts)(nil)

func (t *timedAccounts) CreateUser(ctx context.Context, u *accounts.User) error {
	return do(t.d, ctx, "CreateUser", func(ctx context.Context) error { return t.s.CreateUser(ctx, u) })
}

func (t *timedAccounts) GetUser(ctx context.Context, id string) (*accounts.User, error) {
	return timed(t.d, ctx, "GetUser", func(ctx context.Context) (*accounts.User, error) { return t.s.GetUser(ctx, id) })
}

// GetUserWithIdentities passes the stores' one-query read of a user with
// their identities through (accounts.Service.GetActiveWithIdentities).
func (t *timedAccounts) GetUserWithIdentities(ctx context.Context, id string) (u *accounts.User, ids []*accounts.Identity, err error) {
	err = do(t.d, ctx, "GetUserWithIdentities", func(ctx context.Context) (err error) {
		u, ids, err = t.getUserWithIdentities(ctx, id)
		return err
	})
	return u, ids, err
}

// getUserWithIdentities reads in one query where the store can, else in two.
func (t *timedAccounts) getUserWithIdentities(ctx context.Context, id string) (*accounts.User, []*accounts.Identity, error) {
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

func (t *timedAccounts) GetUserByEmail(ctx context.Context, email string) (*accounts.User, error) {
	return timed(t.d, ctx, "GetUserByEmail", func(ctx context.Context) (*accounts.User, error) { return t.s.GetUserByEmail(ctx, email) })
}

func (t *timedAccounts) SetPasswordHash(ctx context.Context, id, hash string) error {
	return do(t.d, ctx, "SetPasswordHash", func(ctx context.Context) error { return t.s.SetPasswordHash(ctx, id, hash) })
}

func (t *timedAccounts) SetRoles(ctx context.Context, id string, roles []string) error {
	return do(t.d, ctx, "SetRoles", func(ctx context.Context) error { return t.s.SetRoles(ctx, id, roles) })
}

func (t *timedAccounts) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return do(t.d, ctx, "SetDisabled", func(ctx context.Context) error { return t.s.SetDisabled(ctx, id, disabled) })
}

func (t *timedAccounts) DeleteUser(ctx context.Context, id string) error {
	return do(t.d, ctx, "DeleteUser", func(ctx context.Context) error { return t.s.DeleteUser(ctx, id) })
}

func (t *timedAccounts) ListUsers(ctx context.Context, after string, limit int, emailContains string) ([]*accounts.User, error) {
	return timed(t.d, ctx, "ListUsers", func(ctx context.Context) ([]*accounts.User, error) {
		return t.s.ListUsers(ctx, after, limit, emailContains)
	})
}

func (t *timedAccounts) LinkIdentity(ctx context.Context, id *accounts.Identity) error {
	return do(t.d, ctx, "LinkIdentity", func(ctx context.Context) error { return t.s.LinkIdentity(ctx, id) })
}

func (t *timedAccounts) GetIdentity(ctx context.Context, provider, subject string) (*accounts.Identity, error) {
	return timed(t.d, ctx, "GetIdentity", func(ctx context.Context) (*accounts.Identity, error) { return t.s.GetIdentity(ctx, provider, subject) })
}

func (t *timedAccounts) ListIdentities(ctx context.Context, userID string) ([]*accounts.Identity, error) {
	return timed(t.d, ctx, "ListIdentities", func(ctx context.Context) ([]*accounts.Identity, error) { return t.s.ListIdentities(ctx, userID) })
}

func (t *timedAccounts) UnlinkIdentity(ctx context.Context, userID, provider string) error {
	return do(t.d, ctx, "UnlinkIdentity", func(ctx context.Context) error { return t.s.UnlinkIdentity(ctx, userID, provider) })
}

func (t *timedAccounts) UnlinkIdentityIfNotLast(ctx context.Context, userID, provider string) error {
	return do(t.d, ctx, "UnlinkIdentityIfNotLast", func(ctx context.Context) error { return t.s.UnlinkIdentityIfNotLast(ctx, userID, provider) })
}

func (t *timedAccounts) Ping(ctx context.Context) error {
	return do(t.d, ctx, "Ping", func(ctx context.Context) error { return t.s.Ping(ctx) })
}

func (t *timedAccounts) AppendAudit(ctx context.Context, e *accounts.AuditEvent) error {
	return do(t.d, ctx, "AppendAudit", func(ctx context.Context) error { return t.s.AppendAudit(ctx, e) })
}

func (t *timedAccounts) ListAudit(ctx context.Context, before string, limit int) ([]*accounts.AuditEvent, error) {
	return timed(t.d, ctx, "ListAudit", func(ctx context.Context) ([]*accounts.AuditEvent, error) { return t.s.ListAudit(ctx, before, limit) })
}

// timedSessions decorates a session.Store.
type timedSessions struct {
	s session.Store
	d *deco
}

var _ session.Store = (*timedSessions)(nil)

func (t *timedSessions) CreateSession(ctx context.Context, s *session.Session) error {
	return do(t.d, ctx, "CreateSession", func(ctx context.Context) error { return t.s.CreateSession(ctx, s) })
}

func (t *timedSessions) GetSession(ctx context.Context, id string) (*session.Session, error) {
	return timed(t.d, ctx, "GetSession", func(ctx context.Context) (*session.Session, error) { return t.s.GetSession(ctx, id) })
}

func (t *timedSessions) TouchSession(ctx context.Context, id string, at time.Time) error {
	return do(t.d, ctx, "TouchSession", func(ctx context.Context) error { return t.s.TouchSession(ctx, id, at) })
}

func (t *timedSessions) ListSessions(ctx context.Context, userID string, now time.Time) ([]*session.Session, error) {
	return timed(t.d, ctx, "ListSessions", func(ctx context.Context) ([]*session.Session, error) { return t.s.ListSessions(ctx, userID, now) })
}

func (t *timedSessions) DeleteSession(ctx context.Context, id string) error {
	return do(t.d, ctx, "DeleteSession", func(ctx context.Context) error { return t.s.DeleteSession(ctx, id) })
}

func (t *timedSessions) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	return timed(t.d, ctx, "DeleteUserSessions", func(ctx context.Context) (int, error) { return t.s.DeleteUserSessions(ctx, userID, exceptID) })
}

func (t *timedSessions) TrimUserSessions(ctx context.Context, userID, keepID string, max int) (int, error) {
	return timed(t.d, ctx, "TrimUserSessions", func(ctx context.Context) (int, error) { return t.s.TrimUserSessions(ctx, userID, keepID, max) })
}

func (t *timedSessions) RotateRefresh(ctx context.Context, r *session.Rotation) error {
	return do(t.d, ctx, "RotateRefresh", func(ctx context.Context) error { return t.s.RotateRefresh(ctx, r) })
}

func (t *timedSessions) AdvanceRefresh(ctx context.Context, a *session.Advance) (*session.Session, error) {
	return timed(t.d, ctx, "AdvanceRefresh", func(ctx context.Context) (*session.Session, error) { return t.s.AdvanceRefresh(ctx, a) })
}

func (t *timedSessions) SessionRecords(ctx context.Context, id string) (int, error) {
	return timed(t.d, ctx, "SessionRecords", func(ctx context.Context) (int, error) { return t.s.SessionRecords(ctx, id) })
}

func (t *timedSessions) CreateRefresh(ctx context.Context, r *session.RefreshToken) error {
	return do(t.d, ctx, "CreateRefresh", func(ctx context.Context) error { return t.s.CreateRefresh(ctx, r) })
}

func (t *timedSessions) GetRefresh(ctx context.Context, hash []byte) (*session.RefreshToken, error) {
	return timed(t.d, ctx, "GetRefresh", func(ctx context.Context) (*session.RefreshToken, error) { return t.s.GetRefresh(ctx, hash) })
}

func (t *timedSessions) CreateCode(ctx context.Context, c *session.AuthCode) error {
	return do(t.d, ctx, "CreateCode", func(ctx context.Context) error { return t.s.CreateCode(ctx, c) })
}

func (t *timedSessions) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*session.AuthCode, error) {
	return timed(t.d, ctx, "ConsumeCode", func(ctx context.Context) (*session.AuthCode, error) { return t.s.ConsumeCode(ctx, hash, now) })
}

func (t *timedSessions) Claim(ctx context.Context, key string, expires time.Time) error {
	return do(t.d, ctx, "Claim", func(ctx context.Context) error { return t.s.Claim(ctx, key, expires) })
}

func (t *timedSessions) CreateKey(ctx context.Context, k *session.SigningKey) error {
	return do(t.d, ctx, "CreateKey", func(ctx context.Context) error { return t.s.CreateKey(ctx, k) })
}

func (t *timedSessions) ListKeys(ctx context.Context) ([]*session.SigningKey, error) {
	return timed(t.d, ctx, "ListKeys", func(ctx context.Context) ([]*session.SigningKey, error) { return t.s.ListKeys(ctx) })
}

func (t *timedSessions) RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	return do(t.d, ctx, "RetireKey", func(ctx context.Context) error { return t.s.RetireKey(ctx, id, retiredAt, expiresAt) })
}

func (t *timedSessions) DeleteKey(ctx context.Context, id string) error {
	return do(t.d, ctx, "DeleteKey", func(ctx context.Context) error { return t.s.DeleteKey(ctx, id) })
}

func (t *timedSessions) GetOrCreateSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	return timed(t.d, ctx, "GetOrCreateSecret", func(ctx context.Context) ([]byte, error) { return t.s.GetOrCreateSecret(ctx, name, value) })
}

func (t *timedSessions) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	return timed(t.d, ctx, "DeleteExpired", func(ctx context.Context) (int, error) { return t.s.DeleteExpired(ctx, now) })
}

func (t *timedSessions) Ping(ctx context.Context) error {
	return do(t.d, ctx, "Ping", func(ctx context.Context) error { return t.s.Ping(ctx) })
}

func (t *timedSessions) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (n int64, reset time.Time, err error) {
	err = do(t.d, ctx, "Hit", func(ctx context.Context) (err error) { n, reset, err = t.s.Hit(ctx, key, window, now); return err })
	return n, reset, err
}

func (t *timedSessions) Peek(ctx context.Context, key string, window time.Duration, now time.Time) (n int64, reset time.Time, err error) {
	err = do(t.d, ctx, "Peek", func(ctx context.Context) (err error) { n, reset, err = t.s.Peek(ctx, key, window, now); return err })
	return n, reset, err
}

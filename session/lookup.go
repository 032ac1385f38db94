package session

import (
	"context"
	"time"
)

// Session returns a live session by id; ErrNotFound for an unknown or
// expired one.
func (m *Manager) Session(ctx context.Context, id string) (*Session, error) {
	return m.store.GetSession(ctx, id)
}

// ClaimFlow marks the browser sign-in flow id as completed until expires,
// across every instance on the store: of all calls for one id exactly one
// succeeds; the others get ErrAlreadyExists.
func (m *Manager) ClaimFlow(ctx context.Context, id string, expires time.Time) error {
	return m.store.Claim(ctx, "flow:"+id, expires)
}

// Ping reports whether the session store answers.
func (m *Manager) Ping(ctx context.Context) error { return m.store.Ping(ctx) }

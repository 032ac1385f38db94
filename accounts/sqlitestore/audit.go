package sqlitestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/accounts"
)

var _ accounts.AuditStore = (*Store)(nil)

// AppendAudit inserts e into audit_events (schema version 2). A zero Time
// is set to the current time, in *e too.
func (s *Store) AppendAudit(ctx context.Context, e *accounts.AuditEvent) error {
	if e.ID == "" {
		return errors.New("sqlitestore: append audit event: empty id")
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("sqlitestore: append audit event: encode details: %w", err)
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO audit_events (id, time, actor, action, target, details, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Time.UnixMilli(), e.Actor, e.Action, e.Target, string(b), e.IP)
	switch code := errorCode(err); {
	case err == nil:
		return nil
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("sqlitestore: append audit event: id %q already exists", e.ID)
	default:
		return fmt.Errorf("sqlitestore: append audit event: %w", err)
	}
}

// ListAudit returns up to limit events with id < before (all when before
// is empty), by descending id: newest first.
func (s *Store) ListAudit(ctx context.Context, before string, limit int) ([]*accounts.AuditEvent, error) {
	query := `SELECT id, time, actor, action, target, details, ip FROM audit_events`
	var args []any
	if before != "" {
		query += ` WHERE id < ?`
		args = append(args, before)
	}
	return page(ctx, s, "list audit events", query+` ORDER BY id DESC`, args, limit, scanAuditEvent)
}

func scanAuditEvent(sc scanner) (*accounts.AuditEvent, error) {
	var (
		e       accounts.AuditEvent
		ms      int64
		details string
	)
	if err := sc.Scan(&e.ID, &ms, &e.Actor, &e.Action, &e.Target, &details, &e.IP); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
		return nil, fmt.Errorf("decode details of %s: %w", e.ID, err)
	}
	e.Time = time.UnixMilli(ms).UTC()
	return &e, nil
}

package accounts

import (
	"context"
	"time"
)

// Audit actions: the Action of an AuditEvent.
const (
	ActionUserCreate      = "user.create"
	ActionUserRolesSet    = "user.roles.set"
	ActionUserDisable     = "user.disable"
	ActionUserEnable      = "user.enable"
	ActionUserDelete      = "user.delete"
	ActionUserSessionsEnd = "user.sessions.end"

	// Security events, recorded by the HTTP layer and the key rotation.
	ActionSignIn         = "auth.sign_in"        // details: method, client_id
	ActionSignInFailed   = "auth.sign_in_failed" // details: method, reason (and username for passwords)
	ActionIdentityLink   = "identity.link"       // details: provider, subject
	ActionIdentityUnlink = "identity.unlink"     // details: provider
	ActionPasswordChange = "user.password.change"
	ActionSessionRevoke  = "session.revoke"        // details: session_id, via
	ActionRefreshReuse   = "session.refresh_reuse" // details: session_id
	ActionKeyRotate      = "keys.rotate"           // details: kid, algorithm, signs_from
)

// AuditEvent records one administrative action or security event. Details hold context that
// makes the event readable later (the roles set, the e-mail of a deleted
// user); they never hold secrets: no passwords, hashes or tokens.
type AuditEvent struct {
	ID      string    // a UUIDv7 (NewID), so ids sort by time
	Time    time.Time // stored to the millisecond
	Actor   string    // the acting user's id, or "cli:<os user>"
	Action  string    // one of the Action* constants
	Target  string    // the user the action was about
	Details map[string]string
	IP      string // the actor's client address; empty from the CLI
}

// AuditStore keeps the audit log: append-only, read newest first. It is
// part of Store: every accounts backend keeps one. Implementations are safe for concurrent use.
type AuditStore interface {
	// AppendAudit stores e (e.ID set by the caller; an error when an event
	// with that id exists). The store keeps no reference to e or its map.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns up to limit events with id < before (every event
	// when before is empty), newest first, that is by descending id. A
	// limit of zero or less returns nothing.
	ListAudit(ctx context.Context, before string, limit int) ([]*AuditEvent, error)
}

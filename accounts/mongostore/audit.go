package mongostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/unilogin/unilogin/accounts"
)

var _ accounts.AuditStore = (*Store)(nil)

// auditCollection holds one document per event, keyed by the event id (a
// UUIDv7), so the _id index alone serves newest-first paging.
const auditCollection = "audit_events"

type auditDoc struct {
	ID      string            `bson:"_id"`
	Time    time.Time         `bson:"time"`
	Actor   string            `bson:"actor"`
	Action  string            `bson:"action"`
	Target  string            `bson:"target"`
	Details map[string]string `bson:"details"`
	IP      string            `bson:"ip"`
}

// AppendAudit inserts e. A zero Time is set to the current time, in *e too.
func (s *Store) AppendAudit(ctx context.Context, e *accounts.AuditEvent) error {
	if e.ID == "" {
		return errors.New("mongostore: append audit event: empty id")
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	details := maps.Clone(e.Details)
	if details == nil {
		details = map[string]string{}
	}
	_, err := s.db.Collection(auditCollection).InsertOne(ctx, auditDoc{
		ID: e.ID, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Details: details, IP: e.IP,
	})
	switch {
	case err == nil:
		return nil
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("mongostore: append audit event: id %q already exists", e.ID)
	default:
		return fmt.Errorf("mongostore: append audit event: %w", err)
	}
}

// ListAudit returns up to limit events with _id < before (all when before
// is empty), by descending _id: newest first.
func (s *Store) ListAudit(ctx context.Context, before string, limit int) ([]*accounts.AuditEvent, error) {
	filter := bson.D{}
	if before != "" {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}}}
	}
	docs, err := page[auditDoc](ctx, s.db.Collection(auditCollection), "list audit events", filter, -1, limit)
	if err != nil {
		return nil, err
	}
	events := make([]*accounts.AuditEvent, len(docs))
	for i, d := range docs {
		details := d.Details
		if details == nil {
			details = map[string]string{}
		}
		events[i] = &accounts.AuditEvent{
			ID: d.ID, Time: d.Time.UTC(), Actor: d.Actor, Action: d.Action, Target: d.Target, Details: details, IP: d.IP,
		}
	}
	return events, nil
}

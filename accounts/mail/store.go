package mail

import (
	"context"
	"errors"
	"time"
)

// QueuedMessage is one message in the queue, rendered and ready to send.
type QueuedMessage struct {
	ID   string // unique; [a-z0-9], no '#'
	From string // envelope sender, bare address
	To   string // envelope recipient, bare address
	Raw  []byte // the RFC 5322 message

	CreatedAt   time.Time
	NotAfter    time.Time // the queue gives up when an attempt would start after it
	NextAttempt time.Time // due from then on
	Attempts    int       // failed attempts so far
	LastError   string    // the last failure, for the give-up log line

	// Generation is the backend's version of the message, opaque to
	// callers: ClaimMail returns it, RetryMail and DeleteMail check it, so
	// a holder whose lease was taken over cannot act on the message.
	Generation int64
}

// RecipientBound limits how many messages one recipient key may have
// accepted into the queue in one fixed window.
type RecipientBound struct {
	Key         string    // opaque, short (a hash of the normalized address)
	Limit       int       // <= 0: no bound
	WindowStart time.Time // the window containing the message's CreatedAt
	WindowEnd   time.Time
}

var (
	// ErrNotClaimed: another instance holds the message, or it changed or
	// is gone since it was read.
	ErrNotClaimed = errors.New("mail: message not claimed")
	// ErrRecipientLimit: the recipient has reached its bound for the
	// window; the message was dropped.
	ErrRecipientLimit = errors.New("mail: too many messages to this recipient")
)

// QueueStore keeps the queue in the database shared by every instance. Its
// conformance suite is in mail/mailtest. Times are kept to the millisecond.
//
// Atomicity callers rely on, on every backend (SQLite; MongoDB and
// FerretDB, where only unique-key inserts and counted deletes are atomic):
// of N concurrent ClaimMail calls for one message, at most one succeeds
// while its lease lasts; N concurrent EnqueueMail calls for one recipient
// key accept at most Limit messages per window. Implementations are safe
// for concurrent use.
type QueueStore interface {
	// EnqueueMail stores m (Generation is set by the store) after counting
	// it against b; over the bound it stores nothing and returns
	// ErrRecipientLimit. A duplicate ID is an error.
	EnqueueMail(ctx context.Context, m *QueuedMessage, b RecipientBound) error
	// DueMail returns up to limit messages with NextAttempt <= now, the
	// earliest first. It may include messages another instance holds.
	DueMail(ctx context.Context, now time.Time, limit int) ([]*QueuedMessage, error)
	// ClaimMail leases m, as read by DueMail, to owner until leaseUntil and
	// returns it as claimed (with a new Generation, and Attempts counting
	// an attempt whose holder's lease ran out). It returns ErrNotClaimed
	// when another holder's lease lasts beyond now, or m changed or is gone.
	ClaimMail(ctx context.Context, m *QueuedMessage, owner string, now, leaseUntil time.Time) (*QueuedMessage, error)
	// RetryMail records a failed attempt of the claimed m: it stores
	// m.Attempts, m.NextAttempt and m.LastError and ends the lease.
	// ErrNotClaimed: the lease was lost (the message is another's now).
	RetryMail(ctx context.Context, m *QueuedMessage) error
	// DeleteMail removes the claimed m after delivery or when giving up.
	// ErrNotClaimed: the lease was lost.
	DeleteMail(ctx context.Context, m *QueuedMessage) error
	// SweepMail removes bookkeeping that ended before now: recipient
	// counters of past windows and long-expired leases.
	SweepMail(ctx context.Context, now time.Time) error
}

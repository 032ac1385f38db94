package mail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/mail"
	"net/textproto"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// Config configures delivery. Zero durations take the defaults noted.
type Config struct {
	// From is the sender, "Name <address>" or a bare address (then the
	// product name is the display name).
	From string
	// SMTP is the mail server; nil: messages go to the outbox.
	SMTP *SMTPConfig
	// OutboxDir is <data_dir>/outbox, used when SMTP is nil.
	OutboxDir string
	Branding  Branding
	// MaxAge: a message not delivered this long after Enqueue is dropped
	// (and logged). Default 24h.
	MaxAge time.Duration
	// RetryMin and RetryMax bound the exponential backoff between
	// attempts. Defaults 30s and 30m.
	RetryMin, RetryMax time.Duration
	// PollInterval is how often the worker looks for due messages that
	// other instances queued. Default 10s.
	PollInterval time.Duration
	// PerRecipientLimit messages per PerRecipientWindow (default 1h) are
	// accepted for one address; more are dropped. 0: no bound.
	PerRecipientLimit  int
	PerRecipientWindow time.Duration
	// Owner names this instance in leases; empty: random.
	Owner string
}

// Stats count what the queue did since start.
type Stats struct {
	Enqueued, Rejected, Sent, Retried, GaveUp int64
}

type counters struct{ enqueued, rejected, sent, retried, gaveUp atomic.Int64 }

func (c *counters) stats() Stats {
	return Stats{c.enqueued.Load(), c.rejected.Load(), c.sent.Load(), c.retried.Load(), c.gaveUp.Load()}
}

// Queue is the front the account flows call: Enqueue renders and stores a
// message durably and wakes the worker.
type Queue struct {
	store  QueueStore
	from   *mail.Address
	brand  Branding
	maxAge time.Duration
	limit  int
	window time.Duration
	poke   chan struct{}
	n      *counters
	log    *slog.Logger
}

// Worker delivers the queue's messages in the background (Run).
type Worker struct {
	store              QueueStore
	sender             Sender
	owner              string
	retryMin, retryMax time.Duration
	poll, sendBound    time.Duration
	poke               chan struct{}
	n                  *counters
	log                *slog.Logger
}

// New builds the worker and the queue from cfg: SMTP delivery when
// cfg.SMTP is set, else the outbox (created now). Start the worker with
// `go w.Run(ctx)`; hand q to the flows.
func New(cfg Config, store QueueStore, log *slog.Logger) (*Worker, *Queue, error) {
	if store == nil {
		return nil, nil, errors.New("mail: nil queue store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, nil, fmt.Errorf("mail: from address: %w", err)
	}
	brand := cfg.Branding.withDefaults()
	if from.Name == "" {
		from.Name = brand.ProductName
	}
	var sender Sender
	sendBound := time.Minute
	if cfg.SMTP != nil {
		s, err := NewSMTP(*cfg.SMTP)
		if err != nil {
			return nil, nil, err
		}
		sender, sendBound = s, 8*cfg.SMTP.timeout()
	} else {
		dir := cfg.OutboxDir
		if dir == "" {
			return nil, nil, errors.New("mail: neither SMTP nor an outbox directory configured")
		}
		o, err := NewOutbox(filepath.Clean(dir), log)
		if err != nil {
			return nil, nil, err
		}
		sender = o
	}
	owner := cfg.Owner
	if owner == "" {
		owner = rand.Text()[:16]
	}
	n := &counters{}
	poke := make(chan struct{}, 1)
	w := &Worker{store: store, sender: sender, owner: owner,
		retryMin: or(cfg.RetryMin, 30*time.Second), retryMax: or(cfg.RetryMax, 30*time.Minute),
		poll: or(cfg.PollInterval, 10*time.Second), sendBound: sendBound, poke: poke, n: n, log: log}
	w.retryMax = max(w.retryMax, w.retryMin)
	q := &Queue{store: store, from: from, brand: brand, maxAge: or(cfg.MaxAge, 24*time.Hour),
		limit: cfg.PerRecipientLimit, window: or(cfg.PerRecipientWindow, time.Hour), poke: poke, n: n, log: log}
	return w, q, nil
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Branding is the branding messages should be composed with.
func (q *Queue) Branding() Branding { return q.brand }

// Stats returns the counters (shared with the worker).
func (q *Queue) Stats() Stats { return q.n.stats() }

// Stats returns the counters (shared with the queue).
func (w *Worker) Stats() Stats { return w.n.stats() }

// Enqueue renders m and stores it for delivery; it does not wait for the
// mail server. ErrRecipientLimit (wrapped): m.To already received the
// bound's worth of messages in this window, and m was dropped; callers
// answer as if it had been sent. ErrInvalidMessage: m cannot be sent.
func (q *Queue) Enqueue(ctx context.Context, m Message) error {
	now := time.Now().UTC()
	id, messageID := newMessageID(addressDomain(q.from.Address))
	raw, err := render(q.from, m, now, messageID)
	if err != nil {
		return err
	}
	notAfter := now.Add(q.maxAge)
	if !m.Expires.IsZero() && m.Expires.Before(notAfter) {
		notAfter = m.Expires
	}
	qm := &QueuedMessage{ID: id, From: q.from.Address, To: m.To, Raw: raw,
		CreatedAt: now, NotAfter: notAfter, NextAttempt: now}
	b := RecipientBound{Key: recipientKey(m.To), Limit: q.limit}
	b.WindowStart, b.WindowEnd = window(now, q.window)
	if err := q.store.EnqueueMail(ctx, qm, b); err != nil {
		if errors.Is(err, ErrRecipientLimit) {
			q.n.rejected.Add(1)
			q.log.Warn("mail: recipient bound reached; message dropped", "to_domain", addressDomain(m.To),
				"limit", q.limit, "window", q.window.String())
			return fmt.Errorf("mail: enqueue: %w", err)
		}
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	q.n.enqueued.Add(1)
	q.log.Debug("mail: message queued", "id", id, "to_domain", addressDomain(m.To))
	select {
	case q.poke <- struct{}{}:
	default:
	}
	return nil
}

// recipientKey hashes the normalized address, so counters never hold it.
func recipientKey(addr string) string {
	h := sha256.Sum256([]byte("unilogin mail recipient\x00" + accounts.NormalizeEmail(addr)))
	return hex.EncodeToString(h[:16])
}

// window is the fixed window of length d containing now, aligned to the
// Unix epoch in milliseconds.
func window(now time.Time, d time.Duration) (start, end time.Time) {
	w := max(d.Milliseconds(), 1)
	ms := now.UnixMilli()
	s := ms - ms%w
	return time.UnixMilli(s).UTC(), time.UnixMilli(s + w).UTC()
}

// sweepEvery is how often Run sweeps the store's bookkeeping.
const sweepEvery = 10 * time.Minute

// Run delivers due messages until ctx ends: at once when this instance
// enqueues, and every PollInterval for the others'. It returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	lastSweep := time.Time{}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.poke:
		case <-t.C:
		}
		w.pass(ctx)
		if now := time.Now(); now.Sub(lastSweep) >= sweepEvery {
			if err := w.store.SweepMail(ctx, now.UTC()); err != nil && ctx.Err() == nil {
				w.log.Warn("mail: sweep the queue", "error", err.Error())
			}
			lastSweep = now
		}
		t.Reset(w.poll)
	}
}

// pass tries every due message once. It stops early when the server
// cannot be reached, rather than waiting out a timeout per message.
func (w *Worker) pass(ctx context.Context) {
	due, err := w.store.DueMail(ctx, time.Now().UTC(), 50)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("mail: read the queue", "error", err.Error())
		}
		return
	}
	for _, m := range due {
		if ctx.Err() != nil || !w.attempt(ctx, m) {
			return
		}
	}
}

// attempt claims and sends m; false: stop this pass.
func (w *Worker) attempt(ctx context.Context, m *QueuedMessage) bool {
	now := time.Now().UTC()
	c, err := w.store.ClaimMail(ctx, m, w.owner, now, now.Add(w.sendBound+time.Minute))
	if errors.Is(err, ErrNotClaimed) {
		return true
	}
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("mail: claim a message", "id", m.ID, "error", err.Error())
		}
		return false
	}
	// Store writes after the attempt outlive a shutdown that cut it short.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if now.After(c.NotAfter) {
		w.giveUp(bg, c, "expired before delivery")
		return true
	}
	sctx, scancel := context.WithTimeout(ctx, w.sendBound)
	err = w.sender.Send(sctx, Envelope{ID: c.ID, From: c.From, To: c.To}, c.Raw)
	scancel()
	switch {
	case err == nil:
		if derr := w.store.DeleteMail(bg, c); derr != nil {
			w.log.Warn("mail: delivered, but not removed from the queue (it may be sent again)", "id", c.ID, "error", derr.Error())
		}
		w.log.Info("mail: message delivered", "id", c.ID, "to_domain", addressDomain(c.To), "attempts", c.Attempts+1)
		w.n.sent.Add(1)
		return true
	case errors.Is(err, ErrPermanent):
		c.LastError = truncate(err.Error())
		w.giveUp(bg, c, "permanent failure")
		return true
	case ctx.Err() != nil: // shutting down: not the message's fault
		c.NextAttempt, c.LastError = now, truncate(err.Error())
		_ = w.store.RetryMail(bg, c)
		return false
	}
	c.Attempts++
	c.LastError = truncate(err.Error())
	c.NextAttempt = now.Add(w.backoff(c.Attempts))
	if c.NextAttempt.After(c.NotAfter) {
		w.giveUp(bg, c, "too old to retry")
	} else if rerr := w.store.RetryMail(bg, c); rerr != nil {
		w.log.Error("mail: reschedule a message", "id", c.ID, "error", rerr.Error())
	} else {
		w.log.Warn("mail: delivery failed; will retry", "id", c.ID, "to_domain", addressDomain(c.To),
			"attempts", c.Attempts, "retry_at", c.NextAttempt.Format(time.RFC3339), "error", c.LastError)
		w.n.retried.Add(1)
	}
	var tp *textproto.Error
	return errors.As(err, &tp) // an SMTP reply: the server is up, go on
}

func (w *Worker) giveUp(ctx context.Context, c *QueuedMessage, why string) {
	if err := w.store.DeleteMail(ctx, c); err != nil && !errors.Is(err, ErrNotClaimed) {
		w.log.Error("mail: drop a message", "id", c.ID, "error", err.Error())
		return
	}
	w.log.Error("mail: message dropped undelivered", "id", c.ID, "to_domain", addressDomain(c.To), "reason", why,
		"attempts", c.Attempts, "queued_at", c.CreatedAt.Format(time.RFC3339), "last_error", c.LastError)
	w.n.gaveUp.Add(1) // after the log line: whoever sees the count can read the line
}

// backoff is RetryMin·2^(attempts-1), capped at RetryMax, ±10% jitter so
// instances do not retry in step.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.retryMin
	for i := 1; i < attempts && d < w.retryMax; i++ {
		d *= 2
	}
	d = min(d, w.retryMax)
	j, _ := rand.Int(rand.Reader, big.NewInt(int64(d/5)+1))
	return d - d/10 + time.Duration(j.Int64())
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

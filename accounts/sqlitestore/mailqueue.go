package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

var _ mail.QueueStore = (*Store)(nil)

// mailQueueSchema is migration 5. A claimed row has lease_until > 0; every
// change bumps generation, so each step is one compare-and-swap UPDATE.
var mailQueueSchema = []string{
	`CREATE TABLE IF NOT EXISTS mail_queue (
		id          TEXT    NOT NULL PRIMARY KEY,
		generation  INTEGER NOT NULL DEFAULT 0,
		env_from    TEXT    NOT NULL,
		env_to      TEXT    NOT NULL,
		raw         BLOB    NOT NULL,
		created_at  INTEGER NOT NULL,             -- Unix milliseconds
		not_after   INTEGER NOT NULL,
		next_at     INTEGER NOT NULL,
		attempts    INTEGER NOT NULL DEFAULT 0,
		last_error  TEXT    NOT NULL DEFAULT '',
		lease_owner TEXT    NOT NULL DEFAULT '',
		lease_until INTEGER NOT NULL DEFAULT 0     -- 0: not claimed
	)`,
	`CREATE INDEX IF NOT EXISTS mail_queue_next_at ON mail_queue (next_at)`,
	`CREATE TABLE IF NOT EXISTS mail_recipient_counts (
		key          TEXT    NOT NULL,
		window_start INTEGER NOT NULL,
		count        INTEGER NOT NULL,
		expires_at   INTEGER NOT NULL,
		PRIMARY KEY (key, window_start)
	)`,
}

// EnqueueMail counts m against b and inserts it in one transaction that
// starts with its write, so concurrent enqueues serialize on the lock.
func (s *Store) EnqueueMail(ctx context.Context, m *mail.QueuedMessage, b mail.RecipientBound) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", err)
	}
	defer tx.Rollback()
	if b.Limit > 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO mail_recipient_counts (key, window_start, count, expires_at)
			VALUES (?, ?, 1, ?)
			ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 WHERE count < ?`,
			b.Key, b.WindowStart.UnixMilli(), b.WindowEnd.UnixMilli(), b.Limit)
		if err := changed(res, err, "enqueue mail: count", mail.ErrRecipientLimit); err != nil {
			return err
		}
	}
	m.Generation = 0
	if _, err := tx.ExecContext(ctx, `INSERT INTO mail_queue
		(id, generation, env_from, env_to, raw, created_at, not_after, next_at, attempts, last_error)
		VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.From, m.To, m.Raw, m.CreatedAt.UnixMilli(), m.NotAfter.UnixMilli(), m.NextAttempt.UnixMilli(),
		m.Attempts, m.LastError); err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: commit: %w", err)
	}
	return nil
}

const mailColumns = `id, generation, env_from, env_to, raw, created_at, not_after, next_at, attempts, last_error`

func scanMail(sc scanner) (*mail.QueuedMessage, error) {
	var (
		m                     mail.QueuedMessage
		created, notAfter, nx int64
	)
	if err := sc.Scan(&m.ID, &m.Generation, &m.From, &m.To, &m.Raw, &created, &notAfter, &nx, &m.Attempts, &m.LastError); err != nil {
		return nil, err
	}
	m.CreatedAt, m.NotAfter, m.NextAttempt = time.UnixMilli(created).UTC(), time.UnixMilli(notAfter).UTC(), time.UnixMilli(nx).UTC()
	return &m, nil
}

// DueMail leaves out rows whose lease lasts beyond now.
func (s *Store) DueMail(ctx context.Context, now time.Time, limit int) ([]*mail.QueuedMessage, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+mailColumns+` FROM mail_queue
		WHERE next_at <= ? AND lease_until <= ? ORDER BY next_at, id LIMIT ?`, now.UnixMilli(), now.UnixMilli(), limit)
	out, err := sqlitedb.Collect(rows, err, scanMail)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: due mail: %w", err)
	}
	return out, nil
}

// ClaimMail is one UPDATE conditioned on the generation read and on no
// live lease; a lease that ran out counts as a failed attempt.
func (s *Store) ClaimMail(ctx context.Context, m *mail.QueuedMessage, owner string, now, leaseUntil time.Time) (*mail.QueuedMessage, error) {
	got, err := scanMail(s.db.QueryRowContext(ctx, `UPDATE mail_queue SET
			generation = generation + 1,
			attempts = attempts + CASE WHEN lease_until > 0 THEN 1 ELSE 0 END,
			last_error = CASE WHEN lease_until > 0 THEN 'lease expired during an attempt' ELSE last_error END,
			lease_owner = ?, lease_until = ?
		WHERE id = ? AND generation = ? AND lease_until <= ?
		RETURNING `+mailColumns,
		owner, max(leaseUntil.UnixMilli(), 1), m.ID, m.Generation, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mail.ErrNotClaimed
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim mail: %w", err)
	}
	return got, nil
}

// RetryMail stores the attempt and ends the lease, if still the holder's.
func (s *Store) RetryMail(ctx context.Context, m *mail.QueuedMessage) error {
	res, err := s.db.ExecContext(ctx, `UPDATE mail_queue SET generation = generation + 1,
			attempts = ?, next_at = ?, last_error = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND generation = ?`,
		m.Attempts, m.NextAttempt.UnixMilli(), m.LastError, m.ID, m.Generation)
	return changed(res, err, "retry mail", mail.ErrNotClaimed) // (id, generation) is the key
}

// DeleteMail removes the row, if still the holder's.
func (s *Store) DeleteMail(ctx context.Context, m *mail.QueuedMessage) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mail_queue WHERE id = ? AND generation = ?`, m.ID, m.Generation)
	return changed(res, err, "delete mail", mail.ErrNotClaimed)
}

// SweepMail deletes the counters of windows that have ended.
func (s *Store) SweepMail(ctx context.Context, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM mail_recipient_counts WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return fmt.Errorf("sqlitestore: sweep mail: %w", err)
	}
	return nil
}

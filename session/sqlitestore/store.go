package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// Store is the SQLite session.Store. It is safe for concurrent use; the
// single connection of sqlitedb.Open serialises its statements.
type Store struct {
	db     *sql.DB // the writer
	reader *sql.DB // the hot reads; db without NewWithReader

	// The hot paths (bearer checks, refresh rotation, sign-in), prepared
	// once: parsing SQL on every call was a sixth of a /users/me.
	getSession    *sql.Stmt
	touchSession  *sql.Stmt
	getRefresh    *sql.Stmt
	createRefresh *sql.Stmt
	createSession *sql.Stmt
	rotate        *sql.Stmt
	advance       *sql.Stmt
	sessionLive   *sql.Stmt
}

var _ session.Store = (*Store)(nil)

const sessionColumns = `id, user_id, client_id, amr, scope, user_agent, created_at, last_used_at, expires_at,
	refresh_hash, refresh_gen, rotated_at, refresh_expires_at`

const refreshColumns = `hash, session_id, user_id, parent_hash, created_at, expires_at`

const codeColumns = `hash, client_id, redirect_uri, code_challenge, code_challenge_method, user_id, amr, payload, created_at, expires_at`

const keyColumns = `id, algorithm, sealed, created_at, active_at, retired_at, expires_at`

// New migrates the session tables in db (opened with sqlitedb.Open) and returns a
// Store on it. The caller keeps ownership of db; Close releases only what
// New prepared.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	return NewWithReader(ctx, db, db)
}

// NewWithReader is New with the hot reads (sessions, refresh tokens) on
// reader, a pool from sqlitedb.OpenRead on the same file; writes stay on db.
func NewWithReader(ctx context.Context, db, reader *sql.DB) (*Store, error) {
	if err := migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	s := &Store{db: db, reader: reader}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
		db   *sql.DB
	}{
		{&s.getSession, `SELECT ` + sessionColumns + ` FROM sessions WHERE id = ? AND expires_at >= ?`, reader},
		{&s.touchSession, `UPDATE sessions SET last_used_at = ? WHERE id = ?`, db},
		{&s.getRefresh, `SELECT ` + refreshColumns + ` FROM refresh_tokens WHERE hash = ? AND expires_at >= ?`, reader},
		{&s.createRefresh, `INSERT INTO refresh_tokens (` + refreshColumns + `) VALUES (?, ?, ?, ?, ?, ?)`, db},
		{&s.createSession, `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, db},
		// The compare-and-swap of a rotation: one statement, one write.
		{&s.rotate, `UPDATE sessions SET refresh_hash = ?, refresh_gen = refresh_gen + 1, rotated_at = ?,
			last_used_at = ?, refresh_expires_at = ?
			WHERE id = ? AND refresh_gen = ? AND refresh_hash IS ? AND expires_at >= ?`, db},
		// The common refresh: check and rotate in one statement (AdvanceSQL).
		{&s.advance, AdvanceSQL(""), db},
		// On the writer: it must see the write that just failed to match.
		{&s.sessionLive, `SELECT count(*) FROM sessions WHERE id = ? AND expires_at >= ?`, db},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlitestore: prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return s, nil
}

// Close releases the prepared statements. It does not close the *sql.DB,
// which the caller shares with other components.
func (s *Store) Close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{s.getSession, s.touchSession, s.getRefresh, s.createRefresh, s.createSession, s.rotate, s.advance, s.sessionLive} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// --- sessions ---

func (s *Store) CreateSession(ctx context.Context, x *session.Session) error {
	amr, err := encodeStrings(x.AMR)
	if err != nil {
		return err
	}
	_, err = s.createSession.ExecContext(ctx,
		x.ID, x.UserID, x.ClientID, amr, x.Scope, x.UserAgent,
		millis(x.CreatedAt), nullMillis(x.LastUsedAt), millis(x.ExpiresAt),
		nullBytes(x.RefreshHash), x.RefreshGen, nullMillis(x.RotatedAt), nullMillis(x.RefreshExpiresAt))
	return wrap("create session", err)
}

// RotateRefresh is one conditional UPDATE of the session row; only when it
// matched nothing does a read tell a lost race from an ended session.
func (s *Store) RotateRefresh(ctx context.Context, r *session.Rotation) error {
	now := millis(time.Now())
	res, err := s.rotate.ExecContext(ctx, r.ToHash, millis(r.At), millis(r.At), millis(r.IdleExpiresAt),
		r.SessionID, r.FromGen, nullBytes(r.FromHash), now)
	if err := affectedOne(res, err); !errors.Is(err, session.ErrNotFound) {
		return wrap("rotate refresh token", err)
	}
	var n int
	if err := s.sessionLive.QueryRowContext(ctx, r.SessionID, now).Scan(&n); err != nil {
		return wrap("rotate refresh token", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return session.ErrAlreadyExists
}

// AdvanceSQL is the statement of AdvanceRefresh, with extra (e.g. a
// further condition on the session's user, in the server assembly, whose
// RETURNING may then read the user as well) appended to its WHERE clause,
// and more columns after SessionColumns in RETURNING (extra and more may be
// empty). Its parameters are AdvanceArgs, then any of the caller's from ?9
// on.
func AdvanceSQL(extra string, more ...string) string {
	returning := sessionColumns
	for _, c := range more {
		returning += ", " + c
	}
	return `UPDATE sessions SET refresh_hash = ?1, refresh_gen = refresh_gen + 1, rotated_at = ?2,
		last_used_at = ?2, refresh_expires_at = min(?3, expires_at)
		WHERE id = ?4 AND refresh_gen = ?5 AND refresh_hash = ?6 AND client_id = ?7 AND expires_at >= ?8
		AND (refresh_expires_at IS NULL OR refresh_expires_at >= ?2)` + extra + `
		RETURNING ` + returning
}

// AdvanceArgs are the first parameters of AdvanceSQL for a, at the
// store's time now.
func AdvanceArgs(a *session.Advance, now time.Time) []any {
	return []any{a.ToHash, millis(a.At), millis(a.IdleExpiresAt), a.SessionID, a.FromGen, a.FromHash, a.ClientID, millis(now)}
}

// AdvanceRefresh is one UPDATE ... RETURNING on the writer: the checks are
// its WHERE clause (the token's hash compared there like any hash lookup),
// so a spent token, another client or an ended session changes nothing.
func (s *Store) AdvanceRefresh(ctx context.Context, a *session.Advance) (*session.Session, error) {
	x, err := scanSession(s.advance.QueryRowContext(ctx, AdvanceArgs(a, time.Now())...))
	if err != nil {
		return nil, wrap("advance refresh token", err)
	}
	return x, nil
}

// SessionRecords counts the session's row and its refresh_tokens rows.
func (s *Store) SessionRecords(ctx context.Context, id string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sessions WHERE id = ?1)
		+ (SELECT count(*) FROM refresh_tokens WHERE session_id = ?1)`, id).Scan(&n)
	return n, wrap("count session records", err)
}

func (s *Store) GetSession(ctx context.Context, id string) (*session.Session, error) {
	x, err := scanSession(s.getSession.QueryRowContext(sqlitedb.PointReadContext(ctx, s.reader != s.db), id, millis(time.Now())))
	if err != nil {
		return nil, wrap("get session", err)
	}
	return x, nil
}

func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.touchSession.ExecContext(ctx, nullMillis(at), id)
	return wrap("touch session", affectedOne(res, err))
}

func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]*session.Session, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND expires_at >= ? ORDER BY created_at DESC, id`, userID, millis(now))
	list, err := sqlitedb.Collect(rows, err, scanSession)
	return list, wrap("list sessions", err)
}

// DeleteSession deletes the session and its refresh tokens in one
// transaction. The tokens go even when the session row is already gone.
func (s *Store) DeleteSession(ctx context.Context, id string) (err error) {
	defer func() { err = wrap("delete session", err) }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id = ?`, id); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// DeleteUserSessions counts only sessions that were still live: an expired
// one had already ended.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptID string) (count int, err error) {
	defer func() { err = wrap("delete user sessions", err) }()
	now := millis(time.Now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id IN
		(SELECT id FROM sessions WHERE user_id = ? AND id <> ?)`, userID, exceptID); err != nil {
		return 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sessions
		WHERE user_id = ? AND id <> ? AND expires_at >= ?`, userID, exceptID, now).Scan(&count); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, exceptID); err != nil {
		return 0, err
	}
	return count, tx.Commit()
}

// --- refresh tokens ---

func (s *Store) CreateRefresh(ctx context.Context, t *session.RefreshToken) error {
	_, err := s.createRefresh.ExecContext(ctx, t.Hash, t.SessionID, t.UserID, nullBytes(t.ParentHash),
		millis(t.CreatedAt), millis(t.ExpiresAt))
	return wrap("create refresh token", err)
}

func (s *Store) GetRefresh(ctx context.Context, hash []byte) (*session.RefreshToken, error) {
	var t session.RefreshToken
	var created, expires int64
	err := s.getRefresh.QueryRowContext(ctx, hash, millis(time.Now())).Scan(
		&t.Hash, &t.SessionID, &t.UserID, &t.ParentHash, &created, &expires)
	if err != nil {
		return nil, wrap("get refresh token", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &t, nil
}

// --- authorization codes ---

func (s *Store) CreateCode(ctx context.Context, c *session.AuthCode) error {
	amr, err := encodeStrings(c.AMR)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO auth_codes (`+codeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod, c.UserID, amr,
		nullBytes(c.Payload), millis(c.CreatedAt), millis(c.ExpiresAt))
	return wrap("create code", err)
}

// ConsumeCode is one DELETE ... RETURNING: the row goes to exactly one
// caller. An expired code is deleted too, and reported as not found.
func (s *Store) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*session.AuthCode, error) {
	var c session.AuthCode
	var amr string
	var created, expires int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM auth_codes WHERE hash = ? RETURNING `+codeColumns, hash).Scan(
		&c.Hash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.CodeChallengeMethod, &c.UserID, &amr,
		&c.Payload, &created, &expires)
	if err != nil {
		return nil, wrap("consume code", err)
	}
	if expires < millis(now) {
		return nil, session.ErrNotFound
	}
	if c.AMR, err = decodeStrings(amr); err != nil {
		return nil, fmt.Errorf("sqlitestore: consume code: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &c, nil
}

// --- claims ---

// Claim is a plain insert: a key claimed before is refused even when its
// claim has expired but not yet been swept, which is the safe answer for a
// replayed flow id.
func (s *Store) Claim(ctx context.Context, key string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO claims (key, expires_at) VALUES (?, ?)`, key, millis(expires))
	return wrap("claim", err)
}

// --- signing keys ---

func (s *Store) CreateKey(ctx context.Context, k *session.SigningKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Sealed, millis(k.CreatedAt),
		nullMillis(k.ActiveAt), nullMillis(k.RetiredAt), nullMillis(k.ExpiresAt))
	return wrap("create key", err)
}

// ListKeys leaves out keys whose ExpiresAt has passed: they have left the
// JWKS even if the sweeper has not removed them yet.
func (s *Store) ListKeys(ctx context.Context) ([]*session.SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys
		WHERE expires_at IS NULL OR expires_at >= ? ORDER BY created_at, id`, millis(time.Now()))
	keys, err := sqlitedb.Collect(rows, err, scanKey)
	return keys, wrap("list keys", err)
}

func scanKey(r rowScanner) (*session.SigningKey, error) {
	var k session.SigningKey
	var created int64
	var active, retired, expires sql.NullInt64
	if err := r.Scan(&k.ID, &k.Algorithm, &k.Sealed, &created, &active, &retired, &expires); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMillis(created)
	k.ActiveAt, k.RetiredAt, k.ExpiresAt = fromNullMillis(active), fromNullMillis(retired), fromNullMillis(expires)
	return &k, nil
}

func (s *Store) RetireKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE id = ?`,
		nullMillis(retiredAt), nullMillis(expiresAt), id)
	return wrap("retire key", affectedOne(res, err))
}

func (s *Store) DeleteKey(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	return wrap("delete key", affectedOne(res, err))
}

// --- secrets ---

// GetOrCreateSecret inserts unless a secret exists (the primary key makes
// the first writer win, also across processes), then reads the winner.
func (s *Store) GetOrCreateSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return nil, wrap("create secret", err)
	}
	var stored []byte
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&stored); err != nil {
		return nil, wrap("get secret", err)
	}
	return stored, nil
}

// --- maintenance ---

// sweepBatch bounds how long one DELETE holds the only connection (and the
// write lock), so requests can interleave with a large sweep.
const sweepBatch = 1000

// DeleteExpired sweeps each table in batches, without a transaction: each
// batch is atomic on its own and a record is either live or gone.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for _, q := range []string{
		`DELETE FROM refresh_tokens WHERE hash IN
			(SELECT hash FROM refresh_tokens WHERE expires_at < ?1 LIMIT ?2)`,
		`DELETE FROM sessions WHERE id IN
			(SELECT id FROM sessions WHERE expires_at < ?1 LIMIT ?2)`,
		`DELETE FROM auth_codes WHERE hash IN
			(SELECT hash FROM auth_codes WHERE expires_at < ?1 LIMIT ?2)`,
		`DELETE FROM claims WHERE key IN
			(SELECT key FROM claims WHERE expires_at < ?1 LIMIT ?2)`,
		`DELETE FROM signing_keys WHERE id IN
			(SELECT id FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < ?1 LIMIT ?2)`,
		`DELETE FROM rate_counters WHERE (key, window_ms, window_start) IN
			(SELECT key, window_ms, window_start FROM rate_counters WHERE expires_at < ?1 LIMIT ?2)`,
	} {
		for {
			res, err := s.db.ExecContext(ctx, q, millis(now), sweepBatch)
			if err != nil {
				return total, wrap("delete expired", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, wrap("delete expired", err)
			}
			total += int(n)
			if n < sweepBatch {
				break
			}
		}
	}
	return total, nil
}

func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.db.PingContext(ctx))
}

// --- helpers ---

package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

var _ accounts.Store = (*Store)(nil)

// Store is an accounts.Store on a SQLite database. It is safe for concurrent
// use.
//
// It works with a *sql.DB limited to one connection (SetMaxOpenConns(1)):
// no method runs a query outside its transaction while the transaction is
// open, which would wait forever for the only connection. With several
// connections, WAL mode and a busy_timeout are expected; every transaction
// starts with a write so that it takes the write lock up front.
//
// Reads may go to a second pool (NewWithReader): several connections on
// the same file in WAL mode, which read alongside the single writer.
type Store struct {
	db *sql.DB // the writer (and the reader without NewWithReader)

	// pointRead is true with a separate read pool: see readCtx.
	pointRead bool

	// Hot reads, prepared once on the reader (parsing SQL on every call
	// was a sixth of a GET /users/me).
	getUser, getUserByEmail, getIdentity, userWithIdentities *sql.Stmt
}

// New creates or migrates the accounts tables in db and returns a Store on
// it. db must use the "sqlite" driver of modernc.org/sqlite; the caller owns
// it (and its other tables) and closes it after the Store's last use.
//
// Identities are deleted with their user explicitly, so the store does not
// depend on the foreign_keys pragma; turning it on is still recommended.
func New(ctx context.Context, db *sql.DB) (*Store, error) {
	return NewWithReader(ctx, db, db)
}

// NewWithReader is New with the hot reads on reader, a read-only pool on
// the same database file (sqlitedb.OpenRead); the writes and
// every transaction stay on db.
func NewWithReader(ctx context.Context, db, reader *sql.DB) (*Store, error) {
	if err := migrate(ctx, db); err != nil {
		return nil, err
	}
	s := &Store{db: db, pointRead: reader != db}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.getUser, `SELECT ` + userColumns + ` FROM users WHERE id = ?`},
		{&s.getUserByEmail, `SELECT ` + userColumns + ` FROM users WHERE email_key = ?`},
		{&s.getIdentity, `SELECT ` + identityColumns + ` FROM identities WHERE provider = ? AND subject = ?`},
		{&s.userWithIdentities, userWithIdentitiesSQL},
	} {
		stmt, err := reader.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return s, nil
}

const userColumns = `id, email, email_verified, name, password_hash, roles, disabled, created_at, updated_at`

// readCtx is the context of a hot point read (sqlitedb.PointReadContext).
func (s *Store) readCtx(ctx context.Context) context.Context {
	return sqlitedb.PointReadContext(ctx, s.pointRead)
}

// CreateUser inserts u. A zero CreatedAt is set to the current time and a
// zero UpdatedAt to CreatedAt, in *u too. The unique key on email_key makes
// the e-mail check and the insert one atomic step.
func (s *Store) CreateUser(ctx context.Context, u *accounts.User) error {
	if u.ID == "" {
		return errors.New("sqlitestore: create user: empty id")
	}
	roles, err := encodeRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlitestore: create user: %w", err)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now().UTC()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO users
		(id, email, email_key, email_verified, name, password_hash, roles, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, emailKey(u.Email), u.EmailVerified, u.Name, u.PasswordHash, roles, u.Disabled,
		u.CreatedAt.UnixMilli(), u.UpdatedAt.UnixMilli())
	switch code := errorCode(err); {
	case err == nil:
		return nil
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE: // email_key is the only UNIQUE key of users
		return accounts.ErrEmailTaken
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("sqlitestore: create user: id %q already exists", u.ID)
	default:
		return fmt.Errorf("sqlitestore: create user: %w", err)
	}
}

// GetUser returns the user with this id.
func (s *Store) GetUser(ctx context.Context, id string) (*accounts.User, error) {
	u, err := scanUser(s.getUser.QueryRowContext(s.readCtx(ctx), id))
	if err != nil {
		return nil, wrap("get user", err)
	}
	return u, nil
}

// GetUserByEmail looks the user up by its normalized e-mail (an index
// lookup on email_key).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*accounts.User, error) {
	key := accounts.NormalizeEmail(email)
	if key == "" {
		return nil, accounts.ErrNotFound
	}
	u, err := scanUser(s.getUserByEmail.QueryRowContext(ctx, key))
	if err != nil {
		return nil, wrap("get user by email", err)
	}
	return u, nil
}

// SetPasswordHash replaces the password hash and bumps UpdatedAt.
func (s *Store) SetPasswordHash(ctx context.Context, id, hash string) error {
	return s.updateUser(ctx, "set password hash", id, `password_hash`, hash)
}

// SetRoles replaces the roles (order kept) and bumps UpdatedAt.
func (s *Store) SetRoles(ctx context.Context, id string, roles []string) error {
	enc, err := encodeRoles(roles)
	if err != nil {
		return fmt.Errorf("sqlitestore: set roles: %w", err)
	}
	return s.updateUser(ctx, "set roles", id, `roles`, enc)
}

// SetDisabled sets the disabled flag and bumps UpdatedAt.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return s.updateUser(ctx, "set disabled", id, `disabled`, disabled)
}

// updateUser sets one column (a constant chosen by this package, never user
// input) and updated_at in a single statement.
func (s *Store) updateUser(ctx context.Context, op, id, column string, value any) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE users SET `+column+` = ?, updated_at = ? WHERE id = ?`,
		value, time.Now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	return oneRow(res, op)
}

// DeleteUser removes the user and its identities in one transaction. Its
// e-mail is a column of the user row, so it is freed with it.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete user: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit

	// Explicit rather than relying on ON DELETE CASCADE, which only acts on
	// connections where PRAGMA foreign_keys is on. Being a write, it also
	// takes the write lock first (see Store).
	if _, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("sqlitestore: delete user: identities: %w", err)
	}
	if err := deleteConsents(ctx, tx, id); err != nil { // consent.go
		return err
	}
	if err := deleteFactors(ctx, tx, id); err != nil { // factors.go
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete user: %w", err)
	}
	if err := oneRow(res, "delete user"); err != nil {
		return err // rolls back
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: delete user: commit: %w", err)
	}
	return nil
}

// ListUsers returns up to limit users with id > after, ordered by id (keyset
// pagination: stable while users are added or deleted). emailContains is
// normalized like an e-mail and matched literally (no wildcards) against
// the normalized e-mail; users without e-mail never match it. A limit of
// zero or less returns nothing.
func (s *Store) ListUsers(ctx context.Context, after string, limit int, emailContains string) ([]*accounts.User, error) {
	query := `SELECT ` + userColumns + ` FROM users WHERE id > ?`
	args := []any{after}
	if needle := accounts.NormalizeEmail(emailContains); needle != "" {
		// instr, not LIKE: '%' and '_' in the needle stay literal.
		query += ` AND instr(email_key, ?) > 0`
		args = append(args, needle)
	}
	return page(ctx, s, "list users", query+` ORDER BY id`, args, limit, scanUser)
}

// LinkIdentity inserts the identity if its user exists, in one statement, so
// a concurrent DeleteUser cannot leave it orphaned. The primary key makes
// (provider, subject) unique (ErrIdentityLinked) and the unique index
// identities_user_provider one identity per user and provider
// (ErrAccountExists). A zero LinkedAt is set
// to the current time, in *id too.
func (s *Store) LinkIdentity(ctx context.Context, id *accounts.Identity) error {
	if id.Provider == "" || id.Subject == "" {
		return errors.New("sqlitestore: link identity: empty provider or subject")
	}
	if id.LinkedAt.IsZero() {
		id.LinkedAt = time.Now().UTC()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO identities (provider, subject, user_id, email, linked_at)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)`,
		id.Provider, id.Subject, id.UserID, id.Email, id.LinkedAt.UnixMilli(), id.UserID)
	switch code := errorCode(err); {
	case err == nil:
		return oneRow(res, "link identity") // no row: no such user
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		// SQLite names only one violated key; which one it picks when both
		// are is unspecified, so ask whether (provider, subject) exists.
		linked, err := s.exists(ctx, "link identity", "identities", "provider = ? AND subject = ?", id.Provider, id.Subject)
		if err != nil {
			return err
		}
		if linked {
			return accounts.ErrIdentityLinked
		}
		return accounts.ErrAccountExists // identities_user_provider
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY: // only if the user vanished mid-statement
		return accounts.ErrNotFound
	default:
		return fmt.Errorf("sqlitestore: link identity: %w", err)
	}
}

const identityColumns = `provider, subject, user_id, email, linked_at`

// GetIdentity returns the identity for (provider, subject).
func (s *Store) GetIdentity(ctx context.Context, provider, subject string) (*accounts.Identity, error) {
	id, err := scanIdentity(s.getIdentity.QueryRowContext(ctx, provider, subject))
	if err != nil {
		return nil, wrap("get identity", err)
	}
	return id, nil
}

// UnlinkIdentity removes the user's identities at provider.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, provider string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM identities WHERE user_id = ? AND provider = ?`, userID, provider)
	if err != nil {
		return fmt.Errorf("sqlitestore: unlink identity: %w", err)
	}
	return oneRow(res, "unlink identity")
}

// Ping reports whether the database answers and the accounts tables are
// readable.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	return nil
}

// wrap prefixes err unless it is one of the accounts sentinels, which are
// returned as they are.
func wrap(op string, err error) error {
	if errors.Is(err, accounts.ErrNotFound) {
		return err
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// errorCode returns the SQLite extended result code of err, or 0.
func errorCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// oneRow maps "no row affected" to ErrNotFound.
func oneRow(res sql.Result, op string) error {
	return changed(res, nil, op, accounts.ErrNotFound)
}

// changed takes the result of a statement that must change a row: its
// errors wrapped as op, or none when it changed nothing.
func changed(res sql.Result, err error, op string, none error) error {
	n, err := affected(res, err, op)
	if err == nil && n == 0 {
		return none
	}
	return err
}

// emailKey is the value of the email_key column: NULL when there is no
// e-mail, so that users without one never collide in the unique key.
func emailKey(email string) sql.NullString {
	key := accounts.NormalizeEmail(email)
	return sql.NullString{String: key, Valid: key != ""}
}

func encodeRoles(roles []string) (string, error) {
	if roles == nil {
		roles = []string{}
	}
	b, err := json.Marshal(roles)
	if err != nil {
		return "", fmt.Errorf("encode roles: %w", err)
	}
	return string(b), nil
}

type scanner = sqlitedb.Scanner

// UserColumns are the columns ScanUser reads, in order (table users): for
// a read that joins users to other tables, in the server assembly.
const UserColumns = userColumns

// ScanUser decodes a row of UserColumns (sql.ErrNoRows: ErrNotFound); r
// may put them after other columns.
func ScanUser(r sqlitedb.Scanner) (*accounts.User, error) { return scanUser(r) }

// scanUser reads userColumns; sql.ErrNoRows becomes ErrNotFound.
func scanUser(row scanner) (*accounts.User, error) {
	var (
		u                accounts.User
		roles            string
		created, updated int64
	)
	err := row.Scan(&u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.PasswordHash, &roles, &u.Disabled, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accounts.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := finishUser(&u, roles, created, updated); err != nil {
		return nil, err
	}
	return &u, nil
}

// finishUser decodes the columns of a scanned user that need it.
func finishUser(u *accounts.User, roles string, created, updated int64) error {
	var err error
	if u.Roles, err = sqlitedb.DecodeStrings(roles); err != nil {
		return fmt.Errorf("decode roles of user %q: %w", u.ID, err)
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	u.UpdatedAt = time.UnixMilli(updated).UTC()
	return nil
}

// scanIdentity reads identityColumns; sql.ErrNoRows becomes ErrNotFound.
func scanIdentity(row scanner) (*accounts.Identity, error) {
	var (
		id     accounts.Identity
		linked int64
	)
	err := row.Scan(&id.Provider, &id.Subject, &id.UserID, &id.Email, &linked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, accounts.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	id.LinkedAt = time.UnixMilli(linked).UTC()
	return &id, nil
}

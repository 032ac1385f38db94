// Package server assembles the whole unilogin service from a
// *config.Config: it opens the stores (or takes injected ones), builds the
// domain services, the identity providers and the HTTP handler, and runs
// the background work. `unilogin serve`, the CLI's other commands and
// every test harness start the service through it, so that a test runs the
// middleware, limits and hashing gate production runs.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mail"
	"github.com/unilogin/unilogin/accounts/mfa"
	accountsmongo "github.com/unilogin/unilogin/accounts/mongostore"
	accountssqlite "github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/api"
	"github.com/unilogin/unilogin/api/prom"
	"github.com/unilogin/unilogin/config"
	"github.com/unilogin/unilogin/providers"
	"github.com/unilogin/unilogin/session"
	sessionmongo "github.com/unilogin/unilogin/session/mongostore"
	sessionsqlite "github.com/unilogin/unilogin/session/sqlitestore"
	"github.com/unilogin/unilogin/session/sqlitestore/sqlitedb"
)

// stores are the opened storage backends.
type stores struct {
	accounts accounts.Store
	sessions session.Store
	// bearer reads a bearer check's session and user at once (the
	// embedded store; nil for MongoDB: two reads).
	bearer api.BearerReader
	kind   string // "sqlite <path>" or "mongodb <database>"
	close  func(context.Context) error

	// refresh does a refresh's rotation and read of the user at once (the
	// embedded store; nil for MongoDB: the rotation, then a read).
	refresh api.RefreshAdvancer
}

// openStores opens MongoDB when a URI is configured, else the embedded
// SQLite file under the data directory.
func openStores(ctx context.Context, cfg *config.Config) (*stores, error) {
	if cfg.MongoDB.URI != "" {
		client, err := mongo.Connect(mongoOptions(cfg))
		if err != nil {
			return nil, fmt.Errorf("mongodb: connect: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := client.Ping(pctx, nil); err != nil {
			_ = client.Disconnect(context.Background())
			return nil, fmt.Errorf("mongodb: ping: %w", err)
		}
		db := client.Database(cfg.MongoDB.Database)
		as, err := accountsmongo.New(ctx, db)
		if err != nil {
			_ = client.Disconnect(context.Background())
			return nil, err
		}
		ss, err := sessionmongo.New(ctx, db)
		if err != nil {
			_ = client.Disconnect(context.Background())
			return nil, err
		}
		return &stores{accounts: as, sessions: ss, kind: "mongodb database " + cfg.MongoDB.Database,
			close: func(ctx context.Context) error { return client.Disconnect(ctx) }}, nil
	}
	path := filepath.Join(cfg.DataDir, "unilogin.db")
	db, err := sqlitedb.OpenTimeout(path, cfg.SQLite.Synchronous, dbTimeout(cfg))
	if err != nil {
		return nil, err
	}
	// Reads on a pool of their own beside the single writer (WAL mode).
	rdb, err := sqlitedb.OpenRead(path, 2*runtime.GOMAXPROCS(0), dbTimeout(cfg))
	if err != nil {
		db.Close()
		return nil, err
	}
	closeBoth := func() error { return errors.Join(rdb.Close(), db.Close()) }
	as, err := accountssqlite.NewWithReader(ctx, db, rdb)
	if err != nil {
		closeBoth()
		return nil, err
	}
	ss, err := sessionsqlite.NewWithReader(ctx, db, rdb)
	if err != nil {
		closeBoth()
		return nil, err
	}
	bearer, err := newSQLiteBearer(ctx, rdb) // bearer.go
	if err != nil {
		closeBoth()
		return nil, err
	}
	refresh, err := newSQLiteRefresh(ctx, db) // refresh.go
	if err != nil {
		closeBoth()
		return nil, err
	}
	return &stores{accounts: as, sessions: ss, bearer: bearer, refresh: refresh, kind: "sqlite " + path,
		close: func(context.Context) error { return closeBoth() }}, nil
}

// dbTimeout is database.timeout (3s when unset, e.g. in a test's config).
func dbTimeout(cfg *config.Config) time.Duration {
	if cfg.Database.Timeout > 0 {
		return cfg.Database.Timeout
	}
	return 3 * time.Second
}

// mongoOptions are the client options: the URI, then what production needs
// whatever the URI says (docs/deployment.md).
//   - Every call is bounded by database.timeout: server selection (the
//     driver's default of 30 s equals http.write_timeout, so its error was
//     never delivered), connecting, and each operation (the driver's
//     client-side operation timeout; the guard in guard.go also puts the
//     deadline on the context).
//   - Writes are acknowledged by a majority of the replica set, journaled:
//     an acknowledged refresh rotation, revocation, key change or code
//     redemption survives a failover. Reads go to the primary with majority
//     read concern, so an instance never reads state older than what another
//     was told was written.
//   - Retryable writes and reads: a failover during a call is retried once
//     by the driver, within the same deadline.
func mongoOptions(cfg *config.Config) *options.ClientOptions {
	t := dbTimeout(cfg)
	journal := true
	return options.Client().ApplyURI(cfg.MongoDB.URI).SetAppName("unilogin").
		SetServerSelectionTimeout(t).
		SetConnectTimeout(t).
		SetTimeout(t).
		SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: &journal}).
		SetReadConcern(readconcern.Majority()).
		SetReadPreference(readpref.Primary()).
		SetRetryWrites(true).
		SetRetryReads(true)
}

// keyEncryptionKey returns the key that seals private keys and secrets at
// rest: keys.encryption_key when set, else <data_dir>/master.key, generated
// (0600) on first start. Instances sharing one MongoDB must share the key.
func keyEncryptionKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if k, err := cfg.Keys.DecodeEncryptionKey(); err != nil || k != nil {
		return k, err
	}
	if cfg.MongoDB.URI != "" {
		// config.Validate refuses this too; never generate a per-instance
		// key for a shared database.
		return nil, fmt.Errorf("keys.encryption_key: %w", config.ErrKEKRequired)
	}
	path := filepath.Join(cfg.DataDir, "master.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s: not a base64 32-byte key", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting together must not both write one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return keyEncryptionKey(cfg, log)
	} else if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// Options are what a caller may inject instead of what the configuration
// says; every field is optional.
type Options struct {
	// Accounts and Sessions, when both set, are used instead of opening
	// the configured database; the caller owns (and closes) them. They are
	// wrapped with the same timing decorators as opened stores.
	Accounts accounts.Store
	Sessions session.Store
	// Providers, when non-nil, replace the configured identity providers
	// (tests use fakes); an empty non-nil slice means none.
	Providers []providers.Provider
	// Gate, when set, replaces the hashing gate sized from
	// rate_limits.hashing_workers and hashing_queue (tests hold its slots).
	Gate accounts.Gate
	// Now is the clock of every service; default time.Now.
	Now func() time.Time
	// Logger receives the logs; default: discarded.
	Logger *slog.Logger
	// Version is reported by /healthz and unilogin_build_info.
	Version string
}

// Core is everything but HTTP: the stores, the domain services and the
// one accounts.Admin. The CLI's users and keys commands work with it.
type Core struct {
	Config   *config.Config
	Accounts *accounts.Service
	Admin    *accounts.Admin
	// Recovery is the e-mail flows (verification, reset, address change,
	// deletion); its messages queue in the database.
	Recovery *accounts.Recovery
	Sessions *session.Manager
	Keyring  *session.Keyring
	// MFA is the second factors and passkeys (accounts/mfa), shared by the
	// JSON API, the hosted pages and the CLI.
	MFA    *mfa.Service
	Sealer *session.Sealer
	// Metrics are the Prometheus collectors; the stores are timed into
	// Metrics.DBDuration.
	Metrics *api.Metrics
	// StoreKind names the database for logs: "sqlite <path>" or
	// "mongodb database <name>".
	StoreKind string

	log   *slog.Logger
	rates session.RateStore
	// mail delivers the queued messages (Server.Run).
	mail *mail.Worker
	// store is the accounts store (timed), for the e-mail links' sweep.
	store accounts.Store
	now   func() time.Time
	// bearer is the stores' joined bearer read (nil: none).
	bearer api.BearerReader
	close  func(context.Context) error
	// closeGate stops the hashing threads of the gate Open made (nil for
	// an injected gate).
	closeGate func()
	// rotatedBy is the audit actor of key rotations: the automatic
	// rotation, or the operator during Rotate.
	mu        sync.Mutex
	rotatedBy string

	// refresh is the stores' joined refresh step (nil: none).
	refresh api.RefreshAdvancer
}

// automaticRotation is the audit actor of the keyring's own rotations.
const automaticRotation = "system:automatic-rotation"

// Rotate adds a signing key now (session.Keyring.Rotate), recorded in the
// audit log with actor as the one who rotated.
func (c *Core) Rotate(ctx context.Context, actor string) (*session.SigningKey, error) {
	c.setRotatedBy(actor)
	defer c.setRotatedBy(automaticRotation)
	return c.Keyring.Rotate(ctx)
}

func (c *Core) setRotatedBy(actor string) {
	c.mu.Lock()
	c.rotatedBy = actor
	c.mu.Unlock()
}

func (c *Core) rotationActor() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rotatedBy
}

// Open opens the configured stores (or the injected ones) and builds the
// services over them, for the CLI's commands. cfg must have passed
// Validate.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Core, error) {
	return open(ctx, cfg, opts, nil)
}

// open is Open with every store call also passing guard (nil: none).
func open(ctx context.Context, cfg *config.Config, opts Options, guard *dbGuard) (*Core, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	// The stores first: with MongoDB unreachable nothing is written to the
	// data directory (the key file is generated for the embedded store only).
	st := &stores{accounts: opts.Accounts, sessions: opts.Sessions, kind: "injected",
		close: func(context.Context) error { return nil }}
	if opts.Accounts == nil || opts.Sessions == nil {
		var err error
		if st, err = openStores(ctx, cfg); err != nil {
			return nil, err
		}
	}
	c := &Core{Config: cfg, StoreKind: st.kind, log: log, close: st.close, rotatedBy: automaticRotation}
	fail := func(err error) (*Core, error) {
		_ = c.Close(context.Background())
		return nil, err
	}
	kek, err := keyEncryptionKey(cfg, log)
	if err != nil {
		return fail(fmt.Errorf("key-encryption key: %w", err))
	}
	sealer, err := session.NewSealer(kek)
	if err != nil {
		return fail(err)
	}
	// The mail queue over the raw store: the timing wrappers do not carry
	// the queue's methods.
	worker, queue, err := openMail(cfg, st.accounts, log) // recovery.go
	if err != nil {
		return fail(fmt.Errorf("email: %w", err))
	}
	c.mail = worker
	metrics := api.NewMetrics(prom.NewRegistry())
	guardStores(metrics.DBDuration, guard)(st)                  // instrument.go, guard.go
	c.Sealer, c.Metrics, c.rates = sealer, metrics, st.sessions // the rate counters timed and guarded too
	kr, err := session.NewKeyring(ctx, st.sessions, sealer, session.KeyringOptions{
		Algorithm:      cfg.Tokens.Algorithm,
		PrePublish:     cfg.Keys.PrePublish,
		RotationPeriod: cfg.Keys.RotationPeriod,
		TokenTTL:       cfg.Tokens.AccessTTL,
		Now:            opts.Now,
		OnRotate: func(ctx context.Context, k *session.SigningKey) {
			recordKeyRotation(ctx, st.accounts, c.rotationActor(), k, opts.Now, log)
		},
	})
	if err != nil {
		return fail(err)
	}
	mgr, err := session.NewManager(ctx, st.sessions, kr, sealer, session.Options{
		Issuer:             cfg.Issuer,
		Audience:           cfg.TokenAudience(),
		AccessTTL:          cfg.Tokens.AccessTTL,
		RefreshIdleTTL:     cfg.Tokens.RefreshIdleTTL,
		RefreshAbsoluteTTL: cfg.Tokens.RefreshAbsoluteTTL,
		ReuseGrace:         cfg.Tokens.RefreshReuseGrace,
		CodeTTL:            cfg.Tokens.CodeTTL,
		MaxSessionsPerUser: cfg.Tokens.MaxSessionsPerUser,
		Now:                opts.Now,
	})
	if err != nil {
		return fail(err)
	}
	gate := opts.Gate
	if gate == nil {
		// Admission control: bcrypt work bounded to the cores, a bounded
		// queue shared fairly per address and account, then 503; hashing
		// on low-priority threads (accounts/gate.go).
		pool := accounts.NewGate(cfg.RateLimits.HashingWorkers, cfg.RateLimits.HashingQueue).LowPriority()
		c.closeGate, gate = pool.Close, pool
	}
	acc, err := accounts.NewService(st.accounts, accounts.Options{
		BcryptCost:   cfg.Passwords.BcryptCost,
		DefaultRoles: cfg.DefaultRoles,
		Gate:         gate,
		Now:          opts.Now,
		Signup:       signupPolicy(cfg.Signup), // recovery.go
	})
	if err != nil {
		return fail(err)
	}
	rec, err := openRecovery(cfg, acc, st.accounts, queue, log) // recovery.go
	if err != nil {
		return fail(err)
	}
	adm, err := accounts.NewAdmin(acc, accounts.AdminOptions{Sessions: mgr, Roles: cfg.RoleNames(), Recovery: rec})
	if err != nil {
		return fail(err)
	}
	factors, err := openMFA(cfg, st, sealer, opts.Now) // mfa.go
	if err != nil {
		return fail(err)
	}
	c.MFA = factors
	c.Recovery, c.store, c.now = rec, st.accounts, opts.Now
	c.bearer = st.bearer
	c.refresh = st.refresh
	c.Accounts, c.Admin, c.Sessions, c.Keyring = acc, adm, mgr, kr
	return c, nil
}

// recordKeyRotation puts a key rotation in the audit log. A failure is logged, not fatal: the
// rotation itself has happened.
func recordKeyRotation(ctx context.Context, audit accounts.AuditStore, actor string, k *session.SigningKey, now func() time.Time, log *slog.Logger) {
	e := &accounts.AuditEvent{
		ID: accounts.NewID(), Time: now().UTC().Truncate(time.Millisecond), Actor: actor,
		Action: accounts.ActionKeyRotate, Target: k.ID,
		Details: map[string]string{"algorithm": k.Algorithm, "signs_from": k.ActiveAt.UTC().Format(time.RFC3339)},
	}
	if err := audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		log.Warn("audit log: key rotation not recorded", "kid", k.ID, "error", err.Error())
	}
}

// Close closes the stores Open opened (not injected ones) and stops the
// hashing gate's threads.
func (c *Core) Close(ctx context.Context) error {
	if c.Recovery != nil {
		c.Recovery.Wait() // links being stored and queued in the background
	}
	if c.closeGate != nil {
		c.closeGate()
	}
	return c.close(ctx)
}

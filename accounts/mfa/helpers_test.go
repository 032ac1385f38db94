package mfa_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/accounts/sqlitestore"
	"github.com/unilogin/unilogin/accounts/sqlitestore/sqlitetest"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// sealer is AES-256-GCM with a fresh key, as session.Sealer does it.
type sealer struct{ aead cipher.AEAD }

func newSealer(t *testing.T) *sealer {
	key := make([]byte, 32)
	rand.Read(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return &sealer{a}
}

func (s *sealer) Seal(pt []byte, ad string) []byte {
	n := make([]byte, s.aead.NonceSize())
	rand.Read(n)
	return s.aead.Seal(n, n, pt, []byte(ad))
}

func (s *sealer) Open(b []byte, ad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(b) < n {
		return nil, errors.New("short")
	}
	return s.aead.Open(nil, b[:n], b[n:], []byte(ad))
}

// counter is an in-memory fixed-window RateCounter.
type counter struct {
	mu sync.Mutex
	n  map[string]int64
}

func (c *counter) key(k string, w time.Duration, now time.Time) (string, time.Time) {
	start := now.Truncate(w)
	return k + "@" + start.String(), start.Add(w)
}

func (c *counter) Hit(_ context.Context, k string, w time.Duration, now time.Time) (int64, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key, end := c.key(k, w, now)
	c.n[key]++
	return c.n[key], end, nil
}

func (c *counter) Peek(_ context.Context, k string, w time.Duration, now time.Time) (int64, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key, end := c.key(k, w, now)
	return c.n[key], end, nil
}

type env struct {
	svc   *mfa.Service
	store *sqlitestore.Store
	clock *testkit.Clock
	rate  *counter
}

func newEnv(t *testing.T, mutate func(*mfa.Options)) *env {
	t.Helper()
	st := sqlitetest.New(t)
	e := &env{store: st, clock: testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)), rate: &counter{n: map[string]int64{}}}
	opts := mfa.Options{Issuer: "Example Login", Users: st, Factors: st, Sealer: newSealer(t), Audit: st, Rate: e.rate,
		Now: e.clock.Now, WebAuthn: &mfa.WebAuthnConfig{RPID: "login.example.com", RPDisplayName: "Example Login",
			Origins: []string{"https://login.example.com"}}}
	if mutate != nil {
		mutate(&opts)
	}
	var err error
	if e.svc, err = mfa.New(opts); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) user(t *testing.T, email string, password bool) *accounts.User {
	t.Helper()
	u := &accounts.User{ID: accounts.NewID(), Email: email, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if password {
		u.PasswordHash = "$2a$12$abcdefghijklmnopqrstuv"
	}
	if err := e.store.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// totpUser creates a password user with email and turns on TOTP for it;
// it returns the user and the TOTP secret.
func (e *env) totpUser(t *testing.T, email string) (*accounts.User, string) {
	t.Helper()
	u := e.user(t, email, true)
	enr, err := e.svc.EnrollTOTP(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("EnrollTOTP: %v", err)
	}
	if _, err := e.svc.ConfirmTOTP(t.Context(), u.ID, code(t, enr.Secret, e.clock.Now())); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return u, enr.Secret
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// actions returns the audit actions recorded about target, oldest first.
func (e *env) actions(t *testing.T, target string) []string {
	t.Helper()
	evs, err := e.store.ListAudit(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Target == target {
			out = append(out, evs[i].Action)
		}
	}
	return out
}

package accountstest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// testSealer is AES-256-GCM under a fresh key.
type testSealer struct{ aead cipher.AEAD }

func (s testSealer) Seal(pt []byte, ad string) []byte {
	n := make([]byte, s.aead.NonceSize())
	rand.Read(n)
	return s.aead.Seal(n, n, pt, []byte(ad))
}

func (s testSealer) Open(b []byte, ad string) ([]byte, error) {
	if len(b) < s.aead.NonceSize() {
		return nil, errors.New("sealed blob too short")
	}
	return s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(ad))
}

// memCounter is a RateCounter that never limits within the test.
type memCounter struct {
	mu sync.Mutex
	n  map[string]int64
}

func (c *memCounter) Hit(_ context.Context, k string, w time.Duration, now time.Time) (int64, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[k]++
	return c.n[k], now.Add(w), nil
}

func (c *memCounter) Peek(_ context.Context, k string, w time.Duration, now time.Time) (int64, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k], now.Add(w), nil
}

// One TOTP code sent by many requests at once, through mfa.Service as the
// API uses it: exactly one verification wins, the rest are replays.
func testConcurrentVerifySameCode(t *testing.T, s FactorBackend) {
	ctx := t.Context()
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	now := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	clock := &now
	var mu sync.Mutex
	svc, err := mfa.New(mfa.Options{Users: s, Factors: s, Sealer: testSealer{aead}, Audit: s,
		Rate: &memCounter{n: map[string]int64{}}, MaxFailures: 1000,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return *clock }})
	must(t, "mfa.New", err)
	u := newUser("race@example.com")
	u.PasswordHash = "$2a$12$abcdefghijklmnopqrstuv"
	mustCreate(t, s, u)
	enr, err := svc.EnrollTOTP(ctx, u.ID)
	must(t, "EnrollTOTP", err)
	gen := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(enr.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		must(t, "GenerateCode", err)
		return c
	}
	_, err = svc.ConfirmTOTP(ctx, u.ID, gen(now))
	must(t, "ConfirmTOTP", err)
	for round := range 3 {
		mu.Lock()
		*clock = clock.Add(30 * time.Second)
		at := *clock
		mu.Unlock()
		c := gen(at)
		errs := testkit.Race(racers, func(int) error { _, err := svc.Verify(ctx, u.ID, mfa.Proof{Code: c}); return err })
		testkit.OneWinner(t, fmt.Sprint("Verify(one code), round ", round), errs, accounts.ErrCodeReplayed)
	}
}

package sessiontest

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

var mfaTokenCases = []testCase{
	{"MFATokenSingleUse", testMFATokenSingleUse},
	{"MFATokenDiesAfterFiveFailures", testMFATokenFiveFailures},
	{"MFATokenBoundToClient", testMFATokenClient},
	{"MFATokenExpires", testMFATokenExpires},
	{"MFATokenIsNotACode", testMFATokenIsNotACode},
	{"MFATokenConcurrentSuccess", testMFATokenConcurrentSuccess},
	{"MFATokenConcurrentFailures", testMFATokenConcurrentFailures},
}

func testMFATokenSingleUse(t *testing.T, s session.Store) {
	ctx := t.Context()
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 0)
	user := randomID(t)
	tok, err := m.IssueMFAToken(ctx, user, "app", []string{"pwd"}, "")
	must(t, "IssueMFAToken", err)
	a, err := m.BeginMFAAttempt(ctx, tok, "app")
	must(t, "BeginMFAAttempt", err)
	if a.Token.UserID != user || a.Token.ClientID != "app" || !slices.Equal(a.Token.AMR, []string{"pwd"}) ||
		a.Token.Attempts != 0 || !a.Token.ExpiresAt.Equal(clk.Now().Add(session.MFATokenTTL)) {
		t.Errorf("token = %+v", a.Token)
	}
	// While one attempt holds the token, nobody else can use it.
	if _, err := m.BeginMFAAttempt(ctx, tok, "app"); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("second attempt while the first is open: %v, want ErrInvalidToken", err)
	}
	a.Succeed()
	if _, err := m.BeginMFAAttempt(ctx, tok, "app"); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("after success: %v, want ErrInvalidToken", err)
	}
	for _, bad := range []string{"", "nope", string(make([]byte, 300))} {
		if _, err := m.BeginMFAAttempt(ctx, bad, "app"); !errors.Is(err, session.ErrInvalidToken) {
			t.Errorf("BeginMFAAttempt(%.10q): %v, want ErrInvalidToken", bad, err)
		}
	}
}

func testMFATokenFiveFailures(t *testing.T, s session.Store) {
	ctx := t.Context()
	m := newManager(t, s, testkit.NewClock(now()), 0)
	tok, err := m.IssueMFAToken(ctx, randomID(t), "", []string{"pwd"}, "openid users:admin")
	must(t, "IssueMFAToken", err)
	for i := 1; i <= session.MaxMFAAttempts; i++ {
		a, err := m.BeginMFAAttempt(ctx, tok, "")
		must(t, "BeginMFAAttempt", err)
		if a.Token.Attempts != i-1 {
			t.Errorf("attempt %d: %d failures recorded, want %d", i, a.Token.Attempts, i-1)
		}
		if a.Token.Scope != "openid users:admin" { // kept across failures
			t.Errorf("attempt %d: scope %q", i, a.Token.Scope)
		}
		dead, err := a.Fail(ctx)
		must(t, "Fail", err)
		if dead != (i == session.MaxMFAAttempts) {
			t.Errorf("failure %d: dead = %v", i, dead)
		}
	}
	if _, err := m.BeginMFAAttempt(ctx, tok, ""); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("after five failures: %v, want ErrInvalidToken", err)
	}
}

func testMFATokenClient(t *testing.T, s session.Store) {
	ctx := t.Context()
	m := newManager(t, s, testkit.NewClock(now()), 0)
	tok, err := m.IssueMFAToken(ctx, randomID(t), "", []string{"pwd"}, "")
	must(t, "IssueMFAToken", err)
	if _, err := m.BeginMFAAttempt(ctx, tok, "app"); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("a no-client token presented by a client: %v, want ErrInvalidToken", err)
	}
	a, err := m.BeginMFAAttempt(ctx, tok, "")
	must(t, "BeginMFAAttempt(no client)", err)
	if a.Token.Attempts != 1 {
		t.Errorf("the wrong client counted %d failures, want 1", a.Token.Attempts)
	}
}

func testMFATokenExpires(t *testing.T, s session.Store) {
	ctx := t.Context()
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 0)
	tok, err := m.IssueMFAToken(ctx, randomID(t), "app", []string{"pwd"}, "")
	must(t, "IssueMFAToken", err)
	clk.Advance(session.MFATokenTTL + time.Second)
	if _, err := m.BeginMFAAttempt(ctx, tok, "app"); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("expired: %v, want ErrInvalidToken", err)
	}
}

// An mfa_token redeemed as an authorization code yields nothing and
// leaves the token usable.
func testMFATokenIsNotACode(t *testing.T, s session.Store) {
	ctx := t.Context()
	m := newManager(t, s, testkit.NewClock(now()), 0)
	tok, err := m.IssueMFAToken(ctx, randomID(t), "app", []string{"pwd"}, "")
	must(t, "IssueMFAToken", err)
	for _, redirect := range []string{"", "urn:unilogin:mfa-token"} {
		if _, err := m.RedeemCode(ctx, tok, "app", redirect, "verifier"); !errors.Is(err, session.ErrInvalidToken) {
			t.Errorf("RedeemCode(mfa_token, %q): %v, want ErrInvalidToken", redirect, err)
		}
	}
	code, err := m.IssueCode(ctx, session.CodeRequest{ClientID: "app", RedirectURI: "https://app.test/cb", UserID: randomID(t)})
	must(t, "IssueCode", err)
	if _, err := m.BeginMFAAttempt(ctx, code, "app"); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("an authorization code as mfa_token: %v, want ErrInvalidToken", err)
	}
	if _, err := m.BeginMFAAttempt(ctx, tok, "app"); err != nil {
		t.Errorf("the mfa_token after those attempts: %v", err)
	}
}

// Many requests complete one token at once: exactly one gets it.
func testMFATokenConcurrentSuccess(t *testing.T, s session.Store) {
	ctx := t.Context()
	m := newManager(t, s, testkit.NewClock(now()), 0)
	tok, err := m.IssueMFAToken(ctx, randomID(t), "app", []string{"pwd"}, "")
	must(t, "IssueMFAToken", err)
	var wins atomic.Int32
	testkit.Race(20, func(int) error {
		a, err := m.BeginMFAAttempt(ctx, tok, "app")
		if err != nil {
			return err
		}
		a.Succeed()
		wins.Add(1)
		return nil
	})
	if wins.Load() != 1 {
		t.Errorf("%d attempts completed one mfa_token, want 1", wins.Load())
	}
}

// Many wrong codes at once: at most five attempts are ever made.
func testMFATokenConcurrentFailures(t *testing.T, s session.Store) {
	ctx := t.Context()
	m := newManager(t, s, testkit.NewClock(now()), 0)
	tok, err := m.IssueMFAToken(ctx, randomID(t), "app", []string{"pwd"}, "")
	must(t, "IssueMFAToken", err)
	var attempts atomic.Int32
	testkit.Race(20, func(int) error {
		for range 10 {
			a, err := m.BeginMFAAttempt(ctx, tok, "app")
			if err != nil {
				continue
			}
			attempts.Add(1)
			if _, err := a.Fail(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if n := attempts.Load(); n > session.MaxMFAAttempts || n == 0 {
		t.Errorf("%d attempts were made with one mfa_token, want 1 to %d", n, session.MaxMFAAttempts)
	}
	if _, err := m.BeginMFAAttempt(ctx, tok, "app"); !errors.Is(err, session.ErrInvalidToken) && attempts.Load() == session.MaxMFAAttempts {
		t.Errorf("after %d failures: %v, want ErrInvalidToken", attempts.Load(), err)
	}
}

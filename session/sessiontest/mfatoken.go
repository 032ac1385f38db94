package sessiontest

import (
	"errors"
	"fmt"
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

// mfaFixture is a manager on a fake clock and an mfa_token it issued to a
// fresh user with AMR pwd.
type mfaFixture struct {
	m         *session.Manager
	clk       *testkit.Clock
	user, tok string
}

func newMFAFixture(t *testing.T, s session.Store, client, scope string) mfaFixture {
	t.Helper()
	f := mfaFixture{clk: testkit.NewClock(now()), user: randomID(t)}
	f.m = newManager(t, s, f.clk, 0)
	var err error
	f.tok, err = f.m.IssueMFAToken(t.Context(), f.user, client, []string{"pwd"}, scope)
	must(t, "IssueMFAToken", err)
	return f
}

// refused checks that an attempt with tok for client is refused with
// ErrInvalidToken; what says why it must be.
func (f mfaFixture) refused(t *testing.T, tok, client, what string) {
	t.Helper()
	if _, err := f.m.BeginMFAAttempt(t.Context(), tok, client); !errors.Is(err, session.ErrInvalidToken) {
		t.Errorf("%s: %v, want ErrInvalidToken", what, err)
	}
}

func testMFATokenSingleUse(t *testing.T, s session.Store) {
	f := newMFAFixture(t, s, "app", "")
	a, err := f.m.BeginMFAAttempt(t.Context(), f.tok, "app")
	must(t, "BeginMFAAttempt", err)
	if a.Token.UserID != f.user || a.Token.ClientID != "app" || !slices.Equal(a.Token.AMR, []string{"pwd"}) ||
		a.Token.Attempts != 0 || !a.Token.ExpiresAt.Equal(f.clk.Now().Add(session.MFATokenTTL)) {
		t.Errorf("token = %+v", a.Token)
	}
	// While one attempt holds the token, nobody else can use it.
	f.refused(t, f.tok, "app", "second attempt while the first is open")
	a.Succeed()
	f.refused(t, f.tok, "app", "after success")
	for _, bad := range []string{"", "nope", string(make([]byte, 300))} {
		f.refused(t, bad, "app", fmt.Sprintf("BeginMFAAttempt(%.10q)", bad))
	}
}

func testMFATokenFiveFailures(t *testing.T, s session.Store) {
	ctx := t.Context()
	f := newMFAFixture(t, s, "", "openid users:admin")
	for i := 1; i <= session.MaxMFAAttempts; i++ {
		a, err := f.m.BeginMFAAttempt(ctx, f.tok, "")
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
	f.refused(t, f.tok, "", "after five failures")
}

func testMFATokenClient(t *testing.T, s session.Store) {
	f := newMFAFixture(t, s, "", "")
	f.refused(t, f.tok, "app", "a no-client token presented by a client")
	a, err := f.m.BeginMFAAttempt(t.Context(), f.tok, "")
	must(t, "BeginMFAAttempt(no client)", err)
	if a.Token.Attempts != 1 {
		t.Errorf("the wrong client counted %d failures, want 1", a.Token.Attempts)
	}
}

func testMFATokenExpires(t *testing.T, s session.Store) {
	f := newMFAFixture(t, s, "app", "")
	f.clk.Advance(session.MFATokenTTL + time.Second)
	f.refused(t, f.tok, "app", "expired")
}

// An mfa_token redeemed as an authorization code yields nothing and
// leaves the token usable.
func testMFATokenIsNotACode(t *testing.T, s session.Store) {
	ctx := t.Context()
	f := newMFAFixture(t, s, "app", "")
	for _, redirect := range []string{"", "urn:unilogin:mfa-token"} {
		if _, err := f.m.RedeemCode(ctx, f.tok, "app", redirect, "verifier"); !errors.Is(err, session.ErrInvalidToken) {
			t.Errorf("RedeemCode(mfa_token, %q): %v, want ErrInvalidToken", redirect, err)
		}
	}
	code, err := f.m.IssueCode(ctx, session.CodeRequest{ClientID: "app", RedirectURI: "https://app.test/cb", UserID: randomID(t)})
	must(t, "IssueCode", err)
	f.refused(t, code, "app", "an authorization code as mfa_token")
	if _, err := f.m.BeginMFAAttempt(ctx, f.tok, "app"); err != nil {
		t.Errorf("the mfa_token after those attempts: %v", err)
	}
}

// Many requests complete one token at once: exactly one gets it.
func testMFATokenConcurrentSuccess(t *testing.T, s session.Store) {
	ctx := t.Context()
	f := newMFAFixture(t, s, "app", "")
	var wins atomic.Int32
	testkit.Race(20, func(int) error {
		a, err := f.m.BeginMFAAttempt(ctx, f.tok, "app")
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
	f := newMFAFixture(t, s, "app", "")
	var attempts atomic.Int32
	testkit.Race(20, func(int) error {
		for range 10 {
			a, err := f.m.BeginMFAAttempt(ctx, f.tok, "app")
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
	if attempts.Load() == session.MaxMFAAttempts {
		f.refused(t, f.tok, "app", fmt.Sprintf("after %d failures", attempts.Load()))
	}
}

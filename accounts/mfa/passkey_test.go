package mfa_test

import (
	"errors"
	"testing"

	"github.com/unilogin/unilogin/accounts"
	"github.com/unilogin/unilogin/accounts/mfa"
	"github.com/unilogin/unilogin/accounts/mfa/mfatest"
)

// authenticator is the software authenticator of mfatest, for the
// relying party of newEnv.
type authenticator = mfatest.Authenticator

func newAuthenticator(t *testing.T) *authenticator {
	return mfatest.New(t, "https://login.example.com", "login.example.com")
}

// passkeyLogin runs one discoverable sign-in ceremony with credential
// cred of authenticator a and returns FinishPasskeyLogin's error.
func passkeyLogin(t *testing.T, e *env, a *authenticator, cred []byte) error {
	t.Helper()
	opts, handle, err := e.svc.BeginPasskeyLogin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.FinishPasskeyLogin(t.Context(), handle, a.Get(opts, cred, nil))
	return err
}

func register(t *testing.T, e *env, a *authenticator, u *accounts.User) []byte {
	t.Helper()
	opts, handle, err := e.svc.BeginPasskeyRegistration(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	id, resp := a.Create(opts)
	p, err := e.svc.FinishPasskeyRegistration(t.Context(), u.ID, handle, "Laptop", resp)
	if err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	if string(p.ID) != string(id) || p.Name != "Laptop" || p.UserID != u.ID {
		t.Fatalf("registered %+v", p)
	}
	return id
}

func TestPasskeyRegisterAndLogin(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	a := newAuthenticator(t)
	u := e.user(t, "pat@example.com", false)
	id := register(t, e, a, u)

	opts, handle, err := e.svc.BeginPasskeyLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp := a.Get(opts, id, nil)
	got, p, err := e.svc.FinishPasskeyLogin(ctx, handle, resp)
	if err != nil {
		t.Fatalf("FinishPasskeyLogin: %v", err)
	}
	if got.ID != u.ID || string(p.ID) != string(id) {
		t.Errorf("signed in %s with %x, want %s", got.ID, p.ID, u.ID)
	}
	// The ceremony is single-use: the same response again is refused.
	if _, _, err := e.svc.FinishPasskeyLogin(ctx, handle, resp); !errors.Is(err, mfa.ErrInvalidPasskey) {
		t.Errorf("replayed ceremony: %v, want ErrInvalidPasskey", err)
	}
	keys, err := e.svc.ListPasskeys(ctx, u.ID)
	if err != nil || len(keys) != 1 || keys[0].SignCount != 2 || keys[0].LastUsedAt.IsZero() {
		t.Errorf("after sign-in: %+v, %v; want sign count 2 and a last use", keys, err)
	}
	if st, _ := e.svc.Status(ctx, u.ID); st.Passkeys != 1 || st.TOTP {
		t.Errorf("Status = %+v", st)
	}
	// The user's only way to sign in cannot be removed; a second one can.
	if err := e.svc.RemovePasskey(ctx, u.ID, mfa.PasskeyID(id)); !errors.Is(err, accounts.ErrLastLoginMethod) {
		t.Errorf("remove the last passkey: %v, want ErrLastLoginMethod", err)
	}
	second := register(t, e, a, u)
	if err := e.svc.RemovePasskey(ctx, u.ID, mfa.PasskeyID(id)); err != nil {
		t.Errorf("remove one of two: %v", err)
	}
	if err := e.svc.RemovePasskey(ctx, u.ID, "!!"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("remove a malformed id: %v, want ErrNotFound", err)
	}
	// A removed passkey no longer signs in.
	if err := passkeyLogin(t, e, a, id); !errors.Is(err, mfa.ErrInvalidPasskey) {
		t.Errorf("sign in with a removed passkey: %v, want ErrInvalidPasskey", err)
	}
	if err := passkeyLogin(t, e, a, second); err != nil {
		t.Errorf("sign in with the remaining passkey: %v", err)
	}
}

func TestPasskeyBadPaths(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	good := newAuthenticator(t)
	alice := e.user(t, "alice@example.com", true)
	bob := e.user(t, "bob@example.com", true)
	aliceKey := register(t, e, good, alice)
	register(t, e, good, bob)

	t.Run("registration", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			mutate func(a *authenticator)
		}{
			{"wrong origin", func(a *authenticator) { a.Origin = "https://login.example.com.evil.test" }},
			{"wrong RP ID", func(a *authenticator) { a.RPID = "evil.test" }},
		} {
			a := newAuthenticator(t)
			tc.mutate(a)
			opts, handle, err := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, resp := a.Create(opts)
			if _, err := e.svc.FinishPasskeyRegistration(ctx, alice.ID, handle, "", resp); !errors.Is(err, mfa.ErrInvalidPasskey) {
				t.Errorf("%s: %v, want ErrInvalidPasskey", tc.name, err)
			} else {
				t.Log(tc.name, err)
			}
		}
		// A ceremony begun for Alice cannot register a key for Bob.
		opts, handle, _ := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
		_, resp := good.Create(opts)
		if _, err := e.svc.FinishPasskeyRegistration(ctx, bob.ID, handle, "", resp); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("another user's ceremony: %v, want ErrInvalidPasskey", err)
		}
		// An expired ceremony is gone.
		opts, handle, _ = e.svc.BeginPasskeyRegistration(ctx, alice.ID)
		_, resp = good.Create(opts)
		e.clock.Advance(6 * 60e9)
		if _, err := e.svc.FinishPasskeyRegistration(ctx, alice.ID, handle, "", resp); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("expired ceremony: %v, want ErrInvalidPasskey", err)
		}
		if keys, _ := e.svc.ListPasskeys(ctx, alice.ID); len(keys) != 1 {
			t.Errorf("Alice has %d passkeys after refused registrations, want 1", len(keys))
		}
	})

	t.Run("login", func(t *testing.T) {
		login := func(a *authenticator, cred, handle []byte, challengeFrom []byte) error {
			opts, h, err := e.svc.BeginPasskeyLogin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if challengeFrom != nil {
				opts = challengeFrom
			}
			_, _, err = e.svc.FinishPasskeyLogin(ctx, h, a.Get(opts, cred, handle))
			return err
		}
		evil := *good
		evil.Origin = "https://evil.test"
		if err := login(&evil, aliceKey, nil, nil); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("wrong origin: %v, want ErrInvalidPasskey", err)
		} else {
			t.Log(err)
		}
		otherRP := *good
		otherRP.RPID = "example.com"
		if err := login(&otherRP, aliceKey, nil, nil); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("wrong RP ID: %v, want ErrInvalidPasskey", err)
		} else {
			t.Log(err)
		}
		// Alice's credential presented with Bob's user handle.
		if err := login(good, aliceKey, []byte(bob.ID), nil); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("another user handle: %v, want ErrInvalidPasskey", err)
		} else {
			t.Log(err)
		}
		// A response to an earlier challenge, sent to a new ceremony.
		old, _, _ := e.svc.BeginPasskeyLogin(ctx)
		if err := login(good, aliceKey, nil, old); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("replayed challenge: %v, want ErrInvalidPasskey", err)
		} else {
			t.Log(err)
		}
		// An unknown credential.
		stranger := newAuthenticator(t)
		opts, _, _ := e.svc.BeginPasskeyRegistration(ctx, alice.ID)
		id, _ := stranger.Create(opts)
		if err := login(stranger, id, nil, nil); !errors.Is(err, mfa.ErrInvalidPasskey) {
			t.Errorf("unknown credential: %v, want ErrInvalidPasskey", err)
		}
		if err := login(good, aliceKey, nil, nil); err != nil {
			t.Errorf("the good authenticator after all that: %v", err)
		}
	})
}

func TestPasskeyClonedOrDisabled(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	a := newAuthenticator(t)
	u := e.user(t, "cloe@example.com", true)
	id := register(t, e, a, u)
	if err := passkeyLogin(t, e, a, id); err != nil {
		t.Fatal(err)
	}
	// A copy of the key that signs with an older counter value.
	a.Count = 0
	if err := passkeyLogin(t, e, a, id); !errors.Is(err, mfa.ErrInvalidPasskey) {
		t.Errorf("signature counter going backwards: %v, want ErrInvalidPasskey", err)
	}
	if err := e.store.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	a.Count = 100
	if err := passkeyLogin(t, e, a, id); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("disabled user: %v, want ErrDisabled", err)
	}
	if _, _, err := e.svc.BeginPasskeyRegistration(ctx, u.ID); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("registration for a disabled user: %v, want ErrDisabled", err)
	}
}

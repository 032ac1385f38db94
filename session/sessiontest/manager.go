package sessiontest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
	"github.com/unilogin/unilogin/session/sessiontest/testkit"
)

// managerCases run the session service itself over the store: the
// guarantees of refresh rotation and key rotation must hold on every backend.
var managerCases = []testCase{
	{"ManagerConcurrentRefreshOneSuccessor", testManagerConcurrentRefresh},
	{"ManagerConcurrentRefreshNoGrace", testManagerConcurrentRefreshNoGrace},
	{"ManagerReuseAfterGraceRevokesFamily", testManagerReuseAfterGrace},
	{"ManagerRevokeAndCodes", testManagerRevokeAndCodes},
	{"ManagerKeyRotation", testManagerKeyRotation},
	{"ManagerTwoInstancesAgree", testManagerTwoInstances},
	{"ManagerAutomaticRotation", testManagerAutomaticRotation},
}

var testKEK = []byte("sessiontest-key-encryption-key!!")

func newManager(t *testing.T, s session.Store, clk *testkit.Clock, grace time.Duration) *session.Manager {
	t.Helper()
	sealer, err := session.NewSealer(testKEK)
	must(t, "sealer", err)
	kr, err := session.NewKeyring(t.Context(), s, sealer, session.KeyringOptions{PrePublish: 5 * time.Minute, Now: clk.Now, ReloadInterval: time.Second})
	must(t, "keyring", err)
	m, err := session.NewManager(t.Context(), s, kr, sealer, session.Options{Issuer: "https://login.test", ReuseGrace: grace, Now: clk.Now})
	must(t, "manager", err)
	return m
}

func subjectLoader(ctx context.Context, userID string) (session.Subject, error) {
	return session.Subject{UserID: userID, Roles: []string{"member"}, Permissions: []string{"p:read"}}, nil
}

func startSession(t *testing.T, m *session.Manager) *session.Pair {
	t.Helper()
	p, err := m.Start(t.Context(), session.Grant{Subject: session.Subject{UserID: randomID(t)}, AMR: []string{"pwd"}})
	must(t, "start", err)
	return p
}

// 50 goroutines rotate one refresh token: exactly one successor exists, and
// every caller within the grace window gets that same successor.
func testManagerConcurrentRefresh(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	pairs := make([]*session.Pair, 50)
	errs := testkit.Race(50, func(i int) error {
		var err error
		pairs[i], err = m.Refresh(context.Background(), p.RefreshToken, "", "", subjectLoader)
		return err
	})
	successors := map[string]bool{}
	for i, err := range errs {
		must(t, "refresh", err)
		successors[pairs[i].RefreshToken] = true
	}
	if len(successors) != 1 {
		t.Fatalf("%d distinct successors, want 1", len(successors))
	}
}

// Without a grace window, concurrent rotations of one token are reuse: at
// most one gets a pair (none, if the revocation overtakes it) and the
// family ends up revoked.
func testManagerConcurrentRefreshNoGrace(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 0)
	p := startSession(t, m)
	var winner string
	var mu sync.Mutex
	errs := testkit.Race(50, func(i int) error {
		pair, err := m.Refresh(context.Background(), p.RefreshToken, "", "", subjectLoader)
		if err == nil {
			mu.Lock()
			winner = pair.RefreshToken
			mu.Unlock()
		}
		return err
	})
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, session.ErrRefreshReused) && !errors.Is(err, session.ErrInvalidToken) {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok > 1 {
		t.Fatalf("%d rotations succeeded, want at most 1", ok)
	}
	if winner == "" {
		return
	}
	// The reuse revoked the family, the winner's successor included.
	if _, err := m.Refresh(t.Context(), winner, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("winner after reuse: %v", err)
	}
}

func testManagerReuseAfterGrace(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	next, err := m.Refresh(t.Context(), p.RefreshToken, "", "", subjectLoader)
	must(t, "refresh", err)
	clk.Advance(9 * time.Second)
	again, err := m.Refresh(t.Context(), p.RefreshToken, "", "", subjectLoader)
	must(t, "retry within grace", err)
	if again.RefreshToken != next.RefreshToken {
		t.Fatal("the retry within grace got another successor")
	}
	clk.Advance(2 * time.Second)
	if _, err := m.Refresh(t.Context(), p.RefreshToken, "", "", subjectLoader); !errors.Is(err, session.ErrRefreshReused) {
		t.Fatalf("reuse after grace: %v", err)
	}
	if _, err := m.Refresh(t.Context(), next.RefreshToken, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("successor after the family was revoked: %v", err)
	}
	if _, _, err := m.Authenticate(t.Context(), next.AccessToken); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("access token of a revoked session: %v", err)
	}
}

func testManagerRevokeAndCodes(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	p := startSession(t, m)
	ended, err := m.Revoke(t.Context(), p.RefreshToken, "", nil)
	must(t, "revoke", err)
	if ended == nil || ended.ID != p.SessionID {
		t.Fatalf("Revoke returned session %+v, want %s", ended, p.SessionID)
	}
	if _, err := m.Refresh(t.Context(), p.RefreshToken, "", "", subjectLoader); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("refresh after revoke: %v", err)
	}
	if ended, err := m.Revoke(t.Context(), "unknown", "", nil); err != nil || ended != nil {
		t.Fatalf("revoke unknown: %v %v", ended, err)
	}

	verifier := "a-verifier-of-enough-length-0123456789-abcdefgh"
	code, err := m.IssueCode(t.Context(), session.CodeRequest{ClientID: "app", RedirectURI: "https://app/cb", CodeChallenge: session.S256(verifier), CodeChallengeMethod: "S256", UserID: "u1", AMR: []string{"github"}})
	must(t, "issue code", err)
	if _, err := m.RedeemCode(t.Context(), code, "app", "https://app/cb", "wrong"); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("wrong verifier: %v", err)
	}
	// A failed redemption burns the code.
	if _, err := m.RedeemCode(t.Context(), code, "app", "https://app/cb", verifier); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("code after a failed redemption: %v", err)
	}
	code, _ = m.IssueCode(t.Context(), session.CodeRequest{ClientID: "app", RedirectURI: "https://app/cb", CodeChallenge: session.S256(verifier), CodeChallengeMethod: "S256", UserID: "u1"})
	ac, err := m.RedeemCode(t.Context(), code, "app", "https://app/cb", verifier)
	must(t, "redeem", err)
	if ac.UserID != "u1" {
		t.Fatalf("code user = %q", ac.UserID)
	}
	code, _ = m.IssueCode(t.Context(), session.CodeRequest{ClientID: "app", RedirectURI: "https://app/cb", UserID: "u1"})
	clk.Advance(61 * time.Second)
	if _, err := m.RedeemCode(t.Context(), code, "app", "https://app/cb", ""); !errors.Is(err, session.ErrInvalidToken) {
		t.Fatalf("expired code: %v", err)
	}
}

// Tokens signed before a rotation keep verifying until they expire; after
// the pre-publication delay new tokens use the new kid; the JWKS keeps the
// old key until its last token has expired.
func testManagerKeyRotation(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	m := newManager(t, s, clk, 10*time.Second)
	before := startSession(t, m)
	oldKid := kidOf(t, m, before.AccessToken)

	nk, err := m.Keys().Rotate(t.Context())
	must(t, "rotate", err)
	if nk.ID == oldKid {
		t.Fatal("rotation reused the key id")
	}
	// Published at once, not signing yet.
	if !jwksHas(t, m, nk.ID) || !jwksHas(t, m, oldKid) {
		t.Fatal("the JWKS lacks a key right after rotation")
	}
	if kid := kidOf(t, m, startSession(t, m).AccessToken); kid != oldKid {
		t.Fatalf("the new key signed before its pre-publication delay")
	}
	clk.Advance(5*time.Minute + time.Second)
	after := startSession(t, m)
	if kidOf(t, m, after.AccessToken) != nk.ID {
		t.Fatal("the new key does not sign after the delay")
	}
	// A token signed with the old key (at +0) verifies until it expires (+15m).
	if _, err := m.ParseAccess(t.Context(), before.AccessToken); err != nil {
		t.Fatalf("a token signed before the rotation stopped verifying: %v", err)
	}
	if !jwksHas(t, m, oldKid) {
		t.Fatal("the old key left the JWKS while its tokens live")
	}
	// Old key retired at +5m, its last token expires at +20m, +1m slack.
	clk.Advance(16*time.Minute + 30*time.Second)
	if jwksHas(t, m, oldKid) {
		t.Fatal("the retired key is still published after its tokens expired")
	}
}

// Two instances on one store sign with the same key and publish the same JWKS.
func testManagerTwoInstances(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	a := newManager(t, s, clk, 10*time.Second)
	b := newManager(t, s, clk, 10*time.Second)
	ka, kb := kidOf(t, a, startSession(t, a).AccessToken), kidOf(t, b, startSession(t, b).AccessToken)
	if ka != kb {
		t.Fatalf("instances sign with %s and %s", ka, kb)
	}
	ja, _ := a.Keys().JWKS(t.Context())
	jb, _ := b.Keys().JWKS(t.Context())
	if string(ja) != string(jb) {
		t.Fatal("instances publish different JWKS")
	}
	// A rotation by one is seen by the other once its cache refreshes.
	nk, err := a.Keys().Rotate(t.Context())
	must(t, "rotate", err)
	clk.Advance(5*time.Minute + time.Second)
	if kidOf(t, b, startSession(t, b).AccessToken) != nk.ID || kidOf(t, a, startSession(t, a).AccessToken) != nk.ID {
		t.Fatal("instances disagree after a rotation")
	}
	// Tokens of one verify at the other.
	if _, err := b.ParseAccess(t.Context(), startSession(t, a).AccessToken); err != nil {
		t.Fatal(err)
	}
}

// kidOf verifies token and returns the kid of its header.
func kidOf(t *testing.T, m *session.Manager, token string) string {
	t.Helper()
	_, err := m.ParseAccess(t.Context(), token)
	must(t, "parse", err)
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	must(t, "header", err)
	var hdr struct {
		Kid string `json:"kid"`
	}
	must(t, "header JSON", json.Unmarshal(b, &hdr))
	return hdr.Kid
}

// jwksHas reports whether the published JWKS lists kid.
func jwksHas(t *testing.T, m *session.Manager, kid string) bool {
	t.Helper()
	raw, err := m.Keys().JWKS(t.Context())
	must(t, "jwks", err)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	must(t, "jwks JSON", json.Unmarshal(raw, &set))
	for _, k := range set.Keys {
		if k.Kid == kid {
			return true
		}
	}
	return false
}

// With a rotation period, the first signing after the period publishes a
// new key (once, whoever signs) that takes over after the pre-publication delay.
func testManagerAutomaticRotation(t *testing.T, s session.Store) {
	clk := testkit.NewClock(now())
	sealer, err := session.NewSealer(testKEK)
	must(t, "sealer", err)
	opts := session.KeyringOptions{PrePublish: 5 * time.Minute, RotationPeriod: time.Hour, Now: clk.Now, ReloadInterval: time.Second}
	kr, err := session.NewKeyring(t.Context(), s, sealer, opts)
	must(t, "keyring", err)
	first, err := kr.Signer(t.Context())
	must(t, "signer", err)
	clk.Advance(time.Hour + time.Second)
	k, err := kr.Signer(t.Context())
	must(t, "signer after the period", err)
	if k.ID != first.ID {
		t.Fatal("the new key signed before its pre-publication delay")
	}
	// A second instance signing now must not rotate again.
	other, err := session.NewKeyring(t.Context(), s, sealer, opts)
	must(t, "second keyring", err)
	if _, err := other.Signer(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, err := kr.Keys(t.Context())
	must(t, "keys", err)
	if len(keys) != 2 {
		t.Fatalf("%d keys after one period, want 2 (the old and one new)", len(keys))
	}
	clk.Advance(5*time.Minute + time.Second)
	k, err = kr.Signer(t.Context())
	must(t, "signer after the delay", err)
	if k.ID == first.ID {
		t.Fatal("the rotated key does not sign after the delay")
	}
}

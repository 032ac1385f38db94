package sessiontest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

// testCase is one named conformance test; it gets a fresh, empty store.
type testCase struct {
	name string
	fn   func(t *testing.T, s session.Store)
}

// Run runs every conformance case as a subtest of t, each against a fresh
// store from newStore. newStore should register its own cleanup with
// t.Cleanup.
//
// Cases are grouped in slices, one per file; a new file adds its slice here.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	groups := [][]testCase{
		sessionCases,
		refreshCases,
		codeCases,
		claimCases,
		keyCases,
		secretCases,
		expiryCases,
		concurrencyCases,
		managerCases,
		chainCases,
		rateCases,
		capCases,      // cap.go
		mfaTokenCases, // mfatoken.go
		advanceCases,  // advance.go
	}
	for _, g := range groups {
		for _, tc := range g {
			t.Run(tc.name, func(t *testing.T) {
				tc.fn(t, newStore(t))
			})
		}
	}
}

// now is the reference instant of a case, truncated to the millisecond
// because that is what every backend is required to keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// randomID returns a fresh identifier so cases never depend on each other.
func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// hashOf returns a SHA-256 like the service stores for tokens and codes.
func hashOf(t *testing.T) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(randomID(t)))
	return h[:]
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: got error %v, want %v", what, got, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// equalTime checks that a time survived the store: same instant, in UTC,
// and a zero time stays zero.
func equalTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", field, got)
		}
		return
	}
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", field, got.Location())
	}
}

// equalBytes treats nil and empty alike: backends may not tell them apart.
func equalBytes(t *testing.T, field string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %x, want %x", field, got, want)
	}
}

// equalStrings treats nil and empty alike: backends may not tell them apart.
func equalStrings(t *testing.T, field string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}

func checkSession(t *testing.T, got, want *session.Session) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.ClientID != want.ClientID ||
		got.Scope != want.Scope || got.UserAgent != want.UserAgent {
		t.Errorf("session = %+v, want %+v", got, want)
	}
	equalStrings(t, "AMR", got.AMR, want.AMR)
	equalTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	equalTime(t, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	equalTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func checkRefresh(t *testing.T, got, want *session.RefreshToken) {
	t.Helper()
	checkFields(t, "refresh token", got, want)
}

func checkCode(t *testing.T, got, want *session.AuthCode) {
	t.Helper()
	checkFields(t, "code", got, want)
}

func checkKey(t *testing.T, got, want *session.SigningKey) {
	t.Helper()
	checkFields(t, "key", got, want)
}

// checkFields compares every field of two records: times with equalTime,
// byte and string slices with equalBytes and equalStrings, the rest with ==.
func checkFields[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		field := what + " " + g.Type().Field(i).Name
		switch gf := g.Field(i).Interface().(type) {
		case time.Time:
			equalTime(t, field, gf, w.Field(i).Interface().(time.Time))
		case []byte:
			equalBytes(t, field, gf, w.Field(i).Interface().([]byte))
		case []string:
			equalStrings(t, field, gf, w.Field(i).Interface().([]string))
		default:
			if wf := w.Field(i).Interface(); gf != wf {
				t.Errorf("%s = %#v, want %#v", field, gf, wf)
			}
		}
	}
}

// newSession returns a live session of user created at created.
func newSession(t *testing.T, user string, created time.Time) *session.Session {
	return &session.Session{
		ID:         randomID(t),
		UserID:     user,
		ClientID:   "demo-app",
		AMR:        []string{"pwd"},
		Scope:      "openid profile",
		UserAgent:  "Firefox on Linux",
		CreatedAt:  created,
		LastUsedAt: created,
		ExpiresAt:  created.Add(24 * time.Hour),
	}
}

// newRefresh returns a live refresh token of s.
func newRefresh(t *testing.T, s *session.Session, created time.Time) *session.RefreshToken {
	return &session.RefreshToken{
		Hash:      hashOf(t),
		SessionID: s.ID,
		UserID:    s.UserID,
		CreatedAt: created,
		ExpiresAt: created.Add(time.Hour),
	}
}

func newCode(t *testing.T, created time.Time) *session.AuthCode {
	return &session.AuthCode{
		Hash:                hashOf(t),
		ClientID:            "demo-app",
		RedirectURI:         "https://app.example.com/callback",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		UserID:              randomID(t),
		AMR:                 []string{"oidc:corp"},
		Payload:             []byte(`{"link":"github"}`),
		CreatedAt:           created,
		ExpiresAt:           created.Add(time.Minute),
	}
}

func newKey(t *testing.T, created time.Time) *session.SigningKey {
	return &session.SigningKey{
		ID:        randomID(t),
		Algorithm: "ES256",
		Sealed:    []byte("sealed-" + randomID(t)),
		CreatedAt: created,
		ActiveAt:  created.Add(10 * time.Minute),
	}
}

package sessiontest

import (
	"bytes"
	"testing"
	"time"

	"github.com/unilogin/unilogin/session"
)

var keyCases = []testCase{
	{"KeyRoundTrip", testKeyRoundTrip},
	{"KeyDuplicate", testKeyDuplicate},
	{"ListKeysOrder", testListKeysOrder},
	{"RetireKey", testRetireKey},
	{"ListKeysOmitsExpired", testListKeysOmitsExpired},
	{"DeleteKey", testDeleteKey},
}

// listKeys returns ListKeys' answer, failing the test on error.
func listKeys(t *testing.T, s session.Store) []*session.SigningKey {
	t.Helper()
	keys, err := s.ListKeys(t.Context())
	must(t, "ListKeys", err)
	return keys
}

func keyIDs(keys []*session.SigningKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func testKeyRoundTrip(t *testing.T, s session.Store) {
	if keys := listKeys(t, s); len(keys) != 0 {
		t.Fatalf("a fresh store lists %d keys", len(keys))
	}
	want := newKey(t, now())
	create(t, s, want)
	wantKeys(t, s, want) // RetiredAt and ExpiresAt stay zero
}

func testKeyDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	k := newKey(t, now())
	create(t, s, k)
	dup := newKey(t, now().Add(time.Second))
	dup.ID = k.ID
	wantErr(t, "CreateKey(duplicate)", s.CreateKey(ctx, dup), session.ErrAlreadyExists)
	wantKeys(t, s, k) // the loser changed nothing
}

func testListKeysOrder(t *testing.T, s session.Store) {
	n := now()
	newest := newKey(t, n)
	oldest := newKey(t, n.Add(-48*time.Hour))
	middle := newKey(t, n.Add(-24*time.Hour))
	create(t, s, newest, oldest, middle)
	wantKeys(t, s, oldest, middle, newest)
}

func testRetireKey(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	k := newKey(t, n.Add(-time.Hour))
	create(t, s, k)
	k.RetiredAt = n
	k.ExpiresAt = n.Add(time.Hour)
	must(t, "RetireKey", s.RetireKey(ctx, k.ID, k.RetiredAt, k.ExpiresAt))
	wantKeys(t, s, k) // listed until it expires

	wantErr(t, "RetireKey(unknown)", s.RetireKey(ctx, randomID(t), n, n.Add(time.Hour)), session.ErrNotFound)
}

// A key whose ExpiresAt has passed has left the JWKS: it is not listed even
// before DeleteExpired removes it.
func testListKeysOmitsExpired(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	live := newKey(t, n.Add(-time.Hour))
	gone := newKey(t, n.Add(-2*time.Hour))
	create(t, s, live, gone)
	must(t, "RetireKey", s.RetireKey(ctx, gone.ID, n.Add(-time.Hour), n.Add(-time.Second)))
	keys := listKeys(t, s)
	if len(keys) != 1 || keys[0].ID != live.ID {
		t.Fatalf("ListKeys = %q, want only %q", keyIDs(keys), live.ID)
	}
}

func testDeleteKey(t *testing.T, s session.Store) {
	ctx := t.Context()
	n := now()
	a, b := newKey(t, n.Add(-time.Hour)), newKey(t, n)
	create(t, s, a)
	create(t, s, b)
	must(t, "DeleteKey", s.DeleteKey(ctx, a.ID))
	keys := listKeys(t, s)
	if len(keys) != 1 || keys[0].ID != b.ID {
		t.Fatalf("ListKeys after DeleteKey = %q, want only %q", keyIDs(keys), b.ID)
	}
	wantErr(t, "DeleteKey(again)", s.DeleteKey(ctx, a.ID), session.ErrNotFound)
}

var secretCases = []testCase{
	{"GetOrCreateSecret", testGetOrCreateSecret},
	{"Ping", testPing},
}

func testGetOrCreateSecret(t *testing.T, s session.Store) {
	ctx := t.Context()
	first := []byte{0x00, 0x01, 0xfe, 0xff, 'k'}
	got, err := s.GetOrCreateSecret(ctx, "refresh-hmac", first)
	must(t, "GetOrCreateSecret(first)", err)
	equalBytes(t, "first secret", got, first)

	got, err = s.GetOrCreateSecret(ctx, "refresh-hmac", []byte("second"))
	must(t, "GetOrCreateSecret(second)", err)
	equalBytes(t, "secret after a second writer", got, first)

	other, err := s.GetOrCreateSecret(ctx, "kek-check", []byte("other"))
	must(t, "GetOrCreateSecret(other name)", err)
	equalBytes(t, "secret of another name", other, []byte("other"))

	// The caller may reuse its buffer: the store must not keep aliasing it.
	buf := []byte("mutable")
	_, err = s.GetOrCreateSecret(ctx, "aliasing", buf)
	must(t, "GetOrCreateSecret(aliasing)", err)
	copy(buf, "XXXXXXX")
	got2, err := s.GetOrCreateSecret(ctx, "aliasing", []byte("ignored"))
	must(t, "GetOrCreateSecret(aliasing again)", err)
	if !bytes.Equal(got2, []byte("mutable")) {
		t.Errorf("stored secret = %q after the caller changed its buffer, want %q", got2, "mutable")
	}
}

func testPing(t *testing.T, s session.Store) {
	must(t, "Ping", s.Ping(t.Context()))
}

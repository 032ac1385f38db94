package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/unilogin/unilogin/session"
)

// TestDeleteEach: sessions already gone are skipped, and any other error
// stops with the count so far.
func TestDeleteEach(t *testing.T) {
	boom := errors.New("boom")
	var seen []string
	del := func(_ context.Context, id string) error {
		seen = append(seen, id)
		switch id {
		case "gone":
			return session.ErrNotFound
		case "bad":
			return boom
		}
		return nil
	}
	n, err := session.DeleteEach(t.Context(), del, []string{"a", "gone", "b", "bad", "c"})
	if n != 2 || !errors.Is(err, boom) || len(seen) != 4 {
		t.Errorf("DeleteEach = %d, %v after %q; want 2, boom after four calls", n, err, seen)
	}
	if n, err := session.DeleteEach(t.Context(), del, nil); n != 0 || err != nil {
		t.Errorf("DeleteEach(none) = %d, %v", n, err)
	}
}

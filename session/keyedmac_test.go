package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
)

// A reused, pooled HMAC gives the MAC a fresh one gives, for every message
// and from every goroutine.
func TestKeyedMACMatchesHMAC(t *testing.T) {
	key := []byte("a key of some length, longer than nothing")
	m := newKeyedMAC(key)
	msgs := []string{"", "a", strings.Repeat("x", 63), strings.Repeat("y", 64), strings.Repeat("z", 500)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				for _, msg := range msgs {
					h := hmac.New(sha256.New, key)
					h.Write([]byte(msg))
					if got := m.sum(msg); !bytes.Equal(got, h.Sum(nil)) {
						t.Errorf("sum(%.10q) differs from HMAC-SHA256", msg)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

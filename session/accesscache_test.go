package session

import (
	"fmt"
	"testing"
	"time"
)

func TestAccessCacheExpiresWithToken(t *testing.T) {
	c := newAccessCache(10)
	now := time.Unix(1_700_000_000, 0)
	c.put("tok", "k1", &AccessClaims{SessionID: "s1"}, now.Add(time.Minute), now)
	got, kid, ok := c.get("tok", now.Add(59*time.Second))
	if !ok || kid != "k1" || got.SessionID != "s1" {
		t.Fatalf("get before expiry: %v %q %v", got, kid, ok)
	}
	got.SessionID = "changed" // callers get a copy
	if again, _, _ := c.get("tok", now); again.SessionID != "s1" {
		t.Fatal("a caller's change reached the cache")
	}
	if _, _, ok := c.get("tok", now.Add(61*time.Second)); ok {
		t.Fatal("an expired token came from the cache")
	}
	if c.len() != 0 {
		t.Fatalf("the expired entry stayed: %d entries", c.len())
	}
	if _, _, ok := c.get("other", now); ok {
		t.Fatal("an unknown token came from the cache")
	}
}

func TestAccessCacheIsBounded(t *testing.T) {
	c := newAccessCache(64)
	now := time.Unix(1_700_000_000, 0)
	for i := range 1000 {
		c.put(fmt.Sprint("tok", i), "k", &AccessClaims{}, now.Add(time.Hour), now)
		if c.len() > 64 {
			t.Fatalf("%d entries after %d puts, bound 64", c.len(), i+1)
		}
	}
	if _, _, ok := c.get("tok999", now); !ok {
		t.Fatal("the newest entry was evicted")
	}
	if newAccessCache(-1) != nil {
		t.Fatal("a negative size did not disable the cache")
	}
}

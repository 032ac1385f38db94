package session

import (
	"crypto/sha256"
	"sync"
	"time"
)

// accessCache remembers access tokens whose signature and claims verified,
// keyed by the SHA-256 of the token, until the token expires: a bearer
// check of a token seen before skips the signature verification (ES256
// was a quarter of a /users/me). It holds at most max entries. It caches
// only what the token itself proves; whether the session and the user are
// still live is checked on every request by the callers (Authenticate and
// the API), so revocation, disabling and deletion still take effect at the
// next request on every instance.
type accessCache struct {
	mu  sync.Mutex
	max int
	m   map[[sha256.Size]byte]accessEntry
}

type accessEntry struct {
	claims *AccessClaims
	kid    string
	until  time.Time // the token's exp plus the accepted leeway
}

func newAccessCache(max int) *accessCache {
	if max <= 0 {
		return nil
	}
	return &accessCache{max: max, m: make(map[[sha256.Size]byte]accessEntry)}
}

// get returns the cached claims of token and the kid that verified it,
// when they have not expired at now.
func (c *accessCache) get(token string, now time.Time) (*AccessClaims, string, bool) {
	if c == nil {
		return nil, "", false
	}
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, "", false
	}
	if now.After(e.until) {
		delete(c.m, key)
		return nil, "", false
	}
	cp := *e.claims
	return &cp, e.kid, true
}

func (c *accessCache) put(token, kid string, claims *AccessClaims, until, now time.Time) {
	if c == nil {
		return
	}
	key := sha256.Sum256([]byte(token))
	cp := *claims
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m { // expired entries first
			if now.After(e.until) {
				delete(c.m, k)
			}
		}
		for k := range c.m { // then an arbitrary eighth (map order is random)
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = accessEntry{claims: &cp, kid: kid, until: until}
}

func (c *accessCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

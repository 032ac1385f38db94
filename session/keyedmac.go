package session

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// keyedMAC computes HMAC-SHA256 under one key with hashes keyed once and
// reused: keying a fresh HMAC costs allocations and a compression of the
// padded key, and every refresh computes three MACs (the presented
// token's tag, its successor's secret and tag). Safe for concurrent use.
type keyedMAC struct {
	pool sync.Pool
}

func newKeyedMAC(key []byte) *keyedMAC {
	k := append([]byte(nil), key...)
	return &keyedMAC{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}}
}

// sum returns the MAC of msg.
func (m *keyedMAC) sum(msg string) []byte {
	h := m.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(msg))
	out := h.Sum(make([]byte, 0, sha256.Size))
	m.pool.Put(h)
	return out
}

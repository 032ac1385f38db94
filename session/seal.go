package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrSealKey: the key-encryption key cannot open what the store holds,
// e.g. because another instance was started with a different key.
var ErrSealKey = errors.New("session: data in the store was sealed with a different key-encryption key")

// Sealer encrypts and authenticates secrets at rest (private signing keys,
// server secrets) with AES-256-GCM under the key-encryption key. The
// additional data binds a sealed blob to its purpose and record id, so one
// blob cannot be swapped in for another.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("session: key-encryption key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext; the result is nonce || ciphertext.
func (s *Sealer) Seal(plaintext []byte, additional string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(additional))
}

// Open decrypts what Seal produced with the same additional data.
func (s *Sealer) Open(sealed []byte, additional string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrSealKey
	}
	pt, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(additional))
	if err != nil {
		return nil, ErrSealKey
	}
	return pt, nil
}

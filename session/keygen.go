package session

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// add generates, seals and stores a new key of the configured algorithm.
func (kr *Keyring) add(ctx context.Context, activeAt time.Time) (*SigningKey, error) {
	priv, err := generateKey(kr.opts.Algorithm)
	if err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("session: key thumbprint: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("session: encode key: %w", err)
	}
	// RFC 7638 thumbprint as kid: stable, and unique per key.
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	sk := &SigningKey{
		ID:        kid,
		Algorithm: kr.opts.Algorithm,
		Sealed:    kr.sealer.Seal(der, "signing-key:"+kid),
		CreatedAt: kr.opts.Now().UTC(),
		ActiveAt:  activeAt.UTC(),
	}
	if err := kr.store.CreateKey(ctx, sk); err != nil {
		return nil, fmt.Errorf("session: store signing key: %w", err)
	}
	return sk, nil
}

func (kr *Keyring) open(sk *SigningKey) (*Key, error) {
	der, err := kr.sealer.Open(sk.Sealed, "signing-key:"+sk.ID)
	if err != nil {
		return nil, fmt.Errorf("session: open signing key %s: %w", sk.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("session: parse signing key %s: %w", sk.ID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("session: signing key %s has an unsupported type", sk.ID)
	}
	method, err := signingMethod(sk.Algorithm)
	if err != nil {
		return nil, err
	}
	meta := *sk
	meta.Sealed = nil
	return &Key{SigningKey: meta, private: signer, method: method}, nil
}

func signingMethod(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case ES256:
		return jwt.SigningMethodES256, nil
	case RS256:
		return jwt.SigningMethodRS256, nil
	case EdDSA:
		return jwt.SigningMethodEdDSA, nil
	}
	return nil, fmt.Errorf("session: unsupported signing algorithm %q (want ES256, RS256 or EdDSA)", alg)
}

func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("session: unsupported signing algorithm %q", alg)
}

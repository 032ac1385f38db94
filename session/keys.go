package session

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Supported signing algorithms (RFC 7518 names).
const (
	ES256 = "ES256"
	RS256 = "RS256"
	EdDSA = "EdDSA"
)

// ErrUnknownKey: no published key has this kid.
var ErrUnknownKey = errors.New("session: unknown signing key")

// KeyringOptions configure a Keyring.
type KeyringOptions struct {
	Algorithm string // ES256 (default), RS256 or EdDSA
	// PrePublish is how long a rotated-in key is published before it signs;
	// at least the JWKS cache max-age, so every verifier has seen it.
	PrePublish time.Duration
	// RotationPeriod rotates automatically when the signing key is older; 0: never.
	RotationPeriod time.Duration
	// TokenTTL is the longest lifetime of a token signed with a key; a
	// retired key stays published that long (plus Slack) after it stops signing.
	TokenTTL time.Duration
	Slack    time.Duration // default 1m
	// ReloadInterval is how stale this instance's copy of the key table may
	// be (default 10s) while it reaches the store. Keys live in the store;
	// every instance reads them. A verifier's JWKS copy is thus at most
	// ReloadInterval + the JWKS max-age old: PrePublish must cover both.
	ReloadInterval time.Duration
	Now            func() time.Time
	// OnRotate, when set, is told of every rotation this instance makes
	// (automatic or by Rotate), e.g. to record it in the audit log.
	OnRotate func(ctx context.Context, k *SigningKey)
}

// Key is a loaded signing key.
type Key struct {
	SigningKey
	private crypto.Signer
	method  jwt.SigningMethod
	headers sync.Map // typ -> the encoded protected header (header)
}

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.private.Public() }

// sign signs claims as a JWS with this key: its algorithm, its kid, and
// the header typ given (RFC 9068 at+jwt for access tokens, JWT for ID
// tokens).
// It makes the compact JWS jwt.Token.SignedString makes, with the encoded
// header kept per typ (it never changes for a key): only the claims are
// encoded at each token.
func (k *Key) sign(typ string, claims jwt.Claims) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := k.header(typ) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := k.method.Sign(signing, k.private)
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// header is the encoded protected header of this key's tokens of type
// typ: {"alg","kid","typ"}, as jwt.Token encodes its header map.
func (k *Key) header(typ string) string {
	if h, ok := k.headers.Load(typ); ok {
		return h.(string)
	}
	b, err := json.Marshal(map[string]string{"alg": k.method.Alg(), "kid": k.ID, "typ": typ})
	if err != nil {
		panic("session: encode a JWS header: " + err.Error()) // a map of strings always encodes
	}
	h := base64.RawURLEncoding.EncodeToString(b)
	k.headers.Store(typ, h)
	return h
}

// keySet is one immutable snapshot of the key table.
type keySet struct {
	keys     []*Key // oldest first
	byID     map[string]*Key
	jwks     []byte
	loadedAt time.Time
}

// Keyring keeps the signing keys: generated on first start, stored sealed
// in the Store so that every instance sharing the database signs with the
// same key and publishes the same JWKS, rotated with a pre-publication
// delay, and retired keys published until their last token has expired.
type Keyring struct {
	store  Store
	sealer *Sealer
	opts   KeyringOptions

	mu       sync.RWMutex
	set      *keySet
	loadMu   sync.Mutex // one reload at a time
	missAt   time.Time  // last reload caused by an unknown kid
	missMin  time.Duration
	failedAt time.Time // last failed reload in current()
}

// NewKeyring loads the keys and makes sure one of the configured algorithm
// can sign.
func NewKeyring(ctx context.Context, store Store, sealer *Sealer, opts KeyringOptions) (*Keyring, error) {
	if opts.Algorithm == "" {
		opts.Algorithm = ES256
	}
	if _, err := signingMethod(opts.Algorithm); err != nil {
		return nil, err
	}
	if opts.Slack == 0 {
		opts.Slack = time.Minute
	}
	if opts.ReloadInterval == 0 {
		opts.ReloadInterval = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 15 * time.Minute
	}
	if opts.PrePublish > 0 && opts.PrePublish < opts.ReloadInterval {
		return nil, fmt.Errorf("session: PrePublish (%s) must be at least ReloadInterval (%s): another instance may not have read a new key before it signs", opts.PrePublish, opts.ReloadInterval)
	}
	kr := &Keyring{store: store, sealer: sealer, opts: opts, missMin: time.Second}
	if _, err := kr.Signer(ctx); err != nil {
		return nil, err
	}
	return kr, nil
}

// Algorithm is the configured signing algorithm.
func (kr *Keyring) Algorithm() string { return kr.opts.Algorithm }

func (kr *Keyring) snapshot() *keySet {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.set
}

// reload reads the key table again unless another caller did so after
// notBefore.
func (kr *Keyring) reload(ctx context.Context, notBefore time.Time) (*keySet, error) {
	kr.loadMu.Lock()
	defer kr.loadMu.Unlock()
	if s := kr.snapshot(); s != nil && s.loadedAt.After(notBefore) {
		return s, nil
	}
	stored, err := kr.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: load signing keys: %w", err)
	}
	now := kr.opts.Now()
	set := &keySet{byID: make(map[string]*Key, len(stored)), loadedAt: now}
	var jwks jose.JSONWebKeySet
	for _, sk := range stored {
		if !sk.ExpiresAt.IsZero() && !now.Before(sk.ExpiresAt) {
			continue // left the JWKS; the sweeper deletes it
		}
		k, err := kr.open(sk)
		if err != nil {
			return nil, err
		}
		set.keys = append(set.keys, k)
		set.byID[k.ID] = k
		jwks.Keys = append(jwks.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"})
	}
	if jwks.Keys == nil {
		jwks.Keys = []jose.JSONWebKey{}
	}
	if set.jwks, err = json.Marshal(jwks); err != nil {
		return nil, fmt.Errorf("session: encode JWKS: %w", err)
	}
	kr.mu.Lock()
	kr.set = set
	kr.mu.Unlock()
	return set, nil
}

// current returns the key table, read again when older than
// ReloadInterval. Once loaded, the database is not needed to serve it: while
// another caller reloads, or within a second of a failed reload, or when
// the reload fails, the loaded table is returned (the JWKS keeps being
// served and tokens keep verifying during a database outage). An instance
// that cannot reach the database cannot issue tokens either, so it never
// signs with a table older than what it publishes.
func (kr *Keyring) current(ctx context.Context) (*keySet, error) {
	s := kr.snapshot()
	now := kr.opts.Now()
	if s != nil && now.Sub(s.loadedAt) < kr.opts.ReloadInterval {
		return s, nil
	}
	if s == nil {
		return kr.reload(ctx, now.Add(-kr.opts.ReloadInterval/2))
	}
	kr.mu.RLock()
	backoff := now.Before(kr.failedAt.Add(time.Second))
	kr.mu.RUnlock()
	if backoff || !kr.loadMu.TryLock() {
		return s, nil
	}
	kr.loadMu.Unlock() // reload takes it again and re-checks
	ns, err := kr.reload(ctx, now.Add(-kr.opts.ReloadInterval/2))
	if err != nil {
		kr.mu.Lock()
		kr.failedAt = now
		kr.mu.Unlock()
		return s, nil
	}
	return ns, nil
}

// pick returns the key that signs at now: of the configured algorithm,
// active and not retired, the most recently activated (ties: greatest id),
// so every instance with the same table picks the same key.
func (kr *Keyring) pick(s *keySet, now time.Time) *Key {
	var best *Key
	for _, k := range s.keys {
		if k.Algorithm != kr.opts.Algorithm || now.Before(k.ActiveAt) || (!k.RetiredAt.IsZero() && !now.Before(k.RetiredAt)) {
			continue
		}
		if best == nil || k.ActiveAt.After(best.ActiveAt) || (k.ActiveAt.Equal(best.ActiveAt) && k.ID > best.ID) {
			best = k
		}
	}
	return best
}

// Signer returns the key to sign with now, generating the first key of the
// configured algorithm when there is none, and rotating when the rotation
// period has passed.
func (kr *Keyring) Signer(ctx context.Context) (*Key, error) {
	s, err := kr.current(ctx)
	if err != nil {
		return nil, err
	}
	now := kr.opts.Now()
	k := kr.pick(s, now)
	if k == nil {
		if s, k, err = kr.first(ctx, now); err != nil {
			return nil, err
		}
	}
	if p := kr.opts.RotationPeriod; p > 0 && now.Sub(k.ActiveAt) >= p && !kr.hasPending(s, now) {
		// Only the instance that claims this key's rotation rotates it.
		claim := "key-rotation:" + k.ID
		if err := kr.store.Claim(ctx, claim, now.Add(kr.opts.PrePublish+time.Hour)); err == nil {
			if _, err := kr.rotate(ctx, s, now); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, ErrAlreadyExists) {
			return nil, err
		}
	}
	return k, nil
}

// firstKeyWait is how long an instance waits for the first key that another
// instance claimed to create before it creates one itself (the claimant
// may have died between its claim and its insert).
const firstKeyWait = 15 * time.Second

// first makes the first key of the configured algorithm (first start, or a
// new algorithm). Nobody can hold tokens of a key that does not exist yet,
// so it signs at once. Its creation is claimed, a unique insert: of N
// instances starting together on an empty database one creates the key and
// the others wait until they read it, so all sign with, and publish, the
// same key from their first token on.
func (kr *Keyring) first(ctx context.Context, now time.Time) (*keySet, *Key, error) {
	claim := "first-signing-key:" + kr.opts.Algorithm
	err := kr.store.Claim(ctx, claim, now.Add(firstKeyWait+time.Minute))
	switch {
	case err == nil:
		if _, err := kr.add(ctx, now); err != nil {
			return nil, nil, err
		}
	case errors.Is(err, ErrAlreadyExists):
		deadline := time.Now().Add(firstKeyWait)
		for time.Now().Before(deadline) {
			s, err := kr.reload(ctx, kr.opts.Now())
			if err != nil {
				return nil, nil, err
			}
			if k := kr.pick(s, kr.opts.Now()); k != nil {
				return s, k, nil
			}
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		// The claimant never wrote its key: make one; should it still
		// appear, pick() makes every instance agree on the newer.
		if _, err := kr.add(ctx, now); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, err
	}
	s, err := kr.reload(ctx, kr.opts.Now())
	if err != nil {
		return nil, nil, err
	}
	k := kr.pick(s, kr.opts.Now())
	if k == nil {
		return nil, nil, errors.New("session: no usable signing key after generating one")
	}
	return s, k, nil
}

func (kr *Keyring) hasPending(s *keySet, now time.Time) bool {
	for _, k := range s.keys {
		if k.Algorithm == kr.opts.Algorithm && now.Before(k.ActiveAt) {
			return true
		}
	}
	return false
}

// Rotate adds a new key that is published now and signs after PrePublish;
// the keys signing until then retire at that instant and stay published
// until their last token has expired. It returns the new key.
func (kr *Keyring) Rotate(ctx context.Context) (*SigningKey, error) {
	s, err := kr.reload(ctx, kr.opts.Now())
	if err != nil {
		return nil, err
	}
	return kr.rotate(ctx, s, kr.opts.Now())
}

func (kr *Keyring) rotate(ctx context.Context, s *keySet, now time.Time) (*SigningKey, error) {
	activeAt := now.Add(kr.opts.PrePublish)
	nk, err := kr.add(ctx, activeAt)
	if err != nil {
		return nil, err
	}
	for _, k := range s.keys {
		if k.RetiredAt.IsZero() || k.RetiredAt.After(activeAt) {
			if err := kr.store.RetireKey(ctx, k.ID, activeAt, activeAt.Add(kr.opts.TokenTTL+kr.opts.Slack)); err != nil {
				return nil, fmt.Errorf("session: retire key %s: %w", k.ID, err)
			}
		}
	}
	if _, err := kr.reload(ctx, now); err != nil {
		return nil, err
	}
	if kr.opts.OnRotate != nil {
		meta := *nk
		meta.Sealed = nil
		kr.opts.OnRotate(ctx, &meta)
	}
	return nk, nil
}

// Keys returns every published key (oldest first), reloading the table.
func (kr *Keyring) Keys(ctx context.Context) ([]SigningKey, error) {
	s, err := kr.reload(ctx, kr.opts.Now())
	if err != nil {
		return nil, err
	}
	out := make([]SigningKey, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.SigningKey
		out[i].Sealed = nil
	}
	return out, nil
}

// JWKS returns the JSON Web Key Set (RFC 7517) of the published keys.
func (kr *Keyring) JWKS(ctx context.Context) ([]byte, error) {
	s, err := kr.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.jwks, nil
}

// Lookup returns the published key with this kid. An unknown kid reloads
// the table, at most once a second, so a key added by another instance is
// found while junk kids cannot hammer the store.
func (kr *Keyring) Lookup(ctx context.Context, kid string) (*Key, error) {
	s, err := kr.current(ctx)
	if err != nil {
		return nil, err
	}
	if k, ok := s.byID[kid]; ok {
		return k, nil
	}
	now := kr.opts.Now()
	kr.mu.Lock()
	retry := now.Sub(kr.missAt) >= kr.missMin
	if retry {
		kr.missAt = now
	}
	kr.mu.Unlock()
	if retry {
		if s, err = kr.reload(ctx, now); err != nil {
			return nil, err
		}
		if k, ok := s.byID[kid]; ok {
			return k, nil
		}
	}
	return nil, ErrUnknownKey
}

// Algorithms lists the algorithms of the published keys, the configured
// one first. Verification accepts exactly these.
func (kr *Keyring) Algorithms() []string {
	algs := []string{kr.opts.Algorithm}
	if s := kr.snapshot(); s != nil {
		for _, k := range s.keys {
			if !slices.Contains(algs, k.Algorithm) {
				algs = append(algs, k.Algorithm)
			}
		}
	}
	return algs
}

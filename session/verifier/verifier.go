package verifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier verifies unilogin access tokens offline against the issuer's
// JWKS. It is safe for concurrent use; build one per issuer and audience at
// start-up and share it.
type Verifier struct {
	issuer, audience string
	cfg              config
	parser           *jwt.Parser

	keys atomic.Pointer[keySet] // nil until the first successful fetch

	mu          sync.Mutex // guards the fields below
	jwksURL     string     // from WithJWKSURL or discovery; "" until known
	inflight    *fetchCall // the fetch under way, if any
	lastAttempt time.Time  // start of the latest fetch attempt
	lastErr     error      // outcome of the latest fetch attempt
}

// New returns a Verifier for tokens whose iss is issuer and whose aud holds
// audience. Unless WithJWKSURL is given it discovers the JWKS URL from the
// issuer's metadata (RFC 8414; <issuer>/.well-known/oauth-authorization-server,
// then .../openid-configuration), whose issuer must equal issuer exactly.
// It then fetches the JWKS; when either fails, New fails with an error
// matching ErrJWKSUnavailable, unless WithLazyStart is given. ctx bounds
// these start-up requests only.
func New(ctx context.Context, issuer, audience string, opts ...Option) (*Verifier, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(issuer, audience); err != nil {
		return nil, err
	}
	v := &Verifier{
		issuer:   issuer,
		audience: audience,
		cfg:      cfg,
		jwksURL:  cfg.jwksURL,
		// Claims are checked by wireClaims.check, with our clock and reasons.
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.algorithms),
			jwt.WithoutClaimsValidation(),
			jwt.WithStrictDecoding(),
		),
	}
	if cfg.lazy {
		return v, nil
	}
	v.lastAttempt = cfg.now()
	ks, err := v.load(ctx)
	if err != nil {
		return nil, unavailable(fmt.Errorf("issuer %s: %w", issuer, err))
	}
	v.keys.Store(ks)
	return v, nil
}

// Issuer returns the issuer tokens must come from.
func (v *Verifier) Issuer() string { return v.issuer }

// Audience returns the audience tokens must be meant for.
func (v *Verifier) Audience() string { return v.audience }

// Verify checks an access token as RFC 9068 §4 asks and returns its claims:
//   - alg is one of the pinned algorithms (checked before any key is used);
//   - the header's typ is "at+jwt" or "application/at+jwt" (any case), kid is
//     set, and no crit header is present;
//   - the key published under kid has the type, curve and JWK alg that fit the
//     token's alg, and the signature verifies with it;
//   - iss equals the issuer, aud holds the audience, exp and iat are present,
//     exp is not past, iat and nbf (if any) are not in the future, all with
//     the leeway; sub is present.
//
// Token problems match ErrInvalidToken (expiry also ErrExpired, an unknown
// kid also ErrUnknownKey); without any usable keys it returns an error
// matching ErrJWKSUnavailable. It does NOT check that the session (sid) is
// still live: offline verification accepts a token until exp. ctx bounds only
// the wait for a JWKS fetch, which happens when the cache is stale or a kid
// is unknown; with fresh keys Verify does no I/O.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > maxTokenSize {
		return nil, errTooLarge
	}
	ks, err := v.currentKeys(ctx)
	if err != nil {
		return nil, err
	}
	w, err := v.parse(token, ks)
	if errors.Is(err, errUnknownKIDInner) {
		// Perhaps a key published since our last fetch: refetch (rate-limited)
		// and try once more.
		if ks = v.refreshForUnknownKID(ctx, ks); ks == nil {
			return nil, ErrUnknownKey
		}
		if w, err = v.parse(token, ks); errors.Is(err, errUnknownKIDInner) {
			return nil, ErrUnknownKey
		}
	}
	if err != nil {
		return nil, err
	}
	if err := w.check(v.issuer, v.audience, v.cfg.now(), v.cfg.leeway); err != nil {
		return nil, err
	}
	return w.claims(), nil
}

// parse decodes token and verifies its header and signature with ks.
func (v *Verifier) parse(token string, ks *keySet) (*wireClaims, error) {
	w := new(wireClaims)
	tok, err := v.parser.ParseWithClaims(token, w, func(t *jwt.Token) (any, error) {
		return keyFor(ks, t)
	})
	if err != nil {
		return nil, v.classify(tok, err)
	}
	return w, nil
}

// keyFor checks the header and picks the verification key. The jwt parser
// calls it only after checking alg against the pinned list.
func keyFor(ks *keySet, t *jwt.Token) (any, error) {
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, errType
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit // RFC 7515 §4.1.11: we understand no extension
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKID
	}
	return ks.find(kid, t.Method.Alg())
}

// classify maps a jwt parser error to one of our reasons. Our own errors
// from keyFor pass through; the jwt package's messages are not passed on, as
// some quote decoded input.
func (v *Verifier) classify(tok *jwt.Token, err error) error {
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return te
	case errors.Is(err, errUnknownKIDInner):
		return errUnknownKIDInner
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		// The jwt package reports an alg outside the pinned list this way too.
		if tok != nil && tok.Method != nil && !slices.Contains(v.cfg.algorithms, tok.Method.Alg()) {
			return errAlgorithm
		}
		return errSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// alg missing, or unknown to the jwt package.
		return errAlgorithm
	}
	return errUnverifiable
}

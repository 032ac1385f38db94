package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// How to read the two benchmarks:
//
// BenchmarkRawES256 is the floor: ecdsa.Verify of the token's signing input
// digest, the one thing no verifier can skip. BenchmarkVerify is the full
// Verify of the same token with the same key: base64 and JSON decoding of
// header and claims, the alg/typ/kid checks, the key lookup (one atomic load
// and a map read), claims validation and the Claims result. Both run
// b.RunParallel, so compare their ns/op directly:
//
//	ratio = BenchmarkVerify ns/op / BenchmarkRawES256 ns/op
//
// The aim is a ratio within 1.3, i.e. parsing and checking cost under 30 %
// on top of the signature check. A clearly higher ratio means the hot path
// took a lock, fetched, or allocated much more than it should.

func benchToken(b *testing.B) (*Verifier, string) {
	b.Helper()
	ti := newTestIssuer(b)
	v, err := New(context.Background(), ti.URL, testAudience) // real clock: no lock in the fake one
	if err != nil {
		b.Fatal(err)
	}
	return v, sign(b, jwt.SigningMethodES256, keys().ec, "ec1", claimsAt(ti.URL, time.Now()), nil)
}

func BenchmarkVerify(b *testing.B) {
	v, token := benchToken(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRawES256(b *testing.B) {
	_, token := benchToken(b)
	i := strings.LastIndexByte(token, '.')
	digest := sha256.Sum256([]byte(token[:i]))
	sig := mustDecode(token[i+1:])
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	pub := &keys().ec.PublicKey
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !ecdsa.Verify(pub, digest[:], r, s) {
				b.Error("signature does not verify")
				return
			}
		}
	})
}

package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, must
// report every rejection as ErrInvalidToken, and may accept only tokens whose
// signed part (header.payload) is byte for byte one that was really signed.
func FuzzVerify(f *testing.F) {
	ti, clk, v := setup(f, WithAlgorithms("ES256", "RS256", "EdDSA"))
	k := keys()
	now := clk.Now()
	genuine := []string{
		sign(f, jwt.SigningMethodES256, k.ec, "ec1", claimsAt(ti.URL, now), nil),
		sign(f, jwt.SigningMethodRS256, k.rsa, "rsa1", claimsAt(ti.URL, now), nil),
		sign(f, jwt.SigningMethodEdDSA, k.ed, "ed1", claimsAt(ti.URL, now), nil),
	}
	signed := map[string]bool{}
	for _, g := range genuine {
		f.Add(g)
		signed[g[:strings.LastIndexByte(g, '.')]] = true
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
		sign(f, jwt.SigningMethodES256, k.ec, "rsa1", claimsAt(ti.URL, now), nil)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("rejection not ErrInvalidToken: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil claims without error")
		}
		i := strings.LastIndexByte(token, '.')
		if i < 0 || !signed[token[:i]] {
			t.Fatalf("accepted a token whose header.payload was never signed: %q", token)
		}
	})
}

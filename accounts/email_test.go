package accounts

import "testing"

// TestNormalizeEmail: ASCII case and the IDNA form of the domain are
// ignored; nothing that needs Unicode case folding or mapping matches.
func TestNormalizeEmail(t *testing.T) {
	cases := []struct {
		a, b string
		same bool
	}{
		{"Alice@Example.COM", "alice@example.com", true},
		{"  alice@example.com\t", "alice@example.com", true},
		{"ann@b\u00fccher.example", "ann@xn--bcher-kva.example", true},
		{"Ann@B\u00fccher.EXAMPLE", "ann@XN--BCHER-KVA.example", true},
		{"\u212Akelvin@example.com", "kkelvin@example.com", false}, // KELVIN SIGN
		{"u@ma\u0130l.example.com", "u@mail.example.com", false},   // LATIN CAPITAL I WITH DOT ABOVE
		{"u@example.\u212Aom", "u@example.kom", false},
		{"\u00c9lodie@example.com", "\u00e9lodie@example.com", false}, // non-ASCII local part: exact
		{"u@B\u00dcCHER.example", "u@b\u00fccher.example", false},     // non-ASCII upper case in the domain
		{"stra\u00dfe@example.com", "strasse@example.com", false},
		{"u@fa\u00df.de", "u@fass.de", false}, // IDNA2008: ß is its own letter
		{"a@example.com", "b@example.com", false},
		{"", "", false},
	}
	for _, tc := range cases {
		if got := EmailsMatch(tc.a, tc.b); got != tc.same {
			t.Errorf("EmailsMatch(%q, %q) = %v, want %v (keys %q, %q)", tc.a, tc.b, got, tc.same, NormalizeEmail(tc.a), NormalizeEmail(tc.b))
		}
	}
	for in, want := range map[string]string{
		"Alice@Example.COM":       "alice@example.com",
		"ann@b\u00fccher.example": "ann@xn--bcher-kva.example",
		"No-At-Sign":              "no-at-sign",
		"ANN@":                    "ann@",
		"@Example.org":            "@example.org",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

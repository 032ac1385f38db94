package accounts

import (
	"strings"

	"golang.org/x/net/idna"
)

// registration converts an internationalized domain name to its A-label
// form (RFC 5891) without any mapping: the IDNA2008 registration profile
// refuses a name that would need one (upper case, compatibility forms such
// as U+212A KELVIN SIGN, U+0130 with its dot), where the lookup profile
// would fold it silently.
var registration = idna.Registration

// NormalizeEmail returns the key under which an e-mail address is unique,
// and that two addresses must share to be the same:
//   - surrounding white space is dropped;
//   - the local part (before the last "@") keeps every character, with only
//     ASCII A-Z folded to a-z (RFC 5321 §2.4 lets the receiving host decide;
//     folding beyond ASCII would make U+212A match "k");
//   - the domain has ASCII A-Z folded, then, when it is not pure ASCII, is
//     converted to A-labels ("bücher.example" and "xn--bcher-kva.example"
//     are one domain); a domain that converts only with Unicode folding or
//     mapping (or not at all) is kept as it is, so it matches only itself.
//
// Nothing is ever matched through Unicode case folding, so a provider's
// address cannot be linked into an account whose address merely folds to
// it. A string without "@" is ASCII-folded as a whole (rate-limit keys,
// search needles).
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return asciiLower(email)
	}
	return asciiLower(email[:at]) + "@" + normalizeDomain(email[at+1:])
}

// EmailsMatch reports whether a and b are the same non-empty address under
// NormalizeEmail.
func EmailsMatch(a, b string) bool {
	ka := NormalizeEmail(a)
	return ka != "" && ka == NormalizeEmail(b)
}

func normalizeDomain(domain string) string {
	domain = asciiLower(domain)
	if isASCII(domain) {
		return domain
	}
	a, err := registration.ToASCII(domain)
	if err != nil {
		return domain
	}
	return asciiLower(a)
}

// asciiLower folds A-Z only; every other byte (UTF-8 included) is kept.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

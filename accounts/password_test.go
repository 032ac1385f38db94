package accounts

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		name, pw string
		ok       bool
	}{
		{"8 ASCII", "kx9#qz!m", true},
		{"7 ASCII", "kx9#qz!", false},
		{"8 code points, 16 bytes", strings.Repeat("é", 8), true},
		{"7 code points, many bytes", strings.Repeat("😀", 7), false},
		{"spaces allowed", "  four words  here ", true},
		{"256 code points", strings.Repeat("ä", 256), true},
		{"257 code points", strings.Repeat("ä", 257), false},
		{"invalid UTF-8", "abcdefgh\xff", false},
		{"common: password", "password", false},
		{"common: 12345678", "12345678", false},
		{"common, case-insensitive", "PassWord1", false},
		{"common: iloveyou", "iloveyou", false},
		{"no composition rules", "alllowercaseletters", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword("password", tc.pw)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPassword = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("error %v does not wrap ErrInvalidPassword", err)
			}
			if err != nil && strings.Contains(err.Error(), tc.pw) && tc.pw != "password" {
				t.Fatalf("the error echoes the password")
			}
		})
	}
	if len(commonPasswords()) < 3000 {
		t.Fatalf("only %d common passwords", len(commonPasswords()))
	}
}

func TestHasher(t *testing.T) {
	h, err := NewHasher(4)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 72)
	enc, err := h.Hash(long + "A")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$bcrypt-sha256$v=1$$2a$04$") {
		t.Fatalf("format: %s", enc)
	}
	if ok, rehash := h.Verify(enc, long+"A"); !ok || rehash {
		t.Fatalf("verify own hash: ok=%v rehash=%v", ok, rehash)
	}
	if ok, _ := h.Verify(enc, long+"B"); ok {
		t.Fatal("a password sharing the first 72 bytes matched")
	}
	// A hash at another cost verifies and asks for a rehash.
	h5, _ := NewHasher(5)
	enc5, _ := h5.Hash("some password")
	if ok, rehash := h.Verify(enc5, "some password"); !ok || !rehash {
		t.Fatalf("other cost: ok=%v rehash=%v", ok, rehash)
	}
	// Plain bcrypt (imported) verifies, asks for a rehash, and never
	// matches a password over 72 bytes.
	plain, _ := bcrypt.GenerateFromPassword([]byte("imported pw"), 4)
	if ok, rehash := h.Verify(string(plain), "imported pw"); !ok || !rehash {
		t.Fatalf("plain bcrypt: ok=%v rehash=%v", ok, rehash)
	}
	plain72, _ := bcrypt.GenerateFromPassword([]byte(long), 4)
	if ok, _ := h.Verify(string(plain72), long+"tail"); ok {
		t.Fatal("plain bcrypt matched a longer password")
	}
	for _, junk := range []string{"", "$unknown$", "$bcrypt-sha256$v=1$garbage"} {
		if ok, _ := h.Verify(junk, "x"); ok {
			t.Fatalf("junk hash %q matched", junk)
		}
	}
	if _, err := NewHasher(3); err == nil {
		t.Fatal("cost 3 accepted")
	}
}

func TestCheckEmail(t *testing.T) {
	for email, ok := range map[string]bool{
		"a@example.com": true, "A.B+tag@sub.example.org": true,
		"": false, "no-at": false, "a@localhost": false, "Name <a@example.com>": false,
		"a@example.com,b@example.com": false, strings.Repeat("a", 250) + "@x.com": false,
	} {
		if err := CheckEmail(email); (err == nil) != ok {
			t.Errorf("CheckEmail(%q) = %v, want ok=%v", email, err, ok)
		}
	}
}

// Building a Hasher does no bcrypt work (at cost 31 one hash takes days),
// and its dummy is a well-formed hash at the configured cost, so comparing
// against it costs what a real comparison does.
func TestNewHasherDoesNoBcryptWork(t *testing.T) {
	h, err := NewHasher(bcrypt.MaxCost)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(h.dummy); err != nil || c != bcrypt.MaxCost {
		t.Fatalf("dummy cost %d, %v; want %d", c, err, bcrypt.MaxCost)
	}
	h4, _ := NewHasher(4)
	if err := bcrypt.CompareHashAndPassword(h4.dummy, prehash("anything")); !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		t.Fatalf("compare with the dummy: %v, want a mismatch after the full comparison", err)
	}
}

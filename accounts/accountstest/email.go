package accountstest

import (
	"errors"
	"testing"

	"github.com/unilogin/unilogin/accounts"
)

// emailCases: addresses compare by accounts.NormalizeEmail, never through
// Unicode case folding (issue 11, item 3).
var emailCases = []storeCase[accounts.Store]{
	{"EmailNoUnicodeFolding", testEmailNoUnicodeFolding},
	{"EmailIDNAForms", testEmailIDNAForms},
	{"SignInExternalNoUnicodeFoldingLink", testSignInExternalNoUnicodeFoldingLink},
}

func testEmailNoUnicodeFolding(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	kelvin := createUser(t, s, "kkelvin@example.com")
	createUser(t, s, "u@mail.example.com")
	for _, email := range []string{"\u212Akelvin@example.com", "u@ma\u0130l.example.com", "u@MA\u0130L.example.com"} {
		if u, err := s.GetUserByEmail(ctx, email); !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("GetUserByEmail(%q) = %v, %v; want ErrNotFound", email, u, err)
		}
	}
	// They are other addresses, free to sign up with.
	mustCreate(t, s, newUser("\u212Akelvin@example.com"))
	mustCreate(t, s, newUser("u@ma\u0130l.example.com"))
	if got, err := s.GetUserByEmail(ctx, "KKELVIN@example.COM"); err != nil || got.ID != kelvin.ID {
		t.Errorf("GetUserByEmail(ASCII upper case) = %v, %v; want %s", got, err, kelvin.ID)
	}
}

func testEmailIDNAForms(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	u := createUser(t, s, "Ann@B\u00fccher.example")
	for _, email := range []string{"ann@b\u00fccher.example", "ANN@xn--bcher-kva.EXAMPLE", "Ann@B\u00fccher.example"} {
		if got, err := s.GetUserByEmail(ctx, email); err != nil || got.ID != u.ID {
			t.Errorf("GetUserByEmail(%q) = %v, %v; want %s", email, got, err, u.ID)
		}
	}
	if err := s.CreateUser(ctx, newUser("ann@xn--bcher-kva.example")); !errors.Is(err, accounts.ErrEmailTaken) {
		t.Errorf("CreateUser(A-label form of a taken address): err = %v, want ErrEmailTaken", err)
	}
}

// The report of issue 11: a provider asserting a verified address with a
// KELVIN SIGN was linked into the account of the ASCII address.
func testSignInExternalNoUnicodeFoldingLink(t *testing.T, s accounts.Store) {
	ctx := t.Context()
	svc, err := accounts.NewService(s, accounts.Options{BcryptCost: 4})
	must(t, "NewService", err)
	victim := newUser("kkelvin@example.com")
	victim.EmailVerified = true
	mustCreate(t, s, victim)
	policy := accounts.LinkPolicy{ByVerifiedEmail: true}
	for _, ext := range []accounts.ExternalIdentity{
		{Provider: "google", Subject: "attacker-1", Email: "\u212Akelvin@example.com", EmailVerified: true},
		{Provider: "github", Subject: "attacker-2", Email: "kkelvin@example.\u212Aom", EmailVerified: true},
	} {
		u, d, err := svc.SignInExternal(ctx, ext, policy)
		if err != nil {
			t.Fatalf("SignInExternal(%q): %v", ext.Email, err)
		}
		if u.ID == victim.ID || d.Kind == accounts.LinkToExisting {
			t.Errorf("SignInExternal(%q) linked into the account of %q (%v)", ext.Email, victim.Email, d.Kind)
		}
	}
	ids, err := s.ListIdentities(ctx, victim.ID)
	must(t, "ListIdentities", err)
	if len(ids) != 0 {
		t.Errorf("victim has %d identities, want 0", len(ids))
	}
	// The genuine address still links.
	u, d, err := svc.SignInExternal(ctx, accounts.ExternalIdentity{Provider: "google", Subject: "owner", Email: "KKelvin@Example.com", EmailVerified: true}, policy)
	if err != nil || u.ID != victim.ID || d.Kind != accounts.LinkToExisting {
		t.Errorf("SignInExternal(genuine address) = %v, %v, %v; want a link to %s", u, d.Kind, err, victim.ID)
	}
}

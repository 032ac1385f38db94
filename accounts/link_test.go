package accounts

import "testing"

// TestDecideLink covers every branch of the linking decision.
func TestDecideLink(t *testing.T) {
	known := &User{ID: "known", Email: "a@example.com", EmailVerified: true}
	verified := &User{ID: "owner", Email: "a@example.com", EmailVerified: true}
	unverified := &User{ID: "squatter", Email: "a@example.com", EmailVerified: false}
	ext := func(email string, ok bool) ExternalIdentity {
		return ExternalIdentity{Provider: "google", Subject: "g-1", Email: email, EmailVerified: ok}
	}
	on, off := LinkPolicy{ByVerifiedEmail: true}, LinkPolicy{ByVerifiedEmail: false}
	cases := []struct {
		name       string
		byIdentity *User
		byEmail    *EmailOwner
		ext        ExternalIdentity
		policy     LinkPolicy
		want       DecisionKind
		wantUser   string
	}{
		{"known identity signs in", known, nil, ext("a@example.com", true), on, SignIn, "known"},
		{"known identity wins over an email owner", known, &EmailOwner{User: verified}, ext("a@example.com", true), on, SignIn, "known"},
		{"known identity, policy off", known, nil, ext("", false), off, SignIn, "known"},
		{"both verified, policy on: link", nil, &EmailOwner{User: verified}, ext("a@example.com", true), on, LinkToExisting, "owner"},
		{"both verified, owner has this provider: refuse", nil, &EmailOwner{User: verified, Providers: []string{"google"}}, ext("a@example.com", true), on, RefuseAccountExists, ""},
		{"both verified, owner has another provider: link", nil, &EmailOwner{User: verified, Providers: []string{"github"}}, ext("a@example.com", true), on, LinkToExisting, "owner"},
		{"both verified, policy off: new user without email", nil, &EmailOwner{User: verified}, ext("a@example.com", true), off, CreateWithoutEmail, ""},
		{"owner unverified (pre-account takeover): refuse", nil, &EmailOwner{User: unverified}, ext("a@example.com", true), on, RefuseAccountExists, ""},
		{"owner unverified, policy off: refuse", nil, &EmailOwner{User: unverified}, ext("a@example.com", true), off, RefuseAccountExists, ""},
		{"owner unverified, provider unverified: refuse", nil, &EmailOwner{User: unverified}, ext("a@example.com", false), on, RefuseAccountExists, ""},
		{"provider email unverified, owner verified: new user without email", nil, &EmailOwner{User: verified}, ext("a@example.com", false), on, CreateWithoutEmail, ""},
		{"no owner, verified email: create with email", nil, nil, ext("new@example.com", true), on, CreateWithEmail, ""},
		{"no owner, unverified email: create with email", nil, nil, ext("new@example.com", false), on, CreateWithEmail, ""},
		{"no email: create without", nil, nil, ext("", false), on, CreateWithoutEmail, ""},
		{"no email, an owner passed anyway: create without", nil, &EmailOwner{User: verified}, ext("", false), on, CreateWithoutEmail, ""},
		{"empty owner record: create with email", nil, &EmailOwner{}, ext("a@example.com", true), on, CreateWithEmail, ""},
		{"owner's address only Unicode-folds to the provider's (U+212A): never link", nil, &EmailOwner{User: &User{ID: "owner", Email: "kkelvin@example.com", EmailVerified: true}}, ext("\u212Akelvin@example.com", true), on, CreateWithoutEmail, ""},
		{"owner's domain only Unicode-folds to the provider's (U+0130): never link", nil, &EmailOwner{User: &User{ID: "owner", Email: "u@mail.example.com", EmailVerified: true}}, ext("u@ma\u0130l.example.com", true), on, CreateWithoutEmail, ""},
		{"same address, other ASCII case and IDNA form: link", nil, &EmailOwner{User: &User{ID: "owner", Email: "Ann@B\u00fccher.example", EmailVerified: true}}, ext("ann@XN--BCHER-KVA.example", true), on, LinkToExisting, "owner"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideLink(tc.byIdentity, tc.byEmail, tc.ext, tc.policy)
			if d.Kind != tc.want || d.UserID != tc.wantUser {
				t.Fatalf("DecideLink = %v/%q, want %v/%q", d.Kind, d.UserID, tc.want, tc.wantUser)
			}
		})
	}
}

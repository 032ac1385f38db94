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
	// Password accounts: verified by a link, a reset or an administrator.
	pwVerified := &User{ID: "pw-owner", Email: "a@example.com", EmailVerified: true, PasswordHash: "$2a$04$x"}
	pwUnverified := &User{ID: "pw-squatter", Email: "a@example.com", PasswordHash: "$2a$04$x"}
	closed := LinkPolicy{ByVerifiedEmail: true, Signup: SignupPolicy{Disabled: true}}
	corp := LinkPolicy{ByVerifiedEmail: true, Signup: SignupPolicy{AllowedDomains: []string{"Example.com"}}}
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
		{"verified password account, provider verified: link", nil, &EmailOwner{User: pwVerified}, ext("a@example.com", true), on, LinkToExisting, "pw-owner"},
		{"verified password account, provider unverified: new user without email", nil, &EmailOwner{User: pwVerified}, ext("a@example.com", false), on, CreateWithoutEmail, ""},
		{"verified password account, policy off: new user without email", nil, &EmailOwner{User: pwVerified}, ext("a@example.com", true), off, CreateWithoutEmail, ""},
		{"unverified password account: refuse", nil, &EmailOwner{User: pwUnverified}, ext("a@example.com", true), on, RefuseAccountExists, ""},
		{"sign-up off, known identity: sign in", known, nil, ext("a@example.com", true), closed, SignIn, "known"},
		{"sign-up off, linkable owner: link", nil, &EmailOwner{User: pwVerified}, ext("a@example.com", true), closed, LinkToExisting, "pw-owner"},
		{"sign-up off, owner unverified: refuse (account exists)", nil, &EmailOwner{User: unverified}, ext("a@example.com", true), closed, RefuseAccountExists, ""},
		{"sign-up off, no owner: refuse sign-up", nil, nil, ext("new@example.com", true), closed, RefuseSignup, ""},
		{"sign-up off, no email: refuse sign-up", nil, nil, ext("", false), closed, RefuseSignup, ""},
		{"sign-up off, unlinkable owner: refuse sign-up", nil, &EmailOwner{User: verified}, ext("a@example.com", false), closed, RefuseSignup, ""},
		{"allowed domain, verified: create with email", nil, nil, ext("new@EXAMPLE.com", true), corp, CreateWithEmail, ""},
		{"allowed domain, unverified: refuse sign-up", nil, nil, ext("new@example.com", false), corp, RefuseSignup, ""},
		{"other domain: refuse sign-up", nil, nil, ext("new@example.org", true), corp, RefuseSignup, ""},
		{"subdomain of an allowed one: refuse sign-up", nil, nil, ext("new@sub.example.com", true), corp, RefuseSignup, ""},
		{"allowed domains, no email: refuse sign-up", nil, nil, ext("", false), corp, RefuseSignup, ""},
		{"allowed domain, linkable owner: link", nil, &EmailOwner{User: verified}, ext("a@example.com", true), corp, LinkToExisting, "owner"},
		{"other domain, known identity: sign in", known, nil, ext("x@example.org", true), corp, SignIn, "known"},
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

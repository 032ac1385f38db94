package accounts_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts"
)

// TestConsentService: grants are validated, remembered per client and
// scope until revoked, and HasConsent asks for every requested scope.
func TestConsentService(t *testing.T) {
	f := newAdminFixture(t)
	ctx := t.Context()
	u, err := f.svc.Signup(ctx, accounts.SignupRequest{Email: "consent@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		client string
		scopes []string
	}{
		"no client":      {"", []string{"openid"}},
		"no scopes":      {"app", nil},
		"empty scope":    {"app", []string{"openid", ""}},
		"scope w/ space": {"app", []string{"openid email"}},
		"too many":       {"app", nil}, // filled below
		"long client":    {strings.Repeat("c", 300), []string{"openid"}},
	} {
		if name == "too many" {
			tc.scopes = make([]string, 65)
			for i := range tc.scopes {
				tc.scopes[i] = "s" + strings.Repeat("x", i)
			}
		}
		if err := f.svc.GrantConsent(ctx, u.ID, tc.client, tc.scopes); !errors.Is(err, accounts.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	if ok, err := f.svc.HasConsent(ctx, u.ID, "app", []string{"openid"}); err != nil || ok {
		t.Fatalf("HasConsent before a grant = %v, %v", ok, err)
	}
	if err := f.svc.GrantConsent(ctx, u.ID, "app", []string{"openid", "email", "openid"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client string
		scopes []string
		want   bool
	}{
		{"app", []string{"openid"}, true},
		{"app", []string{"email", "openid"}, true},
		{"app", []string{"openid", "profile"}, false},
		{"other-app", []string{"openid"}, false},
	} {
		if ok, err := f.svc.HasConsent(ctx, u.ID, tc.client, tc.scopes); err != nil || ok != tc.want {
			t.Errorf("HasConsent(%s, %q) = %v, %v; want %v", tc.client, tc.scopes, ok, err, tc.want)
		}
	}
	cs, err := f.svc.ListConsents(ctx, u.ID)
	if err != nil || len(cs) != 1 || cs[0].ClientID != "app" || strings.Join(cs[0].Scopes, " ") != "email openid" {
		t.Fatalf("ListConsents = %v, %v", cs, err)
	}
	if err := f.svc.RevokeConsent(ctx, u.ID, "app"); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.svc.HasConsent(ctx, u.ID, "app", []string{"openid"}); err != nil || ok {
		t.Errorf("HasConsent after revoke = %v, %v", ok, err)
	}
	if err := f.svc.RevokeConsent(ctx, u.ID, "app"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("second revoke: err = %v, want ErrNotFound", err)
	}
}

// TestGroupConsents: grant records ordered by client and scope become one
// consent per client, granted at its newest scope's time.
func TestGroupConsents(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	got := accounts.GroupConsents([]accounts.ConsentGrant{
		{UserID: "u", ClientID: "a", Scope: "email", GrantedAt: t0.Add(time.Minute)},
		{UserID: "u", ClientID: "a", Scope: "openid", GrantedAt: t0},
		{UserID: "u", ClientID: "b", Scope: "profile", GrantedAt: t0},
	})
	if len(got) != 2 || got[0].ClientID != "a" || got[1].ClientID != "b" ||
		!slices.Equal(got[0].Scopes, []string{"email", "openid"}) || !got[0].GrantedAt.Equal(t0.Add(time.Minute)) ||
		!slices.Equal(got[1].Scopes, []string{"profile"}) || got[1].UserID != "u" {
		t.Errorf("GroupConsents = %+v, %+v", got[0], got[len(got)-1])
	}
	if got := accounts.GroupConsents(nil); got != nil {
		t.Errorf("GroupConsents(nil) = %v, want nil", got)
	}
}

package session

import (
	"errors"
	"testing"
)

func TestGrantScope(t *testing.T) {
	perms := []string{"docs:read", "docs:write", "users:admin"}
	for _, tc := range []struct{ requested, want string }{
		{"", "docs:read docs:write users:admin"},
		{"openid", "openid docs:read docs:write users:admin"},
		{"openid email docs:read", "openid email docs:read"},
		{"email openid docs:read docs:read openid", "email openid docs:read"},
		{"docs:read billing:pay", "docs:read"}, // a permission the user lacks is not granted
		{"openid billing:pay", "openid"},       // naming only permissions the user lacks grants none
		{"offline_access profile", "offline_access profile docs:read docs:write users:admin"},
		{"  users:admin   docs:read ", "docs:read users:admin"}, // the subject's order
		{"openid profile email address phone", "openid profile email docs:read docs:write users:admin"},
		{"address docs:read", "docs:read"}, // unserved scopes are never granted
	} {
		if got := grantScope(tc.requested, perms); got != tc.want {
			t.Errorf("grantScope(%q) = %q, want %q", tc.requested, got, tc.want)
		}
	}
	if got := grantScope("openid", nil); got != "openid" {
		t.Errorf("no permissions: %q, want openid", got)
	}
}

func TestNarrowScope(t *testing.T) {
	granted := "openid email docs:read docs:write"
	for _, tc := range []struct{ narrow, want string }{
		{"", granted},
		{"  ", granted},
		{"openid", "openid docs:read docs:write"},
		{"openid profile", "openid docs:read docs:write"}, // never more OIDC scopes than granted
		{"docs:read", "docs:read"},
		{"openid docs:write users:admin", "openid docs:write"}, // never more permissions
		{"users:admin", ""},
	} {
		if got := narrowScope(granted, tc.narrow); got != tc.want {
			t.Errorf("narrowScope(%q) = %q, want %q", tc.narrow, got, tc.want)
		}
	}
}

func TestCheckScope(t *testing.T) {
	configured := []string{"docs:read", "users:admin"}
	for _, tc := range []struct {
		scope string
		ok    bool
	}{
		{"", true},
		{"openid profile email offline_access", true},
		{"openid docs:read", true},
		{"users:admin", true},
		{"openid address phone", true}, // standard scopes for claims we do not keep: ignored
		{"openid addresses", false},
		{"docs:write", false},
		{"OPENID", false}, // scopes are case-sensitive (RFC 6749 §3.3)
	} {
		err := CheckScope(tc.scope, configured)
		if tc.ok && err != nil {
			t.Errorf("CheckScope(%q) = %v, want nil", tc.scope, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidScope) {
			t.Errorf("CheckScope(%q) = %v, want ErrInvalidScope", tc.scope, err)
		}
	}
}

func TestHasScope(t *testing.T) {
	if !HasScope("email openid", "openid") || HasScope("openidx email", "openid") || HasScope("", "openid") {
		t.Error("HasScope matches whole values only")
	}
}

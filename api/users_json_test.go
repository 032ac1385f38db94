package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unilogin/unilogin/accounts/mfa"
)

// appendMe writes what json.Marshal writes, for plain and awkward values
// (escapes, HTML characters, non-ASCII, invalid UTF-8, U+2028, nulls,
// times with and without fractions), and leaves to encoding/json what it
// refuses.
func TestAppendMeIsJSONMarshal(t *testing.T) {
	email := "kim@example.com"
	odd := "a\"b\\c<d>e&f\n\t\x01\u2028\u2029 ünï 日本 \xff\xfe end"
	at := time.Date(2026, 12, 1, 16, 2, 3, 450000000, time.UTC)
	views := []meJSON{
		{userWithIdentitiesJSON: userWithIdentitiesJSON{userJSON: userJSON{ID: "u1", Email: &email, EmailVerified: true,
			Name: "Kim", Roles: []string{"member"}, Permissions: []string{}, HasPassword: true, CreatedAt: at, UpdatedAt: at.Add(time.Nanosecond)},
			Identities: []identityJSON{}}, MFA: &mfa.Status{}},
		{userWithIdentitiesJSON: userWithIdentitiesJSON{userJSON: userJSON{ID: odd, Name: odd, Roles: []string{odd, "admin"},
			Permissions: []string{"users:read", "users:write"}, Disabled: true, CreatedAt: at.Truncate(time.Second), UpdatedAt: time.Time{}},
			Identities: []identityJSON{{Provider: "github", Subject: "42", Email: odd, LinkedAt: at}, {Provider: "oidc:acme", Subject: odd}}},
			MFA: &mfa.Status{TOTP: true, Passkeys: 3, RecoveryCodesLeft: 7}},
		{userWithIdentitiesJSON: userWithIdentitiesJSON{userJSON: userJSON{ID: "u3"}}}, // nil lists, no mfa
	}
	for i, v := range views {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendMe(nil, &v)
		if !ok || string(got) != string(want) {
			t.Errorf("view %d:\n got %s (ok %v)\nwant %s", i, got, ok, want)
		}
	}
	late := views[0]
	late.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := appendMe(nil, &late); ok {
		t.Error("a year json.Marshal refuses was written")
	}
}

// appendMe writes every field of meJSON: a field added to the view (or to
// what it embeds) must be added to appendMe too.
func TestAppendMeKnowsEveryField(t *testing.T) {
	got := jsonFields(reflect.TypeFor[meJSON]())
	want := []string{"id", "email", "email_verified", "name", "roles", "permissions", "has_password", "disabled",
		"created_at", "updated_at", "identities", "identities.provider", "identities.subject", "identities.email",
		"identities.linked_at", "mfa", "mfa.totp", "mfa.passkeys", "mfa.recovery_codes_left"}
	if !slices.Equal(got, want) {
		t.Fatalf("meJSON fields %v,\nappendMe writes %v", got, want)
	}
}

// jsonFields lists the JSON names of t's fields, embedded structs
// flattened, nested structs (and slices and pointers of them) as
// "outer.inner".
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(ft)...)
			continue
		}
		out = append(out, name)
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			for _, sub := range jsonFields(ft) {
				out = append(out, name+"."+sub)
			}
		}
	}
	return out
}

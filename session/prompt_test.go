package session

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParsePrompt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Prompt
		bad  bool
	}{
		{in: "", want: Prompt{}},
		{in: "none", want: Prompt{None: true}},
		{in: "login", want: Prompt{Login: true}},
		{in: "consent", want: Prompt{Consent: true}},
		{in: "select_account", want: Prompt{SelectAccount: true}},
		{in: "login consent", want: Prompt{Login: true, Consent: true}},
		{in: " consent  consent ", want: Prompt{Consent: true}},
		{in: "create", want: Prompt{}}, // unknown values are ignored
		{in: "login create", want: Prompt{Login: true}},
		{in: "none login", bad: true},
		{in: "consent none", bad: true},
		{in: "none select_account", bad: true},
		{in: "none none", want: Prompt{None: true}},
		{in: "none create", want: Prompt{None: true}},
		{in: "NONE", want: Prompt{}}, // values are case-sensitive
	} {
		got, err := ParsePrompt(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrInvalidAuthorizeParam) {
				t.Errorf("ParsePrompt(%q) err = %v, want ErrInvalidAuthorizeParam", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParsePrompt(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseMaxAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want MaxAge
		bad  bool
	}{
		{in: "", want: MaxAge{}},
		{in: "0", want: MaxAge{Set: true, Seconds: 0}},
		{in: "1", want: MaxAge{Set: true, Seconds: 1}},
		{in: "10000", want: MaxAge{Set: true, Seconds: 10000}},
		{in: "007", want: MaxAge{Set: true, Seconds: 7}},
		{in: "99999999999999999999999", want: MaxAge{Set: true, Seconds: 1<<63 - 1}},
		{in: "-1", bad: true},
		{in: "+5", bad: true},
		{in: "1.5", bad: true},
		{in: " 5", bad: true},
		{in: "abc", bad: true},
		{in: "0x10", bad: true},
	} {
		got, err := ParseMaxAge(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrInvalidAuthorizeParam) {
				t.Errorf("ParseMaxAge(%q) err = %v, want ErrInvalidAuthorizeParam", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMaxAge(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestNeedsSignIn(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC)
	age := func(s int64) MaxAge { return MaxAge{Set: true, Seconds: s} }
	for _, tc := range []struct {
		name     string
		p        Prompt
		a        MaxAge
		authTime time.Time
		want     bool
	}{
		{"no prompt no max_age", Prompt{}, MaxAge{}, now.Add(-24 * time.Hour), false},
		{"prompt=login", Prompt{Login: true}, MaxAge{}, now, true},
		{"max_age=0, older session", Prompt{}, age(0), now.Add(-2 * time.Second), true},
		{"max_age=0, same second", Prompt{}, age(0), now.Add(-500 * time.Millisecond), false},
		{"max_age=1, 1s old", Prompt{}, age(1), now.Add(-time.Second), false},
		{"max_age=1, 2s old", Prompt{}, age(1), now.Add(-2 * time.Second), true},
		{"max_age=10000, 1h old", Prompt{}, age(10000), now.Add(-time.Hour), false},
		{"max_age=10000, 3h old", Prompt{}, age(10000), now.Add(-3 * time.Hour), true},
		{"huge max_age", Prompt{}, age(1<<63 - 1), now.Add(-100000 * time.Hour), false},
		{"prompt=consent only", Prompt{Consent: true}, MaxAge{}, now.Add(-time.Hour), false},
	} {
		if got := NeedsSignIn(tc.p, tc.a, tc.authTime, now); got != tc.want {
			t.Errorf("%s: NeedsSignIn = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzAuthorizeParams: the parsers of prompt, max_age and scope never
// panic and keep their invariants on any input.
func FuzzAuthorizeParams(f *testing.F) {
	for _, s := range []string{"", "none", "login consent", "none login", "0", "10000", "-1", "openid docs:read", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p, err := ParsePrompt(v)
		if err == nil && p.None && (p.Login || p.Consent || p.SelectAccount) {
			t.Errorf("ParsePrompt(%q) = %+v: none with another value", v, p)
		}
		if a, err := ParseMaxAge(v); err == nil && (a.Seconds < 0 || (a.Set != (v != ""))) {
			t.Errorf("ParseMaxAge(%q) = %+v", v, a)
		}
		perms := []string{"docs:read"}
		if CheckScope(v, perms) == nil {
			for _, s := range strings.Fields(grantScope(v, perms)) {
				if !IsOIDCScope(s) && s != "docs:read" {
					t.Errorf("grantScope(%q) granted %q", v, s)
				}
			}
		}
	})
}

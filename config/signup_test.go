package config

import (
	"slices"
	"strings"
	"testing"
)

func TestSignupDefaultsAndEnv(t *testing.T) {
	c := Default()
	if !c.Signup.On() || c.Signup.VerifiedEmailRequired() || len(c.Signup.AllowedEmailDomains) != 0 {
		t.Errorf("default signup = %+v; want enabled, any domain, verification not required", c.Signup)
	}
	env := map[string]string{
		"UNILOGIN_SIGNUP_ENABLED":                "false",
		"UNILOGIN_SIGNUP_ALLOWED_EMAIL_DOMAINS":  " example.com, b\u00fccher.example ,,",
		"UNILOGIN_SIGNUP_REQUIRE_VERIFIED_EMAIL": "1",
	}
	if ps := applyEnv(c, func(k string) string { return env[k] }, nil); len(ps) != 0 {
		t.Fatalf("applyEnv: %v", ps)
	}
	if c.Signup.On() || !c.Signup.VerifiedEmailRequired() ||
		!slices.Equal(c.Signup.AllowedEmailDomains, []string{"example.com", "b\u00fccher.example"}) {
		t.Errorf("signup from the environment = %+v", c.Signup)
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Errorf("Validate: %v", ps)
	}
	env["UNILOGIN_SIGNUP_ENABLED"] = "maybe"
	if ps := applyEnv(Default(), func(k string) string { return env[k] }, nil); len(ps) != 1 || ps[0].Path != "UNILOGIN_SIGNUP_ENABLED" {
		t.Errorf("applyEnv(bad bool) = %v", ps)
	}
}

func TestSignupYAMLAndValidation(t *testing.T) {
	c := Default()
	yaml := "signup:\n  enabled: true\n  allowed_email_domains: [example.com, 'a@b.com', '*.example.org', '', 'bad_domain.com']\n  require_verified_email: true\n"
	if ps := decodeYAML("f.yaml", []byte(yaml), c); len(ps) != 0 {
		t.Fatalf("decodeYAML: %v", ps)
	}
	if !c.Signup.On() || !c.Signup.VerifiedEmailRequired() {
		t.Errorf("signup from YAML = %+v", c.Signup)
	}
	var got []string
	for _, p := range c.Validate() {
		if strings.HasPrefix(p.Path, "signup.") {
			got = append(got, p.Path)
		}
	}
	want := []string{"signup.allowed_email_domains[1]", "signup.allowed_email_domains[2]", "signup.allowed_email_domains[3]", "signup.allowed_email_domains[4]"}
	if !slices.Equal(got, want) {
		t.Errorf("signup problems at %v, want %v", got, want)
	}
}
